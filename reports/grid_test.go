package reports_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
)

func cellRun(kernel, version, target string, cells ...reports.Cell) reports.Run {
	return reports.Run{Kernel: reports.Kernel{Name: kernel, Version: version}, Target: target, Status: "ok", Cells: cells}
}

func TestGridFirstSupportedAndMismatch(t *testing.T) {
	multi := func(s reports.Status, reason string) reports.Cell {
		return reports.Cell{Feature: "attach/kprobe.multi", Area: "tracing", Since: "5.18", Status: s, Reason: reason}
	}
	lsm := func(s reports.Status) reports.Cell {
		return reports.Cell{Feature: "attach/lsm", Area: "security", Since: "5.7", Status: s}
	}
	tp := func(s reports.Status) reports.Cell {
		return reports.Cell{Feature: "attach/tracepoint", Area: "tracing", Since: "4.7", Status: s}
	}
	rep := &reports.Report{Schema: 1, Runs: []reports.Run{
		// Out of order on purpose: columns sort by kernel version.
		cellRun("6.12", "6.12.117", "vm", multi(reports.Supported, ""), lsm(reports.Supported), tp(reports.Supported)),
		cellRun("6.12", "6.12.117", "container/default", multi(reports.Unsupported, "EPERM"), lsm(reports.Unsupported), tp(reports.Unsupported)),
		cellRun("5.10", "5.10.262", "vm", multi(reports.Unsupported, "needs Linux >= 5.18"), lsm(reports.Supported), tp(reports.Supported)),
		cellRun("6.1", "6.1.176", "vm", multi(reports.Unsupported, "CONFIG_FPROBE is not set"), lsm(reports.Supported), tp(reports.Supported)),
	}}
	g := reports.NewGrid(rep)
	var labels []string
	for _, c := range g.Columns {
		labels = append(labels, c.Label())
	}
	if got := strings.Join(labels, ","); got != "5.10 vm,6.1 vm,6.12 vm,6.12 container/default" {
		t.Errorf("columns = %s", got)
	}
	if len(g.Groups) != 2 || g.Groups[0].Area != "tracing" || g.Groups[1].Area != "security" {
		t.Fatalf("groups = %+v, want tracing then security (catalog order)", g.Groups)
	}
	rows := map[string]reports.Row{}
	for _, grp := range g.Groups {
		for _, r := range grp.Rows {
			rows[r.Feature] = r
		}
	}
	m := rows["attach/kprobe.multi"]
	if m.FirstSupported != "6.12" || !strings.Contains(m.Mismatch, "unsupported on 6.1 vm") || !strings.Contains(m.Mismatch, "CONFIG_FPROBE is not set") {
		t.Errorf("kprobe.multi: first %q, mismatch %q; want 6.12 and the 6.1 config named", m.FirstSupported, m.Mismatch)
	}
	if strings.Contains(m.Mismatch, "container") {
		t.Errorf("a container profile's refusal counted as a kernel mismatch: %q", m.Mismatch)
	}
	if tpRow := rows["attach/tracepoint"]; tpRow.FirstSupported != "5.10" || tpRow.Mismatch != "" || !tpRow.Differs {
		t.Errorf("tracepoint = %+v", tpRow)
	}
	// 5.10 runs an LSM program although... upstream is 5.7, so no mismatch.
	if l := rows["attach/lsm"]; l.FirstSupported != "5.10" || l.Mismatch != "" {
		t.Errorf("lsm = %+v", l)
	}

	// A backport: supported on a kernel older than Since.
	rep.Runs[2].Cells[0].Status = reports.Supported
	g = reports.NewGrid(rep)
	m = g.Groups[0].Rows[0]
	if m.FirstSupported != "5.10" || !strings.Contains(m.Mismatch, "works on 5.10 (5.10.262), older than upstream 5.18: a backport") {
		t.Errorf("backport: first %q, mismatch %q", m.FirstSupported, m.Mismatch)
	}
}

