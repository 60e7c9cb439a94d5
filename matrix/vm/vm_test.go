package vm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/arch"
	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/matrix/guest"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/vmimages/initramfs"
)

func TestArgs(t *testing.T) {
	m := &Machine{Vmlinux: "vmlinux", Initrd: "initrd", Append: contract.GuestCmdlineFlag, Serial: []string{"c.log", "cells.jsonl"}, Accel: "tcg"}
	got := strings.Join(m.Args(), " ")
	for _, want := range []string{
		"-accel tcg,thread=single -cpu max", "-m 1024", "-smp 2", "-no-reboot",
		"-chardev file,id=line0,path=c.log -serial chardev:line0 -chardev file,id=line1,path=cells.jsonl -device virtio-serial-pci -device virtserialport,chardev=line1,name=bpfmatrix.1",
		"-kernel vmlinux -initrd initrd",
		"-append console=ttyS0 " + BaseCmdline + " " + contract.GuestCmdlineFlag,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("qemu args lack %q:\n%s", want, got)
		}
	}
	// A restore: the same machine with its payload disk, the console
	// appended to, the state read back.
	m.Disk, m.Incoming, m.AppendSerial = "payload.img", "exec:cat state", true
	got = strings.Join(m.Args(), " ")
	for _, want := range []string{"path=c.log,append=on", "-drive file=payload.img,if=none,id=payload,format=raw,readonly=on -device virtio-blk-pci,drive=payload", "-incoming exec:cat state"} {
		if !strings.Contains(got, want) {
			t.Errorf("restore's qemu args lack %q:\n%s", want, got)
		}
	}
	m.Disk, m.Incoming, m.AppendSerial = "", "", false
	m.Accel = "kvm"
	if got := strings.Join(m.Args(), " "); !strings.Contains(got, "-accel kvm -cpu host") {
		t.Errorf("kvm args: %s", got)
	}

	// arm64's virt machine has one UART: the other lines are virtio
	// consoles, in order, each pointed at its file.
	if got := AccelFor(arch.ARM64); got != "tcg" {
		t.Errorf("AccelFor(arm64) on an %s host = %q: KVM runs only the host's own architecture", arch.Running().Name, got)
	}
	m = &Machine{Arch: arch.ARM64, Vmlinux: "Image", Initrd: "initrd", Serial: []string{"c.log", "cells.jsonl", "ginkgo.json"}, Accel: "tcg"}
	got = strings.Join(m.Args(), " ")
	for _, want := range []string{
		"-accel tcg,thread=single -M virt -cpu max,pauth-impdef=on", "-chardev file,id=line0,path=c.log -serial chardev:line0",
		"-chardev file,id=line1,path=cells.jsonl -device virtio-serial-pci -device virtserialport,chardev=line1,name=bpfmatrix.1 -chardev file,id=line2,path=ginkgo.json -device virtserialport,chardev=line2,name=bpfmatrix.2",
		"-append console=ttyAMA0 ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("arm64 qemu args lack %q:\n%s", want, got)
		}
	}
}

