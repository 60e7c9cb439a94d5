package objview_test

import (
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/objview"
)

var marks = map[reports.Status]string{reports.Supported: "✓", reports.Unsupported: "✗", reports.Failed: "!", reports.Blocked: "⊘", reports.Error: "E"}

func mark(s reports.Status) string { return marks[s] }

func TestTextAndFigures(t *testing.T) {
	object := func(asked, reached reports.ObjectStage, insns int, runs uint64) *reports.Object {
		o := &reports.Object{File: "probe.bpf.o", Program: "p", Asked: asked, Reached: reached, RunCount: runs}
		if insns > 0 {
			o.Verifier = &reports.Verifier{InsnsProcessed: insns}
		}
		return o
	}
	for _, tc := range []struct {
		name          string
		cell          reports.Cell
		text, figures string
	}{
		{"fired", reports.Cell{Status: reports.Supported, Object: object(reports.ObjectFired, reports.ObjectFired, 12345, 12)},
			"fired ✓", "12,345 insns (98.8% headroom) · 12 runs"},
		{"fired once", reports.Cell{Status: reports.Supported, Object: object(reports.ObjectFired, reports.ObjectFired, 999999, 1)},
			"fired ✓", "999,999 insns (0.0% headroom) · 1 run"},
		{"asked only to load", reports.Cell{Status: reports.Supported, Object: object(reports.ObjectLoaded, reports.ObjectLoaded, 96, 0)},
			"load ✓", "96 insns (100.0% headroom)"},
		{"verifier rejected", reports.Cell{Status: reports.Unsupported, Errno: "EINVAL", Object: object(reports.ObjectFired, "", 0, 0)},
			"load ✗ EINVAL", ""},
		{"attach refused", reports.Cell{Status: reports.Unsupported, Errno: "EOPNOTSUPP", Object: object(reports.ObjectFired, reports.ObjectLoaded, 2087, 0)},
			"attach ✗ EOPNOTSUPP", "2,087 insns (99.8% headroom)"},
		{"attached, never ran", reports.Cell{Status: reports.Failed, Object: object(reports.ObjectFired, reports.ObjectAttached, 311, 0)},
			"fired ! 0 runs", "311 insns (100.0% headroom)"},
		{"blocked by seccomp", reports.Cell{Status: reports.Blocked, Errno: "EPERM", Layer: "seccomp", Object: object(reports.ObjectFired, "", 0, 0)},
			"load ⊘ EPERM", ""},
		{"needs a target", reports.Cell{Status: reports.Skipped, Object: func() *reports.Object {
			o := object(reports.ObjectAttached, reports.ObjectLoaded, 96, 0)
			o.Needs = "a network interface"
			return o
		}()}, "attach: needs a target", "96 insns (100.0% headroom)"},
		{"no object", reports.Cell{Status: reports.Error, Area: reports.AreaObjects}, "E", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := objview.Text(&tc.cell, mark); got != tc.text {
				t.Errorf("Text = %q, want %q", got, tc.text)
			}
			if got := strings.Join(objview.Figures(&tc.cell), " · "); got != tc.figures {
				t.Errorf("Figures = %q, want %q", got, tc.figures)
			}
		})
	}
}

func TestGroup(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 12345: "12,345", 1000000: "1,000,000", -4096: "-4,096"} {
		if got := objview.Group(n); got != want {
			t.Errorf("Group(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestNew(t *testing.T) {
	if objview.New(fixture.Report(3, 10), reports.NewGrid(fixture.Report(3, 10))) != nil {
		t.Error("a report without object cells has an objects table")
	}
	rep := fixture.Objects(fixture.Report(3, 10))
	// A fourth column that ran no object: not a column of the table.
	rep.Runs = append(rep.Runs, fixture.Run(3, 10))
	g := reports.NewGrid(rep)
	tab := objview.New(rep, g)
	if len(tab.Columns) != 3 || len(tab.Rows) != fixture.ObjectPrograms {
		t.Fatalf("%d columns, %d rows; want 3 and %d", len(tab.Columns), len(tab.Rows), fixture.ObjectPrograms)
	}
	var names []string
	for _, row := range tab.Rows {
		names = append(names, row.Name+" "+row.Type)
	}
	if got := strings.Join(names, ", "); got != "net.bpf.o/connect4 CGroupSockAddr (CGroupInet4Connect), net.bpf.o/xdp_drop XDP, "+
		"probe.bpf.o/count_loop Tracing (TraceFEntry), probe.bpf.o/handle_exec TracePoint, probe.bpf.o/trace_unlink Kprobe" {
		t.Errorf("rows: %s", got)
	}
	// 5.10: count_loop rejected, xdp_drop needs a target; 6.1 also
	// connect4 never ran (unexpected); 6.12: only xdp_drop.
	for ci, want := range []objview.Counts{{5, 3, 0}, {5, 3, 1}, {5, 4, 0}} {
		if tab.Counts[ci] != want {
			t.Errorf("column %s: counts %+v, want %+v", g.Columns[tab.Columns[ci]].Label(), tab.Counts[ci], want)
		}
	}
	if got := tab.Total(); got != (objview.Counts{Cells: 15, Reached: 10, Unexpected: 1}) {
		t.Errorf("total %+v", got)
	}
}

func TestFacts(t *testing.T) {
	rep := fixture.Objects(fixture.Report(1, 0))
	c := &rep.Runs[0].Cells[0] // handle_exec on 5.10
	var lines []string
	for _, f := range objview.Facts(c) {
		lines = append(lines, f.Name+": "+f.Value)
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"Asked: fired", "Reached: fired", "Section: tracepoint/sched/sched_process_exec", "Manifest: claims this kernel",
		"Trigger: exec /bin/true", "Runs: 10 runs, 14,500 ns in all, 1,450 ns a run",
		"Verifier: 12,345 insns processed: 98.8% headroom under the limit of 1,000,000", "States: at most 2 per insn, 308 in all, peak 137",
		"Maps: events: RingBuf, max_entries 262,144\ncounts: Hash, max_entries 1,024, flags 0x1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("facts lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Target") || strings.Contains(got, "Needs") || strings.Contains(got, "Layer") {
		t.Errorf("facts the cell lacks are listed:\n%s", got)
	}
}
