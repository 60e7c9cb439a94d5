package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExitCodes runs the command as scripts/deps.sh does: no group and
// groups whose tools are installed exit 0; an unknown group exits 2 with
// one line naming it.
func TestExitCodes(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "deps")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		args []string
		code int
		line string
	}{
		{nil, 0, ""},
		{[]string{"build"}, 0, ""},
		{[]string{"build", "nosuch"}, 2, `deps: unknown tool group or package "nosuch": known groups are browser, build, containers`},
		{[]string{"-h"}, 2, "usage: deps GROUP..."},
	} {
		out, err := exec.Command(bin, tt.args...).CombinedOutput()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.code || !strings.Contains(string(out), tt.line) || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 {
			t.Errorf("deps %q: exit %d, output %q; want exit %d and one line with %q", tt.args, code, out, tt.code, tt.line)
		}
	}
}
