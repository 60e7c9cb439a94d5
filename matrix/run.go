package matrix

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/btfwatch"
	"github.com/bpfmatrix/bpfmatrix/internal/flock"
	"github.com/bpfmatrix/bpfmatrix/internal/inventory"
	"github.com/bpfmatrix/bpfmatrix/matrix/parity"
	"github.com/bpfmatrix/bpfmatrix/matrix/runcache"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/vmimages"
)

// Target is a place the suite runs: the host, a VM booting one kernel, a
// container profile on the host kernel.
type Target interface {
	// Name is the report's target column: "host", "vm", "container/bpf-caps".
	Name() string
	// Kernel is the catalog name of the kernel: "host", "5.10".
	Kernel() string
	// Run runs s inside the target. The suite must append its records to
	// RecordsFile(dir) as they are written; Run says how the run ended.
	Run(ctx context.Context, s *Suite, dir string, p *Progress) Outcome
}

// Preparer is a Target with work its run waits for that can start at
// once, beside the other runs: a VM's builds for its guest architecture.
// Prepare returns when that work is done; what it fails at, the run
// finds again and reports.
type Preparer interface {
	Prepare(ctx context.Context, s *Suite)
}

// Run statuses: how a target's run ended, independent of its cells.
const (
	RunOK      = "ok"
	RunPanic   = "panic"
	RunTimeout = "timeout"
	RunError   = "error"
	// RunInterrupted: a signal (SIGINT, SIGTERM) stopped the matrix during
	// the run or before it started. --resume runs it again.
	RunInterrupted = "interrupted"
)

// Outcome is how a target's run ended.
type Outcome struct {
	// Status is RunOK, RunPanic, RunTimeout or RunError; the runner alone
	// sets RunInterrupted.
	Status string
	// Detail says why a run did not end well: the console tail of a panic,
	// the error of a broken start.
	Detail string
	// Package is the Debian package the kernel came from, when there is one.
	Package string
	// Sent is how many records the target saw the suite write, when it
	// counts them (a VM's /init does): fewer lines in RecordsFile mean
	// records were lost on the way. 0 means not counted.
	Sent int
	// BpftoolErr says why the target's bpftool probe failed. A target that
	// probes writes bpftool's answer to BpftoolFile(dir); one that does not
	// (a container) leaves no such file, and its run is not compared.
	BpftoolErr string
	// NoBpftool says why a target that would probe does not: a VM of
	// another architecture than the host's bpftool. Its run is not compared.
	NoBpftool string
	// BTF is the kernel file the runner reads the kernel's BTF functions
	// and the watch list's functions, fields and kfuncs from, on the host
	// (btfwatch.Add): a VM's vmlinux or Image.
	// Empty for a target on the host kernel, whose BTF is
	// /sys/kernel/btf/vmlinux.
	BTF string
	// Setup is how much of the run went into what later runs reuse (saving
	// a VM snapshot): the durations that order the next matrix leave it out.
	Setup time.Duration
}

// RecordsFile is where a run's record stream is kept, one per target dir.
func RecordsFile(dir string) string { return filepath.Join(dir, "cells.jsonl") }

// GinkgoReportFile is where the suite writes Ginkgo's own JSON report.
func GinkgoReportFile(dir string) string { return filepath.Join(dir, "ginkgo.json") }

// BpftoolFile is where a target puts bpftool's feature probe of its kernel,
// run before the suite: `bpftool feature probe kernel -j` as it answered.
func BpftoolFile(dir string) string { return filepath.Join(dir, "bpftool.json") }

// Options control a matrix run.
type Options struct {
	// Out is the directory for report.json and one subdirectory per run.
	Out string
	// Jobs bounds how many targets run at once. With more than one, it
	// bounds the booted kernels, and the targets on the host's kernel run
	// one at a time beside them (pools).
	Jobs int
	// Resume reuses the result of every target that already ended ok in Out.
	Resume bool
	// Log receives progress; nil means os.Stderr.
	Log io.Writer
	// Tool is the bpfmatrix version written into the report.
	Tool string
	// Cache reuses the run of every Reusable target whose inputs did not
	// change since a run that ended well, and keeps each such run; nil
	// means no cache. NoCache runs them all again, and still keeps them.
	Cache   *runcache.Cache
	NoCache bool
	// AnySeed says the seed was picked at random, not asked for: a cached
	// run of any seed may be reused (it names its own).
	AnySeed bool
	// Durations is a file of how long each target's last run took
	// (DefaultDurationsFile): with more than one job the longest start
	// first, and each run that ran here and ended ok is noted there. ""
	// keeps no history.
	Durations string
}