func TestGridDifferencesAndConflicts(t *testing.T) {
	c := func(f string, s reports.Status) reports.Cell {
		return reports.Cell{Feature: f, Area: "features", Status: s}
	}
	rep := &reports.Report{Schema: 1, Runs: []reports.Run{
		cellRun("6.1", "6.1.0", "vm", c("map/hash", reports.Supported), c("map/ringbuf", reports.Supported), c("prog/xdp", reports.Supported)),
		cellRun("6.12", "6.12.0", "vm", c("map/hash", reports.Supported), c("map/ringbuf", reports.Supported)),
		// A second shard of 6.12 disagreeing on ringbuf: one column, a conflict.
		cellRun("6.12", "6.12.0", "vm", c("map/ringbuf", reports.Failed), c("prog/xdp", reports.Supported)),
	}}
	g := reports.NewGrid(rep)
	if len(g.Columns) != 2 {
		t.Fatalf("%d columns, want 2", len(g.Columns))
	}
	rows := g.Groups[0].Rows
	if rows[0].Feature != "map/hash" || rows[0].Differs || rows[0].Conflict {
		t.Errorf("map/hash = %+v, want the same everywhere", rows[0])
	}
	if !rows[1].Differs || !rows[1].Conflict || len(rows[1].Cells[1]) != 2 {
		t.Errorf("map/ringbuf = %+v, want a conflict in 6.12", rows[1])
	}
	if rows[2].Differs {
		t.Errorf("prog/xdp = %+v: both columns supported", rows[2])
	}
}

func TestGridFirstSupportedNamesTheHostVersion(t *testing.T) {
	rep := &reports.Report{Schema: 1, Runs: []reports.Run{
		cellRun("host", "6.18.44", "host", reports.Cell{Feature: "attach/tcx", Area: "networking", Since: "6.6", Status: reports.Supported}),
	}}
	row := reports.NewGrid(rep).Groups[0].Rows[0]
	if row.FirstSupported != "6.18 (host)" || row.Mismatch != "" {
		t.Errorf("first %q, mismatch %q; want \"6.18 (host)\" and none", row.FirstSupported, row.Mismatch)
	}
}

// TestGridLeavesObjectCellsOut: the cells of users' objects are no rows of
// the feature grid and no part of its counts; a run of object cells only
// is still a column.
func TestGridLeavesObjectCellsOut(t *testing.T) {
	plain := reports.NewGrid(fixture.Report(3, 20))
	with := reports.NewGrid(fixture.Objects(fixture.Report(3, 20)))
	if !reflect.DeepEqual(plain, with) {
		t.Error("object cells changed the feature grid")
	}
	only := fixture.Objects(&reports.Report{Schema: reports.SchemaVersion, Runs: []reports.Run{fixture.Run(1, 0)}})
	if g := reports.NewGrid(only); len(g.Columns) != 1 || len(g.Groups) != 0 || len(g.Columns[0].Counts) != 0 {
		t.Errorf("grid of object cells only: %d columns, %d groups, counts %v; want 1 column and nothing else", len(g.Columns), len(g.Groups), g.Columns[0].Counts)
	}
}

