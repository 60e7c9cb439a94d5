// Package html renders a report as one self-contained HTML page: the matrix
// of features × (kernel, arch, target), its legend, filters and the
// evidence of every cell, the features whose status differs between the
// amd64 and arm64 builds of a kernel, and the programs of users' own
// objects, each in a section of their own. The page embeds its CSS and
// JavaScript and loads nothing, so it works opened from disk, from a CI
// artifact, or from GitHub Pages.
//
// Every string that comes from a kernel, a verifier or a report file goes
// through html/template's contextual escaping or, in the page's script,
// through textContent: evidence is attacker-shaped text and must stay inert.
package html

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/objview"
)

var (
	//go:embed page.tmpl
	pageTemplate string
	//go:embed style.css
	style string
	//go:embed script.js
	script string

	page = template.Must(template.New("page").Funcs(template.FuncMap{
		"mark":  Mark,
		"since": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}).Parse(pageTemplate))
)

// MaxEvidence bounds each evidence string embedded in the page, in bytes.
// Verifier logs can run to megabytes; the page keeps the head and the tail
// (where the verifier says why) and points to report.json for the rest.
const MaxEvidence = 4096

// Mark is the short sign of a status, readable without colour.
func Mark(s reports.Status) string { return reports.Mark(s) }

// Write renders r as a page to w.
func Write(w io.Writer, r *reports.Report) error {
	if err := page.Execute(w, newView(r)); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}

// view is what page.tmpl renders.
type view struct {
	Report  *reports.Report
	Elapsed string
	RunTime string
	// Reused counts the runs reused from the run cache.
	Reused   int
	Columns  []columnView
	ColSpan  int
	Areas    []string
	Legend   []legendItem
	Totals   []legendItem
	Features int
	// Notes counts the grid's numbered notes, and Causes are the cause
	// classes the legend explains.
	Notes      int
	Causes     []causeItem
	Unexpected int
	Conflicts  int
	Mismatches int
	// ObjectUnexpected is the part of Unexpected in the Objects section.
	ObjectUnexpected int
	Data             pageData
	Objects          *objectsView
	Arches           []archView
	// ArchTitle names what Arches compare: "x86/arm64".
	ArchTitle string
	Points    *pointsView
	// Environments counts the columns of container profiles and BPF
	// tokens, and EnvFrom is the grid's child index (from 1) of the first.
	Environments int
	EnvFrom      int
	CSS          template.CSS
	JS           template.JS
}

type columnView struct {
	Index  int
	Label  string
	Kernel string
	// Arch is the architecture when it is not amd64, else empty: the
	// headings name it only where it is the exception.
	Arch       string
	Target     string
	Release    string
	Status     string
	Supported  int
	Total      int
	Unexpected int
	// Kind is the column's group: "vm", "host" or "env" (a container
	// profile or a BPF token), and KindStart marks the first column of a
	// group, where the page draws a separator.
	Kind      string
	KindStart bool
	// Child is the column's child index (from 1) in a grid row: after the
	// feature, its upstream version and "works from".
	Child int
}

type groupView struct {
	Area string
	Rows []rowView
}

type rowView struct {
	Index    int
	Feature  string
	Area     string
	Since    string
	First    string
	Mismatch bool
	Flags    string
	Statuses string
	Cells    []cellView
}

type cellView struct {
	Class string
	Mark  string
	Title string
	// Tag is the sign of the cause class beside the mark ("•" seen
	// firing, "cfg" a CONFIG option not set), and Cause its words.
	Tag, Cause string
	// Note is the number of the cell's note in pageData.Notes, 0 for
	// none; note is its text, numbered when the grid is built.
	Note int
	note string
	// Indexes lists the cells in pageData.Cells, space-separated; empty
	// when the column never ran the feature.
	Indexes    string
	Unexpected bool
}

// causeLegend explains the cause classes a cell's mark shows.
var causeLegend = map[reports.CauseClass]string{
	reports.CauseFired:     "supported, seen firing: the program saw every event the spec caused",
	reports.CauseLoaded:    "supported: loaded or attached, nothing fired (a map, a helper, a program type)",
	reports.CauseVersion:   "unsupported: the kernel is too old",
	reports.CauseConfig:    "unsupported: a CONFIG option is not set",
	reports.CausePolicy:    "unsupported: an LSM or lockdown refuses it",
	reports.CausePrivilege: "unsupported: refused to this process (EPERM, a switch that keeps it to init)",
}

type causeItem struct {
	Class, Mark, Tag, Words string
}

