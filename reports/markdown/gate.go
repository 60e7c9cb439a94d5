package markdown

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/objview"
)

// item is one line of a list a reader acts on: a feature or program, what
// happened to it, and every column where the same happened.
type item struct {
	name, cause string
	cols        []string
	// cells counts the cells, more than the columns where shards
	// recorded a cell twice.
	cells int
	// object is set for a program of the users' objects.
	object bool
}

// items groups the same name and cause on several columns into one item,
// in the order of first appearance.
type items struct {
	list  []item
	index map[[2]string]int
}

func (its *items) add(name, cause, col string, object bool) {
	if its.index == nil {
		its.index = map[[2]string]int{}
	}
	k := [2]string{name, cause}
	i, ok := its.index[k]
	if !ok {
		i = len(its.list)
		its.index[k] = i
		its.list = append(its.list, item{name: name, cause: cause, object: object})
	}
	it := &its.list[i]
	it.cells++
	if !slices.Contains(it.cols, col) {
		it.cols = append(it.cols, col)
	}
}

// list writes items, at most maxListed of them, and says how many it left
// out.
func (s *summary) list(list []item) {
	for i, it := range list {
		if i >= maxListed || !s.line("- **%s** on %s: %s", it.name, columns(it.cols), it.cause) {
			s.more(len(list)-i, "", "- ")
			break
		}
	}
	s.line("")
}

// columns names the columns of an item; past six, it counts the rest.
func columns(cols []string) string {
	if len(cols) > 6 {
		return fmt.Sprintf("%s and %d more columns", strings.Join(cols[:5], ", "), len(cols)-5)
	}
	return strings.Join(cols, ", ")
}

// unexpectedItems are the unexpected cells: the catalog's in the grid's
// order, then the users' programs'.
func unexpectedItems(g *reports.Grid, objects *objview.Table) []item {
	var its items
	for _, grp := range g.Groups {
		for _, row := range grp.Rows {
			for ci, cells := range row.Cells {
				for i := range cells {
					if cells[i].Unexpected {
						its.add(text(row.Feature), cause(&cells[i]), text(g.Columns[ci].Label()), false)
					}
				}
			}
		}
	}
	if objects != nil {
		for _, row := range objects.Rows {
			for ci, cells := range row.Cells {
				for i := range cells {
					if cells[i].Unexpected {
						its.add(text(row.Name), objectMiss(&cells[i]), text(g.Columns[objects.Columns[ci]].Label()), true)
					}
				}
			}
		}
	}
	return its.list
}

// cause says what a catalog cell observed against what was expected, and
// why, in the kernel's words: "✗ unsupported EINVAL at load, expected ✓
// supported — load program: invalid argument".
func cause(c *reports.Cell) string {
	observed := strings.Join(nonEmpty(marks[c.Status]+" "+string(c.Status), c.Errno, at(c.Stage)), " ")
	expected := "expected " + orDash(string(c.Expected))
	if m := marks[c.Expected]; m != "" {
		expected = "expected " + m + " " + string(c.Expected)
	}
	expected = strings.Join(nonEmpty(expected, c.ExpectedErrno, at(c.ExpectedStage)), " ")
	return fmt.Sprintf("%s, %s — %s", text(observed), text(expected), text(orDash(c.EvidenceLine(200))))
}

func at(stage reports.Stage) string {
	if stage == "" {
		return ""
	}
	return "at " + string(stage)
}

func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
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
	return fmt.Sprintf("%s%s — %s", text(objview.Text(c, mark)), why, text(orDash(c.EvidenceLine(200))))
}

// unexpected lists the unexpected cells with their causes: what fails the
// job, and what a reader needs to start fixing it.
func (s *summary) unexpected(list []item) {
	n := 0
	for _, it := range list {
		n += it.cells
	}
	if n == 0 {
		s.line("**Unexpected cells:** none.")
		s.line("")
		return
	}
	s.line("### Unexpected cells (%d)", n)
	s.line("")
	s.list(list)
}

// regressions lists the cells that worked in the baseline and do not now.
func (s *summary) regressions() {
	d := s.opt.Diff
	if d == nil {
		s.line("**Regressions:** no baseline given (`bpfmatrix report render --baseline OLD.json`).")
		s.line("")
		return
	}
	var its items
	for _, c := range d.Changes {
		if c.Kind == reports.Regression {
			its.add(changeName(c), change(c, false), text(label(c.Run)), false)
		}
	}
	if len(its.list) == 0 {
		s.line("**Regressions** against %s: none.", text(s.baseline()))
		s.line("")
		return
	}
	s.line("### Regressions against %s (%d)", text(s.baseline()), d.Regressions())
	s.line("")
	s.list(its.list)
}

