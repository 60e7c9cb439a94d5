package markdown

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/objview"
)

// matrix writes the rest of the matrix folded: the cells per column, what
// each environment refused, and the kernels' probe points.
func (s *summary) matrix(r *reports.Report, g *reports.Grid) {
	if len(g.Columns) == 0 {
		return
	}
	s.line("### Full matrix")
	s.line("")
	s.details(fmt.Sprintf("Cells per column (%d columns)", len(g.Columns)), func() { s.counts(g) })
	if lines := blocks(r); len(lines) > 0 {
		s.details("Not the kernel's answer: blocked and unpredicted cells per column", func() {
			for _, l := range lines {
				s.line("%s", l)
			}
		})
	}
	// Probe points are the kernel's: a restricted environment on the same
	// kernel only sees fewer of them.
	own := &reports.Report{}
	for _, run := range r.Runs {
		if (&reports.Column{Key: run.Key()}).OwnTarget() {
			own.Runs = append(own.Runs, run)
		}
	}
	if t := reports.NewPointsTable(own); len(t.Runs) > 0 {
		s.details(fmt.Sprintf("Probe points of %s", plural(len(t.Runs), "kernel")), func() { s.probePoints(t) })
	}
}

// counts writes the cells per status of each column, with how its run
// ended.
func (s *summary) counts(g *reports.Grid) {
	head := "| kernel | arch | target | release | run |"
	rule := "|---|---|---|---|---|"
	for _, st := range reports.Statuses {
		head += fmt.Sprintf(" %s %s |", marks[st], st)
		rule += "---:|"
	}
	s.line("%s unexpected |", head)
	s.line("%s---:|", rule)
	for _, col := range g.Columns {
		l := fmt.Sprintf("| %s | %s | %s | %s | %s |", text(col.Key.Kernel), text(col.Key.Arch), text(col.Key.Target), text(orDash(col.Kernel.Release)), runStatus(col.Status))
		for _, st := range reports.Statuses {
			l += fmt.Sprintf(" %d |", col.Counts[st])
		}
		u := fmt.Sprint(col.Unexpected)
		if col.Unexpected > 0 {
			u = "**" + u + "**"
		}
		s.line("%s %s |", l, u)
	}
}

func runStatus(s string) string {
	if s == "ok" || s == "" {
		return orDash(s)
	}
	return "**" + text(s) + "**"
}

// blocks says once per column what its environment refused, by layer, and
// how many of its cells the catalog could not predict: blocked and unknown
// cells say nothing about the kernel, so they are counted apart.
func blocks(r *reports.Report) []string {
	var lines []string
	for _, run := range r.Runs {
		layers := map[string]int{}
		unknown := 0
		for _, c := range run.Cells {
			if c.IsObject() {
				// The catalog predicts nothing of a user's program.
				continue
			}
			if c.Status == reports.Blocked {
				layers[orDash(c.Layer)]++
			}
			if c.Expected == reports.Unknown {
				unknown++
			}
		}
		var parts []string
		for _, layer := range slices.Sorted(maps.Keys(layers)) {
			parts = append(parts, fmt.Sprintf("%s blocked by %s", plural(layers[layer], "cell"), text(layer)))
		}
		if unknown > 0 {
			parts = append(parts, fmt.Sprintf("%s the catalog could not predict (unknown)", plural(unknown, "cell")))
		}
		if len(parts) > 0 {
			lines = append(lines, fmt.Sprintf("- %s: %s", text(label(run.Key())), strings.Join(parts, "; ")))
		}
	}
	return lines
}

// objects writes the Objects section: a line of counts, and folded, the
// stage each program of the users' objects ended at on each column, with
// the verifier's instructions and the run count, then every cell that did
// not reach the stage it was asked to, with its evidence. The unexpected
// ones are also at the top of the summary.
func (s *summary) objects(t *objview.Table, g *reports.Grid) {
	if t == nil {
		return
	}
	total := t.Total()
	s.line("### Objects: %s, %d of %d cells reached their stage", plural(len(t.Rows), "program"), total.Reached, total.Cells)
	s.line("")
	s.details("The stage each program reached, per column", func() { s.objectTable(t, g) })
}

func (s *summary) objectTable(t *objview.Table, g *reports.Grid) {
	s.line("The stage each program ended at (load, attach, fired) and how, the verifier's instructions processed with the headroom left under its limit of 1,000,000, and the runs once fired. Counted apart from the features.")
	s.line("")
	head, rule := "| program | section | type |", "|---|---|---|"
	for _, gi := range t.Columns {
		head += " " + text(g.Columns[gi].Label()) + " |"
		rule += "---|"
	}
	s.line("%s", head)
	s.line("%s", rule)
	// The cells that did not reach their stage, each said once for every
	// column where it ended the same way.
	var misses items
	for ri := range t.Rows {
		row := &t.Rows[ri]
		l := fmt.Sprintf("| %s | %s | %s |", text(row.Name), text(orDash(row.Section)), text(orDash(row.Type)))
		for ci, cells := range row.Cells {
			l += " " + objectCell(cells) + " |"
			for i := range cells {
				if !objview.Reached(&cells[i]) {
					how := objectMiss(&cells[i])
					if cells[i].Unexpected {
						how += " (**unexpected**)"
					}
					misses.add(text(row.Name), how, text(g.Columns[t.Columns[ci]].Label()), true)
				}
			}
		}
		if ri >= maxRows || !s.line("%s", l) {
			s.closing("")
			s.more(len(t.Rows)-ri, "programs", "")
			return
		}
	}
	l := "| **reached** | | |"
	for _, n := range t.Counts {
		l += fmt.Sprintf(" %d/%d", n.Reached, n.Cells)
		if n.Unexpected > 0 {
			l += fmt.Sprintf(" · **%d\\***", n.Unexpected)
		}
		l += " |"
	}
	s.line("%s", l)
	if len(misses.list) == 0 {
		return
	}
	s.line("")
	s.line("Not reaching the stage asked:")
	s.line("")
	for i, m := range misses.list {
		if i >= maxRows || !s.line("- **%s** on %s: %s", m.name, strings.Join(m.cols, ", "), m.cause) {
			s.more(len(misses.list)-i, "", "- ")
			break
		}
	}
}

