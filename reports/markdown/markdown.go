// Package markdown renders the summary of a report that a CI job shows on
// its page ($GITHUB_STEP_SUMMARY): per-column counts, then only the rows
// that need a reader — features that differ between kernels or have an
// unexpected cell — and the evidence of the unexpected cells; and, when the
// report holds cells of users' own objects, their programs in a section of
// their own, counted apart. The full matrix is the HTML page's job.
package markdown

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/objview"
)

// MaxBytes bounds the summary. GitHub refuses a step summary over 1 MiB;
// staying far below keeps the job page quick. Rows beyond the bound are
// counted, and the reader is sent to the full report.
const MaxBytes = 256 << 10

// maxUnexpected bounds the list of unexpected cells with their evidence,
// maxRows the table of differing features: past that, a summary stops
// being read.
const (
	maxUnexpected = 50
	maxRows       = 300
)

// marks are the same signs the HTML page uses, readable without colour.
var marks = map[reports.Status]string{
	reports.Supported: "✓", reports.Unsupported: "✗", reports.Failed: "!", reports.Blocked: "⊘", reports.Error: "E",
	reports.Skipped: "–", reports.Crashed: "☠", reports.Timeout: "T",
}

// Write writes the summary of r to w.
func Write(w io.Writer, r *reports.Report) error {
	bw := bufio.NewWriter(w)
	s := &summary{w: bw, budget: MaxBytes}
	s.write(r)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write markdown summary: %w", err)
	}
	return nil
}

type summary struct {
	w      *bufio.Writer
	budget int
}

// line writes one line if it fits the budget, keeping room for the closing
// note; it reports whether it did.
func (s *summary) line(format string, args ...any) bool {
	l := fmt.Sprintf(format, args...) + "\n"
	if len(l) > s.budget-512 {
		return false
	}
	s.budget -= len(l)
	s.w.WriteString(l)
	return true
}

func (s *summary) write(r *reports.Report) {
	g := reports.NewGrid(r)
	objects := objview.New(r, g)
	unexpected, features := 0, 0
	for _, col := range g.Columns {
		unexpected += col.Unexpected
	}
	for _, grp := range g.Groups {
		features += len(grp.Rows)
	}
	// The verdict is every cell's, as the exit code is; the counts below
	// are the catalog's, and the Objects section counts its own.
	verdict := "all cells as expected"
	if objects != nil && objects.Total().Unexpected > 0 {
		n := objects.Total().Unexpected
		verdict = fmt.Sprintf("**%d unexpected cells** (%d in objects)", unexpected+n, n)
	} else if unexpected > 0 {
		verdict = fmt.Sprintf("**%d unexpected cells**", unexpected)
	}
	s.line("## eBPF compatibility matrix: %s", verdict)
	s.line("")
	meta := fmt.Sprintf("Generated %s by bpfmatrix %s on %s", r.Generated.UTC().Format("2006-01-02 15:04 UTC"), text(orDash(r.Tool)), text(orDash(r.Host)))
	if el := r.Elapsed(); el > 0 {
		meta += " · took " + el.Round(time.Second).String()
	}
	s.line("%s · %s × %s", meta, plural(len(g.Columns), "column"), plural(features, "feature"))
	s.line("")

	// Per-column counts.
	head := "| kernel | target | release | run |"
	rule := "|---|---|---|---|"
	for _, st := range reports.Statuses {
		head += fmt.Sprintf(" %s %s |", marks[st], st)
		rule += "---:|"
	}
	s.line("%s unexpected |", head)
	s.line("%s---:|", rule)
	for _, col := range g.Columns {
		l := fmt.Sprintf("| %s | %s | %s | %s |", text(col.Key.Kernel), text(col.Key.Target), text(orDash(col.Kernel.Release)), runStatus(col.Status))
		for _, st := range reports.Statuses {
			l += fmt.Sprintf(" %d |", col.Counts[st])
		}
		u := fmt.Sprint(col.Unexpected)
		if col.Unexpected > 0 {
			u = "**" + u + "**"
		}
		s.line("%s %s |", l, u)
	}
	s.line("")
	s.blocks(r)

	// Unexpected cells first: they are what fails the job, and the
	// differences table may run into the budget.
	s.unexpected(g)
	s.objects(objects, g)
	s.conflicts(r)
	s.differences(g)
	s.probePoints(reports.NewPointsTable(r))
}