type legendItem struct {
	Status reports.Status
	Mark   string
	Count  int
}

// pageData is the JSON the page's script reads: evidence lives here rather
// than in the markup, and identical strings (the same CONFIG reason on six
// kernels) are stored once in Strings.
type pageData struct {
	Columns  []columnData `json:"cols"`
	Features []string     `json:"rows"`
	Mismatch []string     `json:"mismatch"`
	// Works is each feature's "works from" in words, for the one-feature
	// view: "≤ 5.10" when the oldest kernel tested already works.
	Works   []string   `json:"works"`
	Strings []string   `json:"strs"`
	Cells   []cellData `json:"cells"`
	// Notes are the grid's numbered notes, note n at n-1: each distinct
	// explanation once ("CONFIG_FPROBE is not set"), listed under the
	// grid and cited by number in its cells.
	Notes []string `json:"notes"`
	// Docs are the upstream documentation pages the rows link to.
	Docs []string `json:"docs"`
	// Marks are the statuses' signs (reports.Mark), so the script draws
	// the same ones as the markup and the summary.
	Marks map[reports.Status]string `json:"marks"`
	// Objects are the cells of the Objects section; their Row is a row of
	// that section, not of Features.
	Objects []cellData `json:"objs"`
	// Grid is what the script builds the grid's rows from: emitting them
	// as markup cost a <td> with attributes per cell, which grew the page
	// with the matrix.
	Grid      gridData `json:"grid"`
	stringIdx map[string]int
}

// gridData holds the grid's rows, in the order of pageData.Features.
type gridData struct {
	// Areas are the row groups, each with its number of rows.
	Areas []gridArea `json:"areas"`
	Flags []string   `json:"flags"`
	Stat  []string   `json:"st"`
	Since []string   `json:"since"`
	First []string   `json:"first"`
	// Views are the distinct looks of a cell (class, mark, title,
	// unexpected, cause tag, note number), stored once; a few dozen serve
	// the whole grid.
	Views [][6]any `json:"views"`
	// Doc is each row's index in pageData.Docs, -1 for none.
	Doc []int `json:"doc"`
	// Cells has per row, per column, two numbers: the cell's view and how
	// many records of data.cells it holds, which follow each other in
	// data.cells in column order.
	Cells   [][]int `json:"cells"`
	viewIdx map[cellView]int
}

type gridArea struct {
	Area string `json:"a"`
	Rows int    `json:"n"`
}

// addRow records row's cells as views and record counts.
func (d *gridData) addRow(row *rowView) {
	d.Flags = append(d.Flags, row.Flags)
	d.Stat = append(d.Stat, row.Statuses)
	d.Since = append(d.Since, row.Since)
	d.First = append(d.First, row.First)
	cells := []int{}
	for _, c := range row.Cells {
		title := c.Title
		if c.Cause != "" {
			title += ": " + c.Cause
		}
		look := cellView{Class: c.Class, Mark: c.Mark, Title: title, Unexpected: c.Unexpected, Tag: c.Tag, Note: c.Note}
		i, ok := d.viewIdx[look]
		if !ok {
			i = len(d.Views)
			d.viewIdx[look] = i
			d.Views = append(d.Views, [6]any{c.Class, c.Mark, title, c.Unexpected, c.Tag, c.Note})
		}
		n := 0
		if c.Indexes != "" {
			n = len(strings.Fields(c.Indexes))
		}
		cells = append(cells, i, n)
	}
	d.Cells = append(d.Cells, cells)
}

type columnData struct {
	Label  string         `json:"label"`
	Kernel reports.Kernel `json:"kernel"`
	Arch   string         `json:"arch"`
	Target string         `json:"target"`
	Status string         `json:"status"`
	Detail int            `json:"detail"`
	Counts map[string]int `json:"counts"`
	Secs   float64        `json:"secs"`
	// Cached says when and from which run cache entry a reused run ran.
	Cached string `json:"cached,omitempty"`
	// Dir is the run's directory relative to the page, and Logs the
	// names of its files a reader may open there; none when the report
	// does not say where they are.
	Dir  string   `json:"dir,omitempty"`
	Logs []string `json:"logs,omitempty"`
}

// cellData is one cell; string fields are indexes into pageData.Strings
// (-1 for none) so repeated evidence, statuses and errnos cost one number.
// It is written as an array (see MarshalJSON) that the script turns back
// into an object: keys per cell were a third of the page.
type cellData struct {
	Status     int
	Expected   int
	Unexpected bool
	Errno      int
	Reason     int
	Evidence   int
	Verifier   int
	Events     uint64
	DurationMS float64
	Since      int
	// Text and Facts are an object cell's stage in words and its details.
	Text  string
	Facts [][2]string
}