// TestJudge classifies console logs as a guest leaves them. These are
// fixtures of the surrounding code's input, not of a kernel under test.
func TestJudge(t *testing.T) {
	boot := "[    0.000000] Linux version 6.1.0\r\nBPFMATRIX-MODULE veth loaded\r\nBPFMATRIX-READY uptime=1.6s\r\n"
	for _, c := range []struct {
		name, console string
		runErr        error
		status        string
		detail        string
	}{
		{"clean", boot + "BPFMATRIX-EXIT 0 suite=3.5s\r\n", nil, matrix.RunOK, ""},
		{"unexpected cells", boot + "BPFMATRIX-EXIT 1 suite=3.5s\r\n", nil, matrix.RunOK, ""},
		{"panic", boot + "[    5.1] sysrq: Trigger a crash\r\n[    5.1] Kernel panic - not syncing: sysrq triggered crash\r\n[    5.1] CPU: 0 PID: 80\r\n", nil, matrix.RunPanic, "Kernel panic - not syncing: sysrq triggered crash"},
		{"oops then exit", boot + "[    4.0] BUG: kernel NULL pointer dereference, address: 0000000000000000\r\n[    4.0] Oops: 0000 [#1] SMP\r\nBPFMATRIX-EXIT 0 suite=3.5s\r\n", nil, matrix.RunPanic, "BUG: kernel NULL pointer dereference"},
		{"oom", boot + "[    6.0] Out of memory: Killed process 80 (suites.test)\r\n", nil, matrix.RunPanic, "Out of memory"},
		{"hang", boot + "[    9.0] still going\r\n", context.DeadlineExceeded, matrix.RunTimeout, "still going"},
		{"silent", boot, fmt.Errorf("%w for 3m0s", errIdle), matrix.RunTimeout, "wrote nothing"},
		{"silent reset", boot, nil, matrix.RunPanic, "without BPFMATRIX-EXIT"},
		{"init error", "BPFMATRIX-INIT-ERROR open /dev/ttyS1: no such device\r\nBPFMATRIX-EXIT 125 suite=0.000s\r\n", nil, matrix.RunError, "/dev/ttyS1"},
		{"qemu failed", "", fmt.Errorf("qemu: exit status 1: could not load kernel"), matrix.RunError, "could not load kernel"},
		{"record write failed", boot + "bpfmatrix: write BPFMATRIX_CELLS=/proc/self/fd/3: broken pipe\r\nBPFMATRIX-RECORDS 3\r\nBPFMATRIX-EXIT 74 suite=1.0s\r\n", nil, matrix.RunError, "the suite could not write a record and stopped (exit 74)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "console.log")
			if err := os.WriteFile(path, []byte(c.console), 0o644); err != nil {
				t.Fatal(err)
			}
			out := judge(path, 5*time.Second, c.runErr)
			if out.Status != c.status || !strings.Contains(out.Detail, c.detail) {
				t.Errorf("judge = %s %q; want %s containing %q", out.Status, out.Detail, c.status, c.detail)
			}
			if want := strings.Count(c.console, guest.RecordsMarker+" 3"); out.Sent != 3*want {
				t.Errorf("judge counted %d records sent, want %d", out.Sent, 3*want)
			}
		})
	}
}

