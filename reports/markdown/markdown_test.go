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

// TestSummaryObjects: the programs of users' objects get a section of their
// own, with their stages, figures and the evidence of those that did not
// reach their stage; the catalog's counts and rows stay as they were.
func TestSummaryObjects(t *testing.T) {
	plain := summary(t, fixture.Report(3, 20))
	rep := fixture.Objects(fixture.Report(3, 20))
	md := summary(t, rep)
	for _, want := range []string{
		"## eBPF compatibility matrix: **3 unexpected cells** (1 in objects)\n",
		"### Objects: 5 programs, 10 of 15 cells reached their stage\n",
		"| program | section | type | 5.10 vm | 6.1 vm | 6.12 vm |\n",
		"| probe.bpf.o/handle\\_exec | tracepoint/sched/sched\\_process\\_exec | TracePoint | fired ✓<br>12,345 insns (98.8% headroom)<br>10 runs | fired ✓<br>12,962 insns (98.7% headroom)<br>11 runs |",
		"| probe.bpf.o/count\\_loop | fentry/do\\_nanosleep | Tracing (TraceFEntry) | load ✗ EINVAL | fired ✓<br>196,772 insns (80.3% headroom)<br>11 runs |",
		"| net.bpf.o/connect4 | cgroup/connect4 | CGroupSockAddr (CGroupInet4Connect) | fired ✓<br>311 insns (100.0% headroom)<br>10 runs | **fired \\! 0 runs\\***<br>326 insns (100.0% headroom) |",
		"| net.bpf.o/xdp\\_drop | xdp | XDP | attach: needs a target<br>96 insns (100.0% headroom) |",
		"| **reached** | | | 3/5 | 3/5 · **1\\*** | 4/5 |\n",
		"- **probe.bpf.o/count\\_loop** on 5.10 vm: load ✗ EINVAL, asked fired, expected unknown — load program count\\_loop: invalid argument: unknown func bpf\\_loop\\#181\n",
		"- **net.bpf.o/xdp\\_drop** on 5.10 vm, 6.1 vm, 6.12 vm: attach: needs a target, asked attach, expected unknown — loaded;",
		"- **net.bpf.o/connect4** on 6.1 vm: fired \\! 0 runs, asked fired, expected supported (**unexpected**) — attached to /sys/fs/cgroup/bpfmatrix",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	// The catalog's part is the report's without objects: the same counts,
	// the same rows; object cells are not the catalog's unknowns.
	section := func(md, from, to string) string {
		_, after, _ := strings.Cut(md, from)
		before, _, _ := strings.Cut(after, to)
		return before
	}
	for _, part := range []struct{ from, to string }{{"| kernel |", "\n\n"}, {"### Features that differ", "\n\n###"}, {"### Unexpected cells", "\n\n"}} {
		if got, want := section(md, part.from, part.to), section(plain, part.from, part.to); got != want || want == "" {
			t.Errorf("object cells changed the section %q:\n%s\nwant:\n%s", part.from, got, want)
		}
	}
	if strings.Contains(md, "could not predict") || strings.Contains(md, "object/") {
		t.Errorf("object cells leak into the catalog's lines:\n%s", md)
	}
	if strings.Contains(plain, "Objects") {
		t.Error("a report without object cells has an Objects section")
	}
}

func TestSummaryEscapesObjectText(t *testing.T) {
	rep := fixture.Objects(fixture.Report(1, 0))
	o := rep.Runs[0].Cells[0].Object
	o.Program, o.Section = "x|<script>", "kprobe/*a*|[b](c)"
	md := summary(t, rep)
	for _, bad := range []string{"<script>", "x|<", "*a*", "[b](c)"} {
		if strings.Contains(md, bad) {
			t.Errorf("summary contains raw %q:\n%s", bad, md)
		}
	}
}