// MarshalJSON writes c as [s, x, u, n, why, ev, vl, k, ms, since] and,
// for an object cell, its text and facts after them. Its row and column
// are where the grid or the Objects section names it. The duration is kept
// to the hundredth of a millisecond the panel shows at most.
func (c cellData) MarshalJSON() ([]byte, error) {
	u := 0
	if c.Unexpected {
		u = 1
	}
	a := []any{c.Status, c.Expected, u, c.Errno, c.Reason, c.Evidence, c.Verifier, c.Events,
		math.Round(c.DurationMS*100) / 100, c.Since}
	if c.Text != "" || c.Facts != nil {
		a = append(a, c.Text, c.Facts)
	}
	return json.Marshal(a)
}

func (d *pageData) str(s string) int {
	if s == "" {
		return -1
	}
	s = clip(s, MaxEvidence)
	if i, ok := d.stringIdx[s]; ok {
		return i
	}
	d.stringIdx[s] = len(d.Strings)
	d.Strings = append(d.Strings, s)
	return len(d.Strings) - 1
}

// clip keeps the head and tail of s within max bytes, cutting on rune
// boundaries and saying how much was left out.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	head, tail := max/4, max-max/4
	for head > 0 && !startsRune(s[head]) {
		head--
	}
	cut := len(s) - tail
	for cut < len(s) && !startsRune(s[cut]) {
		cut++
	}
	return fmt.Sprintf("%s\n… [%d bytes cut here; the full text is in report.json] …\n%s", s[:head], cut-head, s[cut:])
}

func startsRune(b byte) bool { return b&0xC0 != 0x80 }

