package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/internal/tools"
)

// TestCheckInstallsNothing runs --check for every target kind with podman
// missing and an apt-get on PATH that records its runs: --check is a pure
// input check, so it must pass, run no apt-get and write nothing, although
// a real run would install podman here (as root on Debian) before it
// starts.
func TestCheckInstallsNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: --check of the host and container targets checks for it")
	}
	bin := bpfmatrix(t)
	fake := t.TempDir()
	runs := filepath.Join(fake, "runs")
	if err := os.WriteFile(filepath.Join(fake, "apt-get"), []byte("#!/bin/sh\necho \"$*\" >> "+runs+"\nexit 100\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", fake)
	if missing, err := tools.Missing(tools.Containers); err != nil || !strings.Contains(strings.Join(missing, " "), "podman") {
		t.Fatalf("with PATH=%s, Missing(containers) = %q, %v: want podman missing, as the test relies on", fake, missing, err)
	}
	for _, args := range [][]string{
		{"--kernel", "all"},
		{"--kernel", "host", "--target", "containers"},
		{"--kernel", "host", "--target", "container/bpf-caps,host"},
		{"--kernel", "6.1,5.10", "--target", "vm"},
	} {
		out := filepath.Join(t.TempDir(), "out")
		args = append([]string{"run", "--check", "--out", out}, args...)
		if stdout, stderr, code := run(t, bin, args...); code != 0 {
			t.Errorf("bpfmatrix %s: exit %d, output %q; want 0", strings.Join(args, " "), code, stdout+stderr)
		}
		if b, err := os.ReadFile(runs); err == nil {
			t.Fatalf("bpfmatrix %s ran apt-get %q", strings.Join(args, " "), b)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("bpfmatrix %s wrote %s", strings.Join(args, " "), out)
		}
	}
}
