// Package token is the matrix target bpf-token: the suite on the host
// kernel as root of a user namespace of its own that holds a BPF token
// (Linux 6.9+), the way the kernel means unprivileged containers to get
// eBPF. The runner delegates a bpffs into the namespace (package bpffs),
// and cilium/ebpf finds the token from it by itself, so the suite runs
// unchanged; the column shows what a token admits that a user namespace
// alone (container/userns) does not.
//
// Podman 4.3 cannot delegate a bpffs, so the runner builds the setting
// itself: a static launcher (matrix/token/launcher) starts in a new user
// and mount namespace, receives the bpffs, mounts it and executes the
// suite. The launcher is a program of its own rather than the runner
// re-executed: it must run between clone and exec under the namespace's
// uid, which may not be able to reach the runner's binary, and it keeps the
// runner's code and its tests' binaries out of the namespace.
//
// docs/bpf-token.md describes the setting and what was measured in it.
package token

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/matrix/container"
	"github.com/bpfmatrix/bpfmatrix/matrix/token/bpffs"
)

// Name is the target's report column and --target name.
const Name = "bpf-token"

// The user namespace maps its root to the same unprivileged range as the
// container/userns profile, so the two columns differ by the token alone:
// the suite is uid 0 there and 100000 to the host, which owns none of
// the host's files.
const (
	hostUID = 100000
	idCount = 65536
)

// Target runs the suite in a user namespace holding a BPF token.
type Target struct {
	// Timeout bounds the suite's run; zero means only the caller's ctx.
	Timeout time.Duration
	// Delegation is what the bpffs delegates to tokens.
	Delegation bpffs.Delegation
	// Launcher is the launcher binary. Empty means the first Run builds
	// it with BuildLauncher from ModuleDir into the suite binary's
	// directory.
	Launcher  string
	ModuleDir string

	once     sync.Once
	buildErr error
}

// New returns the target delegating everything (bpffs.Any), so that the
// column shows the most a token can admit on the kernel.
func New(timeout time.Duration, moduleDir string) *Target {
	return &Target{Timeout: timeout, Delegation: bpffs.Any, ModuleDir: moduleDir}
}

func (t *Target) Name() string { return Name }

// Kernel is "host": the namespace shares the host's kernel.
func (t *Target) Kernel() string { return "host" }

// BuildLauncher compiles the launcher, static, into dir.
func BuildLauncher(ctx context.Context, moduleDir, dir string) (string, error) {
	bin := filepath.Join(dir, "bpf-token-launcher")
	if err := matrix.GoBuild(ctx, moduleDir, dir, []string{"CGO_ENABLED=0"}, "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "github.com/bpfmatrix/bpfmatrix/matrix/token/launcher"); err != nil {
		return "", fmt.Errorf("build the bpf-token launcher: %w", err)
	}
	return bin, nil
}