// TestGridDiffersAmongKernelsOfOneKind: differences are counted among the
// columns asked for, and a BPF token's user namespace is no kernel's own
// target: its refusals make no version mismatch.
func TestGridDiffersAmongKernelsOfOneKind(t *testing.T) {
	c := func(f string, s reports.Status) reports.Cell {
		return reports.Cell{Feature: f, Area: "features", Since: "5.2", Status: s}
	}
	rep := &reports.Report{Schema: 1, Runs: []reports.Run{
		cellRun("6.1", "6.1.0", "vm", c("map/hash", reports.Supported), c("map/ringbuf", reports.Supported)),
		cellRun("6.12", "6.12.0", "vm", c("map/hash", reports.Supported), c("map/ringbuf", reports.Supported)),
		cellRun("host", "6.18.44", "host", c("map/hash", reports.Supported), c("map/ringbuf", reports.Supported)),
		cellRun("host", "6.18.44", "bpf-token", c("map/hash", reports.Supported), c("map/ringbuf", reports.Unsupported)),
		cellRun("host", "6.18.44", "container/default", c("map/hash", reports.Blocked)),
	}}
	g := reports.NewGrid(rep)
	var own []string
	for _, col := range g.Columns {
		if col.OwnTarget() {
			own = append(own, col.Label())
		}
	}
	if got := strings.Join(own, ","); got != "6.1 vm,6.12 vm,host" {
		t.Errorf("own targets = %s, want the vm kernels and the host", got)
	}
	hash, ringbuf := g.Groups[0].Rows[0], g.Groups[0].Rows[1]
	for _, tc := range []struct {
		row  reports.Row
		cols []int
		want bool
	}{
		{hash, []int{0, 1, 2}, false},
		{hash, []int{0, 1, 2, 4}, true},
		{ringbuf, []int{0, 1}, false},
		{ringbuf, []int{2, 3}, true},
		{ringbuf, []int{0, 4}, true}, // container/default never ran it
		{ringbuf, []int{4}, false},
	} {
		if got := tc.row.DiffersAmong(tc.cols); got != tc.want {
			t.Errorf("%s differs among %v = %v, want %v", tc.row.Feature, tc.cols, got, tc.want)
		}
	}
	if !hash.Differs || !ringbuf.Differs || ringbuf.Mismatch != "" {
		t.Errorf("hash differs %v, ringbuf differs %v mismatch %q; want both differing over all columns and no mismatch", hash.Differs, ringbuf.Differs, ringbuf.Mismatch)
	}
}

// TestGridByKind: the builds of one kernel series stand side by side
// whatever their patch levels; ByKind puts the VMs first, then the host,
// the podman profiles and the BPF token, the cells following their
// columns; KernelKinds compares VMs per arch and the host alone.
func TestGridByKind(t *testing.T) {
	c := func(s reports.Status) reports.Cell {
		return reports.Cell{Feature: "map/ringbuf", Area: "features", Since: "5.8", Status: s}
	}
	arm := func(r reports.Run) reports.Run { r.Kernel.Arch = "arm64"; return r }
	rep := &reports.Report{Schema: 1, Runs: []reports.Run{
		cellRun("host", "6.18.44", "bpf-token", c(reports.Unsupported)),
		cellRun("host", "6.18.44", "container/default", c(reports.Blocked)),
		cellRun("host", "6.18.44", "host", c(reports.Supported)),
		cellRun("7.2", "7.2.13", "vm", c(reports.Supported)),
		arm(cellRun("5.10", "5.10.223", "vm", c(reports.Unsupported))),
		cellRun("5.10", "5.10.262", "vm", c(reports.Supported)),
	}}
	g := reports.NewGrid(rep)
	g.ByKind()
	var labels, marks []string
	for ci, col := range g.Columns {
		labels = append(labels, col.Label())
		marks = append(marks, string(g.Groups[0].Rows[0].Cells[ci][0].Status))
	}
	if got, want := strings.Join(labels, ","), "5.10 vm,5.10 arm64 vm,7.2 vm,host,host container/default,host bpf-token"; got != want {
		t.Errorf("columns %s, want %s", got, want)
	}
	if got, want := strings.Join(marks, ","), "supported,unsupported,supported,supported,blocked,unsupported"; got != want {
		t.Errorf("cells %s, want %s", got, want)
	}
	kinds := g.KernelKinds()
	if !reflect.DeepEqual(kinds, [][]int{{0, 2}, {1}, {3}}) {
		t.Errorf("kernel kinds %v, want [[0 2] [1] [3]]", kinds)
	}
	if row := g.Groups[0].Rows[0]; row.DiffersAmongKinds(kinds) || !row.Differs {
		t.Errorf("ringbuf differs among kinds %v (want false: only across arches and environments), over all columns %v", row.DiffersAmongKinds(kinds), row.Differs)
	}
}