// Run runs s on every target, at most opts.Jobs VMs and one target on the
// host's kernel at a time (pools), and writes Out/report.json. A target
// that breaks (panic, timeout) ends its own run, not the matrix.
func Run(ctx context.Context, s *Suite, targets []Target, opts Options) (*reports.Report, error) {
	if opts.Jobs < 1 {
		opts.Jobs = 1
	}
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	// Targets run the suite in other working directories (and the VM's
	// qemu opens files by name): every path handed to them is absolute.
	out, err := filepath.Abs(opts.Out)
	if err != nil {
		return nil, err
	}
	opts.Out = out
	if err := CheckTargets(targets); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	rep := &reports.Report{Schema: reports.SchemaVersion, Tool: opts.Tool, Host: host, Generated: time.Now().UTC()}
	rep.Runs = make([]reports.Run, len(targets))

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		saveErrs []error
	)
	// took is how long each run that ran here took, its Setup left out:
	// 0 for one reused from the run cache or --resume.
	took := make([]float64, len(targets))
	runPool := func(pl pool) {
		sem := make(chan struct{}, pl.slots)
		for _, i := range pl.targets {
			t := targets[i]
			dir := filepath.Join(opts.Out, "runs", RunName(t))
			p := NewProgress(opts.Log, label(t), len(s.Features))
			if opts.Resume {
				if prev, ok := finished(dir, p); ok {
					rep.Runs[i] = prev
					continue
				}
			}
			// Slots are taken here, in start order, so that with --jobs 1
			// kernels run in the order given; an interrupt starts no more runs.
			if !acquire(ctx, sem) {
				rep.Runs[i] = collect(s, t, "", Outcome{}, "", context.Cause(ctx))
				p.Summary(rep.Runs[i])
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				// The slot (and the host's kernel) is free once the target
				// ran: reading and keeping what it left is the runner's work,
				// beside the next run.
				unlock := func() {}
				ran := sync.OnceFunc(func() { unlock(); <-sem })
				defer ran()
				k, cacheable := inputs(ctx, s, t, opts, p)
				if cacheable && !opts.NoCache {
					if prev, ok := reuse(k, opts.Cache, opts.Out, dir, p); ok {
						rep.Runs[i] = prev
						return
					}
				}
				if t.Kernel() == vmimages.Host {
					unlock = lockHostKernel(ctx, p)
					if ctx.Err() != nil {
						rep.Runs[i] = collect(s, t, "", Outcome{}, "", context.Cause(ctx))
						p.Summary(rep.Runs[i])
						return
					}
				}
				run, setup, err := runOne(ctx, s, t, opts.Out, dir, p, ran)
				rep.Runs[i], took[i] = run, run.WallTime-setup.Seconds()
				if err != nil {
					mu.Lock()
					saveErrs = append(saveErrs, err)
					mu.Unlock()
				} else if cacheable {
					store(k, opts.Cache, run, dir, p)
				}
			}()
		}
	}
	// A VM's slot waited for its lane's builds, one after the other,
	// before it booted; the first slots of a matrix are arm64's.
	var prepared sync.WaitGroup
	for _, t := range targets {
		if pr, ok := t.(Preparer); ok {
			prepared.Go(func() { pr.Prepare(ctx, s) })
		}
	}
	defer prepared.Wait()
	var started sync.WaitGroup
	for _, pl := range pools(startOrder(s, targets, opts.Jobs, readDurations(opts.Durations)), targets, opts.Jobs) {
		started.Go(func() { runPool(pl) })
	}
	started.Wait()
	wg.Wait()

	if err := noteDurations(opts.Durations, s, targets, rep.Runs, took); err != nil {
		fmt.Fprintf(opts.Log, "the durations that order the next matrix were not noted: %v\n", err)
	}
	if err := writeJSON(filepath.Join(opts.Out, "report.json"), rep); err != nil {
		saveErrs = append(saveErrs, err)
	}
	return rep, errors.Join(saveErrs...)
}

// HostKernelLock is the lock a target on the host's kernel holds while it
// runs, in every bpfmatrix process of the machine: one pool (see pools)
// keeps the runs of one matrix apart, this keeps two matrices apart (two CI
// jobs on one runner). It lives on /run, a tmpfs: a lock outlives no boot.
const HostKernelLock = "/run/bpfmatrix/host-kernel.lock"