// blocks says once per column what its environment refused, by layer, and
// how many of its cells the catalog could not predict: blocked and unknown
// cells say nothing about the kernel, so they are counted apart.
func (s *summary) blocks(r *reports.Report) {
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
			lines = append(lines, fmt.Sprintf("- %s %s: %s", text(run.Kernel.Name), text(run.Target), strings.Join(parts, "; ")))
		}
	}
	if len(lines) == 0 {
		return
	}
	s.line("Not the kernel's answer, counted apart:")
	s.line("")
	for _, l := range lines {
		s.line("%s", l)
	}
	s.line("")
}

// objects writes the Objects section: the stage each program of the users'
// objects ended at on each column, with the verifier's instructions and
// the run count, then every cell that did not reach the stage it was asked
// to, with its evidence.
func (s *summary) objects(t *objview.Table, g *reports.Grid) {
	if t == nil {
		return
	}
	total := t.Total()
	s.line("### Objects: %s, %d of %d cells reached their stage", plural(len(t.Rows), "program"), total.Reached, total.Cells)
	s.line("")
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
	type miss struct{ program, how string }
	var misses []miss
	missCols := map[miss][]string{}
	for ri := range t.Rows {
		row := &t.Rows[ri]
		l := fmt.Sprintf("| %s | %s | %s |", text(row.Name), text(orDash(row.Section)), text(orDash(row.Type)))
		for ci, cells := range row.Cells {
			l += " " + objectCell(cells) + " |"
			for i := range cells {
				if !objview.Reached(&cells[i]) {
					m := miss{text(row.Name), objectMiss(&cells[i])}
					if missCols[m] == nil {
						misses = append(misses, m)
					}
					missCols[m] = append(missCols[m], text(g.Columns[t.Columns[ci]].Label()))
				}
			}
		}
		if !s.line("%s", l) {
			s.line("")
			s.line("… and %d more programs: see the HTML report or report.json.", len(t.Rows)-ri)
			break
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
	s.line("")
	if len(misses) == 0 {
		return
	}
	s.line("Not reaching the stage asked:")
	s.line("")
	for i, m := range misses {
		if i >= maxUnexpected || !s.line("- **%s** on %s: %s", m.program, strings.Join(missCols[m], ", "), m.how) {
			s.line("- … and %d more: see the HTML report or report.json.", len(misses)-i)
			break
		}
	}
	s.line("")
}

// objectMiss says how an object cell that did not reach its stage ended,
// and why, in the kernel's words.
func objectMiss(c *reports.Cell) string {
	why := ""
	if c.Object != nil {
		why = ", asked " + string(c.Object.Asked)
	}
	if c.Expected != "" {
		why += ", expected " + string(c.Expected)
	}
	if c.Unexpected {
		why += " (**unexpected**)"
	}
	evidence := firstLine(c.Evidence, 200)
	if evidence == "" {
		evidence = lastLine(c.VerifierLog, 200)
	}
	return fmt.Sprintf("%s%s — %s", text(objview.Text(c, mark)), why, text(orDash(evidence)))
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

func mark(s reports.Status) string { return marks[s] }

// probePoints writes the inventory counts per kernel and the watched points
// that are missing somewhere or whose layout differs between kernels.
func (s *summary) probePoints(t *reports.PointsTable) {
	if len(t.Runs) == 0 {
		return
	}
	s.line("### Probe points")
	s.line("")
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
			rows = append(rows, s.pointRow(name, "*missing*", p.Points, func(w *reports.WatchedPoint) string {
				if w.Present {
					return "✓"
				}
				return "✗ " + text(firstLine(w.Error, 80))
			}))
		}
		for _, f := range p.Changed() {
			rows = append(rows, s.pointRow(name, text(f.Name), p.Points, nil, f.Layouts...))
		}
		if p.Kind == reports.PointFunction && p.Differs {
			rows = append(rows, s.pointRow(name, "*prototype*", p.Points, func(w *reports.WatchedPoint) string { return text(w.Prototype) }))
		}
	}
	s.line("Watched points: %d of %d the same on every kernel.", same, len(t.Points))
	s.line("")
	if len(rows) == 0 {
		return
	}
	head, rule = "| point | field | ", "|---|---|"
	for _, run := range t.Runs {
		head += text(run.Label()) + " | "
		rule += "---|"
	}
	s.line("%s", strings.TrimSpace(head))
	s.line("%s", rule)
	for i, r := range rows {
		if !s.line("%s", r) {
			s.line("")
			s.line("… and %d more rows: see the HTML report or report.json.", len(rows)-i)
			break
		}
	}
	s.line("")
}

// pointRow is one table row: a value per run, from layouts when given, else
// from cell; "·" where the run did not watch the point, "—" where a field is
// absent.
func (s *summary) pointRow(point, what string, points []*reports.WatchedPoint, cell func(*reports.WatchedPoint) string, layouts ...string) string {
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

// differences writes the rows that differ between columns or hold an
// unexpected cell, one column per kernel/target.
func (s *summary) differences(g *reports.Grid) {
	var rows []reports.Row
	for _, grp := range g.Groups {
		for _, row := range grp.Rows {
			if row.Differs || row.Unexpected || row.Conflict {
				rows = append(rows, row)
			}
		}
	}
	if len(rows) == 0 {
		s.line("Every feature has the same status on every column.")
		s.line("")
		return
	}
	s.line("### Features that differ between kernels or are unexpected (%d)", len(rows))
	s.line("")
	s.line("✓ supported · ✗ unsupported · ! failed · ⊘ blocked by the environment · E error · – skipped · ☠ crashed · T timeout · **\\*** unexpected · ⚠ first working kernel differs from upstream")
	s.line("")
	head, rule := "| feature | upstream | works from |", "|---|---|---|"
	for _, col := range g.Columns {
		head += " " + text(col.Label()) + " |"
		rule += ":-:|"
	}
	s.line("%s", head)
	s.line("%s", rule)
	for i, row := range rows {
		first := text(orDash(row.FirstSupported))
		if row.Mismatch != "" {
			first += " ⚠"
		}
		l := fmt.Sprintf("| %s | %s | %s |", text(row.Feature), text(orDash(row.Since)), first)
		for _, cells := range row.Cells {
			l += " " + cellMark(cells) + " |"
		}
		if i >= maxRows || !s.line("%s", l) {
			s.line("")
			s.line("… and %d more rows: see the HTML report or report.json.", len(rows)-i)
			break
		}
	}
	s.line("")
}

// unexpected lists every unexpected cell with the first line of its
// evidence: what a CI reader needs to start fixing.
func (s *summary) unexpected(g *reports.Grid) {
	type item struct {
		col  string
		cell reports.Cell
	}
	var items []item
	for _, grp := range g.Groups {
		for _, row := range grp.Rows {
			for ci, cells := range row.Cells {
				for _, c := range cells {
					if c.Unexpected {
						items = append(items, item{g.Columns[ci].Label(), c})
					}
				}
			}
		}
	}
	if len(items) == 0 {
		return
	}
	s.line("### Unexpected cells (%d)", len(items))
	s.line("")
	for i, it := range items {
		c := it.cell
		why := ""
		if c.Expected != "" {
			why = ", expected " + string(c.Expected)
		}
		if c.Errno != "" {
			why += ", " + text(c.Errno)
		}
		ok := i < maxUnexpected && s.line("- **%s** on %s: %s %s%s — %s", text(c.Feature), text(it.col), marks[c.Status], c.Status, why, text(firstLine(c.Evidence, 200)))
		if !ok {
			s.line("- … and %d more: see the HTML report or report.json.", len(items)-i)
			break
		}
	}
	s.line("")
}

// conflicts lists cells recorded twice with different statuses.
func (s *summary) conflicts(r *reports.Report) {
	cs := r.Conflicts()
	if len(cs) == 0 {
		return
	}
	s.line("### Conflicts (%d): the same cell recorded with different statuses", len(cs))
	s.line("")
	for _, c := range cs {
		var st []string
		for _, cell := range c.Cells {
			st = append(st, string(cell.Status))
		}
		if !s.line("- **%s** on %s: %s", text(c.Feature), text(c.Run.String()), strings.Join(st, " vs ")) {
			break
		}
	}
	s.line("")
}

// cellMark is a table cell's text: the mark(s) of its statuses, bold with a
// star when unexpected.
func cellMark(cells []reports.Cell) string {
	if len(cells) == 0 {
		return "·"
	}
	var out []string
	seen := map[reports.Status]bool{}
	unexpected := false
	for _, c := range cells {
		unexpected = unexpected || c.Unexpected
		if !seen[c.Status] {
			seen[c.Status] = true
			out = append(out, marks[c.Status])
		}
	}
	m := strings.Join(out, "≠")
	if unexpected {
		return "**" + m + "\\***"
	}
	return m
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func runStatus(s string) string {
	if s == "ok" || s == "" {
		return orDash(s)
	}
	return "**" + text(s) + "**"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// text makes report-provided text safe in a Markdown table cell: no HTML
// (GitHub renders some), no table breaks, no accidental emphasis or links.
func text(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		case '|', '\\', '`', '*', '_', '[', ']', '#', '~', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func lastLine(s string, max int) string {
	s = strings.TrimSpace(s)
	return firstLine(s[strings.LastIndexByte(s, '\n')+1:], max)
}

func firstLine(s string, max int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}
