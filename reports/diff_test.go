package reports_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
)

func TestCompare(t *testing.T) {
	old := fixture.Report(3, 20)
	new := reports.Merge(old) // a deep enough copy: cells are values
	for i := range new.Runs {
		new.Runs[i].Cells = append([]reports.Cell(nil), new.Runs[i].Cells...)
	}
	find := func(r *reports.Report, ki int, status reports.Status) int {
		for i, c := range r.Runs[ki].Cells {
			if c.Status == status {
				return i
			}
		}
		t.Fatalf("fixture has no %s cell on run %d", status, ki)
		return -1
	}
	reg := find(new, 2, reports.Supported)
	new.Runs[2].Cells[reg].Status = reports.Unsupported
	new.Runs[2].Cells[reg].Evidence = "load program: operation not permitted"
	imp := find(new, 0, reports.Unsupported)
	new.Runs[0].Cells[imp].Status = reports.Supported
	removed := new.Runs[1].Cells[0]
	new.Runs[1].Cells = new.Runs[1].Cells[1:]

	d := reports.Compare(old, new)
	if d.Regressions() != 1 {
		t.Fatalf("changes = %+v, want one regression", d.Changes)
	}
	first := d.Changes[0]
	if first.Kind != reports.Regression || first.Feature != new.Runs[2].Cells[reg].Feature || first.Run.Kernel != "6.12" ||
		first.Evidence != "load program: operation not permitted" {
		t.Errorf("first change = %+v, want the regression on 6.12 with its evidence", first)
	}
	kinds := map[reports.ChangeKind]int{}
	for _, c := range d.Changes {
		kinds[c.Kind]++
		if c.Kind == reports.Removed && c.Feature != removed.Feature {
			t.Errorf("removed %s, want %s", c.Feature, removed.Feature)
		}
	}
	if kinds[reports.Improvement] != 1 || kinds[reports.Removed] != 1 || len(d.Changes) != 3 {
		t.Errorf("kinds = %v", kinds)
	}

	var buf bytes.Buffer
	if err := d.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "regression") || !strings.Contains(out, "supported → unsupported") ||
		!strings.Contains(out, "1 regressions, 1 improvements, 0 other changes, 0 added, 1 removed") {
		t.Errorf("text:\n%s", out)
	}

	if d := reports.Compare(old, old); len(d.Changes) != 0 {
		t.Errorf("Compare(r, r) = %+v", d.Changes)
	}
}

func TestCompareCountsAFlakyConflictAsARegression(t *testing.T) {
	old := fixture.Report(1, 4)
	flaky := old.Runs[0].Cells[0]
	if flaky.Status != reports.Supported {
		t.Fatal("fixture: first cell should be supported")
	}
	flaky.Status, flaky.Evidence = reports.Failed, "attached, but observed 0 events"
	shard := &reports.Report{Schema: 1, Runs: []reports.Run{{Kernel: old.Runs[0].Kernel, Target: "vm", Cells: []reports.Cell{flaky}}}}
	d := reports.Compare(old, reports.Merge(old, shard))
	if d.Regressions() != 1 || d.Changes[0].Evidence != "attached, but observed 0 events" {
		t.Errorf("changes = %+v, want a regression with the failing shard's evidence", d.Changes)
	}
}