// lockHostKernel takes HostKernelLock, waiting while another bpfmatrix
// holds it, until ctx is done. A lock that cannot be taken (no /run) is
// said and run without: it guards against a rare collision, it is no
// reason not to run.
func lockHostKernel(ctx context.Context, p *Progress) (unlock func()) {
	unlock, err := flock.Lock(ctx, HostKernelLock, "the host's kernel", p)
	if err != nil {
		if ctx.Err() == nil {
			p.Printf("running without the lock that keeps other bpfmatrix runs off the host's kernel: %v", err)
		}
		return func() {}
	}
	return unlock
}

// acquire takes a slot of sem unless ctx is done first.
func acquire(ctx context.Context, sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		if ctx.Err() != nil {
			<-sem
			return false
		}
		return true
	case <-ctx.Done():
		return false
	}
}

// label names a target in progress lines: "vm 5.10", "vm 6.12 arm64",
// "host" (not "host host").
func label(t Target) string {
	l := t.Name()
	if t.Name() != t.Kernel() {
		l += " " + t.Kernel()
	}
	if a := ArchOf(t); a != "" && a != runtime.GOARCH {
		l += " " + a
	}
	return l
}

// ArchOf is the architecture a target runs its kernel on, for targets that
// can run another than the host's (VMs); "" for the host's own.
func ArchOf(t Target) string {
	if a, ok := t.(interface{ Arch() string }); ok {
		return a.Arch()
	}
	return ""
}

// runFile is where a run's result is saved once it ended.
func runFile(dir string) string { return filepath.Join(dir, "run.json") }

// finished returns the saved result of a run in dir if it ended ok: --resume
// reuses only those, and redoes every run that was interrupted or broke.
func finished(dir string, p *Progress) (reports.Run, bool) {
	prev, err := savedRun(dir)
	var notOK notOKError
	switch {
	case errors.As(err, &notOK):
		p.Printf("ended %s last time (%s), running it again", prev.Status, firstLine(prev.Detail))
		return prev, false
	case err != nil:
		return prev, false
	}
	p.Printf("already done (%s), reused", runFile(dir))
	return prev, true
}

// savedRun is the result a run saved in dir, if it ended ok; a notOKError
// says how it ended otherwise.
func savedRun(dir string) (reports.Run, error) {
	var prev reports.Run
	data, err := os.ReadFile(runFile(dir))
	if err == nil {
		err = json.Unmarshal(data, &prev)
	}
	if err == nil && prev.Status != RunOK {
		err = notOKError(prev.Status)
	}
	return prev, err
}

// notOKError is the status of a saved run that did not end ok.
type notOKError string

func (e notOKError) Error() string {
	return fmt.Sprintf("%s says the run ended %s", filepath.Base(runFile("")), string(e))
}

// runOne runs one target in its own directory and turns its stream into a
// reports.Run, accounting for every planned feature; it calls ran as soon
// as the target's Run returned. The error is a failure to save the run's
// result; setup is the target's Outcome.Setup.
func runOne(ctx context.Context, s *Suite, t Target, out, dir string, p *Progress, ran func()) (run reports.Run, setup time.Duration, err error) {
	start := time.Now()
	var res Outcome
	full := ""
	if err := makeRunDir(out, dir); err != nil {
		res = Outcome{Status: RunError, Detail: err.Error()}
	} else {
		stop := watchDisk(dir, &full)
		res = t.Run(ctx, s, dir, p)
		stop()
	}
	ran()
	run = collect(s, t, dir, res, full, context.Cause(ctx))
	run.Start, run.End = start.UTC(), time.Now().UTC()
	run.WallTime = run.End.Sub(run.Start).Seconds()
	files, err := runFiles(dir)
	if err != nil {
		run.Detail = joinDetail(run.Detail, "list the run's files: "+err.Error())
	}
	run.Files = files
	p.Summary(run)
	if err := writeJSON(runFile(dir), run); err != nil {
		err = fmt.Errorf("save the result of %s: %w", label(t), err)
		p.Printf("%v", err)
		return run, res.Setup, err
	}
	return run, res.Setup, nil
}