// TestJudgeReadsBpftoolsOutcome: a failed probe in the guest reaches the
// runner, which fails parity with it; the suite's run is judged apart.
func TestJudgeReadsBpftoolsOutcome(t *testing.T) {
	const why = "/usr/sbin/bpftool feature probe kernel -j: exit status 255"
	for console, want := range map[string]string{
		guest.BpftoolLine(121630, 2*time.Second, nil): "",
		guest.BpftoolLine(0, 0, errors.New(why)):      "bpftool in the guest: " + why,
	} {
		path := filepath.Join(t.TempDir(), "console.log")
		if err := os.WriteFile(path, []byte(console+"\r\nBPFMATRIX-EXIT 0 suite=3.5s\r\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out := judge(path, time.Second, nil); out.Status != matrix.RunOK || out.BpftoolErr != want {
			t.Errorf("judge(%q) = %s, bpftool %q; want ok, bpftool %q", console, out.Status, out.BpftoolErr, want)
		}
	}
}

func TestParseLdd(t *testing.T) {
	// ldd /usr/sbin/bpftool on Debian 12.
	const bpftool = "\tlinux-vdso.so.1 (0x00007ffd3a5f2000)\n" +
		"\tlibelf.so.1 => /lib/x86_64-linux-gnu/libelf.so.1 (0x00007f16c24a3000)\n" +
		"\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f16c2484000)\n" +
		"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f16c2296000)\n" +
		"\t/lib64/ld-linux-x86-64.so.2 (0x00007f16c255b000)\n"
	for _, tc := range []struct {
		name, out string
		want      []string
		err       string
	}{
		{"dynamic", bpftool, []string{"/lib/x86_64-linux-gnu/libelf.so.1", "/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}, ""},
		{"static", "\tnot a dynamic executable\n", nil, ""},
		{"missing library", bpftool + "\tlibcap.so.2 => not found\n", nil, "libcap.so.2 not found"},
		{"no ldd", "", nil, "no library"},
	} {
		got, err := parseLdd(tc.out)
		if !slices.Equal(got, tc.want) || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: parseLdd = %q, %v; want %q, error %q", tc.name, got, err, tc.want, tc.err)
		}
	}
}

// TestAddDynamicPacksWhatLddNames packs a real dynamic binary: it, its
// libraries and its loader are in the archive at the host's paths.
func TestAddDynamicPacksWhatLddNames(t *testing.T) {
	const bin = "/bin/sh"
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		t.Skipf("ldd %s: %v", bin, err)
	}
	want, err := parseLdd(string(out))
	if err != nil || len(want) == 0 {
		t.Skipf("%s is not a dynamic binary here: %q", bin, out)
	}
	a := initramfs.New()
	if err := addDynamic(a, bin); err != nil {
		t.Fatal(err)
	}
	var cpio bytes.Buffer
	if _, err := a.WriteTo(&cpio); err != nil {
		t.Fatal(err)
	}
	for _, f := range append(want, bin) {
		// newc stores each name without the leading slash, NUL-terminated.
		if !bytes.Contains(cpio.Bytes(), []byte(strings.TrimPrefix(f, "/")+"\x00")) {
			t.Errorf("the archive lacks %s", f)
		}
	}
}

// TestVMBootsDebian61 is the VM target end to end: it builds the suite and
// the guest init, fetches Debian's 6.1 cloud kernel (cached after the first
// run), boots it under qemu and checks the cells it streamed.
func TestVMBootsDebian61(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a VM (~10 s under TCG plus the build); not in -short")
	}
	if _, err := lookQemu("", arch.AMD64); err != nil {
		t.Skip("needs qemu: " + err.Error())
	}
	rep, dir := runVM(t, []string{"6.1"}, "", "")
	run := rep.Runs[0]
	if run.Status != matrix.RunOK {
		t.Fatalf("run status %s: %s (console: %s)", run.Status, run.Detail, filepath.Join(dir, "runs", "vm-6.1", "console.log"))
	}
	if !strings.HasPrefix(run.Kernel.Release, "6.1.") {
		t.Errorf("kernel release %q, want 6.1.*", run.Kernel.Release)
	}
	if !strings.HasPrefix(run.Kernel.Package, "linux-image-6.1.") {
		t.Errorf("package %q, want linux-image-6.1.*", run.Kernel.Package)
	}
	cells := map[string]reports.Cell{}
	for _, c := range run.Cells {
		cells[c.Feature] = c
	}
	want := map[string]reports.Status{
		"attach/kprobe":       reports.Supported,
		"attach/fentry":       reports.Supported,
		"attach/lsm":          reports.Supported,   // "bpf" is in 6.1's default LSM list
		"attach/kprobe.multi": reports.Unsupported, // Debian's 6.1 lacks CONFIG_FPROBE
	}
	for id, status := range want {
		c, ok := cells[id]
		if !ok {
			t.Errorf("%s: no cell", id)
			continue
		}
		if c.Status != status || c.Evidence == "" {
			t.Errorf("%s: %s (%s), want %s with evidence", id, c.Status, c.Evidence, status)
		}
	}
	if c := cells["attach/kprobe"]; c.Events == 0 {
		t.Errorf("attach/kprobe supported without events: %+v", c)
	}
	if _, ok := cells["faults/crash"]; ok {
		t.Error("the crash spec ran without being asked for")
	}
	// bpftool ran in the guest and its answer met the cells: every program
	// and map type it knows has a cell (an ok run has no disagreement).
	if p := run.Parity; p == nil || p.Compared < 100 {
		t.Errorf("parity with bpftool in the guest: %+v, want over 100 compared cells", p)
	}
	if n := rep.Unexpected(); n > 0 {
		for _, c := range run.Cells {
			if c.Unexpected {
				t.Logf("unexpected: %s %s: %s", c.Feature, c.Status, c.Evidence)
			}
		}
		t.Errorf("%d unexpected cells", n)
	}
}

// TestVMCrashKeepsCells crashes 6.1 on purpose mid-suite and checks that
// the cells streamed before the crash stay, the crash spec and the ones
// after it come out "crashed" with the console tail, and 5.10 still runs.
// Both are restored from snapshots, as runs are by default.
func TestVMCrashKeepsCells(t *testing.T) {
	if testing.Short() {
		t.Skip("boots two VMs; not in -short")
	}
	if _, err := lookQemu("", arch.AMD64); err != nil {
		t.Skip("needs qemu: " + err.Error())
	}
	// Only 6.1's guest may crash; 5.10 gets the same plan without the
	// permission, so its crash spec refuses (a skipped cell) and it runs on.
	rep, _ := runVM(t, []string{"6.1", "5.10"}, "tracing || crash", t.TempDir(), []string{contract.AllowCrashEnv + "=1"}, nil)
	crashed, next := rep.Runs[0], rep.Runs[1]
	if crashed.Status != matrix.RunPanic || !strings.Contains(crashed.Detail, "sysrq") {
		t.Fatalf("6.1: status %s, detail %q; want panic citing sysrq", crashed.Status, crashed.Detail)
	}
	byStatus := map[reports.Status]int{}
	for _, c := range crashed.Cells {
		byStatus[c.Status]++
		if c.Feature == "faults/crash" && c.Status != reports.Crashed {
			t.Errorf("faults/crash: %s, want crashed", c.Status)
		}
	}
	if byStatus[reports.Crashed] == 0 {
		t.Error("no crashed cell")
	}
	t.Logf("6.1 after the crash: %v", byStatus)
	if next.Status != matrix.RunOK || !strings.HasPrefix(next.Kernel.Release, "5.10.") {
		t.Errorf("5.10 beside the crash: %s %q, want ok", next.Status, next.Kernel.Release)
	}
	for _, c := range next.Cells {
		if c.Feature == "faults/crash" && (c.Status != reports.Skipped || !strings.Contains(c.Evidence, contract.AllowCrashEnv)) {
			t.Errorf("5.10 faults/crash without permission: %s %q, want skipped naming %s", c.Status, c.Evidence, contract.AllowCrashEnv)
		}
	}
}

