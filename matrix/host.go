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
func (h Host) Run(ctx context.Context, s *Suite, dir string, p *Progress) Outcome {
	if h.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.Timeout)
		defer cancel()
	}
	log, err := os.Create(filepath.Join(dir, "suite.log"))
	if err != nil {
		return Outcome{Status: RunError, Detail: err.Error()}
	}
	defer log.Close()

	cmd := exec.CommandContext(ctx, s.Binary, s.Args(GinkgoReportFile(dir))...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), contract.CellsEnv+"="+RecordsFile(dir))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	// Stop it the way a user's Ctrl-C would, so Ginkgo ends the running
	// spec and its cleanups (cgroups, namespaces) run; kill it if it hangs.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = hostStopGrace

	probeErr := h.probe(ctx, dir)
	p.Printf("running %d specs on the host kernel", len(s.Features))
	stop := p.Watch(RecordsFile(dir))
	start := time.Now()
	err = cmd.Run()
	stop()

	var exit *exec.ExitError
	var out Outcome
	switch {
	case ctx.Err() != nil:
		out = Outcome{Status: RunTimeout, Detail: fmt.Sprintf("stopped after %s: %v", time.Since(start).Round(time.Millisecond), ctx.Err())}
	case err == nil:
		out = SuiteExit(0, "")
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		out = SuiteExit(exit.ExitCode(), fmt.Sprintf("%s (log: %s)", LastLine(log.Name()), log.Name()))
	default:
		out = Outcome{Status: RunError, Detail: fmt.Sprintf("suite binary: %v (log: %s)", err, log.Name())}
	}
	out.BpftoolErr = probeErr
	return out
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
