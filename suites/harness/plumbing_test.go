package harness

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/internal/testns"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/internal/suitebin"
)

func TestMain(m *testing.M) {
	testns.ExecDenying()
	os.Exit(m.Run())
}

// TestRefusedPlumbingIsNeverUnsupportedNeedsRoot runs the networking specs
// of the real suite binary under a seccomp filter that refuses unshare(2),
// a fault injected from outside: every one of them builds its own network
// namespace first, so none can work, and none may blame the kernel. Their
// cells must come out blocked (the environment refused, and the cell names
// the layer) or error, never unsupported.
func TestRefusedPlumbingIsNeverUnsupportedNeedsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs the suite's networking specs")
	}
	if testing.Short() {
		t.Skip("builds and runs the suite binary; not in -short mode")
	}
	bin := suitebin.Build(t)
	records := filepath.Join(t.TempDir(), "cells.jsonl")
	cmd := testns.DenyingSyscall(unix.SYS_UNSHARE, bin, "-ginkgo.no-color", "-ginkgo.label-filter=networking")
	cmd.Env = append(cmd.Env, contract.CellsEnv+"="+records)
	// The suite mounts what it lacks: let it, in a namespace of its own,
	// made before the filter is.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, _ := cmd.CombinedOutput() // exit 1: the cells are unexpected, which is the point

	f, err := os.Open(records)
	if err != nil {
		t.Fatalf("the suite wrote no records: %v\n%s", err, out)
	}
	defer f.Close()
	var cells, blocked int
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec reports.Record
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec.Cell == nil {
			continue
		}
		c := rec.Cell
		if c.Area != "networking" {
			continue // suite/leaks runs after every plan
		}
		cells++
		switch c.Status {
		case reports.Blocked:
			blocked++
			if c.Layer == "" {
				t.Errorf("%s: blocked without a layer: %s", c.Feature, c.Evidence)
			}
		case reports.Error:
			t.Logf("%s: error at %s: %s", c.Feature, c.Stage, c.Evidence)
		default:
			t.Errorf("%s: %s at %s (%s) under a filter refusing unshare(2): %s", c.Feature, c.Status, c.Stage, c.Errno, c.Evidence)
		}
	}
	if cells < 20 || blocked == 0 {
		t.Fatalf("%d networking cells, %d blocked; want every networking spec's cell, blocked:\n%s", cells, blocked, tail(string(out)))
	}
	t.Logf("%d networking cells under the filter: %d blocked, %d error", cells, blocked, cells-blocked)
}

func tail(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}
