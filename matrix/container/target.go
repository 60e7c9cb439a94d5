package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/matrix"
)

// outDir is where the run's directory appears inside the container.
const outDir = "/bpfmatrix"

// userland is what of the host a container gets for the objects' trigger
// commands: /bin/sh and what it may start.
var userland = []string{"/usr", "/bin", "/lib", "/lib64"}

// objectsDir is where the users' staged objects are bound in, read-only.
const objectsDir = "/bpfmatrix-objects"

// Target runs the suite in one container profile on the host kernel.
type Target struct {
	Profile Profile
	Engine  Engine
	// Timeout bounds the container's run; zero means only the caller's ctx.
	Timeout time.Duration
}

// Targets returns one target per profile, all sharing engine (and so one
// image build).
func Targets(engine Engine, profiles []Profile, timeout time.Duration) []matrix.Target {
	targets := make([]matrix.Target, len(profiles))
	for i, p := range profiles {
		targets[i] = &Target{Profile: p, Engine: engine, Timeout: timeout}
	}
	return targets
}

func (t *Target) Name() string { return "container/" + t.Profile.Name }

// Kernel is "host": containers share the host's kernel.
func (t *Target) Kernel() string { return "host" }

// Run runs the suite binary as the container's only process. The run's
// directory is bound in, so the suite appends its records straight to the
// host's records file. The outcome's detail says what the container had:
// its podman options and bind mounts.
func (t *Target) Run(ctx context.Context, s *matrix.Suite, dir string, p *matrix.Progress) matrix.Outcome {
	if t.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.Timeout)
		defer cancel()
	}
	image, err := t.Engine.Image(ctx, s.Binary)
	if err != nil {
		return matrix.Outcome{Status: matrix.RunError, Detail: err.Error()}
	}
	mounts, done := AcquireHostMounts(p.Printf)
	defer done()
	if s.Objects != "" {
		defer HoldBPFStats(p.Printf)()
	}
	// Root in a user namespace is "other" to the host's files: let it write
	// the two files the suite writes.
	for _, f := range []string{matrix.RecordsFile(dir), matrix.GinkgoReportFile(dir)} {
		if err := writable(f); err != nil {
			return matrix.Outcome{Status: matrix.RunError, Detail: err.Error()}
		}
	}
	log, err := os.Create(filepath.Join(dir, "suite.log"))
	if err != nil {
		return matrix.Outcome{Status: matrix.RunError, Detail: err.Error()}
	}
	defer log.Close()

	args := t.runArgs(image, dir, mounts, s)
	setup := t.describe(mounts)
	name := fmt.Sprintf("bpfmatrix-%s-%d-%d", t.Profile.Name, os.Getpid(), time.Now().UnixNano()%1e6)

	p.Printf("running %d specs in podman, profile %s", len(s.Features), t.Profile.Name)
	stop := p.Watch(matrix.RecordsFile(dir))
	start := time.Now()
	err = t.Engine.Run(ctx, name, args, log)
	stop()

	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return matrix.Outcome{Status: matrix.RunTimeout, Detail: fmt.Sprintf("stopped after %s: %v; %s", time.Since(start).Round(time.Millisecond), ctx.Err(), setup)}
	case err == nil:
		return matrix.Outcome{Status: matrix.RunOK, Detail: setup}
	case errors.As(err, &exit) && exit.ExitCode() >= 0 && exit.ExitCode() < 125:
		// podman passes the suite's exit code on; 125 and up are its own.
		out := matrix.SuiteExit(exit.ExitCode(), fmt.Sprintf("%s (log: %s)", matrix.LastLine(log.Name()), log.Name()))
		out.Detail = strings.TrimPrefix(out.Detail+"; "+setup, "; ")
		return out
	default:
		return matrix.Outcome{Status: matrix.RunError, Detail: fmt.Sprintf("podman run: %v: %s (log: %s); %s", err, matrix.LastLine(log.Name()), log.Name(), setup)}
	}
}

// runArgs assembles `podman run` for the profile. Every profile shares the
// host's PID namespace: the counters count events of the suite's own
// process, and the kernel reports it by its host PID. No network: the
// networking specs build what they need in the container's own namespace.
func (t *Target) runArgs(image, dir string, mounts []Mount, s *matrix.Suite) []string {
	args := []string{"--network=none", "--pid=host", "--tmpfs=/tmp"}
	args = append(args, t.Profile.Flags...)
	if t.Profile.SeccompBPF {
		args = append(args, "--security-opt=seccomp="+t.Engine.SeccompBPF())
	}
	for _, m := range mounts {
		args = append(args, m.volume())
	}
	if s.ObjectTriggers {
		// The image holds the suite alone; a trigger command gets the
		// host's userland, read-only.
		for _, dir := range userland {
			if src, err := filepath.EvalSymlinks(dir); err == nil {
				args = append(args, "--volume="+src+":"+dir+":ro")
			}
		}
	}
	if s.Objects != "" {
		args = append(args, "--volume="+s.Objects+":"+objectsDir+":ro")
	}
	for _, env := range s.Env(objectsDir) {
		args = append(args, "--env="+env)
	}
	args = append(args,
		"--volume="+dir+":"+outDir+":rw",
		"--workdir="+outDir,
		"--env="+contract.CellsEnv+"="+matrix.RecordsFile(outDir),
		image)
	return append(args, s.Args(matrix.GinkgoReportFile(outDir))...)
}

// describe says what the container had, for the run's detail.
func (t *Target) describe(mounts []Mount) string {
	opts := append([]string{}, t.Profile.Flags...)
	if t.Profile.SeccompBPF {
		opts = append(opts, "--security-opt=seccomp=containers/seccomp-bpf.json")
	}
	if len(opts) == 0 {
		opts = []string{"(podman defaults)"}
	}
	var bound []string
	for _, m := range mounts {
		mode := ""
		if m.ReadOnly {
			mode = " (ro)"
		}
		bound = append(bound, m.FS+" "+m.Path+mode)
	}
	if len(bound) == 0 {
		bound = []string{"none"}
	}
	return fmt.Sprintf("profile %s: %s; podman run %s --pid=host --network=none; bind mounts: %s",
		t.Profile.Name, t.Profile.Doc, strings.Join(opts, " "), strings.Join(bound, ", "))
}

// writable creates path empty and writable by everyone.
func writable(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return err
	}
	f.Close()
	return os.Chmod(path, 0o666) // past the umask
}