// TestVMRestoresItsSnapshot runs 5.10 twice with snapshots: the first run
// saves the booted guest and restores it, the second restores the same
// snapshot. Both guests must run the suite to the same cells, with the
// clock set to the host's, and count the kprobe-able functions of the
// snapshot's boot; a third run boots, to compare.
func TestVMRestoresItsSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a VM and restores it twice; not in -short")
	}
	if _, err := lookQemu("", arch.AMD64); err != nil {
		t.Skip("needs qemu: " + err.Error())
	}
	snapshots := t.TempDir()
	var (
		runs        [2]reports.Run
		restoredOut [2]string
		saved       []time.Time
	)
	for i := range runs {
		rep, dir := runVM(t, []string{"5.10"}, "tracing || probepoints", snapshots)
		runs[i], restoredOut[i] = rep.Runs[0], dir
		console := filepath.Join(dir, "runs", "vm-5.10", "console.log")
		if runs[i].Status != matrix.RunOK || len(runs[i].Cells) < 20 {
			t.Fatalf("run %d: %s with %d cells: %s (console: %s)", i+1, runs[i].Status, len(runs[i].Cells), runs[i].Detail, console)
		}
		c, err := readConsole(console)
		if err != nil {
			t.Fatal(err)
		}
		var clock time.Time
		for _, line := range c.lines {
			if at, ok := guest.ParseRestoredClock(line); ok {
				clock = at
			}
		}
		if d := time.Since(clock); d < 0 || d > 5*time.Minute {
			t.Errorf("run %d: the restored guest's clock %s is not the host's (%s ago); console: %s", i+1, clock, d, console)
		}
		metas, _ := filepath.Glob(filepath.Join(snapshots, "*", snapshotMetaFile))
		for _, m := range metas {
			var meta snapshotMeta
			if b, err := os.ReadFile(m); err == nil && json.Unmarshal(b, &meta) == nil {
				saved = append(saved, meta.Created)
			}
		}
	}
	if len(saved) != 2 || !saved[0].Equal(saved[1]) {
		t.Errorf("snapshots saved, as seen after each run: %v; want the one the first run saved", saved)
	}
	statuses := func(r reports.Run) map[string]reports.Status {
		m := map[string]reports.Status{}
		for _, c := range r.Cells {
			m[c.Feature] = c.Status
		}
		return m
	}
	if a, b := statuses(runs[0]), statuses(runs[1]); !maps.Equal(a, b) {
		t.Errorf("two restores of one snapshot disagree:\n%v\n%v", a, b)
	}
	// A restored suite reports the inventory the snapshot's /init took,
	// and says so; a booted one takes its own. The
	// restored kernel has every function the booted one has, and those of
	// the payload disk's driver, which only a snapshot's guest loads.
	booted, dir := runVM(t, []string{"5.10"}, "probepoints", "")
	want := booted.Runs[0].ProbePoints
	if want == nil || want.KprobeFunctions.N < 1000 || strings.Contains(want.KprobeFunctions.Source, "snapshot") {
		t.Fatalf("the booted run's kprobe functions: %+v", want)
	}
	bootedFns := kprobeFunctions(t, filepath.Join(dir, want.ListsFile))
	for i, r := range runs {
		got := r.ProbePoints
		if got == nil || !strings.HasSuffix(got.KprobeFunctions.Source, " (read by /init earlier in this boot, before the VM snapshot this run resumes)") {
			t.Fatalf("restore %d counted kprobe functions of %+v, not /init's inventory", i+1, got)
		}
		fns := kprobeFunctions(t, filepath.Join(restoredOut[i], got.ListsFile))
		if missing := slices.DeleteFunc(slices.Clone(bootedFns), func(fn string) bool { _, ok := slices.BinarySearch(fns, fn); return ok }); len(missing) > 0 || !slices.Contains(fns, "virtblk_probe") || slices.Contains(bootedFns, "virtblk_probe") {
			t.Errorf("restore %d: %d kprobe functions, the booted run %d; missing %d of the booted run's (%q); virtblk_probe restored %v, booted %v",
				i+1, len(fns), len(bootedFns), len(missing), missing[:min(5, len(missing))], slices.Contains(fns, "virtblk_probe"), slices.Contains(bootedFns, "virtblk_probe"))
		}
	}
}

