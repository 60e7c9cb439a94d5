package reports

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// ChangeKind says how a cell moved between two reports.
type ChangeKind string

// The kinds of change Compare finds.
const (
	// Regression: the feature worked in the old report and does not in the
	// new one (unsupported, failed, crashed, ...). CI gates on these.
	Regression ChangeKind = "regression"
	// Improvement: the feature did not work and now does.
	Improvement ChangeKind = "improvement"
	// Changed: another status change, such as unsupported → failed.
	Changed ChangeKind = "changed"
	// Added: the cell exists only in the new report.
	Added ChangeKind = "added"
	// Removed: the cell exists only in the old report.
	Removed ChangeKind = "removed"
)

// Change is one cell that differs between two reports.
type Change struct {
	Kind    ChangeKind
	Run     RunKey
	Feature string
	// Old and New are the statuses seen, more than one for a conflict;
	// empty when the cell is missing from that side.
	Old, New []Status
	// Evidence is the new cell's evidence (the old one's when removed): the
	// reason a regression happened, in the kernel's words.
	Evidence string
	// What says what moved in an object program's change of stage or of
	// verifier instructions ("reached fired → load", "insns 12345 → 15002
	// (+21.5%, more than 10%)"); empty for a change of status.
	What string
}

// Diff is every change from an old report to a new one.
type Diff struct {
	Changes []Change
	// AddedRuns and RemovedRuns are the columns (kernel, target) only the
	// new or only the old report has, in report order: their cells are
	// Added or Removed changes too, and a summary says them once.
	AddedRuns, RemovedRuns []RunKey
	// Drift is what changed in the watched probe points of the runs both
	// reports recorded them for: a struct field that moved or changed type
	// under a kernel update, a tracepoint field gone, a function no longer
	// gone. Each is classified as the probe points table classifies a
	// change from one kernel to the next (PointChange), trivial changes
	// left out. It informs; it is not a regression of the suite.
	Drift []PointDrift
	// TrivialDrift counts the trivial changes (PointTrivial) left out of
	// Drift.
	TrivialDrift int
}

// PointDrift is one watched point, or one part of it, that differs between
// the same run of two reports.
type PointDrift struct {
	Run        RunKey
	Kind, Name string // the watched point
	// Field is the part that drifted: a tracepoint's field, a function's
	// "return" or "arg 1", …; "" for the point itself, and for a struct
	// field point, which is its one field.
	Field string
	// Change is PointRemoved, PointRetyped, PointMoved or PointAdded.
	Change PointChange
	// Old and New are what the reports show: a layout ("unsigned int
	// @24/4"), a parameter, or "absent: <the kernel's reason>"; "" on the
	// side that lacks the part.
	Old, New string
}

// Regressions counts the changes of kind Regression.
func (d *Diff) Regressions() int {
	n := 0
	for _, c := range d.Changes {
		if c.Kind == Regression {
			n++
		}
	}
	return n
}

// Compare lists the cells whose statuses differ between old and new,
// matching cells by kernel name, target and feature. A cell is a regression
// when old saw it supported and new sees any other status — also in only one
// of the new report's conflicting cells, since a feature that works only
// sometimes does not work.
//
// The cells of a user's object program are judged by what the program did
// instead (objectChanges): a stage lost, or the verifier processing more
// than insnsThreshold percent more instructions, is a regression.
func Compare(old, new *Report, insnsThreshold float64) *Diff {
	type key struct {
		run     RunKey
		feature string
	}
	collect := func(r *Report) (map[key][]Cell, []key) {
		m := map[key][]Cell{}
		var order []key
		for _, run := range r.Runs {
			for _, c := range run.Cells {
				k := key{run.Key(), c.Feature}
				if m[k] == nil {
					order = append(order, k)
				}
				m[k] = append(m[k], c)
			}
		}
		return m, order
	}
	oldCells, oldOrder := collect(old)
	newCells, newOrder := collect(new)

	d := &Diff{}
	for _, k := range newOrder {
		n := newCells[k]
		o, ok := oldCells[k]
		ch := Change{Run: k.run, Feature: k.feature, New: statusSet(n), Evidence: n[len(n)-1].Evidence}
		if !ok {
			ch.Kind = Added
			d.Changes = append(d.Changes, ch)
			continue
		}
		ch.Old = statusSet(o)
		if objects, isObject := objectChanges(ch, o, n, insnsThreshold); isObject {
			d.Changes = append(d.Changes, objects...)
			continue
		}
		if equalStatuses(ch.Old, ch.New) {
			continue
		}
		for _, c := range n {
			if c.Status != Supported {
				ch.Evidence = c.Evidence
				break
			}
		}
		oldWorked, newWorks := contains(ch.Old, Supported), allSupported(ch.New)
		switch {
		case oldWorked && !newWorks:
			ch.Kind = Regression
		case !contains(ch.Old, Supported) && newWorks:
			ch.Kind = Improvement
		default:
			ch.Kind = Changed
		}
		d.Changes = append(d.Changes, ch)
	}
	for _, k := range oldOrder {
		if _, ok := newCells[k]; !ok {
			o := oldCells[k]
			d.Changes = append(d.Changes, Change{Kind: Removed, Run: k.run, Feature: k.feature, Old: statusSet(o), Evidence: o[len(o)-1].Evidence})
		}
	}
	d.AddedRuns, d.RemovedRuns = onlyIn(new, old), onlyIn(old, new)
	d.Drift, d.TrivialDrift = drift(old, new)
	rank := map[ChangeKind]int{Regression: 0, Changed: 1, Removed: 2, Improvement: 3, Added: 4}
	sort.SliceStable(d.Changes, func(i, j int) bool {
		a, b := d.Changes[i], d.Changes[j]
		if rank[a.Kind] != rank[b.Kind] {
			return rank[a.Kind] < rank[b.Kind]
		}
		if a.Feature != b.Feature {
			return a.Feature < b.Feature
		}
		return a.Run.String() < b.Run.String()
	})
	return d
}