// runFiles lists the files a run left in dir, and run.json, which is
// written next, as paths relative to the report beside runs/: the ones a
// reader opens first (a VM's console, the run's result) lead.
func runFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	names := []string{filepath.Base(runFile(dir))}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.Size() > 0 && e.Name() != names[0] {
			names = append(names, e.Name())
		}
	}
	first := []string{"console.log", names[0], filepath.Base(RecordsFile(dir))}
	rank := func(name string) int {
		if i := slices.Index(first, name); i >= 0 {
			return i
		}
		return len(first)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b)) })
	files := make([]string, len(names))
	for i, name := range names {
		files[i] = filepath.Join("runs", filepath.Base(dir), name)
	}
	return files, err
}

// makeRunDir empties dir, which must be inside out, for a new run.
func makeRunDir(out, dir string) error {
	if err := inside(out, dir); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}

// RunName is the name of t's directory under Out/runs: "vm-5.10",
// "container-bpf-caps-host". It holds only [A-Za-z0-9._-], whatever the
// target and kernel are called: a kernel given as a path
// ("../../victim", "/boot/vmlinuz") becomes "custom-<base>-<hash of the
// absolute path>", so no name can lead a run's RemoveAll outside Out.
func RunName(t Target) string {
	kernel := t.Kernel()
	if !plainName.MatchString(kernel) {
		abs, err := filepath.Abs(kernel)
		if err != nil {
			abs = kernel
		}
		sum := sha256.Sum256([]byte(abs))
		base := strings.Trim(unsafeChars.ReplaceAllString(filepath.Base(abs), "_"), "._")
		kernel = fmt.Sprintf("custom-%s-%x", base, sum[:4])
	}
	name := unsafeChars.ReplaceAllString(t.Name(), "-")
	if a := ArchOf(t); a != "" && a != runtime.GOARCH {
		name += "-" + unsafeChars.ReplaceAllString(a, "-")
	}
	return name + "-" + kernel
}

var (
	plainName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
)

// inside returns an error unless dir is strictly inside out: the last check
// before a run's directory is removed.
func inside(out, dir string) error {
	rel, err := filepath.Rel(out, dir)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Errorf("run directory %s is not inside --out %s: refusing to remove it", dir, out)
	}
	return nil
}

// CheckTargets refuses a target list in which two targets would share a run
// directory (--kernel 5.10,5.10): they would overwrite each other's cells.
// Run checks it too; the CLI calls it first to say so before anything starts.
func CheckTargets(targets []Target) error {
	seen := map[string]Target{}
	for _, t := range targets {
		name := RunName(t)
		if prev, ok := seen[name]; ok {
			return fmt.Errorf("%s %s and %s %s are the same target (both would write runs/%s): name each kernel and target once", prev.Name(), prev.Kernel(), t.Name(), t.Kernel(), name)
		}
		seen[name] = t
	}
	return nil
}

// collect reads what a run streamed and decides its status; full says the
// disk holding dir was full during the run, stopped is the cause of an
// interrupt that cut it, and dir "" a run an interrupt came before. Features the suite never reported get a cell all the same:
// crashed or timeout with the console tail when the target died, error
// otherwise, so a report never silently shrinks.
func collect(s *Suite, t Target, dir string, out Outcome, full string, stopped error) reports.Run {
	run := reports.Run{Target: t.Name(), Seed: s.Seed}
	stream, err := &reports.Stream{}, error(nil)
	var failures map[string]string
	if dir != "" {
		stream, err = readStream(RecordsFile(dir))
		failures = ginkgoFailures(dir)
	}
	run.Status, run.Detail = settle(out, stream, err, len(s.Features), dir, full, stopped)
	run.ProbePoints = keepProbePoints(stream.ProbePoints, t, out, dir)
	cells := stream.Cells
	if stream.Kernel != nil {
		run.Kernel = *stream.Kernel
	}
	run.Kernel.Name, run.Kernel.Package = t.Kernel(), out.Package
	if run.Kernel.Arch == "" {
		// The suite says its own; one that never did ran where the
		// target put it.
		run.Kernel.Arch = ArchOf(t)
		if run.Kernel.Arch == "" {
			run.Kernel.Arch = runtime.GOARCH
		}
	}

	seen := map[string]bool{}
	for _, c := range cells {
		seen[c.Feature] = true
	}
	for _, id := range s.Features {
		if seen[id] {
			continue
		}
		c := reports.Cell{Feature: id, Area: s.Areas[id], Unexpected: true}
		switch run.Status {
		case RunInterrupted:
			c.Status, c.Evidence = reports.Error, stopped.Error()+" before this cell ended"
		case RunPanic:
			c.Status, c.Evidence = reports.Crashed, "the kernel died before this cell ended; console tail: "+out.Detail
		case RunTimeout:
			c.Status, c.Evidence = reports.Timeout, "the target stopped answering before this cell ended; console tail: "+out.Detail
		default:
			c.Status, c.Evidence = reports.Error, "the suite wrote no cell for this feature"
			if msg := failures[id]; msg != "" {
				c.Evidence += ": " + msg
			} else if run.Detail != "" {
				c.Evidence += ": " + run.Detail
			}
		}
		cells = append(cells, c)
	}
	run.Cells = cells
	if dir != "" {
		run.Parity = compareBpftool(dir, out, cells)
		run.Status, run.Detail = settleParity(run.Status, run.Detail, run.Parity)
	}
	return run
}