func (s *summary) baseline() string {
	if s.opt.Baseline == "" {
		return "the baseline"
	}
	return s.opt.Baseline
}

// changes lists what else moved since the baseline: columns added or
// removed said once, then the cells whose status changed, and the
// features that appeared or went.
func (s *summary) changes() {
	d := s.opt.Diff
	if d == nil {
		return
	}
	whole := map[reports.RunKey]bool{}
	var notes []string
	for _, runs := range []struct {
		keys []reports.RunKey
		what string
	}{{d.AddedRuns, "Columns added"}, {d.RemovedRuns, "Columns removed"}} {
		var names []string
		for _, k := range runs.keys {
			whole[k] = true
			names = append(names, text(label(k)))
		}
		if len(names) > 0 {
			notes = append(notes, runs.what+": "+strings.Join(names, ", "))
		}
	}
	var its items
	n := 0
	for _, c := range d.Changes {
		if c.Kind == reports.Regression || whole[c.Run] {
			continue
		}
		n++
		its.add(changeName(c), change(c, true), text(label(c.Run)), false)
	}
	if n == 0 && len(notes) == 0 {
		s.line("**Changes since the baseline:** none.")
		s.line("")
		return
	}
	if n > 0 {
		s.line("### Changes since the baseline (%s)", plural(n, "cell"))
	} else {
		s.line("### Changes since the baseline")
	}
	s.line("")
	if len(notes) > 0 {
		s.line("%s.", strings.Join(notes, " · "))
		s.line("")
	}
	if len(its.list) > 0 {
		s.list(its.list)
	}
}

func changeName(c reports.Change) string { return text(strings.TrimPrefix(c.Feature, "object/")) }

// change says how a cell moved: its statuses or stages old → new, the
// kind when asked (a regression is listed apart), and its evidence.
func change(c reports.Change, kind bool) string {
	what := c.What
	switch {
	case what != "":
	case c.Kind == reports.Added:
		what = "new, " + joinStatuses(c.New)
	case c.Kind == reports.Removed:
		what = "gone, was " + joinStatuses(c.Old)
	default:
		what = joinStatuses(c.Old) + " → " + joinStatuses(c.New)
	}
	if kind && (c.Kind == reports.Improvement || c.Kind == reports.Changed) {
		what += " (" + string(c.Kind) + ")"
	}
	l := text(what)
	// The evidence of a removed cell or of a move to supported says
	// nothing the statuses do not.
	if e := firstLine(c.Evidence, 200); e != "" && c.Kind != reports.Removed && c.Kind != reports.Improvement {
		l += " — " + text(e)
	}
	return l
}

func joinStatuses(ss []reports.Status) string {
	parts := make([]string, len(ss))
	for i, st := range ss {
		parts[i] = marks[st] + " " + string(st)
	}
	return strings.Join(parts, " ≠ ")
}

// label is a column's heading from its key, as the grid's columns say it.
func label(k reports.RunKey) string { return (&reports.Column{Key: k}).Label() }

// brokenRuns lists the runs that did not end ok: each fails the job, and
// its cells are missing or cut short.
func (s *summary) brokenRuns(g *reports.Grid) {
	var broken []reports.Column
	for _, col := range g.Columns {
		if col.Status != "ok" {
			broken = append(broken, col)
		}
	}
	if len(broken) == 0 {
		return
	}
	s.line("### Runs not ok (%d)", len(broken))
	s.line("")
	for i, col := range broken {
		if i >= maxListed || !s.line("- **%s**: %s — %s", text(col.Label()), text(orDash(col.Status)), text(orDash(firstLine(col.Detail, 200)))) {
			s.more(len(broken)-i, "runs", "- ")
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
	for i, c := range cs {
		var st []string
		for _, cell := range c.Cells {
			st = append(st, string(cell.Status))
		}
		if i >= maxListed || !s.line("- **%s** on %s: %s", text(c.Feature), text(label(c.Run)), strings.Join(st, " vs ")) {
			s.more(len(cs)-i, "", "- ")
			break
		}
	}
	s.line("")
}
