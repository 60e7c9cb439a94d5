package html

import (
	"fmt"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// pointsView is the probe points section: the inventory counts per kernel,
// then the parts of watched points that changed between kernels, grouped by
// how (reports.PointChanges), the trivial group hidden until asked for.
type pointsView struct {
	Runs   []string
	Counts []reports.InventoryRow
	Groups []pointsGroup
	// Same counts the points alike on every kernel, TrivialOnly those whose
	// every change is trivial, of Total.
	Same, TrivialOnly, Total int
	// Trivial counts the rows of the trivial group.
	Trivial int
	// Cols is the number of the tables' columns.
	Cols int
}

// pointsGroup is the rows of one kind of change.
type pointsGroup struct {
	Change reports.PointChange
	Title  string
	Doc    string
	Rows   []pointsDiffRow
}

type pointsDiffRow struct {
	// Sys is a tracepoint's system with its slash ("sched/"), Event the rest
	// of the point's name: the page lets the name wrap between them.
	Sys, Event string
	Point      string
	// Repeat is set when the row above names the same point.
	Repeat bool
	// Proto is a function's prototype on the newest kernel that has one.
	Proto string
	Field string
	// Kinds are the kinds of change of the row besides its group's.
	Kinds string
	Cells []pointsCell
}

type pointsCell struct {
	Text, Class, Title string
	// Change is the kind of change the cell shows, in words under its
	// value: the tint is not the only sign of it.
	Change reports.PointChange
	// At is a field's "@offset/size", on a line of its own under its type
	// in Text.
	At string
}

var groupDocs = map[reports.PointChange][2]string{
	reports.PointRemoved: {"Removed", "gone from a kernel that follows one that had it: a program reading it breaks there."},
	reports.PointRetyped: {"Retyped", "the type, its size or its signedness changed (for a function, a parameter's or the return's type)."},
	reports.PointMoved:   {"Moved", "the same type and size at another offset: a program with the old offset compiled in reads the wrong bytes."},
	reports.PointAdded:   {"Added", "new on a kernel that follows one without it."},
	reports.PointTrivial: {"Trivial", "nothing a program reading the point sees: a common_* header field, the same type spelled another way (const, u32 for unsigned int) at the same offset, size and signedness, the signed flag of a char array or __data_loc, a renamed parameter."},
}

func newPointsView(t *reports.PointsTable) *pointsView {
	if len(t.Runs) == 0 {
		return nil
	}
	v := &pointsView{Total: len(t.Points), Counts: t.Inventory(), Cols: len(t.Runs) + 2}
	for _, run := range t.Runs {
		v.Runs = append(v.Runs, run.Label())
	}
	groups := map[reports.PointChange]*pointsGroup{}
	for _, c := range reports.PointChanges {
		doc := groupDocs[c]
		groups[c] = &pointsGroup{Change: c, Title: doc[0], Doc: doc[1]}
	}
	for _, p := range t.Points {
		switch p.Change {
		case "":
			v.Same++
		case reports.PointTrivial:
			v.TrivialOnly++
		}
		for _, f := range p.Changed() {
			g := groups[f.Change]
			row := pointsDiffRow{Point: p.Name, Proto: prototype(&p), Field: f.Name, Event: p.Name}
			if i := strings.LastIndex(p.Name, "/"); i >= 0 {
				row.Sys, row.Event = p.Name[:i+1], p.Name[i+1:]
			}
			row.Repeat = len(g.Rows) > 0 && g.Rows[len(g.Rows)-1].Point == p.Name
			var others []string
			for _, k := range f.Kinds[1:] {
				others = append(others, string(k))
			}
			row.Kinds = strings.Join(others, " · ")
			row.Cells = pointCells(f, v.Runs)
			g.Rows = append(g.Rows, row)
		}
	}
	for _, c := range reports.PointChanges {
		if g := groups[c]; len(g.Rows) > 0 {
			v.Groups = append(v.Groups, *g)
		}
	}
	v.Trivial = len(groups[reports.PointTrivial].Rows)
	return v
}

// pointCells renders f's cells: a changed cell is marked with its kind of
// change and says, in its title, what it was on the kernel before.
func pointCells(f reports.FieldRow, runs []string) []pointsCell {
	cells := make([]pointsCell, len(f.Cells))
	prev := -1
	for ri, c := range f.Cells {
		pc := &cells[ri]
		switch {
		case !c.Has:
			pc.Text, pc.Class = c.Why, "pp-none"
		case c.Text == "":
			pc.Text, pc.Class, pc.Title = "—", "pp-none", "no such field"
		default:
			pc.Text = c.Text
			if i := strings.LastIndex(c.Text, " @"); i >= 0 {
				pc.Text, pc.At = c.Text[:i], c.Text[i+1:]
			}
		}
		if c.Change != "" && prev >= 0 {
			pc.Class, pc.Change = strings.TrimSpace(pc.Class+" pp-chg pp-"+string(c.Change)), c.Change
			pc.Title = fmt.Sprintf("%s since %s, where it was %s", c.Change, runs[prev], orDash(f.Cells[prev].Text))
		}
		if c.Has {
			prev = ri
		}
	}
	return cells
}

// prototype is a function's prototype on the newest kernel that has one,
// "" for other points.
func prototype(p *reports.PointRow) string {
	for i := len(p.Points) - 1; i >= 0; i-- {
		if w := p.Points[i]; w != nil && w.Prototype != "" {
			return w.Prototype
		}
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
