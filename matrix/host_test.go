package matrix

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
		{"broken", "exit 3", 0, RunError, "the suite exited 3"},
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