func newView(r *reports.Report) *view {
	g := reports.NewGrid(r)
	g.ByKind()
	kinds := g.KernelKinds()
	v := &view{Report: r, CSS: template.CSS(style), JS: template.JS(script)}
	v.Data.stringIdx = map[string]int{}
	v.Data.Strings = []string{}
	v.Data.Cells = []cellData{}
	v.Data.Objects = []cellData{}
	v.Data.Mismatch = []string{}
	v.Data.Works = []string{}
	v.Data.Features = []string{}
	v.Data.Docs = []string{}
	v.Data.Marks = map[reports.Status]string{}
	for _, st := range reports.Statuses {
		v.Data.Marks[st] = reports.Mark(st)
	}
	v.Data.Grid = gridData{Areas: []gridArea{}, Flags: []string{}, Stat: []string{}, Since: []string{}, First: []string{},
		Views: [][6]any{}, Doc: []int{}, Cells: [][]int{}, viewIdx: map[cellView]int{}}
	var notes reports.Notes
	docIdx := map[string]int{}

	if el := r.Elapsed(); el > 0 {
		v.Elapsed = roundDuration(el)
	}
	var runSecs float64
	for _, run := range r.Runs {
		if run.CachedFrom == nil { // a reused run's time was spent before
			runSecs += run.WallTime
		}
	}
	v.Reused = r.Reused()
	if runSecs > 0 {
		v.RunTime = roundDuration(time.Duration(runSecs * float64(time.Second)))
	}

	v.ColSpan = len(g.Columns) + 3
	totals := map[reports.Status]int{}
	for i, col := range g.Columns {
		total := 0
		for s, n := range col.Counts {
			total += n
			totals[s] += n
		}
		cv := columnView{
			Index: i, Arch: exceptional(col.Key.Arch), Release: col.Kernel.Release, Status: col.Status,
			Supported: col.Counts[reports.Supported], Total: total, Unexpected: col.Unexpected,
			Kind: kindOf(&col),
		}
		cv.Kernel, cv.Target = heading(&col)
		cv.Label = strings.Join(strings.Fields(cv.Kernel+" "+cv.Arch+" "+cv.Target), " ")
		cv.KindStart = i > 0 && v.Columns[i-1].Kind != cv.Kind
		cv.Child = i + 4
		if cv.Kind == "env" {
			if v.Environments == 0 {
				v.EnvFrom = cv.Child
			}
			v.Environments++
		}
		v.Columns = append(v.Columns, cv)
		counts := map[string]int{}
		for s, n := range col.Counts {
			counts[string(s)] = n
		}
		v.Data.Columns = append(v.Data.Columns, columnData{
			Label: cv.Label, Kernel: col.Kernel, Arch: col.Key.Arch, Target: col.Key.Target, Status: col.Status,
			Detail: v.Data.str(col.Detail), Counts: counts, Secs: col.Seconds,
		})
		cd := &v.Data.Columns[len(v.Data.Columns)-1]
		cd.Dir, cd.Logs = runLogs(r, col.Key)
		if c := col.Cached; c != nil {
			cd.Cached = "reused from the run cache: ran " + c.RanAt.UTC().Format("2006-01-02 15:04:05 UTC") + ", entry " + c.Key
		}
		v.Unexpected += col.Unexpected
	}
	for _, s := range reports.Statuses {
		v.Legend = append(v.Legend, legendItem{Status: s, Mark: Mark(s), Count: totals[s]})
		if totals[s] > 0 {
			v.Totals = append(v.Totals, legendItem{Status: s, Mark: Mark(s), Count: totals[s]})
		}
	}

	for _, k := range reports.CauseClasses {
		if words, ok := causeLegend[k]; ok {
			st := reports.Unsupported
			if k == reports.CauseFired || k == reports.CauseLoaded {
				st = reports.Supported
			}
			class := "s-" + string(st)
			if k == reports.CauseFired {
				class += " fired"
			}
			v.Causes = append(v.Causes, causeItem{Class: class, Mark: reports.Mark(st), Tag: k.Tag(), Words: words})
		}
	}

	arches := g.ArchDifferences()
	archRows := map[string]bool{}
	for _, sr := range arches {
		for _, row := range sr.Rows {
			archRows[row.Feature] = true
		}
	}
	// The views of every grid cell, by feature and column: the Arches
	// sections show the same cells, and open the same evidence.
	cells := map[string][]cellView{}
	for _, grp := range g.Groups {
		gv := groupView{Area: grp.Area}
		v.Areas = append(v.Areas, grp.Area)
		for _, row := range grp.Rows {
			ri := len(v.Data.Features)
			v.Data.Features = append(v.Data.Features, row.Feature)
			v.Data.Mismatch = append(v.Data.Mismatch, row.Mismatch)
			works := worksFrom(g, &row)
			v.Data.Works = append(v.Data.Works, works)
			v.Features++
			if row.Conflict {
				v.Conflicts++
			}
			if row.Mismatch != "" {
				v.Mismatches++
			}
			rv := rowView{Index: ri, Feature: row.Feature, Area: grp.Area, Since: row.Since, First: row.FirstSupported, Mismatch: row.Mismatch != ""}
			if strings.HasPrefix(works, "≤ ") {
				rv.First = "≤ " + rv.First // the oldest kernel tested works: it may work on older ones
			}
			var flags []string
			for flag, on := range map[string]bool{"d": row.DiffersAmongKinds(kinds), "u": row.Unexpected, "m": row.Mismatch != "", "k": row.Conflict, "a": archRows[row.Feature]} {
				if on {
					flags = append(flags, flag)
				}
			}
			sort.Strings(flags)
			rv.Flags = strings.Join(flags, " ")
			var statuses []string
			for _, s := range row.Statuses() {
				statuses = append(statuses, string(s))
			}
			rv.Statuses = strings.Join(statuses, " ")
			for _, cs := range row.Cells {
				cv := v.cell(cs)
				cv.Note = notes.Number(cv.note)
				rv.Cells = append(rv.Cells, cv)
			}
			cells[row.Feature] = rv.Cells
			v.Data.Grid.addRow(&rv)
			doc := -1
			if u := docURL(row.Feature); u != "" {
				i, ok := docIdx[u]
				if !ok {
					i = len(v.Data.Docs)
					docIdx[u] = i
					v.Data.Docs = append(v.Data.Docs, u)
				}
				doc = i
			}
			v.Data.Grid.Doc = append(v.Data.Grid.Doc, doc)
			gv.Rows = append(gv.Rows, rv)
		}
		v.Data.Grid.Areas = append(v.Data.Grid.Areas, gridArea{Area: grp.Area, Rows: len(gv.Rows)})
	}
	v.Data.Notes = append([]string{}, notes.List...)
	v.Notes = len(notes.List)
	v.Arches = newArchViews(g, arches, cells)
	v.ArchTitle = archTitle(v.Arches)
	v.Objects = v.newObjectsView(objview.New(r, g), g)
	if v.Objects != nil {
		v.ObjectUnexpected = v.Objects.Unexpected
		v.Unexpected += v.ObjectUnexpected
	}
	v.Points = newPointsView(reports.NewPointsTable(r))
	return v
}