// Run starts the launcher in a new user, mount and network namespace (the
// network namespace belongs to the user namespace, as a container's
// does) in the host's PID namespace (the counters filter by the suite's
// host PID) and in a cgroup delegated to it, and serves it the delegated
// bpffs; the launcher executes the suite, which writes its records
// straight into the run's records file. The kernel filesystems the suite
// needs beside bpffs are mounted on the host for the run, shared with the
// container targets (the namespace cannot mount tracefs or securityfs
// itself), and the outcome's detail says what the namespace had.
func (t *Target) Run(ctx context.Context, s *matrix.Suite, dir string, p *matrix.Progress) matrix.Outcome {
	if err := t.launcher(ctx, s); err != nil {
		return matrix.Outcome{Status: matrix.RunError, Detail: err.Error()}
	}
	for _, bin := range []string{t.Launcher, s.Binary, s.Objects} {
		if bin == "" {
			continue
		}
		if err := reachable(bin); err != nil {
			return matrix.Outcome{Status: matrix.RunError, Detail: err.Error()}
		}
	}
	mounts, done := container.AcquireHostMounts(p.Printf)
	defer done()
	if s.Objects != "" {
		defer container.HoldBPFStats(p.Printf)()
	}
	tmp := filepath.Join(dir, "tmp")
	defer os.Remove(tmp) // the tmpfs on it was the namespace's, gone with it
	written := []string{matrix.RecordsFile(dir), matrix.GinkgoReportFile(dir)}
	if err := giveToNamespace(tmp, written...); err != nil {
		return matrix.Outcome{Status: matrix.RunError, Detail: err.Error()}
	}
	defer takeBack(written, p)
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return matrix.Outcome{Status: matrix.RunError, Detail: fmt.Sprintf("socketpair: %v", err)}
	}
	runner := os.NewFile(uintptr(pair[0]), "bpf-token runner socket")
	defer runner.Close()
	launcherEnd := os.NewFile(uintptr(pair[1]), "bpf-token launcher socket")
	var cgroup *delegatedCgroup
	cgroup2 := container.Cgroup2()
	if cgroup2 != "" {
		if cgroup, err = delegateCgroup(cgroup2); err != nil {
			launcherEnd.Close()
			return matrix.Outcome{Status: matrix.RunError, Detail: err.Error()}
		}
	}

	args := []string{"-bpffs", bpfDir(), "-tmp", tmp}
	attr := &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: hostUID, Size: idCount}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: hostUID, Size: idCount}},
		// Root inside, with no supplementary group of the runner's.
		GidMappingsEnableSetgroups: true,
		Credential:                 &syscall.Credential{Uid: 0, Gid: 0},
	}
	if cgroup != nil {
		args = append(args, "-cgroup2", cgroup2)
		attr.UseCgroupFD, attr.CgroupFD = true, int(cgroup.fd.Fd())
	}
	args = append(append(args, "--", s.Binary), s.Args(matrix.GinkgoReportFile(dir))...)
	p.Printf("running %d specs in a user namespace holding a BPF token (%s)", len(s.Features), t.Delegation)
	out := matrix.RunProcess(ctx, t.Timeout, dir, p, matrix.Process{
		Path:        t.Launcher,
		Args:        args,
		Env:         append([]string{"TMPDIR=" + tmp}, s.Env("")...),
		SysProcAttr: attr,
		ExtraFiles:  []*os.File{launcherEnd},
		Started: func() error {
			// Closing our end after the exchange, or after it failed,
			// tells a waiting launcher to give up.
			defer runner.Close()
			return bpffs.Delegate(pair[0], t.Delegation)
		},
	})
	setup := t.describe(mounts, tmp, cgroup)
	if cgroup != nil {
		if left := cgroup.remove(); left != "" {
			p.Printf("the run left %s in its cgroup %s: removed", left, cgroup.dir)
			setup += "; the run left behind, and the runner removed: " + left
		}
	}
	out.Detail = strings.TrimPrefix(out.Detail+"; "+setup, "; ")
	return out
}

// describe says what the namespace had, for the run's detail.
func (t *Target) describe(mounts []container.Mount, tmp string, cgroup *delegatedCgroup) string {
	var host []string
	for _, m := range mounts {
		if m.Path != bpfDir() && m.FS != "cgroup2" {
			host = append(host, m.FS+" "+m.Path)
		}
	}
	cg := "no cgroup2 on the host: none delegated"
	if cgroup != nil {
		cg = "the cgroup " + cgroup.dir + " delegated to it, as root of its own cgroup namespace and cgroup2 mount"
	}
	return fmt.Sprintf("%s: user namespace with uid and gid 0-%d mapped to %d-%d, own mount and network namespaces (lo up), the host's PID namespace; "+
		"bpffs at %s owned by the user namespace, delegating %s; %s; a tmpfs at %s (TMPDIR); from the host's mount namespace: %s",
		Name, idCount-1, hostUID, hostUID+idCount-1, bpfDir(), t.Delegation, cg, tmp, strings.Join(host, ", "))
}

// giveToNamespace makes dir and the files that the suite writes, empty,
// and hands them to the namespace's root: the runner's own are out of its
// reach.
func giveToNamespace(dir string, files ...string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	paths := []string{dir}
	for _, f := range files {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			return err
		}
		paths = append(paths, f)
	}
	for _, path := range paths {
		if err := os.Chown(path, hostUID, hostUID); err != nil {
			return fmt.Errorf("hand %s to the user namespace's root: %w", path, err)
		}
	}
	return nil
}

// takeBack hands the files the suite wrote back to the runner, so the run
// directory holds no file of a uid that only existed for the run.
func takeBack(files []string, p *matrix.Progress) {
	for _, f := range files {
		if err := os.Lchown(f, os.Getuid(), os.Getgid()); err != nil && !os.IsNotExist(err) {
			p.Printf("cannot hand %s back to the runner: %v", f, err)
		}
	}
}

// reachable returns an error unless someone who owns none of the path's
// directories can execute bin: the namespace's uid is such a one.
func reachable(bin string) error {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s runs the suite as uid %d, which may not enter %s (mode %s) to reach %s: use an --out under a directory others may enter, such as /tmp", Name, hostUID, dir, fi.Mode().Perm(), abs)
		}
		if dir == "/" {
			break
		}
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o005 != 0o005 {
		return fmt.Errorf("%s runs the suite as uid %d, which may not execute %s (mode %s)", Name, hostUID, abs, fi.Mode().Perm())
	}
	return nil
}

// bpfDir is where the suite looks for bpffs, and cilium/ebpf for a token.
func bpfDir() string {
	for _, fs := range contract.KernelFS {
		if fs.FSType == "bpf" {
			return fs.Dir
		}
	}
	panic("contract.KernelFS names no bpffs")
}