// drift compares the watched points of each run that both reports have
// probe points for, point by point, in the new report's order, and returns
// the changes that are not trivial and how many are. A point only one side
// watched (or read: see unread) is not drift but an edited watch list or a
// source that could not be read.
func drift(old, new *Report) (changes []PointDrift, trivial int) {
	type pointKey struct {
		run        RunKey
		kind, name string
	}
	before := map[pointKey]*WatchedPoint{}
	for ri := range old.Runs {
		if pp := old.Runs[ri].ProbePoints; pp != nil {
			for wi := range pp.Watch {
				if w := &pp.Watch[wi]; !unread(pp, w.Kind) {
					before[pointKey{old.Runs[ri].Key(), w.Kind, w.Name}] = w
				}
			}
		}
	}
	for ri := range new.Runs {
		pp := new.Runs[ri].ProbePoints
		if pp == nil {
			continue
		}
		key := new.Runs[ri].Key()
		for wi := range pp.Watch {
			n := &pp.Watch[wi]
			o, ok := before[pointKey{key, n.Kind, n.Name}]
			if !ok || unread(pp, n.Kind) {
				continue
			}
			row := PointRow{Kind: n.Kind, Name: n.Name, Points: []*WatchedPoint{o, n}}
			row.compare()
			for _, f := range row.Changed() {
				c := f.Cells[1]
				if c.Change == PointTrivial {
					trivial++
					continue
				}
				d := PointDrift{Run: key, Kind: n.Kind, Name: n.Name, Field: f.Name, Change: c.Change, Old: f.Cells[0].Text, New: c.Text}
				if f.Name == Presence {
					d.Field, d.Old, d.New = "", pointSummary(o), pointSummary(n)
				} else if n.Kind == PointField {
					d.Field = "" // the point is its one field
				}
				changes = append(changes, d)
			}
		}
	}
	return changes, trivial
}

// pointSummary is what a point looked like, in one line: its layout or
// prototype, or why it is absent.
func pointSummary(w *WatchedPoint) string {
	switch {
	case !w.Present:
		return "absent: " + w.Error
	case w.Kind == PointField && len(w.Fields) == 1:
		return w.Fields[0].Layout()
	case w.Prototype != "":
		return w.Prototype
	}
	return "present"
}

// onlyIn returns the keys of the runs of a that b has none of, once each.
func onlyIn(a, b *Report) []RunKey {
	inB := map[RunKey]bool{}
	for _, run := range b.Runs {
		inB[run.Key()] = true
	}
	var out []RunKey
	for _, run := range a.Runs {
		if k := run.Key(); !inB[k] && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// WriteText writes d for a terminal or a CI log: one line per change,
// regressions first, and a closing count.
func (d *Diff) WriteText(w io.Writer) error {
	for _, c := range d.Changes {
		evidence := firstLine(c.Evidence, 160)
		if evidence != "" {
			evidence = "  (" + evidence + ")"
		}
		what := c.What
		if what == "" {
			what = joinStatuses(c.Old) + " → " + joinStatuses(c.New)
		}
		// An object program is named file/program, as its user knows it.
		name := strings.TrimPrefix(c.Feature, "object/")
		if _, err := fmt.Fprintf(w, "%-11s %-22s %-32s %s%s\n", c.Kind, c.Run, name, what, evidence); err != nil {
			return err
		}
	}
	for _, p := range d.Drift {
		name := p.Kind + " " + p.Name
		if p.Field != "" {
			name += " ." + p.Field
		}
		if _, err := fmt.Fprintf(w, "%-11s %-22s %-32s %s → %s\n", "drift", p.Run, name, orAbsent(p.Old), orAbsent(p.New)); err != nil {
			return err
		}
	}
	if len(d.Drift) > 0 || d.TrivialDrift > 0 {
		if _, err := fmt.Fprintf(w, "%d probe point changes (%s)\n", len(d.Drift), driftCounts(d.Drift, d.TrivialDrift)); err != nil {
			return err
		}
	}
	counts := map[ChangeKind]int{}
	for _, c := range d.Changes {
		counts[c.Kind]++
	}
	_, err := fmt.Fprintf(w, "%d regressions, %d improvements, %d other changes, %d added, %d removed\n",
		counts[Regression], counts[Improvement], counts[Changed], counts[Added], counts[Removed])
	return err
}

func orAbsent(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}

// driftCounts says how many drifts of each kind, in PointChanges order, and
// the trivial ones not listed: "1 removed, 2 moved; 3 trivial not shown".
func driftCounts(drift []PointDrift, trivial int) string {
	counts := map[PointChange]int{}
	for _, p := range drift {
		counts[p.Change]++
	}
	var parts []string
	for _, kind := range PointChanges {
		if counts[kind] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[kind], kind))
		}
	}
	s := strings.Join(parts, ", ")
	if trivial > 0 {
		s = strings.TrimPrefix(fmt.Sprintf("%s; %d trivial not shown", s, trivial), "; ")
	}
	return s
}