// kprobeFunctions reads the kprobe-able functions of a run's lists file,
// sorted.
func kprobeFunctions(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lists reports.ProbeLists
	if err := json.Unmarshal(data, &lists); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return slices.Sorted(slices.Values(lists.KprobeFunctions))
}

// TestVMSurvivesABrokenSnapshot breaks 5.10's snapshot twice: a state file
// cut short is saved again, one qemu refuses is removed and the run boots.
// Both runs must end ok, and nothing but the snapshot may be lost.
func TestVMSurvivesABrokenSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a VM three times; not in -short")
	}
	if _, err := lookQemu("", arch.AMD64); err != nil {
		t.Skip("needs qemu: " + err.Error())
	}
	snapshots := t.TempDir()
	state := func() string {
		t.Helper()
		states, _ := filepath.Glob(filepath.Join(snapshots, "*", snapshotState))
		if len(states) != 1 {
			t.Fatalf("snapshots: %v, want one state", states)
		}
		return states[0]
	}
	run := func(what string, restored bool) {
		t.Helper()
		rep, dir := runVM(t, []string{"5.10"}, "tracing", snapshots)
		r := rep.Runs[0]
		console := filepath.Join(dir, "runs", "vm-5.10", "console.log")
		if r.Status != matrix.RunOK || len(r.Cells) < 20 {
			t.Fatalf("%s: %s with %d cells: %s (console: %s)", what, r.Status, len(r.Cells), r.Detail, console)
		}
		if got := consoleHas(console, guest.RestoredMarker); got != restored {
			t.Errorf("%s: restored %v, want %v (console: %s)", what, got, restored, console)
		}
	}
	run("the first run", true)
	if err := os.Truncate(state(), 1<<20); err != nil {
		t.Fatal(err)
	}
	run("a run after the state was cut short", true) // saved again
	f, err := os.OpenFile(state(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt(make([]byte, 4096), 0) // qemu's stream starts with its magic
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	run("a run after the state was overwritten", false) // booted
	if metas, _ := filepath.Glob(filepath.Join(snapshots, "*", snapshotMetaFile)); len(metas) != 0 {
		t.Errorf("the refused snapshot is still there: %v", metas)
	}
}

// runVM builds the suite and runs it on kernels, one at a time, each
// restored from its snapshot in snapshots (booted if empty); envs[i] is the
// extra guest environment of kernels[i].
func runVM(t *testing.T, kernels []string, labels, snapshots string, envs ...[]string) (*reports.Report, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	if labels == "" {
		labels = "!" + contract.CrashLabel
	}
	s, err := matrix.BuildSuite(ctx, "../..", dir, labels)
	if err != nil {
		t.Fatal(err)
	}
	init, err := BuildInit(ctx, "../..", dir, arch.AMD64)
	if err != nil {
		t.Fatal(err)
	}
	var targets []matrix.Target
	for i, k := range kernels {
		cfg := &Config{Init: init, Timeout: 5 * time.Minute, Fetch: Fetch("cloud", arch.AMD64), Snapshots: snapshots}
		if i < len(envs) {
			cfg.Env = envs[i]
		}
		targets = append(targets, New(k, cfg))
	}
	rep, err := matrix.Run(ctx, s, targets, matrix.Options{Out: dir, Jobs: 1, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	return rep, dir
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestGuestSuiteCollectsLess checks the guest plan's GOGC, and that a
// Config.Env entry given for the guests comes after it, so it wins.
func TestGuestSuiteCollectsLess(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, guestGOGC},
		{[]string{"GOGC=100"}, "GOGC=100"},
	} {
		plan, _, _ := (&Config{Env: tc.env}).runPlan(&matrix.Suite{})
		var last string
		for _, kv := range plan.Env {
			if strings.HasPrefix(kv, "GOGC=") {
				last = kv
			}
		}
		if last != tc.want {
			t.Errorf("Config.Env %v: the guest's suite runs with %q (plan env %v), want %s", tc.env, last, plan.Env, tc.want)
		}
	}
}
