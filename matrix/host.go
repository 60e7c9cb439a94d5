package matrix

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Host runs the suite on the machine's own kernel. It needs root: loading
// most program types needs CAP_BPF, CAP_PERFMON or CAP_SYS_ADMIN.
type Host struct {
	// Timeout bounds the suite's run; zero means only the caller's ctx.
	Timeout time.Duration
}

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
	cmd.Env = append(os.Environ(), reports.CellsEnv+"="+RecordsFile(dir))
	cmd.Stdout, cmd.Stderr = log, log

	p.Printf("running %d specs on the host kernel", len(s.Features))
	stop := p.Watch(RecordsFile(dir))
	start := time.Now()
	err = cmd.Run()
	stop()

	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return Outcome{Status: RunTimeout, Detail: fmt.Sprintf("stopped after %s: %v", time.Since(start).Round(time.Millisecond), ctx.Err())}
	case err == nil:
		return SuiteExit(0, "")
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return SuiteExit(exit.ExitCode(), fmt.Sprintf("%s (log: %s)", LastLine(log.Name()), log.Name()))
	default:
		return Outcome{Status: RunError, Detail: fmt.Sprintf("suite binary: %v (log: %s)", err, log.Name())}
	}
}