// compareBpftool compares the cells with the bpftool answer the target left
// in dir, if it probes.
func compareBpftool(dir string, out Outcome, cells []reports.Cell) *reports.Parity {
	data, err := os.ReadFile(BpftoolFile(dir))
	switch {
	case out.NoBpftool != "":
		return &reports.Parity{Skipped: out.NoBpftool}
	case out.BpftoolErr != "":
		return &reports.Parity{Error: out.BpftoolErr}
	case errors.Is(err, fs.ErrNotExist):
		return &reports.Parity{Skipped: "this target runs no bpftool probe (the host and VM targets do)"}
	case err != nil:
		return &reports.Parity{Error: err.Error()}
	case len(data) == 0:
		return &reports.Parity{Error: "the target wrote no bpftool answer to " + BpftoolFile(dir)}
	}
	probe, err := parity.Parse(data)
	if err != nil {
		return &reports.Parity{Error: fmt.Sprintf("%s: %v", BpftoolFile(dir), err)}
	}
	p := parity.Compare(probe, cells)
	return &p
}

// settleParity is the run's status and detail once its parity is known: a
// run that ended ok is an error when bpftool's answer is missing or a cell
// disagrees with it, and its detail starts with each disagreement. A run
// not compared says so in its detail. A run that did not end ok keeps its
// own cause; its parity is in the report.
func settleParity(status, detail string, p *reports.Parity) (string, string) {
	switch {
	case p.Skipped != "":
		return status, joinDetail(detail, parity.Summary(p))
	case status != RunOK:
		return status, detail
	case p.Error != "" || len(p.Disagreements) > 0:
		return RunError, joinDetail(parity.Summary(p), detail)
	}
	return status, detail
}

// settle is where a run's status is decided, from how the target says it
// ended (out) and what reached the host (stream, read with readErr). A run
// cut by an interrupt (stopped) is interrupted, one an interrupt came before
// (dir "") too. A run that ended well is an error all the same if lines of
// its stream were lost, if fewer records arrived than the target counted, or
// if it wrote no cell although features were planned; and any run is an
// error when the disk holding its directory was full (full says so), because
// its output may be cut anywhere. The first line of the detail is the cause.
func settle(out Outcome, stream *reports.Stream, readErr error, planned int, dir, full string, stopped error) (status, detail string) {
	switch {
	case dir == "":
		return RunInterrupted, stopped.Error() + " before the run started"
	case stopped != nil:
		return RunInterrupted, joinDetail(stopped.Error(), out.Detail)
	}
	status, detail = out.Status, out.Detail
	var problems []string
	if full != "" {
		problems = append(problems, full)
	}
	if readErr != nil && (status == RunOK || !errors.Is(readErr, fs.ErrNotExist)) {
		problems = append(problems, readErr.Error())
	}
	if stream.Lines < out.Sent {
		problems = append(problems, fmt.Sprintf("the target sent %d records but %d lines reached %s", out.Sent, stream.Lines, RecordsFile(dir)))
	}
	if len(problems) == 0 && len(stream.Cells) == 0 && planned > 0 && status == RunOK {
		problems = append(problems, fmt.Sprintf("the target wrote no cell of the %d planned", planned))
	}
	switch {
	case len(problems) == 0:
		return status, detail
	case status == RunOK || full != "":
		return RunError, joinDetail(strings.Join(problems, "; "), detail)
	default:
		return status, joinDetail(detail, strings.Join(problems, "; "))
	}
}