// objectChanges compares the cells of one object program on one column,
// by its stages first: a regression when a new cell reached a lower stage
// than the best old one (as with statuses, a program that gets as far only
// sometimes does not), an improvement when every new cell got further than
// every old one, and a change for any other move of stages or statuses.
// Then by the most instructions the verifier processed: a regression when
// they grew by more than threshold percent, an improvement when they
// shrank by as much. isObject is false, and the cells compare by status,
// when a cell of either side carries no object.
func objectChanges(base Change, old, new []Cell, threshold float64) (changes []Change, isObject bool) {
	oldStages, oldInsns, ok := objectFigures(old)
	newStages, newInsns, okNew := objectFigures(new)
	if !ok || !okNew {
		return nil, false
	}
	oldBest, newWorst := oldStages[len(oldStages)-1].Rank(), newStages[0].Rank()
	// A stage lost counts only where the new cell fell short of its own
	// stage: asking less (--stages load) is no regression.
	short := slices.ContainsFunc(new, func(c Cell) bool { return c.Object.Reached.Rank() < c.Object.Asked.Rank() })
	ch := base
	ch.What = "reached " + joinStages(oldStages) + " → " + joinStages(newStages)
	switch {
	case slices.Equal(oldStages, newStages):
		if !equalStatuses(base.Old, base.New) {
			ch.Kind, ch.What = Changed, ""
			changes = append(changes, ch)
		}
	case newWorst < oldBest && short:
		ch.Kind = Regression
		for _, c := range new {
			if c.Object.Reached.Rank() == newWorst {
				ch.Evidence = c.Evidence
				break
			}
		}
		changes = append(changes, ch)
	case newWorst > oldBest && !short:
		ch.Kind = Improvement
		changes = append(changes, ch)
	default:
		ch.Kind = Changed
		changes = append(changes, ch)
	}
	if oldInsns > 0 && newInsns > 0 {
		growth := 100 * float64(newInsns-oldInsns) / float64(oldInsns)
		ch := base
		ch.Evidence = ""
		ch.What = fmt.Sprintf("insns %d → %d (%+.1f%%", oldInsns, newInsns, growth)
		switch {
		case growth > threshold:
			ch.Kind, ch.What = Regression, ch.What+fmt.Sprintf(", more than %g%%)", threshold)
			changes = append(changes, ch)
		case -growth > threshold:
			ch.Kind, ch.What = Improvement, ch.What+")"
			changes = append(changes, ch)
		}
	}
	return changes, true
}

// objectFigures returns the distinct stages cells reached, lowest first,
// and the most instructions the verifier processed in any of them; ok is
// false when a cell carries no object.
func objectFigures(cells []Cell) (stages []ObjectStage, insns int, ok bool) {
	for _, c := range cells {
		if c.Object == nil {
			return nil, 0, false
		}
		if !slices.Contains(stages, c.Object.Reached) {
			stages = append(stages, c.Object.Reached)
		}
		if v := c.Object.Verifier; v != nil && v.InsnsProcessed > insns {
			insns = v.InsnsProcessed
		}
	}
	sort.Slice(stages, func(i, j int) bool { return stages[i].Rank() < stages[j].Rank() })
	return stages, insns, len(cells) > 0
}

func joinStages(stages []ObjectStage) string {
	parts := make([]string, len(stages))
	for i, s := range stages {
		parts[i] = string(s)
		if s.Rank() == 0 {
			parts[i] = "none"
		}
	}
	return strings.Join(parts, "|")
}

// statusSet returns the distinct statuses of cells in report order.
func statusSet(cells []Cell) []Status {
	var out []Status
	for _, c := range cells {
		if !contains(out, c.Status) {
			out = append(out, c.Status)
		}
	}
	return out
}

func contains(ss []Status, s Status) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func allSupported(ss []Status) bool {
	return len(ss) > 0 && !containsOther(ss, Supported)
}

func containsOther(ss []Status, s Status) bool {
	for _, x := range ss {
		if x != s {
			return true
		}
	}
	return false
}

func equalStatuses(a, b []Status) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !contains(b, s) {
			return false
		}
	}
	return true
}

func joinStatuses(ss []Status) string {
	if len(ss) == 0 {
		return "(none)"
	}
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, "|")
}

// firstLine returns the first line of s, cut to at most max runes.
func firstLine(s string, max int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}
