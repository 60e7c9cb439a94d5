package main

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// TestShardsMergeToOneRun runs the host target's features area whole and
// as shards 1/2 and 2/2: the shards are disjoint, and `report merge` of
// them has the cells of the whole run, feature for feature and status for
// status.
func TestShardsMergeToOneRun(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs the suite on the host")
	}
	bin := bpfmatrix(t)
	dir := t.TempDir()
	runShard := func(shard string) string {
		t.Helper()
		out := filepath.Join(dir, "out-"+strings.ReplaceAll(shard, "/", "of"))
		args := []string{"run", "--kernel", "host", "--module", "../..", "--label-filter", "features", "--out", out}
		if shard != "" {
			args = append(args, "--shard", shard)
		}
		if stdout, stderr, code := run(t, bin, args...); code != 0 {
			t.Fatalf("bpfmatrix %v: exit %d\n%s%s", args, code, stdout, stderr)
		}
		return filepath.Join(out, "report.json")
	}
	cells := func(path string) map[string]reports.Status {
		t.Helper()
		rep, err := reports.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]reports.Status{}
		for _, c := range rep.Runs[0].Cells {
			got[c.Feature] = c.Status
		}
		return got
	}
	whole, a, b := runShard(""), runShard("1/2"), runShard("2/2")
	first, second := cells(a), cells(b)
	if len(first) == 0 || len(second) == 0 {
		t.Fatalf("shards of %d and %d cells; want both non-empty", len(first), len(second))
	}
	for id := range second {
		if _, dup := first[id]; dup {
			t.Errorf("%s is in both shards", id)
		}
	}
	stdout, stderr, code := run(t, bin, "report", "merge", a, b)
	if code != 0 {
		t.Fatalf("report merge: exit %d\n%s%s", code, stdout, stderr)
	}
	mergedFile := filepath.Join(dir, "merged.json")
	if err := os.WriteFile(mergedFile, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	merged := cells(mergedFile)
	if whole := cells(whole); !maps.Equal(merged, whole) {
		t.Errorf("shards 1/2 (%d cells) and 2/2 (%d) merge to %d cells %v;\nthe whole run has %d: %v",
			len(first), len(second), len(merged), slices.Sorted(maps.Keys(merged)), len(whole), slices.Sorted(maps.Keys(whole)))
	}
}
