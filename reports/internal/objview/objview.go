// Package objview arranges the cells of users' own object programs
// (reports.Cell.IsObject) apart from the feature grid, for the renderers:
// one row per program, one column per (kernel, target) that ran any, and
// the words each cell shows. The HTML page and the Markdown summary share
// it, so both say the same of a program.
package objview

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Table is the object programs of a report.
type Table struct {
	// Columns are the indexes of the grid's columns that hold an object
	// cell, in the grid's order; Counts sums each of them.
	Columns []int
	Counts  []Counts
	// Rows are the programs, by file then program name.
	Rows []Row
}

// Counts sums the object cells of a column.
type Counts struct {
	// Cells counts them, Reached those that reached the stage they were
	// asked to, Unexpected those that differ from their expectation (the
	// manifest claimed the kernel).
	Cells, Reached, Unexpected int
}

// Row is one program across the table's columns.
type Row struct {
	// Feature is the cells' feature ID, Name the program as its user knows
	// it: "probe.bpf.o/handle_exec".
	Feature, Name string
	// Section is its ELF section, Type its program type with its attach
	// type when it has one: "Tracing (TraceFEntry)".
	Section, Type string
	// Cells holds, per column of the table, the cells recorded: none when
	// the column did not run the program, more than one when shards
	// disagree.
	Cells [][]reports.Cell
}

// New arranges the object cells of r in the columns of g, the grid of r;
// nil when r has none.
func New(r *reports.Report, g *reports.Grid) *Table {
	gridIndex := map[reports.RunKey]int{}
	for i, col := range g.Columns {
		gridIndex[col.Key] = i
	}
	// Per grid column, per feature, the cells.
	byColumn := map[int]map[string][]reports.Cell{}
	rows := map[string]*Row{}
	for _, run := range r.Runs {
		gi := gridIndex[run.Key()]
		for _, c := range run.Cells {
			if !c.IsObject() {
				continue
			}
			if byColumn[gi] == nil {
				byColumn[gi] = map[string][]reports.Cell{}
			}
			byColumn[gi][c.Feature] = append(byColumn[gi][c.Feature], c)
			row := rows[c.Feature]
			if row == nil {
				row = &Row{Feature: c.Feature, Name: strings.TrimPrefix(c.Feature, "object/")}
				rows[c.Feature] = row
			}
			if o := c.Object; o != nil && row.Section == "" && row.Type == "" {
				row.Name, row.Section, row.Type = o.File+"/"+o.Program, o.Section, o.Type
				if o.AttachType != "" {
					row.Type += " (" + o.AttachType + ")"
				}
			}
		}
	}
	if len(rows) == 0 {
		return nil
	}
	t := &Table{}
	for gi := range g.Columns {
		if byColumn[gi] != nil {
			t.Columns = append(t.Columns, gi)
		}
	}
	for _, row := range rows {
		t.Rows = append(t.Rows, *row)
	}
	sort.Slice(t.Rows, func(i, j int) bool { return t.Rows[i].Feature < t.Rows[j].Feature })
	t.Counts = make([]Counts, len(t.Columns))
	for ri := range t.Rows {
		row := &t.Rows[ri]
		for ci, gi := range t.Columns {
			cells := byColumn[gi][row.Feature]
			row.Cells = append(row.Cells, cells)
			for i := range cells {
				t.Counts[ci].add(&cells[i])
			}
		}
	}
	return t
}

func (n *Counts) add(c *reports.Cell) {
	n.Cells++
	if Reached(c) {
		n.Reached++
	}
	if c.Unexpected {
		n.Unexpected++
	}
}

// Total sums the counts of every column.
func (t *Table) Total() Counts {
	var sum Counts
	for _, n := range t.Counts {
		sum.Cells += n.Cells
		sum.Reached += n.Reached
		sum.Unexpected += n.Unexpected
	}
	return sum
}

// Reached reports whether the program of c reached the stage it was asked
// to reach.
func Reached(c *reports.Cell) bool {
	o := c.Object
	return o != nil && o.Asked.Rank() > 0 && o.Reached.Rank() >= o.Asked.Rank()
}

// Text is what a cell says first: the stage its program ended at and how,
// with mark the renderer's sign of a status: "fired ✓", "load ✗ EINVAL",
// "fired ! 0 runs" (attached, never ran), "attach: needs a target".
func Text(c *reports.Cell, mark func(reports.Status) string) string {
	o := c.Object
	if o == nil {
		// The harness broke before it knew the program.
		return strings.TrimSpace(mark(c.Status) + " " + c.Errno)
	}
	if o.Needs != "" && o.Reached == reports.ObjectLoaded {
		return "attach: needs a target"
	}
	// The stage it ended at: the one after the last it reached, or the
	// one it was asked for when it got there.
	stage := o.Asked
	if r := o.Reached.Rank(); r < o.Asked.Rank() {
		stage = reports.ObjectStages[r]
	}
	text := string(stage) + " " + mark(c.Status)
	switch {
	case c.Errno != "":
		text += " " + c.Errno
	case stage == reports.ObjectFired && c.Status == reports.Failed:
		text += " 0 runs"
	}
	return text
}

