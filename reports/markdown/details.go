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
	if t := reports.NewPointsTable(r); len(t.Runs) > 0 {
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

// probePoints writes the inventory counts per kernel and the parts of
// watched points that changed between kernels, grouped by how, changed
// cells in bold; trivial changes are counted, not listed.
func (s *summary) probePoints(t *reports.PointsTable) {
	head, rule := "| | ", "|---|"
	for _, run := range t.Runs {
		head += text(run.Label()) + " | "
		rule += "--:|"
	}
	s.line("%s", strings.TrimSpace(head))
	s.line("%s", rule)
	for _, c := range t.Inventory() {
		l := "| " + c.What + " |"
		for _, v := range c.Values {
			l += " " + text(orDash(v)) + " |"
		}
		s.line("%s", l)
	}
	s.line("")

	byChange := map[reports.PointChange][]string{}
	same, trivialOnly := 0, 0
	for _, p := range t.Points {
		switch p.Change {
		case "":
			same++
		case reports.PointTrivial:
			trivialOnly++
		}
		for _, f := range p.Changed() {
			byChange[f.Change] = append(byChange[f.Change], pointRow(text(p.Name), f))
		}
	}
	l := fmt.Sprintf("Watched points, kernels oldest first: %d of %d the same on every kernel", same, len(t.Points))
	if trivialOnly > 0 {
		l += fmt.Sprintf(", %d changed trivially only", trivialOnly)
	}
	s.line("%s.", l)
	var rows []string
	for _, c := range reports.PointChanges[:len(reports.PointChanges)-1] {
		rows = append(rows, byChange[c]...)
	}
	if n := len(byChange[reports.PointTrivial]); n > 0 {
		s.line("")
		s.line("%s left out: common_* fields, types spelled another way at the same offset, size and signedness, the signed flag of char arrays and __data_loc, renamed parameters.",
			plural(n, "trivial change"))
	}
	if len(rows) == 0 {
		return
	}
	s.line("")
	head, rule = "| change | point | field | ", "|---|---|---|"
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

// pointRow is one table row: the change, then a value per run, in bold
// where it changed other than trivially; "·" where the run did not watch the point, "—" where
// it has the point but not the field.
func pointRow(point string, f reports.FieldRow) string {
	kinds := make([]string, len(f.Kinds))
	for i, k := range f.Kinds {
		kinds[i] = string(k)
	}
	l := "| " + strings.Join(kinds, ", ") + " | " + point + " | " + text(f.Name) + " |"
	for _, c := range f.Cells {
		var v string
		switch {
		case !c.Has && c.Why == "not watched":
			v = "·"
		case !c.Has:
			v = "*" + text(c.Why) + "*"
		case c.Text == "":
			v = "—"
		case f.Name == reports.Presence:
			v = text(firstLine(c.Text, 80))
		default:
			v = "`" + strings.ReplaceAll(c.Text, "`", "") + "`"
		}
		if c.Change != "" && c.Change != reports.PointTrivial {
			v = "**" + v + "**"
		}
		l += " " + v + " |"
	}
	return l
}