// watchDisk sets *full, once, when the file system holding dir has no block
// left for this process (root may use the reserved ones) while a target
// runs: qemu then drops what the guest writes, the suite's own writes fail,
// and space the target frees when it ends (a VM's initramfs) would hide it
// afterwards. stop checks a last time.
func watchDisk(dir string, full *string) (stop func()) {
	check := func() bool {
		var st syscall.Statfs_t
		if syscall.Statfs(dir, &st) != nil {
			return false
		}
		free := st.Bavail
		if os.Geteuid() == 0 {
			free = st.Bfree
		}
		if free == 0 && *full == "" {
			*full = fmt.Sprintf("no space left on the file system holding %s: the target's output may be cut short", dir)
		}
		return *full != ""
	}
	stopPoll := Poll(time.Second, check)
	return func() { stopPoll(); check() }
}

// readStream reads a run's record stream; the stream is never nil.
func readStream(path string) (*reports.Stream, error) {
	f, err := os.Open(path)
	if err != nil {
		return &reports.Stream{}, err
	}
	defer f.Close()
	return reports.ReadStream(path, f)
}

// joinDetail joins two parts of a run's detail, a line apart.
func joinDetail(first, then string) string {
	if first == "" || then == "" {
		return first + then
	}
	return first + "\n" + then
}

// firstLine is the first line of s: the cause, in a run's detail.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// ProbePointsFile is where a run's full probe point lists are kept.
func ProbePointsFile(dir string) string { return filepath.Join(dir, "probepoints.json") }

// keepProbePoints completes a probe points record with its kernel's BTF,
// read on the host (watchBTF), and moves the full name lists (tens of
// thousands of function names per kernel), the BTF functions among them,
// into a file in the run's dir, so that report.json carries only the
// counts and the watch list. The BTF is read before the file is written:
// the BTF function names in it come from the host's read, not from the
// target's record.
// A failure loses only the lists: the counts stay, and `bpfmatrix
// probepoints` says the file is missing.
func keepProbePoints(pp *reports.ProbePoints, t Target, out Outcome, dir string) *reports.ProbePoints {
	if pp == nil {
		return nil
	}
	lists, err := pp.UnpackLists()
	pp.ListsGzip = nil
	if err != nil {
		lists = nil
	}
	watchBTF(pp, lists, t, out)
	if lists == nil {
		return pp
	}
	if err := writeJSON(ProbePointsFile(dir), lists); err == nil {
		// Relative to report.json, which sits two levels up: Out/runs/<run>.
		pp.ListsFile = filepath.Join("runs", filepath.Base(dir), filepath.Base(ProbePointsFile(dir)))
	}
	return pp
}

// watchBTF completes a run's probe points from its kernel's BTF, read on
// the host (btfwatch.Add): the BTF functions and their names (into lists,
// when not nil), the watched functions' prototypes and traceability, and
// the watch list's struct fields and kfuncs. No boot is needed for them,
// decoding BTF in an emulated guest is slow, and the suite's own record
// stays small.
func watchBTF(pp *reports.ProbePoints, lists *reports.ProbeLists, t Target, out Outcome) {
	path := out.BTF
	if path == "" && t.Kernel() == "host" {
		path = inventory.BTFSource
	}
	if path == "" {
		btfwatch.Unread(pp, "kernel BTF", "target "+t.Name()+" named no kernel file to read BTF from")
		return
	}
	took := btfwatch.Add(pp, lists, path, inventory.Watch)
	slog.Info("read kernel BTF on the host", "kernel", t.Kernel(), "file", path, "types", pp.HostBTF.N, "functions", pp.BTFFunctions.N, "error", pp.HostBTF.Error, "took", took.Round(time.Millisecond))
}

// ginkgoFailures maps features to the failure Ginkgo recorded for them, from
// the suite's JSON report: the reason a cell is missing when the suite
// survived but a spec broke outside the harness.
func ginkgoFailures(dir string) map[string]string {
	specs, err := readGinkgoReport(GinkgoReportFile(dir))
	if err != nil {
		return nil
	}
	failures := map[string]string{}
	for _, sr := range specs {
		if sr.Failure.Message != "" {
			failures[featureOf(sr)] = sr.State.String() + ": " + sr.Failure.Message
		}
	}
	return failures
}

// writeJSON writes v to path atomically: a reader never sees half a file.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	// A temporary file of its own: two matrices may write one file (the
	// durations beside the caches) at once.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
