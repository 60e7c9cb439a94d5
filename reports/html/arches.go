package html

import (
	"fmt"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// archView is the section of one architecture's differences from amd64:
// every feature whose status differs between the two builds of a kernel
// series, both cells (they open the grid cells' evidence), and why the
// other build's cell is what it is.
type archView struct {
	Arch string
	// Series says each kernel series built for both and how many of its
	// features differ: "5.10 (2 of 39), 6.12 (1 of 40)".
	Series string
	Rows   []archRow
}

type archRow struct {
	Kernel, Feature string
	Base, Other     archCell
	Why             string
}

// archCell is a grid cell's view, with its column for the evidence panel
// and its name for assistive technology.
type archCell struct {
	cellView
	Col   int
	Label string
}

// newArchViews groups series by architecture, in their order; cells are
// the grid's cell views by feature and column.
func newArchViews(g *reports.Grid, series []reports.ArchSeries, cells map[string][]cellView) []archView {
	var out []archView
	index := map[string]int{}
	for _, sr := range series {
		i, ok := index[sr.Arch]
		if !ok {
			i = len(out)
			index[sr.Arch] = i
			out = append(out, archView{Arch: sr.Arch})
		}
		av := &out[i]
		if av.Series != "" {
			av.Series += ", "
		}
		av.Series += fmt.Sprintf("%s (%d of %d)", sr.Kernel, len(sr.Rows), sr.Compared)
		cell := func(feature string, col int) archCell {
			cv := cells[feature][col]
			return archCell{cellView: cv, Col: col, Label: feature + " on " + g.Columns[col].Label() + ": " + cv.Title}
		}
		for ri := range sr.Rows {
			row := &sr.Rows[ri]
			av.Rows = append(av.Rows, archRow{Kernel: sr.Kernel, Feature: row.Feature,
				Base: cell(row.Feature, sr.Base), Other: cell(row.Feature, sr.Other), Why: sr.Why(row, 300)})
		}
	}
	return out
}

// exceptional is arch where a heading names it: only where it is not
// reports.DefaultArch.
func exceptional(arch string) string {
	if arch == reports.DefaultArch {
		return ""
	}
	return arch
}

// archTitle names the comparison of views for the filters: "x86/arm64".
func archTitle(views []archView) string {
	title := "x86"
	for _, v := range views {
		title += "/" + v.Arch
	}
	return title
}
