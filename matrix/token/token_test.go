package token

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/testns"
	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/matrix/container"
)

// standIn builds the launcher and writes a shell script that stands in for
// the suite binary, both where the namespace's uid may reach them.
func standIn(t *testing.T, script string) (*Target, *matrix.Suite) {
	t.Helper()
	dir := enterable(t)
	launcher, err := BuildLauncher(context.Background(), "../..", dir)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "suites.test")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &Target{Delegation: New(0, "").Delegation, Launcher: launcher}, &matrix.Suite{Binary: bin}
}

// enterable is a temporary directory that everyone may enter, unlike
// t.TempDir's.
func enterable(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bpfmatrix-token-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runDir is a run directory as the runner makes it.
func runDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(enterable(t), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestSuiteSeesADelegatedBPFFSInAUserNamespaceNeedsRoot: the stand-in
// suite runs as root of a user namespace, finds a bpffs there that the
// namespace owns with the delegate options the runner set, and its own
// tmpfs; the run leaves nothing behind.
func TestSuiteSeesADelegatedBPFFSInAUserNamespaceNeedsRoot(t *testing.T) {
	// The target mounts the host's missing kernel filesystems: in a
	// private mount namespace, so the test leaves the machine's alone.
	if !testns.PrivateMounts(t) {
		return
	}
	cgroup2 := container.Cgroup2()
	if cgroup2 == "" {
		t.Skip("needs a cgroup2 mount on the host, which the target delegates a cgroup of")
	}
	// Beside what it looks at, the stand-in leaves a cgroup and a process
	// behind, which the run must clean up.
	target, suite := standIn(t, `echo "uid_map $(cat /proc/self/uid_map)"
echo "user ns $(readlink /proc/self/ns/user)"
grep ' /sys/fs/bpf ' /proc/self/mountinfo
echo "TMPDIR $(stat -f -c %T "$TMPDIR")"
echo "cgroup $(grep ^0:: /proc/self/cgroup)"
mkdir `+cgroup2+`/made && echo $$ > `+cgroup2+`/made/cgroup.procs && echo "entered $(grep ^0:: /proc/self/cgroup)"
sleep 600 &
echo written > "$BPFMATRIX_CELLS"`)
	dir := runDir(t)
	out := target.Run(context.Background(), suite, dir, matrix.NewProgress(&strings.Builder{}, Name, 0))
	if out.Status != matrix.RunOK {
		t.Fatalf("run = %s %q", out.Status, out.Detail)
	}
	for _, want := range []string{"delegating delegate_cmds=any,delegate_maps=any,delegate_progs=any,delegate_attachs=any", "mapped to 100000-165535",
		"the run left behind, and the runner removed: 1 processes (killed), cgroup /made"} {
		if !strings.Contains(out.Detail, want) {
			t.Errorf("detail %q does not say %q", out.Detail, want)
		}
	}
	log, err := os.ReadFile(filepath.Join(dir, "suite.log"))
	if err != nil {
		t.Fatal(err)
	}
	ours, _ := os.Readlink("/proc/self/ns/user")
	var delegated bool
	for _, line := range strings.Split(string(log), "\n") {
		switch {
		case strings.HasPrefix(line, "uid_map "):
			if got := strings.Join(strings.Fields(line), " "); got != "uid_map 0 100000 65536" {
				t.Errorf("the suite's %s, want uid_map 0 100000 65536", got)
			}
		case strings.HasPrefix(line, "user ns "):
			if strings.TrimPrefix(line, "user ns ") == ours {
				t.Errorf("the suite ran in the test's user namespace %s", ours)
			}
		case strings.HasPrefix(line, "TMPDIR "):
			if line != "TMPDIR tmpfs" {
				t.Errorf("the suite's %s, want a tmpfs", line)
			}
		case strings.HasPrefix(line, "cgroup "), strings.HasPrefix(line, "entered "):
			// The delegated cgroup is the root of the suite's cgroup
			// namespace, and the suite may make cgroups in it and enter them.
			if line != "cgroup 0::/" && line != "entered 0::/made" {
				t.Errorf("the suite's %s, want cgroup 0::/ and entered 0::/made", line)
			}
		case strings.Contains(line, " - bpf "):
			delegated = delegated || strings.Contains(line, "uid=100000") && strings.Contains(line, "delegate_cmds=any") && strings.Contains(line, "delegate_attachs=any")
		}
	}
	if !delegated {
		t.Errorf("the suite saw no bpffs owned by its namespace's root with delegate options at /sys/fs/bpf:\n%s", log)
	}
	if cells, _ := os.ReadFile(matrix.RecordsFile(dir)); string(cells) != "written\n" {
		t.Errorf("records file = %q: the suite could not write it", cells)
	}
	if fi, err := os.Stat(matrix.RecordsFile(dir)); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("after the run the records file is not the runner's: %v %+v", err, fi)
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp")); !os.IsNotExist(err) {
		t.Errorf("the suite's TMPDIR is left in the run directory: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(cgroup2, Name+"-*")); len(left) > 0 {
		t.Errorf("the run left its cgroup behind: %v", left)
	}
	for _, want := range []string{"entered 0::/made"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the suite's log lacks %q:\n%s", want, log)
		}
	}
}

func TestTargetJudgesTheSuiteNeedsRoot(t *testing.T) {
	if !testns.PrivateMounts(t) {
		return
	}
	for _, tc := range []struct {
		name, script string
		timeout      time.Duration
		status       string
		detail       string
	}{
		{"unexpected cells", "exit 1", 0, matrix.RunOK, "bpf-token: user namespace"},
		{"broken", "echo broken >&2; exit 2", 0, matrix.RunError, "the suite exited 2; broken"},
		{"hang", "exec sleep 600", 500 * time.Millisecond, matrix.RunTimeout, "context deadline exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target, suite := standIn(t, tc.script)
			target.Timeout = tc.timeout
			out := target.Run(context.Background(), suite, runDir(t), matrix.NewProgress(&strings.Builder{}, Name, 0))
			if out.Status != tc.status || !strings.Contains(out.Detail, tc.detail) {
				t.Errorf("run = %s %q; want %s containing %q", out.Status, out.Detail, tc.status, tc.detail)
			}
		})
	}
}

// TestRunRefusesABinaryTheNamespaceCannotReach: a run directory under a
// directory only root may enter is named before anything starts.
func TestRunRefusesABinaryTheNamespaceCannotReach(t *testing.T) {
	dir := filepath.Join(enterable(t), "private")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "suites.test")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	target := &Target{Delegation: New(0, "").Delegation, Launcher: bin}
	out := target.Run(context.Background(), &matrix.Suite{Binary: bin}, runDir(t), matrix.NewProgress(&strings.Builder{}, Name, 0))
	if out.Status != matrix.RunError || !strings.Contains(out.Detail, "may not enter "+dir) {
		t.Errorf("run = %s %q; want an error naming %s", out.Status, out.Detail, dir)
	}
}
