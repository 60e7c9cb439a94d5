package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

func TestRunKeepsStreamedCellsAndMarksTheRestCrashed(t *testing.T) {
	// A relative -out, as `make test` passes: targets get absolute paths.
	t.Chdir(t.TempDir())
	out := "reports/out"
	suite := &Suite{Features: []string{"attach/kprobe", "attach/fentry", "attach/lsm"},
		Areas: map[string]string{"attach/kprobe": "tracing", "attach/fentry": "tracing", "attach/lsm": "security"}}
	// It streams a cell, then ends the way a panicking kernel does.
	target := fakeTarget{name: "vm", kernel: "6.1", fn: func(_ context.Context, dir string) Outcome {
		if !filepath.IsAbs(dir) {
			return Outcome{Status: RunError, Detail: "relative run dir " + dir}
		}
		writeStream(t, dir, `{"kernel":{"release":"6.1.0-50-cloud-amd64"}}`,
			`{"cell":{"feature":"attach/kprobe","status":"supported","expected":"supported"}}`,
			`{"cell":{"feature":"attach/fe`) // torn by the crash
		return Outcome{Status: RunPanic, Detail: "Kernel panic - not syncing: sysrq triggered crash"}
	}}
	rep, err := Run(context.Background(), suite, []Target{target}, Options{Out: out, Log: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	run := rep.Runs[0]
	if run.Status != RunPanic || run.Kernel.Release != "6.1.0-50-cloud-amd64" || run.Kernel.Name != "6.1" {
		t.Fatalf("run = %+v", run)
	}
	got := map[string]reports.Cell{}
	for _, c := range run.Cells {
		got[c.Feature] = c
	}
	if got["attach/kprobe"].Status != reports.Supported {
		t.Errorf("streamed cell lost: %+v", got["attach/kprobe"])
	}
	for _, id := range []string{"attach/fentry", "attach/lsm"} {
		c := got[id]
		if c.Status != reports.Crashed || !c.Unexpected || !strings.Contains(c.Evidence, "sysrq triggered crash") {
			t.Errorf("%s = %+v, want crashed with the console tail", id, c)
		}
	}
	if got["attach/lsm"].Area != "security" {
		t.Errorf("a crashed cell must keep its area: %+v", got["attach/lsm"])
	}

	// The report on disk is what Run returned.
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reports.Parse("report.json", data); err != nil {
		t.Fatal(err)
	}
}

// fakeTarget runs fn in place of a target. It stands in for a VM or the
// host in unit tests of the runner around it.
type fakeTarget struct {
	name, kernel string
	fn           func(ctx context.Context, dir string) Outcome
}

func (f fakeTarget) Name() string   { return f.name }
func (f fakeTarget) Kernel() string { return f.kernel }
func (f fakeTarget) Run(ctx context.Context, _ *Suite, dir string, _ *Progress) Outcome {
	if f.fn == nil {
		return Outcome{Status: RunOK}
	}
	return f.fn(ctx, dir)
}

func TestRunNameIsOnePlainName(t *testing.T) {
	plain := regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	for _, tc := range []struct{ target, kernel, want string }{
		{"vm", "5.10", "vm-5.10"},
		{"host", "host", "host-host"},
		{"container/bpf-caps", "host", "container-bpf-caps-host"},
		{"vm", "../../../../victim", "vm-custom-victim-"},
		{"vm", "/boot/vmlinuz-6.1.0", "vm-custom-vmlinuz-6.1.0-"},
		{"vm", "..", "vm-custom-"},
		{"vm", "/", "vm-custom--"},
		{"vm", "", "vm-custom-"},
	} {
		got := RunName(fakeTarget{name: tc.target, kernel: tc.kernel})
		if !strings.HasPrefix(got, tc.want) || !plain.MatchString(got) {
			t.Errorf("RunName(%s %q) = %q, want %q... of [A-Za-z0-9._-] only", tc.target, tc.kernel, got, tc.want)
		}
	}
	a := RunName(fakeTarget{name: "vm", kernel: "/a/bzImage"})
	b := RunName(fakeTarget{name: "vm", kernel: "/b/bzImage"})
	if a == b {
		t.Errorf("two bzImage paths share the run name %s", a)
	}
}

// TestRunNeverRemovesOutsideOut is the reproduction of a kernel path with
// ../ in it: `cd T/a/b/c/d && bpfmatrix run --kernel ../../../../victim
// --out T/out` once removed T/victim.
func TestRunNeverRemovesOutsideOut(t *testing.T) {
	root := t.TempDir()
	victim := filepath.Join(root, "victim", "data.txt")
	for _, dir := range []string{filepath.Dir(victim), filepath.Join(root, "a", "b", "c", "d")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(root, "a", "b", "c", "d"))
	var runDir string
	target := fakeTarget{name: "vm", kernel: "../../../../victim", fn: func(_ context.Context, dir string) Outcome {
		runDir = dir
		return Outcome{Status: RunError, Detail: "not a bzImage"}
	}}
	if _, err := Run(context.Background(), &Suite{}, []Target{target}, Options{Out: filepath.Join(root, "out"), Log: &strings.Builder{}}); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(victim); err != nil || string(data) != "keep me" {
		t.Fatalf("%s after the run: %q, %v", victim, data, err)
	}
	if rel, err := filepath.Rel(filepath.Join(root, "out", "runs"), runDir); err != nil || strings.Contains(rel, string(filepath.Separator)) || strings.HasPrefix(rel, ".") {
		t.Errorf("run dir %s is not one directory inside out/runs", runDir)
	}
}

func TestRunRefusesDuplicateTargets(t *testing.T) {
	ran := 0
	count := func(context.Context, string) Outcome { ran++; return Outcome{Status: RunOK} }
	targets := []Target{fakeTarget{"vm", "5.10", count}, fakeTarget{"vm", "6.1", count}, fakeTarget{"vm", "5.10", count}}
	err := CheckTargets(targets)
	if err == nil || !strings.Contains(err.Error(), "runs/vm-5.10") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("CheckTargets = %v, want one line naming runs/vm-5.10", err)
	}
	if _, err := Run(context.Background(), &Suite{}, targets, Options{Out: t.TempDir(), Log: &strings.Builder{}}); err == nil || ran > 0 {
		t.Errorf("Run with a duplicate target: err %v after %d runs; want an error before any run", err, ran)
	}
	if err := CheckTargets(targets[:2]); err != nil {
		t.Errorf("distinct targets refused: %v", err)
	}
}

// writeStream writes lines as a run's record stream.
func writeStream(t *testing.T, dir string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(RecordsFile(dir), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRunKeepsCellsAroundATornLine(t *testing.T) {
	suite := &Suite{Features: []string{"attach/kprobe", "attach/lsm", "attach/fentry"}}
	target := fakeTarget{name: "vm", kernel: "5.10", fn: func(_ context.Context, dir string) Outcome {
		writeStream(t, dir, `{"kernel":{"release":"5.10.0-46-cloud-amd64"}}`,
			`{"cell":{"feature":"attach/kprobe","status":"supported","expected":"supported"}}`,
			`{"cell":{"feature":"attach/lsm","sta`,
			`{"cell":{"feature":"attach/fentry","status":"supported","expected":"supported"}}`)
		return Outcome{Status: RunOK}
	}}
	rep, err := Run(context.Background(), suite, []Target{target}, Options{Out: t.TempDir(), Log: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	run := rep.Runs[0]
	got := map[string]reports.Status{}
	for _, c := range run.Cells {
		got[c.Feature] = c.Status
	}
	if got["attach/kprobe"] != reports.Supported || got["attach/fentry"] != reports.Supported || got["attach/lsm"] != reports.Error {
		t.Errorf("cells %v: want both whole lines kept and attach/lsm an error", got)
	}
	if run.Status != RunError || !strings.Contains(run.Detail, "line 3 (unexpected end of JSON input)") {
		t.Errorf("run %s %q: want error naming line 3", run.Status, run.Detail)
	}
}

// TestRunThatDeliveredNothingIsNotOK: a target that says it ended well is
// not believed when its records did not all arrive.
func TestRunThatDeliveredNothingIsNotOK(t *testing.T) {
	const kernel = `{"kernel":{"release":"6.1.0-50-cloud-amd64"}}`
	const cell = `{"cell":{"feature":"attach/kprobe","status":"supported","expected":"supported"}}`
	suite := &Suite{Features: []string{"attach/kprobe", "attach/fentry"}}
	for _, tc := range []struct {
		name   string
		lines  []string // nil: no records file at all
		sent   int
		status string
		cause  string
	}{
		{"as said", []string{kernel, cell}, 2, RunOK, ""},
		{"not counted", []string{kernel, cell}, 0, RunOK, ""},
		{"empty stream", []string{}, 0, RunError, "the target wrote no cell of the 2 planned"},
		{"kernel facts only", []string{kernel}, 0, RunError, "the target wrote no cell of the 2 planned"},
		{"records lost on the way", []string{kernel, cell}, 3, RunError, "the target sent 3 records but 2 lines reached"},
		{"no records file", nil, 0, RunError, "cells.jsonl: no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := fakeTarget{name: "vm", kernel: "6.1", fn: func(_ context.Context, dir string) Outcome {
				if tc.lines != nil {
					writeStream(t, dir, tc.lines...)
				}
				return Outcome{Status: RunOK, Sent: tc.sent}
			}}
			var log strings.Builder
			rep, err := Run(context.Background(), suite, []Target{target}, Options{Out: t.TempDir(), Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			run := rep.Runs[0]
			if run.Status != tc.status || !strings.Contains(firstLine(run.Detail), tc.cause) {
				t.Fatalf("run %s %q; want %s with the cause %q on its first line", run.Status, run.Detail, tc.status, tc.cause)
			}
			if tc.status != RunOK && !strings.Contains(log.String(), "; "+firstLine(run.Detail)) {
				t.Errorf("the cause is not in the summary line:\n%s", log.String())
			}
			if len(run.Cells) != 2 {
				t.Errorf("%d cells, want one per planned feature", len(run.Cells))
			}
		})
	}
}

// TestRunOnAFullDiskNeedsRoot fills a small tmpfs, the --out of the run,
// while the target runs: the run is an error naming the full disk, and the
// result that cannot be saved is an error of Run, not a silent loss.
func TestRunOnAFullDiskNeedsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	out := t.TempDir()
	if err := syscall.Mount("tmpfs", out, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(out, 0); err != nil {
			t.Errorf("unmount %s: %v", out, err)
		}
	})
	suite := &Suite{Features: []string{"attach/kprobe"}}
	target := fakeTarget{name: "vm", kernel: "6.1", fn: func(_ context.Context, dir string) Outcome {
		// As qemu does on a full disk: write, and drop what does not fit.
		f, err := os.Create(filepath.Join(dir, "filler"))
		if err != nil {
			return Outcome{Status: RunError, Detail: err.Error()}
		}
		defer f.Close()
		for {
			if _, err := f.Write(make([]byte, 64<<10)); err != nil {
				break
			}
		}
		os.WriteFile(RecordsFile(dir), []byte(`{"kernel":{"release":"6.1.0-50-cloud-amd64"}}`+"\n"), 0o644)
		return Outcome{Status: RunOK, Sent: 2}
	}}
	var log strings.Builder
	rep, err := Run(context.Background(), suite, []Target{target}, Options{Out: out, Log: &log})
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("Run = %v, want the failed save of run.json and report.json", err)
	}
	run := rep.Runs[0]
	if run.Status != RunError || !strings.HasPrefix(run.Detail, "no space left on the file system holding "+filepath.Join(out, "runs", "vm-6.1")) {
		t.Errorf("run %s %q: want error, first the full disk", run.Status, run.Detail)
	}
	if !strings.Contains(log.String(), "; no space left on the file system") || !strings.Contains(log.String(), "save the result of vm 6.1") {
		t.Errorf("the full disk and the lost save are not on the progress log:\n%s", log.String())
	}
}

// TestInterruptedRunsAreRedoneOnResume: an interrupt cuts the running
// target and starts no other; --resume runs both again and reuses only
// what ended ok.
func TestInterruptedRunsAreRedoneOnResume(t *testing.T) {
	suite := &Suite{Features: []string{"attach/kprobe", "attach/fentry"}}
	sigint := errors.New("interrupted by SIGINT")
	ctx, cancel := context.WithCancelCause(context.Background())
	var started []string
	fn := func(ctx context.Context, dir string) Outcome {
		started = append(started, filepath.Base(dir))
		writeStream(t, dir, `{"cell":{"feature":"attach/kprobe","status":"supported","expected":"supported"}}`)
		if filepath.Base(dir) == "vm-6.1" && len(started) == 2 {
			cancel(sigint)
			<-ctx.Done()
			return Outcome{Status: RunTimeout, Detail: "no exit after 8s (context canceled)"}
		}
		writeStream(t, dir, `{"cell":{"feature":"attach/kprobe","status":"supported","expected":"supported"}}`,
			`{"cell":{"feature":"attach/fentry","status":"supported","expected":"supported"}}`)
		return Outcome{Status: RunOK}
	}
	targets := []Target{fakeTarget{"vm", "5.10", fn}, fakeTarget{"vm", "6.1", fn}, fakeTarget{"vm", "6.12", fn}}
	out := t.TempDir()
	rep, err := Run(ctx, suite, targets, Options{Out: out, Jobs: 1, Log: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	ok, cut, never := rep.Runs[0], rep.Runs[1], rep.Runs[2]
	if ok.Status != RunOK {
		t.Errorf("5.10, done before the interrupt: %s %q", ok.Status, ok.Detail)
	}
	if cut.Status != RunInterrupted || firstLine(cut.Detail) != "interrupted by SIGINT" {
		t.Errorf("6.1, cut: %s %q; want interrupted, first line the signal", cut.Status, cut.Detail)
	}
	for _, c := range cut.Cells {
		if want := "interrupted by SIGINT before this cell ended"; c.Feature == "attach/fentry" && c.Evidence != want {
			t.Errorf("6.1 %s: %q, want %q", c.Feature, c.Evidence, want)
		}
	}
	if never.Status != RunInterrupted || never.Detail != "interrupted by SIGINT before the run started" || len(never.Cells) != 2 {
		t.Errorf("6.12, never started: %s %q with %d cells", never.Status, never.Detail, len(never.Cells))
	}
	if _, err := os.Stat(filepath.Join(out, "runs", "vm-6.12")); !os.IsNotExist(err) {
		t.Errorf("a run that never started has a directory: %v", err)
	}

	started = nil
	rep, err = Run(context.Background(), suite, targets, Options{Out: out, Jobs: 1, Resume: true, Log: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"vm-6.1", "vm-6.12"}; !slices.Equal(started, want) {
		t.Errorf("resume ran %v, want %v", started, want)
	}
	for _, run := range rep.Runs {
		if run.Status != RunOK {
			t.Errorf("%s after resume: %s %q", run.Kernel.Name, run.Status, run.Detail)
		}
	}
}

func TestOneJobRunsTargetsInTheOrderGiven(t *testing.T) {
	var started []string
	fn := func(_ context.Context, dir string) Outcome {
		started = append(started, strings.TrimPrefix(filepath.Base(dir), "vm-"))
		return Outcome{Status: RunOK}
	}
	var targets []Target
	kernels := []string{"7.3", "5.10", "6.12", "6.1", "7.2", "a", "b", "c"}
	for _, k := range kernels {
		targets = append(targets, fakeTarget{"vm", k, fn})
	}
	if _, err := Run(context.Background(), &Suite{}, targets, Options{Out: t.TempDir(), Jobs: 1, Log: &strings.Builder{}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(started, kernels) {
		t.Errorf("started %v, want the order given %v", started, kernels)
	}
}

// preparingTarget is a fakeTarget with work to start at once.
type preparingTarget struct {
	fakeTarget
	prepare func()
}

func (p preparingTarget) Prepare(context.Context, *Suite) { p.prepare() }

// TestPreparationDoesNotWaitForASlot runs two targets with one slot: the
// second's preparation must start while the first runs, and Run must
// return only once it is done.
func TestPreparationDoesNotWaitForASlot(t *testing.T) {
	secondPreparing, prepared, overlapped := make(chan struct{}), false, false
	first := fakeTarget{"vm", "a", func(context.Context, string) Outcome {
		select {
		case <-secondPreparing:
			overlapped = true
		case <-time.After(10 * time.Second):
		}
		return Outcome{Status: RunOK}
	}}
	second := preparingTarget{fakeTarget{"vm", "b", nil}, func() {
		close(secondPreparing)
		time.Sleep(50 * time.Millisecond)
		prepared = true
	}}
	if _, err := Run(context.Background(), &Suite{}, []Target{first, second}, Options{Out: t.TempDir(), Jobs: 1, Log: &strings.Builder{}}); err != nil {
		t.Fatal(err)
	}
	if !overlapped {
		t.Error("the second target's preparation did not start while the first ran")
	}
	if !prepared {
		t.Error("Run returned before the second target's preparation ended")
	}
}

func TestSeedReachesEverySuiteRunAndTheReport(t *testing.T) {
	suite := &Suite{Seed: 1796173505, Features: []string{"attach/kprobe"}}
	if args := strings.Join(suite.Args("ginkgo.json"), " "); !strings.Contains(args, "-ginkgo.seed=1796173505") {
		t.Errorf("suite args %q lack the seed", args)
	}
	var log strings.Builder
	targets := []Target{fakeTarget{name: "vm", kernel: "5.10"}, fakeTarget{name: "host", kernel: "host"}}
	rep, err := Run(context.Background(), suite, targets, Options{Out: t.TempDir(), Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range rep.Runs {
		if run.Seed != 1796173505 {
			t.Errorf("%s %s: seed %d", run.Target, run.Kernel.Name, run.Seed)
		}
	}
	if n := strings.Count(log.String(), ", seed 1796173505: "); n != 2 {
		t.Errorf("%d summary lines name the seed, want 2:\n%s", n, log.String())
	}
}

// TestKeepProbePointsAddsKernelBTF: a run that recorded probe points gets
// the kernel's BTF functions, its watched functions' prototypes and the
// watch list's fields and kfuncs from the kernel file its target named
// (here the running kernel's raw BTF), the BTF function names land in the
// lists file beside the target's own lists, a run that recorded none gets
// none, and a VM that named no file says so, its functions unknown, not
// absent.
func TestKeepProbePointsAddsKernelBTF(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	vm := fakeTarget{name: "vm", kernel: "6.1"}
	if pp := keepProbePoints(nil, vm, Outcome{BTF: "/sys/kernel/btf/vmlinux"}, t.TempDir()); pp != nil {
		t.Errorf("a run without probe points got %+v", pp)
	}

	// As the suite records them (inventory.Take and PackLists).
	recorded := func() *reports.ProbePoints {
		pp := &reports.ProbePoints{KprobeFunctions: reports.Count{Source: "available_filter_functions", N: 2}, Watch: []reports.WatchedPoint{
			{Kind: reports.PointFunction, Name: "vfs_read", Present: true, Kprobe: "yes"}}}
		if err := pp.PackLists(&reports.ProbeLists{Tracepoints: []string{"sched/sched_switch"}, KprobeFunctions: []string{"vfs_read", "vfs_write"}}); err != nil {
			t.Fatal(err)
		}
		return pp
	}
	dir := filepath.Join(t.TempDir(), "runs", "vm-6.1")
	pp := keepProbePoints(recorded(), vm, Outcome{BTF: "/sys/kernel/btf/vmlinux"}, dir)
	if pp.HostBTF == nil || pp.HostBTF.Source != "/sys/kernel/btf/vmlinux" || pp.HostBTF.Error != "" || pp.ListsGzip != nil {
		t.Fatalf("host BTF %+v, %d bytes of lists left", pp.HostBTF, len(pp.ListsGzip))
	}
	if pp.BTFFunctions.Source != "/sys/kernel/btf/vmlinux" || pp.BTFFunctions.N < 10000 {
		t.Errorf("BTF functions %+v", pp.BTFFunctions)
	}
	if w := pp.Watch[0]; !strings.Contains(w.Prototype, "vfs_read(struct file *") || w.Traceability != reports.TraceTraceable {
		t.Errorf("vfs_read: %+v", w)
	}
	fields := 0
	for _, w := range pp.Watch {
		if w.Kind == reports.PointField && w.Present {
			fields++
		}
	}
	if fields < 20 {
		t.Errorf("%d fields present of %d points: %+v", fields, len(pp.Watch), pp.Watch)
	}
	var lists reports.ProbeLists
	if data, err := os.ReadFile(ProbePointsFile(dir)); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(data, &lists); err != nil {
		t.Fatal(err)
	}
	if pp.ListsFile != "runs/vm-6.1/probepoints.json" || len(lists.BTFFunctions) != pp.BTFFunctions.N || len(lists.KprobeFunctions) != 2 || len(lists.Tracepoints) != 1 {
		t.Errorf("lists file %q: %d BTF functions (counted %d), %d kprobe functions, %d tracepoints",
			pp.ListsFile, len(lists.BTFFunctions), pp.BTFFunctions.N, len(lists.KprobeFunctions), len(lists.Tracepoints))
	}

	pp = keepProbePoints(recorded(), fakeTarget{name: "host", kernel: "host"}, Outcome{}, t.TempDir())
	if pp.HostBTF == nil || pp.HostBTF.Source != "/sys/kernel/btf/vmlinux" || pp.BTFFunctions.N == 0 {
		t.Errorf("host target: %+v, BTF functions %+v", pp.HostBTF, pp.BTFFunctions)
	}
	pp = keepProbePoints(recorded(), vm, Outcome{}, t.TempDir())
	if pp.HostBTF == nil || !strings.Contains(pp.HostBTF.Error, "named no kernel file") || len(pp.Watch) != 1 || pp.BTFFunctions != *pp.HostBTF {
		t.Errorf("VM without a file: %+v, BTF functions %+v, %d points", pp.HostBTF, pp.BTFFunctions, len(pp.Watch))
	}
	if w := pp.Watch[0]; !w.Present || !strings.HasPrefix(w.Traceability, "unknown: kernel BTF: target vm named no kernel file") {
		t.Errorf("VM without a file: vfs_read %+v", w)
	}
}

// TestRunFilesNameWhatTheRunLeft: a run's files are those it left with
// something in them, and run.json, written next, relative to the report;
// the console and the result lead.
func TestRunFilesNameWhatTheRunLeft(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "vm-6.1")
	if err := os.MkdirAll(filepath.Join(dir, "objects"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"cells.jsonl": "{}\n", "console.log": "boot\n", "bpftool.json": "{}", "empty.log": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"runs/vm-6.1/console.log", "runs/vm-6.1/run.json", "runs/vm-6.1/cells.jsonl", "runs/vm-6.1/bpftool.json"}
	if got, err := runFiles(dir); err != nil || !slices.Equal(got, want) {
		t.Errorf("runFiles = %q, %v; want %q", got, err, want)
	}
}
