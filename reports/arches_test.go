package reports_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
)

// archReport is 5.10 and 6.12 built for amd64 and arm64, 40 features: on
// arm64, features 5 and 13 need a BPF trampoline (unsupported on 5.10), and
// 6.12 arm64 fails one feature amd64 supports.
func archReport() *reports.Report {
	rep := fixture.Report(3, 40)
	rep.Runs = []reports.Run{rep.Runs[0], rep.Runs[2]}
	for _, run := range rep.Runs[:2] {
		rep.Runs = append(rep.Runs, fixture.ARM64(run, fixture.Feature(5), fixture.Feature(13)))
	}
	c := &rep.Runs[3].Cells[8]
	c.Status, c.Unexpected, c.Evidence = reports.Failed, true, "attached, but observed 0 events after 10 getpgid(2) calls\nsecond line"
	return rep
}

func labels(g *reports.Grid) string {
	var l []string
	for _, c := range g.Columns {
		l = append(l, c.Label())
	}
	return strings.Join(l, ", ")
}

// TestArchIsPartOfTheColumn: an arm64 run is a column of its own in the
// grid, in merge, in conflicts and in diff, however alike its cells are;
// a run that names no arch is amd64.
func TestArchIsPartOfTheColumn(t *testing.T) {
	amd := fixture.Run(2, 10)
	arm := fixture.ARM64(amd)
	if amd.Arch() != "amd64" || arm.Arch() != "arm64" || amd.Kernel.Arch != "" {
		t.Fatalf("arches %q %q, kernel.arch %q; want amd64 for a run that names none", amd.Arch(), arm.Arch(), amd.Kernel.Arch)
	}
	for _, tc := range []struct{ got, want string }{
		{amd.Key().String(), "6.12 vm"}, {arm.Key().String(), "6.12 arm64 vm"},
		{amd.Label(), "6.12"}, {arm.Label(), "6.12 arm64"},
		{(&reports.Column{Key: reports.RunKey{Kernel: "host", Arch: "arm64", Target: "host"}}).Label(), "host arm64"},
		{(&reports.Column{Key: reports.RunKey{Kernel: "host", Arch: "amd64", Target: "host"}}).Label(), "host"},
		{(&reports.Column{Key: reports.RunKey{Kernel: "host", Arch: "arm64", Target: "container/default"}}).Label(), "host arm64 container/default"},
	} {
		if tc.got != tc.want {
			t.Errorf("label %q, want %q", tc.got, tc.want)
		}
	}

	// The same cells on both arches, one of them conflicting on arm64
	// only: two columns, one conflict, no cell dropped as a duplicate.
	one := func(runs ...reports.Run) *reports.Report {
		return &reports.Report{Schema: reports.SchemaVersion, Runs: runs}
	}
	again := fixture.ARM64(amd)
	again.Cells = append([]reports.Cell(nil), again.Cells[:1]...)
	again.Cells[0].Status = reports.Failed
	// amd64 named explicitly is the same column as amd64 unnamed.
	explicit := amd
	explicit.Kernel.Arch = "amd64"
	explicit.Cells = nil
	merged := reports.Merge(one(amd), one(arm), one(again), one(explicit))
	if len(merged.Runs) != 2 || len(merged.Runs[0].Cells) != 10 || len(merged.Runs[1].Cells) != 11 {
		t.Fatalf("merged into %d runs; want 2 of 10 and 11 cells", len(merged.Runs))
	}
	if cs := merged.Conflicts(); len(cs) != 1 || cs[0].Run.String() != "6.12 arm64 vm" || cs[0].Feature != amd.Cells[0].Feature {
		t.Errorf("conflicts %+v; want the arm64 shard's only", cs)
	}
	if g := reports.NewGrid(merged); labels(g) != "6.12 vm, 6.12 arm64 vm" {
		t.Errorf("columns %s", labels(g))
	}

	// Against a baseline of amd64 alone, arm64 is an added column, never
	// a change of amd64's cells; a regression on arm64 is arm64's.
	d := reports.Compare(one(amd), one(amd, arm), 10)
	if len(d.AddedRuns) != 1 || d.AddedRuns[0].String() != "6.12 arm64 vm" || len(d.RemovedRuns) != 0 || d.Regressions() != 0 {
		t.Errorf("added %v removed %v, %d regressions; want 6.12 arm64 vm added alone", d.AddedRuns, d.RemovedRuns, d.Regressions())
	}
	for _, c := range d.Changes {
		if c.Kind != reports.Added || c.Run.Arch != "arm64" {
			t.Errorf("change %+v; want only the arm64 column's cells added", c)
		}
	}
	broken := fixture.ARM64(amd)
	broken.Cells[0].Status = reports.Unsupported
	d = reports.Compare(one(amd, arm), one(amd, broken), 10)
	if d.Regressions() != 1 || d.Changes[0].Run.String() != "6.12 arm64 vm" {
		t.Errorf("changes %+v; want one regression on 6.12 arm64 vm", d.Changes)
	}
	var text strings.Builder
	if err := d.WriteText(&text); err != nil || !strings.HasPrefix(text.String(), "regression  6.12 arm64 vm ") {
		t.Errorf("diff text %q, %v", text.String(), err)
	}

	// A report of schema 3, written before arches, is all amd64.
	data, _ := json.Marshal(one(amd))
	old, err := reports.Parse("old.json", []byte(strings.Replace(string(data), `"schema":4`, `"schema":3`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if k := old.Runs[0].Key(); k != (reports.RunKey{Kernel: "6.12", Arch: "amd64", Target: "vm"}) {
		t.Errorf("schema 3 run key %+v", k)
	}
	if got := reports.Merge(old, one(explicit)); len(got.Runs) != 1 {
		t.Errorf("a schema 3 run and an explicit amd64 run merged into %d columns, want 1", len(got.Runs))
	}
}

// TestGridOrdersArchesSideBySide: the two builds of a kernel stand next to
// each other, amd64 first, before the kernel's other targets; a kernel
// first working on arm64 says so.
func TestGridOrdersArchesSideBySide(t *testing.T) {
	rep := archReport()
	rep.Runs = append(rep.Runs, cellRun("6.12", "6.12.117", "container/default", rep.Runs[1].Cells[0]))
	g := reports.NewGrid(rep)
	if got := labels(g); got != "5.10 vm, 5.10 arm64 vm, 6.12 vm, 6.12 arm64 vm, 6.12 container/default" {
		t.Errorf("columns %s", got)
	}

	c := func(k reports.Kernel, s reports.Status) reports.Run {
		return reports.Run{Kernel: k, Target: "vm", Cells: []reports.Cell{{Feature: "attach/x", Area: "tracing", Since: "6.1", Status: s}}}
	}
	rep = &reports.Report{Runs: []reports.Run{
		c(reports.Kernel{Name: "5.10", Version: "5.10.262"}, reports.Unsupported),
		c(reports.Kernel{Name: "5.10", Version: "5.10.262", Arch: "arm64"}, reports.Supported),
	}}
	row := reports.NewGrid(rep).Groups[0].Rows[0]
	if row.FirstSupported != "5.10 arm64" || !strings.Contains(row.Mismatch, "works on 5.10 arm64 (5.10.262), older than upstream 6.1") {
		t.Errorf("first %q, mismatch %q", row.FirstSupported, row.Mismatch)
	}
}

func TestArchDifferences(t *testing.T) {
	rep := archReport()
	// A feature arm64 never ran is no difference of the arches.
	rep.Runs[2].Cells = rep.Runs[2].Cells[1:]
	g := reports.NewGrid(rep)
	series := g.ArchDifferences()
	if len(series) != 2 {
		t.Fatalf("%d series, want 5.10 and 6.12", len(series))
	}
	features := func(s reports.ArchSeries) string {
		var f []string
		for _, r := range s.Rows {
			f = append(f, r.Feature)
		}
		return strings.Join(f, " ")
	}
	for i, want := range []struct {
		kernel       string
		compared     int
		features     string
		status, base reports.Status
	}{
		{"5.10", 39, fixture.Feature(5) + " " + fixture.Feature(13), reports.Unsupported, reports.Supported},
		{"6.12", 40, fixture.Feature(8), reports.Failed, reports.Supported},
	} {
		s := series[i]
		if s.Kernel != want.kernel || s.Arch != "arm64" || s.Compared != want.compared || features(s) != want.features {
			t.Errorf("series %d: %s %s, %d compared, rows %q; want %s arm64, %d, %q", i, s.Kernel, s.Arch, s.Compared, features(s), want.kernel, want.compared, want.features)
			continue
		}
		if g.Columns[s.Base].Label() != want.kernel+" vm" || g.Columns[s.Other].Label() != want.kernel+" arm64 vm" {
			t.Errorf("series %s pairs %s with %s", s.Kernel, g.Columns[s.Base].Label(), g.Columns[s.Other].Label())
		}
		if r := s.Rows[0]; r.Cells[s.Other][0].Status != want.status || r.Cells[s.Base][0].Status != want.base {
			t.Errorf("series %s: %s is %s on arm64, %s on amd64", s.Kernel, r.Feature, r.Cells[s.Other][0].Status, r.Cells[s.Base][0].Status)
		}
	}
	if got := series[0].Why(&series[0].Rows[0], 200); got != "BPF trampolines on arm64 need Linux >= 6.0 (running 5.10.262) — attach tracing link: not supported (ENOTSUPP)" {
		t.Errorf("cause %q", got)
	}
	if got := series[1].Why(&series[1].Rows[0], 200); got != "attached, but observed 0 events after 10 getpgid(2) calls" {
		t.Errorf("cause of a cell without a reason %q", got)
	}
	// Of an arm64 conflict, the cell whose status amd64 lacks says why.
	row := series[1].Rows[0]
	other := row.Cells[series[1].Other]
	row.Cells[series[1].Other] = []reports.Cell{row.Cells[series[1].Base][0], other[0]}
	if got := series[1].Why(&row, 200); !strings.HasPrefix(got, "attached, but observed 0 events") {
		t.Errorf("cause of a conflict %q", got)
	}
	// A verifier's last line stands in for missing evidence; a reason the
	// evidence repeats is said once.
	for _, tc := range []struct {
		cell reports.Cell
		want string
	}{
		{reports.Cell{Reason: "needs Linux >= 6.0", VerifierLog: "0: (85) call bpf_loop#181\nunknown func bpf_loop#181\n"}, "needs Linux >= 6.0 — unknown func bpf_loop#181"},
		{reports.Cell{Reason: "CONFIG_FPROBE is not set", Evidence: "CONFIG_FPROBE is not set; create kprobe multi link: operation not supported"}, "CONFIG_FPROBE is not set; create kprobe multi link: operation not supported"},
		{reports.Cell{Reason: "CONFIG_X is not set"}, "CONFIG_X is not set"},
	} {
		if got := tc.cell.Cause(200); got != tc.want {
			t.Errorf("cause %q, want %q", got, tc.want)
		}
	}

	// No series without both arches of a VM kernel: not for the host,
	// nor for a kernel that ran on arm64 alone.
	for _, runs := range [][]reports.Run{
		fixture.Report(3, 10).Runs,
		{fixture.Run(0, 10), fixture.ARM64(fixture.Run(2, 10))},
		{cellRun("host", "6.18.44", "host", rep.Runs[0].Cells[0]), {Kernel: reports.Kernel{Name: "host", Arch: "arm64"}, Target: "host", Cells: rep.Runs[2].Cells[:1]}},
	} {
		if s := reports.NewGrid(&reports.Report{Runs: runs}).ArchDifferences(); s != nil {
			t.Errorf("series %+v of a report without two builds of a VM kernel", s)
		}
	}
}
