package markdown_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
	"github.com/bpfmatrix/bpfmatrix/reports/markdown"
)

func summary(t *testing.T, rep *reports.Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := markdown.Write(&buf, rep); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestSummary(t *testing.T) {
	rep := fixture.Report(6, 150)
	md := summary(t, rep)
	t.Logf("6 × 150 summary: %d bytes", len(md))
	g := reports.NewGrid(rep)

	if !strings.HasPrefix(md, "## eBPF compatibility matrix: **10 unexpected cells**\n") {
		t.Errorf("headline:\n%s", strings.SplitN(md, "\n", 2)[0])
	}
	// One count row per column, in column order, with its unexpected count.
	for _, col := range g.Columns {
		row := fmt.Sprintf("| %s | %s | %s | ok | %d |", col.Key.Kernel, col.Key.Target, col.Kernel.Release, col.Counts[reports.Supported])
		if !strings.Contains(md, row) {
			t.Errorf("no count row starting %q", row)
		}
	}
	// Only differing or unexpected rows are listed.
	listed, want := 0, 0
	for _, grp := range g.Groups {
		for _, row := range grp.Rows {
			line := "| " + strings.ReplaceAll(row.Feature, "_", "\\_") + " |"
			in := strings.Contains(md, line)
			if in {
				listed++
			}
			if row.Differs || row.Unexpected {
				want++
				if !in {
					t.Errorf("%s differs but is not listed", row.Feature)
				}
			} else if in {
				t.Errorf("%s is the same everywhere but is listed", row.Feature)
			}
		}
	}
	if listed != want || want == 0 || want == 150 {
		t.Errorf("listed %d rows, want %d (of 150)", listed, want)
	}
	if !strings.Contains(md, "### Unexpected cells (10)") || !strings.Contains(md, "☠ crashed") || !strings.Contains(md, "BUG: kernel NULL pointer dereference") {
		t.Errorf("unexpected cells section incomplete:\n%s", md)
	}
	if !strings.Contains(md, "5.10 ⚠") {
		t.Error("a backport (works before upstream) is not marked")
	}
}

func TestSummaryEscapesReportText(t *testing.T) {
	rep := fixture.Report(2, 4)
	c := &rep.Runs[1].Cells[1]
	c.Unexpected, c.Status = true, reports.Failed
	c.Feature = "attach/a|b"
	c.Evidence = "<script>alert(1)</script> | [link](javascript:x) **bold**\nsecond line"
	md := summary(t, rep)
	for _, bad := range []string{"<script>", "[link](", "**bold**", "second line"} {
		if strings.Contains(md, bad) {
			t.Errorf("summary contains raw %q:\n%s", bad, md)
		}
	}
	if !strings.Contains(md, `attach/a\|b`) || !strings.Contains(md, "&lt;script&gt;") {
		t.Errorf("summary lacks the escaped forms:\n%s", md)
	}
}

func TestSummaryStaysSmall(t *testing.T) {
	// 6 kernels × 3000 features, every one of them unexpected somewhere.
	rep := fixture.Report(6, 3000)
	for i := range rep.Runs[0].Cells {
		rep.Runs[0].Cells[i].Unexpected = true
		rep.Runs[0].Cells[i].Evidence = strings.Repeat("verifier says no. ", 40)
	}
	md := summary(t, rep)
	if len(md) > markdown.MaxBytes {
		t.Errorf("summary is %d bytes, over its %d budget", len(md), markdown.MaxBytes)
	}
	if !strings.Contains(md, "more rows: see the HTML report") || !strings.Contains(md, "more: see the HTML report") {
		t.Error("a cut summary does not say what it left out")
	}
}

func TestSummaryOfAnAgreeingReport(t *testing.T) {
	rep := fixture.Report(1, 10)
	md := summary(t, rep)
	if !strings.Contains(md, "all cells as expected") || strings.Contains(md, "### ") {
		t.Errorf("summary of one clean column:\n%s", md)
	}
}

// TestSummarySaysBlocksOncePerColumn: what an environment refused is said
// once per column, by layer, beside the cells the catalog could not
// predict, and not for a column where neither happened.
func TestSummarySaysBlocksOncePerColumn(t *testing.T) {
	cells := func(status reports.Status, expected reports.Status, layer string, n int) []reports.Cell {
		var cs []reports.Cell
		for i := range n {
			cs = append(cs, reports.Cell{Feature: fmt.Sprintf("prog/t%d%s", i, layer), Area: "features", Status: status, Expected: expected, Layer: layer})
		}
		return cs
	}
	rep := &reports.Report{Schema: reports.SchemaVersion, Runs: []reports.Run{
		{Kernel: reports.Kernel{Name: "host"}, Target: "container/bpf-caps", Status: "ok",
			Cells: append(cells(reports.Blocked, reports.Blocked, "seccomp", 3), cells(reports.Blocked, reports.Blocked, "network namespace", 1)...)},
		{Kernel: reports.Kernel{Name: "host"}, Target: "bpf-token", Status: "ok",
			Cells: append(cells(reports.Unsupported, reports.Unknown, "", 2), cells(reports.Supported, reports.Supported, "", 1)...)},
		{Kernel: reports.Kernel{Name: "host"}, Target: "host", Status: "ok", Cells: cells(reports.Supported, reports.Supported, "", 2)},
	}}
	md := summary(t, rep)
	for _, want := range []string{
		"- host container/bpf-caps: 1 cell blocked by network namespace; 3 cells blocked by seccomp\n",
		"- host bpf-token: 2 cells the catalog could not predict (unknown)\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "- host host:") {
		t.Errorf("a column with nothing blocked or unknown is listed:\n%s", md)
	}
}
