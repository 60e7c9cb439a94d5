package html

import (
	"slices"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/objview"
)

// objectsView is the Objects section: one row per program of the users'
// objects, one column per (kernel, target) that ran any. Its cells are kept
// out of the feature grid, its counts apart from the grid's.
type objectsView struct {
	Columns  []objectColumn
	Rows     []objectRow
	Programs int
	objview.Counts
}

type objectColumn struct {
	// Index is the column's place in pageData.Columns.
	Index                int
	Kernel, Arch, Target string
	Counts               objview.Counts
}

type objectRow struct {
	Feature, Name, Section, Type string
	Cells                        []objectCell
}

// objectCell is a cellView whose Indexes point into pageData.Objects, with
// the words of the program's stage and the kernel's figures.
type objectCell struct {
	cellView
	Col     int
	Text    string
	Figures []string
	Label   string
}

func (v *view) newObjectsView(t *objview.Table, g *reports.Grid) *objectsView {
	if t == nil {
		return nil
	}
	ov := &objectsView{Programs: len(t.Rows), Counts: t.Total()}
	for ci, gi := range t.Columns {
		col := &g.Columns[gi]
		ov.Columns = append(ov.Columns, objectColumn{Index: gi, Kernel: col.Key.Kernel, Arch: exceptional(col.Key.Arch), Target: col.Key.Target, Counts: t.Counts[ci]})
	}
	for _, row := range t.Rows {
		rv := objectRow{Feature: row.Feature, Name: row.Name, Section: row.Section, Type: row.Type}
		for ci, cells := range row.Cells {
			gi := t.Columns[ci]
			oc := objectCell{cellView: v.cellIn(&v.Data.Objects, cells), Col: gi}
			var texts []string
			for i := range cells {
				if t := objview.Text(&cells[i], Mark); !slices.Contains(texts, t) {
					texts = append(texts, t)
				}
			}
			oc.Text = strings.Join(texts, " / ")
			if len(cells) > 0 {
				oc.Figures = objview.Figures(&cells[0])
			}
			oc.Label = strings.Join(append([]string{row.Name + " on " + g.Columns[gi].Label() + ": " + oc.Title + ": " + oc.Text}, oc.Figures...), ", ")
			rv.Cells = append(rv.Cells, oc)
		}
		ov.Rows = append(ov.Rows, rv)
	}
	return ov
}

// objectData is what the evidence panel shows of an object cell beyond
// the fields every cell has: its stage's words and its facts, as
// name/value pairs.
func objectData(c *reports.Cell) (text string, facts [][2]string) {
	if !c.IsObject() {
		return "", nil
	}
	for _, f := range objview.Facts(c) {
		facts = append(facts, [2]string{f.Name, clip(f.Value, MaxEvidence)})
	}
	return objview.Text(c, Mark), facts
}
