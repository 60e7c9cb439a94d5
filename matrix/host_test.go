package matrix

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/matrix/parity"
)

// fakeSuite writes a shell script that stands in for the suite binary in
// these unit tests of the host target around it.
func fakeSuite(t *testing.T, script string) *Suite {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "suites.test")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &Suite{Binary: bin}
}

// TestHostSuiteHasItsOwnMountNamespaceNeedsRoot: what the host suite mounts
// is its own, and nothing it does to mounts reaches the machine.
func TestHostSuiteHasItsOwnMountNamespaceNeedsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the host target refuses to run otherwise, and unshare(CLONE_NEWNS) needs CAP_SYS_ADMIN")
	}
	ours, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The stand-in mounts a tmpfs over the run dir's "probe" and says which
	// namespace it ran in; neither may be visible from here.
	probe := filepath.Join(dir, "probe")
	if err := os.Mkdir(probe, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "readlink /proc/self/ns/mnt > ns && mount -t tmpfs none probe && grep -c ' " + probe + " ' /proc/self/mountinfo > seen"
	out := Host{}.Run(context.Background(), fakeSuite(t, script), dir, NewProgress(&strings.Builder{}, "host", 0))
	if out.Status != RunOK {
		t.Fatalf("host run = %s %q", out.Status, out.Detail)
	}
	theirs, _ := os.ReadFile(filepath.Join(dir, "ns"))
	if got := strings.TrimSpace(string(theirs)); got == "" || got == ours {
		t.Errorf("the suite ran in mount namespace %q, want one other than ours (%s)", got, ours)
	}
	if seen, _ := os.ReadFile(filepath.Join(dir, "seen")); strings.TrimSpace(string(seen)) != "1" {
		t.Errorf("the suite did not see its own mount: %q", seen)
	}
	mountinfo, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mountinfo), " "+probe+" ") {
		t.Errorf("the suite's mount on %s reached the machine's namespace", probe)
	}
}

func TestHostJudgesTheSuiteExit(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		timeout      time.Duration
		status       string
		detail       string
	}{
		{"clean", "exit 0", 0, RunOK, ""},
		{"unexpected cells", "exit 1", 0, RunOK, ""},
		{"record write failed", `echo "bpfmatrix: write BPFMATRIX_CELLS=$BPFMATRIX_CELLS: no space left on device" >&2; exit 74`, 0,
			RunError, "the suite could not write a record and stopped (exit 74); bpfmatrix: write BPFMATRIX_CELLS="},
		{"facts changed", `echo "bpfmatrix: kernel facts changed while the suite ran" >&2; exit 3`, 0, RunError, "the kernel facts the predictions rest on changed while the suite ran (exit 3); bpfmatrix: kernel facts changed"},
		{"broken", "exit 2", 0, RunError, "the suite exited 2"},
		// Without a limit of its own, the host's run would wait for this.
		{"hang", "exec sleep 600", 100 * time.Millisecond, RunTimeout, "context deadline exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := Host{Timeout: tc.timeout}.Run(context.Background(), fakeSuite(t, tc.script), dir, NewProgress(&strings.Builder{}, "host", 0))
			if out.Status != tc.status || !strings.Contains(out.Detail, tc.detail) {
				t.Errorf("host run = %s %q; want %s containing %q", out.Status, out.Detail, tc.status, tc.detail)
			}
		})
	}
}

// TestHostProbesWithBpftoolNeedsRoot: the host target leaves the machine's
// bpftool answer beside the run, and says why when there is none.
func TestHostProbesWithBpftoolNeedsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: bpftool's probes load programs")
	}
	if _, err := parity.Find(); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	out := Host{}.Run(context.Background(), fakeSuite(t, "exit 0"), dir, NewProgress(&strings.Builder{}, "host", 0))
	if out.Status != RunOK || out.BpftoolErr != "" {
		t.Fatalf("host run = %s %q, bpftool: %q", out.Status, out.Detail, out.BpftoolErr)
	}
	data, err := os.ReadFile(BpftoolFile(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parity.Parse(data); err != nil {
		t.Error(err)
	}

	dir = t.TempDir()
	missing := filepath.Join(dir, "no-bpftool")
	out = Host{Bpftool: missing}.Run(context.Background(), fakeSuite(t, "exit 0"), dir, NewProgress(&strings.Builder{}, "host", 0))
	if out.Status != RunOK || !strings.Contains(out.BpftoolErr, missing) {
		t.Errorf("host run without bpftool = %s, bpftool: %q; want the suite's ok and an error naming %s", out.Status, out.BpftoolErr, missing)
	}
	if _, err := os.Stat(BpftoolFile(dir)); err == nil {
		t.Errorf("a failed probe left %s", BpftoolFile(dir))
	}
}