// objectCell is an object table cell's text: each distinct stage text of
// its cells, and the figures of the first, bold with a star when
// unexpected.
func objectCell(cells []reports.Cell) string {
	if len(cells) == 0 {
		return "·"
	}
	var texts []string
	unexpected := false
	for i := range cells {
		unexpected = unexpected || cells[i].Unexpected
		if t := text(objview.Text(&cells[i], mark)); !slices.Contains(texts, t) {
			texts = append(texts, t)
		}
	}
	l := strings.Join(texts, " ≠ ")
	if unexpected {
		l = "**" + l + "\\***"
	}
	for _, f := range objview.Figures(&cells[0]) {
		l += "<br>" + text(f)
	}
	return l
}

// probePoints writes the inventory counts per kernel and the watched points
// that are missing somewhere or whose layout differs between kernels.
func (s *summary) probePoints(t *reports.PointsTable) {
	head, rule := "| | ", "|---|"
	for _, run := range t.Runs {
		head += text(run.Label()) + " | "
		rule += "--:|"
	}
	s.line("%s", strings.TrimSpace(head))
	s.line("%s", rule)
	counts := []struct {
		name string
		of   func(*reports.ProbePoints) reports.Count
	}{
		{"tracepoints", func(p *reports.ProbePoints) reports.Count { return p.Tracepoints }},
		{"syscall tracepoints", func(p *reports.ProbePoints) reports.Count { return p.SyscallTracepoints }},
		{"kprobe-able functions", func(p *reports.ProbePoints) reports.Count { return p.KprobeFunctions }},
		{"BTF functions (fentry)", func(p *reports.ProbePoints) reports.Count { return p.BTFFunctions }},
		{"perf event sources", func(p *reports.ProbePoints) reports.Count { return p.PerfEventSources }},
	}
	for _, c := range counts {
		l := "| " + c.name + " |"
		for _, run := range t.Runs {
			l += " " + text(c.of(run.ProbePoints).String()) + " |"
		}
		s.line("%s", l)
	}
	l := "| tracefs |"
	for _, run := range t.Runs {
		l += " " + text(orDash(run.ProbePoints.Tracefs)) + " |"
	}
	s.line("%s", l)
	s.line("")

	var rows []string
	same := 0
	for _, p := range t.Points {
		if len(p.Missing) == 0 && !p.Differs {
			same++
			continue
		}
		name := text(p.Name)
		if len(p.Missing) > 0 {
			rows = append(rows, pointRow(name, "*missing*", p.Points, func(w *reports.WatchedPoint) string {
				if w.Present {
					return "✓"
				}
				return "✗ " + text(firstLine(w.Error, 80))
			}))
		}
		for _, f := range p.Changed() {
			rows = append(rows, pointRow(name, text(f.Name), p.Points, nil, f.Layouts...))
		}
		if p.Kind == reports.PointFunction && p.Differs {
			rows = append(rows, pointRow(name, "*prototype*", p.Points, func(w *reports.WatchedPoint) string { return text(w.Prototype) }))
		}
	}
	s.line("Watched points: %d of %d the same on every kernel.", same, len(t.Points))
	if len(rows) == 0 {
		return
	}
	s.line("")
	head, rule = "| point | field | ", "|---|---|"
	for _, run := range t.Runs {
		head += text(run.Label()) + " | "
		rule += "---|"
	}
	s.line("%s", strings.TrimSpace(head))
	s.line("%s", rule)
	for i, r := range rows {
		if i >= maxRows || !s.line("%s", r) {
			s.closing("")
			s.more(len(rows)-i, "rows", "")
			break
		}
	}
}

// pointRow is one table row: a value per run, from layouts when given, else
// from cell; "·" where the run did not watch the point, "—" where a field is
// absent.
func pointRow(point, what string, points []*reports.WatchedPoint, cell func(*reports.WatchedPoint) string, layouts ...string) string {
	l := "| " + point + " | " + what + " |"
	for ri, w := range points {
		v := "·"
		switch {
		case w == nil:
		case layouts != nil && w.Present:
			v = "—"
			if layouts[ri] != "" {
				v = "`" + strings.ReplaceAll(layouts[ri], "`", "") + "`"
			}
		case layouts != nil:
			v = "✗"
		default:
			v = cell(w)
		}
		l += " " + v + " |"
	}
	return l
}
