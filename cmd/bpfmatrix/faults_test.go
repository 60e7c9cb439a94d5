package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// These tests reproduce faults of a whole `bpfmatrix run` with the real
// suite build and, as root, the host target. They are not in -short.

// repoRoot is the module the suite binary is built from.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// asRoot skips a test that runs the host target (and may mount a tmpfs)
// unless it runs as root and not in -short, and builds bpfmatrix.
func asRoot(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the suite through bpfmatrix; not in -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs the host target")
	}
	return bpfmatrix(t)
}

// proc is a running bpfmatrix whose stderr lines are collected.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
	seen  []string
	done  chan struct{}
}

func start(t *testing.T, bin, dir string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 1000), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return p
}

// waitLine returns the first stderr line containing s, failing if the
// process ends first.
func (p *proc) waitLine(t *testing.T, s string) string {
	t.Helper()
	for line := range p.lines {
		p.seen = append(p.seen, line)
		if strings.Contains(line, s) {
			return line
		}
	}
	t.Fatalf("no stderr line with %q; got:\n%s", s, strings.Join(p.seen, "\n"))
	return ""
}

// wait returns the exit code and every stderr line.
func (p *proc) wait(t *testing.T) (int, []string) {
	t.Helper()
	for line := range p.lines {
		p.seen = append(p.seen, line)
	}
	<-p.done
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), p.seen
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, p.seen
}

// TestKernelPathWithDotsRemovesNothingOutsideOut is the reproduction that
// once deleted T/victim: cd T/a/b/c/d && bpfmatrix run --kernel
// ../../../../victim --out T/out.
func TestKernelPathWithDotsRemovesNothingOutsideOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the suite; not in -short")
	}
	bin := bpfmatrix(t)
	root := t.TempDir()
	victim := filepath.Join(root, "victim", "data.txt")
	cwd := filepath.Join(root, "a", "b", "c", "d")
	for _, dir := range []string{filepath.Dir(victim), cwd} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, bin, cwd, nil, "run", "--kernel", "../../../../victim", "--out", filepath.Join(root, "out"), "--module", repoRoot(t))
	code, lines := p.wait(t)
	t.Logf("exit %d:\n%s", code, strings.Join(lines, "\n"))
	if data, err := os.ReadFile(victim); err != nil || string(data) != "keep me" {
		t.Fatalf("%s after the run: %q, %v", victim, data, err)
	}
	runs, _ := filepath.Glob(filepath.Join(root, "out", "runs", "*"))
	for _, dir := range runs {
		if !regexp.MustCompile(`^vm-custom-victim-[0-9a-f]{8}$`).MatchString(filepath.Base(dir)) {
			t.Errorf("run dir %s", dir)
		}
	}
}

// TestInterruptDuringTheBuildNeedsRoot sends SIGINT while the suite's
// compilers run (a cold build cache keeps them busy): the run exits 130
// saying so, and leaves no compiler and no temporary build directory.
func TestInterruptDuringTheBuildNeedsRoot(t *testing.T) {
	bin := asRoot(t)
	root := t.TempDir()
	out := filepath.Join(root, "out")
	p := start(t, bin, root, []string{"GOCACHE=" + filepath.Join(root, "gocache")}, "run", "--kernel", "host", "--out", out, "--module", repoRoot(t))
	p.waitLine(t, "building the suite binary")
	for len(builders(t, out)) == 0 {
		time.Sleep(20 * time.Millisecond) // until the go command has started a compiler
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code, lines := p.wait(t)
	if last := lines[len(lines)-1]; code != 130 || last != "bpfmatrix: interrupted by SIGINT" {
		t.Errorf("exit %d, last line %q; want 130 and 'bpfmatrix: interrupted by SIGINT'", code, last)
	}
	if left := builders(t, out); len(left) > 0 {
		t.Errorf("build processes left: %v", left)
	}
	if tmp, _ := filepath.Glob(filepath.Join(out, "build", "gotmp-*")); len(tmp) > 0 {
		t.Errorf("temporary build directories left: %v", tmp)
	}
}

// builders lists the processes whose environment names a GOTMPDIR under
// out: the go command and the compilers of the run's build.
func builders(t *testing.T, out string) []string {
	t.Helper()
	environs, _ := filepath.Glob("/proc/[0-9]*/environ")
	var found []string
	for _, path := range environs {
		env, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(env, []byte("GOTMPDIR="+filepath.Join(out, "build"))) {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join(filepath.Dir(path), "comm"))
		found = append(found, strings.TrimSpace(string(comm))+" ("+filepath.Base(filepath.Dir(path))+")")
	}
	return found
}

// TestFullDiskDuringTheRunNeedsRoot fills the tmpfs that is --out once the
// host's suite runs: the run is an error whose cause, the full disk, is on
// the summary line; the lost save makes exit code 1; --resume runs it again.
func TestFullDiskDuringTheRunNeedsRoot(t *testing.T) {
	bin := asRoot(t)
	out := t.TempDir()
	if err := syscall.Mount("tmpfs", out, "tmpfs", 0, "size=256m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(out, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", out, err)
		}
	})
	args := []string{"run", "--kernel", "host", "--out", out, "--module", repoRoot(t)}
	p := start(t, bin, out, nil, args...)
	p.waitLine(t, "[host] running")
	filler := filepath.Join(out, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := f.Write(make([]byte, 1<<20)); err != nil {
			break
		}
	}
	f.Close()
	code, lines := p.wait(t)
	all := strings.Join(lines, "\n")
	summary := regexp.MustCompile(`(?m)^\[host\] error in .*; no space left on the file system holding ` + regexp.QuoteMeta(filepath.Join(out, "runs", "host-host")) + `.*$`)
	t.Logf("exit %d:\n%s", code, all)
	if code != 1 || !summary.MatchString(all) || !strings.Contains(all, "bpfmatrix: results not saved: ") {
		t.Fatalf("exit %d; want 1, the full disk on the summary line and the lost save:\n%s", code, all)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	p = start(t, bin, out, nil, append(args, "--resume")...)
	line := p.waitLine(t, "[host] ")
	if strings.Contains(line, "already done") {
		t.Errorf("--resume kept the broken run: %s", line)
	}
	p.wait(t)
}

// TestSeedOrdersTheHostSuiteNeedsRoot: --seed reaches Ginkgo, the summary
// line and the report.
func TestSeedOrdersTheHostSuiteNeedsRoot(t *testing.T) {
	bin := asRoot(t)
	out := t.TempDir()
	p := start(t, bin, out, nil, "run", "--kernel", "host", "--label-filter", "tracing", "--seed", "1796173505", "--out", out, "--module", repoRoot(t))
	summary := p.waitLine(t, "[host] ok in")
	p.wait(t)
	if !strings.Contains(summary, ", seed 1796173505: ") {
		t.Errorf("summary %q does not name the seed", summary)
	}
	log, err := os.ReadFile(filepath.Join(out, "runs", "host-host", "suite.log"))
	if err != nil || !strings.Contains(string(log), "Random Seed: 1796173505") {
		t.Errorf("Ginkgo did not run with the seed (%v)", err)
	}
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := reports.Parse("report.json", data)
	if err != nil || len(rep.Runs) != 1 || rep.Runs[0].Seed != 1796173505 {
		t.Errorf("report: %v, %+v", err, rep)
	}
}
