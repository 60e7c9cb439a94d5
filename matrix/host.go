package matrix

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/matrix/parity"
)

// Host runs the suite on the machine's own kernel. It needs root: loading
// most program types needs CAP_BPF, CAP_PERFMON or CAP_SYS_ADMIN.
type Host struct {
	// Timeout bounds the suite's run; zero means only the caller's ctx.
	Timeout time.Duration
	// Bpftool is the bpftool binary whose feature probe the run's cells
	// are compared with; empty means parity.Find's.
	Bpftool string
}

// hostStopGrace is how long an interrupted or timed-out host suite may take
// to end its spec and clean up before it is killed.
const hostStopGrace = 10 * time.Second

// ErrNotRoot says in one line why the host target cannot run.
var ErrNotRoot = errors.New("the host target needs root (eBPF needs CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN): run it as root, e.g. sudo make matrix KERNEL=host")

// CheckRoot returns ErrNotRoot unless the process runs as root.
func (Host) CheckRoot() error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	return nil
}

func (Host) Name() string   { return "host" }
func (Host) Kernel() string { return "host" }

// Run runs the suite binary as a child process that writes its records
// straight into the run's records file.
//
// The suite starts in a mount namespace of its own (private propagation,
// which Go sets up before exec): the tracefs, securityfs and bpffs it
// mounts exist for it alone and vanish with it, and no mount or unmount
// elsewhere on the machine changes what it sees mid-run. Its verdicts then
// depend neither on what the machine had mounted before nor on what else
// runs beside it, and the machine is left as it was found.
//
// bpftool's feature probe of the kernel runs first, for the run's parity.
func (h Host) Run(ctx context.Context, s *Suite, dir string, p *Progress) Outcome {
	probeErr := h.probe(ctx, dir)
	p.Printf("running %d specs on the host kernel", len(s.Features))
	out := RunProcess(ctx, h.Timeout, dir, p, Process{
		Path:        s.Binary,
		Args:        s.Args(GinkgoReportFile(dir)),
		Env:         s.Env(""),
		SysProcAttr: &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS},
	})
	out.BpftoolErr = probeErr
	return out
}

// Process is what a target on the host kernel starts for a suite run: the
// suite binary itself, or a launcher that sets up a setting and ends by
// executing it.
type Process struct {
	Path string
	Args []string
	// Env is added to the runner's environment and contract.CellsEnv.
	Env         []string
	SysProcAttr *syscall.SysProcAttr
	// ExtraFiles are the process's fd 3 and up; the runner's copies are
	// closed once it started.
	ExtraFiles []*os.File
	// Started, when set, runs once the process started, while it runs:
	// the runner's part of its setup. Its error ends the run as RunError
	// once the process ended too.
	Started func() error
}

// RunProcess runs proc for a suite run in dir on the host kernel: its
// output goes to dir's suite.log, its records straight into
// RecordsFile(dir). The end of ctx, or timeout (when not zero), stops it
// the way a user's Ctrl-C would, so Ginkgo ends the running spec and its
// cleanups (cgroups, namespaces) run, and kills it if it hangs; its exit
// code is judged by SuiteExit.
func RunProcess(ctx context.Context, timeout time.Duration, dir string, p *Progress, proc Process) Outcome {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	log, err := os.Create(filepath.Join(dir, "suite.log"))
	if err != nil {
		return Outcome{Status: RunError, Detail: err.Error()}
	}
	defer log.Close()

	cmd := exec.CommandContext(ctx, proc.Path, proc.Args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), contract.CellsEnv+"="+RecordsFile(dir)), proc.Env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = proc.SysProcAttr
	cmd.ExtraFiles = proc.ExtraFiles
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = hostStopGrace

	stop := p.Watch(RecordsFile(dir))
	start := time.Now()
	err = cmd.Start()
	for _, f := range proc.ExtraFiles {
		f.Close()
	}
	var setupErr error
	if err == nil {
		if proc.Started != nil {
			setupErr = proc.Started()
		}
		err = cmd.Wait()
	}
	stop()

	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return Outcome{Status: RunTimeout, Detail: fmt.Sprintf("stopped after %s: %v", time.Since(start).Round(time.Millisecond), ctx.Err())}
	case setupErr != nil:
		return Outcome{Status: RunError, Detail: fmt.Sprintf("%v; %s (log: %s)", setupErr, LastLine(log.Name()), log.Name())}
	case err == nil:
		return SuiteExit(0, "")
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return SuiteExit(exit.ExitCode(), fmt.Sprintf("%s (log: %s)", LastLine(log.Name()), log.Name()))
	default:
		return Outcome{Status: RunError, Detail: fmt.Sprintf("suite binary: %v (log: %s)", err, log.Name())}
	}
}

// probe runs bpftool's feature probe of the host kernel into
// BpftoolFile(dir), before the suite as in a VM guest, and says why it
// failed if it did. It runs in the machine's own mount namespace: the probe
// mounts nothing.
func (h Host) probe(ctx context.Context, dir string) string {
	bin := h.Bpftool
	if bin == "" {
		var err error
		if bin, err = parity.Find(); err != nil {
			return err.Error()
		}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, bin, parity.Args...)
	cmd.Stderr = &stderr
	answer, err := cmd.Output()
	if err != nil {
		return fmt.Sprintf("%s %s: %v: %s", bin, strings.Join(parity.Args, " "), err, strings.TrimSpace(tail(stderr.String(), 3)))
	}
	if err := os.WriteFile(BpftoolFile(dir), answer, 0o644); err != nil {
		return err.Error()
	}
	return ""
}
