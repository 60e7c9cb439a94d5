package reports

import (
	"fmt"
	"strings"
)

// PointsTable compares the probe points of a report's runs: the inventory
// counts per run, and for each watched point the runs where it is missing
// and the fields (or prototype) that differ between runs. Both renderers
// show it; it is computed once, here.
type PointsTable struct {
	// Runs are the runs that recorded probe points, in report order.
	Runs []*Run
	// Points are the watched points, in watch list order.
	Points []PointRow
}

// PointRow is one watched point across the runs of a PointsTable.
type PointRow struct {
	Kind, Name string
	// Points holds the point as each run saw it; nil where a run did not
	// watch it.
	Points []*WatchedPoint
	// Missing are the indexes of runs where the point does not exist.
	Missing []int
	// Fields are a tracepoint's own fields (not common_*), in first-seen
	// order, each with its layout per run.
	Fields []FieldRow
	// Differs is set when a field or the prototype is not the same on
	// every run that has the point.
	Differs bool
}

// FieldRow is one tracepoint field across runs.
type FieldRow struct {
	Name string
	// Layouts holds "type @offset/size" per run, "" where the field (or the
	// whole point) is absent.
	Layouts []string
	Differs bool
}

// Label is a run's column heading: its key as RunKey.String says it, but
// without the target when it is a VM, whose kernel alone names it ("6.1",
// "6.1 arm64").
func (run *Run) Label() string {
	if run.Target == "vm" {
		return run.Key().kernelArch()
	}
	return run.Key().String()
}

// Layout is how a report shows a field: "int @16/8", "s" marking signed; a
// bitfield adds its bit offset and width: "unsigned int @2/4 bit 17:1".
func (f TracepointField) Layout() string {
	sign := ""
	if f.Signed {
		sign = " s"
	}
	bits := ""
	if f.BitfieldSize > 0 {
		bits = fmt.Sprintf(" bit %d:%d", f.BitOffset, f.BitfieldSize)
	}
	return fmt.Sprintf("%s @%d/%d%s%s", f.Type, f.Offset, f.Size, sign, bits)
}

// NewPointsTable builds the table of r's probe points.
func NewPointsTable(r *Report) *PointsTable {
	t := &PointsTable{}
	for i := range r.Runs {
		if r.Runs[i].ProbePoints != nil {
			t.Runs = append(t.Runs, &r.Runs[i])
		}
	}
	index := map[string]int{}
	for ri, run := range t.Runs {
		for wi := range run.ProbePoints.Watch {
			w := &run.ProbePoints.Watch[wi]
			key := w.Kind + " " + w.Name
			i, ok := index[key]
			if !ok {
				i = len(t.Points)
				index[key] = i
				t.Points = append(t.Points, PointRow{Kind: w.Kind, Name: w.Name, Points: make([]*WatchedPoint, len(t.Runs))})
			}
			t.Points[i].Points[ri] = w
		}
	}
	for i := range t.Points {
		t.Points[i].compare()
	}
	return t
}

func (p *PointRow) compare() {
	fieldIndex := map[string]int{}
	protos := map[string]bool{}
	present := 0
	for ri, w := range p.Points {
		if w == nil {
			continue
		}
		if !w.Present {
			p.Missing = append(p.Missing, ri)
			continue
		}
		present++
		protos[w.Prototype] = true
		for _, f := range w.Fields {
			if strings.HasPrefix(f.Name, "common_") {
				continue
			}
			fi, ok := fieldIndex[f.Name]
			if !ok {
				fi = len(p.Fields)
				fieldIndex[f.Name] = fi
				p.Fields = append(p.Fields, FieldRow{Name: f.Name, Layouts: make([]string, len(p.Points))})
			}
			p.Fields[fi].Layouts[ri] = f.Layout()
		}
	}
	p.Differs = len(protos) > 1
	for fi := range p.Fields {
		f := &p.Fields[fi]
		seen := map[string]bool{}
		for ri, w := range p.Points {
			if w != nil && w.Present {
				seen[f.Layouts[ri]] = true
			}
		}
		f.Differs = len(seen) > 1 && present > 1
		p.Differs = p.Differs || f.Differs
	}
}

// Changed returns the fields that differ between runs.
func (p *PointRow) Changed() []FieldRow {
	var out []FieldRow
	for _, f := range p.Fields {
		if f.Differs {
			out = append(out, f)
		}
	}
	return out
}