// Figures are the kernel's figures a cell shows under its text: the
// verifier's instructions processed with the headroom left under
// reports.InsnLimit, and the run count of a program that fired:
// "12,345 insns (98.8% headroom)", "12 runs".
func Figures(c *reports.Cell) []string {
	o := c.Object
	if o == nil {
		return nil
	}
	var parts []string
	if v := o.Verifier; v != nil && v.InsnsProcessed > 0 {
		parts = append(parts, fmt.Sprintf("%s insns (%.1f%% headroom)", Group(int64(v.InsnsProcessed)), 100*v.Headroom()))
	}
	if o.Reached == reports.ObjectFired {
		parts = append(parts, plural(o.RunCount, "run"))
	}
	return parts
}

// Fact is one line of a cell's details.
type Fact struct{ Name, Value string }

// Facts are the details of an object cell beyond its status and evidence,
// for a reader who opens it: what the program is, its stages, its maps and
// every figure the kernel gave. Facts the cell lacks are left out.
func Facts(c *reports.Cell) []Fact {
	o := c.Object
	if o == nil {
		return nil
	}
	reached := string(o.Reached)
	if reached == "" {
		reached = "none"
	}
	manifest := "does not claim this kernel"
	if o.Claimed {
		manifest = "claims this kernel: not reaching " + string(o.Asked) + " is unexpected"
	}
	typ := o.Type
	if o.AttachType != "" {
		typ += ", attach type " + o.AttachType
	}
	facts := []Fact{
		{"Asked", string(o.Asked)}, {"Reached", reached},
		{"Section", o.Section}, {"Type", typ}, {"Target", o.Target}, {"Needs", o.Needs},
		{"Manifest", manifest}, {"Layer", c.Layer}, {"Trigger", o.Trigger},
	}
	if o.Reached == reports.ObjectFired || o.RunCount > 0 {
		runs := plural(o.RunCount, "run")
		if o.RunCount > 0 && o.RunTimeNS > 0 {
			runs += fmt.Sprintf(", %s ns in all, %s ns a run", Group(int64(o.RunTimeNS)), Group(int64(o.RunTimeNS/o.RunCount)))
		}
		facts = append(facts, Fact{"Runs", runs})
	}
	if v := o.Verifier; v != nil && v.InsnsProcessed > 0 {
		facts = append(facts, Fact{"Verifier", fmt.Sprintf("%s insns processed: %.1f%% headroom under the limit of %s",
			Group(int64(v.InsnsProcessed)), 100*v.Headroom(), Group(reports.InsnLimit))})
		var states []string
		for _, s := range []struct {
			n    int
			what string
		}{{v.MaxStatesPerInsn, "at most %s per insn"}, {v.TotalStates, "%s in all"}, {v.PeakStates, "peak %s"}} {
			if s.n > 0 {
				states = append(states, fmt.Sprintf(s.what, Group(int64(s.n))))
			}
		}
		facts = append(facts, Fact{"States", strings.Join(states, ", ")})
		if v.TimeUS > 0 {
			facts = append(facts, Fact{"Verification time", Group(int64(v.TimeUS)) + " µs"})
		}
		if v.VerifiedInsns > 0 {
			facts = append(facts, Fact{"Verified insns", Group(int64(v.VerifiedInsns))})
		}
	}
	var size []string
	if o.XlatedBytes > 0 {
		size = append(size, "xlated "+Group(int64(o.XlatedBytes))+" bytes")
	}
	if o.JitedBytes > 0 {
		size = append(size, "jited "+Group(int64(o.JitedBytes))+" bytes")
	}
	facts = append(facts, Fact{"Size", strings.Join(size, ", ")})
	var maps []string
	for _, m := range o.Maps {
		l := fmt.Sprintf("%s: %s, max_entries %s", m.Name, m.Type, Group(int64(m.MaxEntries)))
		if m.Flags != 0 {
			l += fmt.Sprintf(", flags %#x", m.Flags)
		}
		maps = append(maps, l)
	}
	facts = append(facts, Fact{"Maps", strings.Join(maps, "\n")})

	out := facts[:0]
	for _, f := range facts {
		if f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}

// Group writes n with a comma between thousands: 1,000,000.
func Group(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return sign + s
}

func plural(n uint64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return Group(int64(n)) + " " + word + "s"
}