// worksFrom says where row works as a reader may quote it: its
// FirstSupported, prefixed "≤ " when that is the oldest kernel series the
// report tested the feature on (it may work on older ones too), or "none
// of the kernels tested".
func worksFrom(g *reports.Grid, row *reports.Row) string {
	if row.FirstSupported == "" {
		return "none of the kernels tested"
	}
	var oldest kversion.Version
	found, worksOldest := false, false
	for ci, cells := range row.Cells {
		col := &g.Columns[ci]
		v, ok := col.Kernel.KernelVersion()
		if len(cells) == 0 || !col.OwnTarget() || !ok {
			continue
		}
		v = kversion.Version{Major: v.Major, Minor: v.Minor}
		works := false
		for _, c := range cells {
			works = works || c.Status == reports.Supported
		}
		switch c := v.Compare(oldest); {
		case !found || c < 0:
			oldest, found, worksOldest = v, true, works
		case c == 0:
			worksOldest = worksOldest || works
		}
	}
	if worksOldest {
		return "≤ " + row.FirstSupported + " (the oldest kernel tested)"
	}
	return row.FirstSupported
}

// kindOf is the column's group in the grid: the kernels' VMs, the host,
// and the environments that restrict a kernel by design.
func kindOf(col *reports.Column) string {
	switch {
	case col.Key.Target == "vm":
		return "vm"
	case col.OwnTarget():
		return "host"
	}
	return "env"
}

// heading names a column by what it is: the kernel's version and the
// target, "6.1" "vm", "6.18" "host", "6.18" "podman bpf-caps"; a kernel
// named for its target ("host") is named by its version instead.
func heading(col *reports.Column) (kernel, target string) {
	kernel = col.Key.Kernel
	if _, named := kversion.Parse(kernel); !named {
		if v, ok := col.Kernel.KernelVersion(); ok {
			kernel = fmt.Sprintf("%d.%d", v.Major, v.Minor)
		}
	}
	target = col.Key.Target
	if profile, ok := strings.CutPrefix(target, "container/"); ok {
		target = "podman " + profile
	}
	return kernel, target
}

// cell renders the cells of one feature in one column.
func (v *view) cell(cells []reports.Cell) cellView {
	return v.cellIn(&v.Data.Cells, cells)
}

// cellIn renders cells as cell does, recording them in data.
func (v *view) cellIn(data *[]cellData, cells []reports.Cell) cellView {
	if len(cells) == 0 {
		return cellView{Class: "none", Mark: "·", Title: "not run"}
	}
	var idx, marks, words []string
	cv := cellView{}
	seen := map[reports.Status]bool{}
	for _, c := range cells {
		idx = append(idx, fmt.Sprint(len(*data)))
		text, facts := objectData(&c)
		*data = append(*data, cellData{
			Status: v.Data.str(string(c.Status)), Expected: v.Data.str(string(c.Expected)),
			Unexpected: c.Unexpected, Errno: v.Data.str(c.Errno), Reason: v.Data.str(c.Reason),
			Evidence: v.Data.str(c.Evidence), Verifier: v.Data.str(c.VerifierLog), Events: c.Events,
			DurationMS: c.DurationMS, Since: v.Data.str(c.Since),
			Text: text, Facts: facts,
		})
		if c.Unexpected {
			cv.Unexpected = true
		}
		if !seen[c.Status] {
			seen[c.Status] = true
			marks = append(marks, Mark(c.Status))
			w := string(c.Status)
			if c.Unexpected && c.Expected != "" {
				w += ", expected " + string(c.Expected)
			}
			words = append(words, w)
		}
	}
	cv.Indexes = strings.Join(idx, " ")
	cv.Mark = strings.Join(marks, "")
	cv.Class = "s-" + string(cells[0].Status)
	// The cause is the first record's: a conflict's other records are in
	// its evidence.
	cv.Tag, cv.Cause = cells[0].CauseTag(), cells[0].CauseWords()
	if cells[0].CauseClass() == reports.CauseFired {
		cv.Class += " fired"
	}
	for i := range cells {
		if cv.note = cells[i].Note(); cv.note != "" {
			break
		}
	}
	if len(seen) > 1 {
		cv.Class = "conflict"
		words = append([]string{"conflict"}, words...)
	}
	if cv.Unexpected {
		cv.Class += " unexpected"
	}
	cv.Title = strings.Join(words, " / ")
	return cv
}

// roundDuration formats d to a precision a person reads at a glance.
func roundDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
