package html_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/html"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
)

func render(t testing.TB, rep *reports.Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := html.Write(&buf, rep); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// pageGrid is the part of the page's data the script builds the grid from.
type pageGrid struct {
	Rows []string `json:"rows"`
	Cols []struct {
		Dir  string   `json:"dir"`
		Logs []string `json:"logs"`
	} `json:"cols"`
	Docs []string `json:"docs"`
	Grid struct {
		Flags []string `json:"flags"`
		Doc   []int    `json:"doc"`
	} `json:"grid"`
}

// gridOf reads the data the page's script builds the grid's rows from.
func gridOf(t testing.TB, page string) pageGrid {
	t.Helper()
	const open = `<script type="application/json" id="data">`
	i := strings.Index(page, open)
	j := strings.Index(page[i+len(open):], "</script>")
	if i < 0 || j < 0 {
		t.Fatal("page lacks its data script")
	}
	var g pageGrid
	if err := json.Unmarshal([]byte(page[i+len(open):i+len(open)+j]), &g); err != nil {
		t.Fatalf("page data: %v", err)
	}
	return g
}

// flagged counts the grid rows that carry flag.
func (g pageGrid) flagged(flag string) int {
	n := 0
	for _, f := range g.Grid.Flags {
		if slices.Contains(strings.Fields(f), flag) {
			n++
		}
	}
	return n
}

// TestPageEscapesReportText checks the markup itself: hostile text from a
// kernel or a verifier appears only escaped, in the markup and in the JSON
// the script reads. TestBrowserMatrix proves the same inside a browser.
func TestPageEscapesReportText(t *testing.T) {
	rep := browserReport()
	rep.Runs[0].Cells[0].Feature = "prog/<img src=x onerror=alert(1)>"
	rep.Runs[0].Target = `vm" onmouseover="alert(1)`
	page := render(t, rep)

	if n := strings.Count(page, "<script"); n != 2 {
		t.Errorf("%d <script elements, want the page's own 2", n)
	}
	for _, bad := range []string{"<img", "window.__pwned=1</script>", `onerror="window`, `" onmouseover="`, "<b>bold"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains raw %q", bad)
		}
	}
	for _, want := range []string{`prog/\u003cimg src=x onerror=alert(1)\u003e`, `\u003cscript\u003ewindow.__pwned=1\u003c/script\u003e`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks the escaped form %q", want)
		}
	}
}

func TestPageSizeAndContent(t *testing.T) {
	rep := fixture.Report(6, 150)
	page := render(t, rep)
	// The budget is 1 MB for 6 kernels × 150 features; stay well inside it.
	if len(page) >= 1<<20 {
		t.Errorf("page is %d bytes, want under 1 MiB", len(page))
	}
	t.Logf("6 × 150 page: %d bytes", len(page))

	g := reports.NewGrid(rep)
	if got := len(gridOf(t, page).Rows); got != 150 {
		t.Errorf("%d feature rows, want 150", got)
	}
	if got := strings.Count(page, `class="colbtn"`); got != 6 {
		t.Errorf("%d kernel columns, want 6", got)
	}
	for _, want := range []string{
		"Generated <time datetime=\"2026-11-25T09:23:39Z\">2026-11-25 09:23 UTC</time>",
		"bpfmatrix v0.4.0", "ci-runner-7", "took <b>1m6s</b>",
		`<option value="tracing">tracing</option>`,
		`<option value="u">only unexpected</option>`,
		`<option value="d">only differences between kernels</option>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Every status has a legend entry with its mark.
	for _, s := range reports.Statuses {
		if !strings.Contains(page, `<span class="sw s-`+string(s)+`" aria-hidden="true">`+html.Mark(s)+`</span> `+string(s)) {
			t.Errorf("legend lacks %s", s)
		}
	}
	// Rows carry the flags the filters use, as the grid computed them.
	flagged := gridOf(t, page).flagged("u")
	unexpected := 0
	for _, grp := range g.Groups {
		for _, row := range grp.Rows {
			if row.Unexpected {
				unexpected++
			}
		}
	}
	if flagged != unexpected || unexpected == 0 {
		t.Errorf("%d rows flagged unexpected, the grid has %d", flagged, unexpected)
	}
}

func TestClipKeepsTheTail(t *testing.T) {
	rep := fixture.Report(1, 1)
	log := strings.Repeat("0: (b7) r0 = 0\n", 2000) + "R1 invalid mem access 'scalar'"
	rep.Runs[0].Cells[0].VerifierLog = log
	page := render(t, rep)
	if !strings.Contains(page, "R1 invalid mem access") {
		t.Error("the verifier's last words were cut")
	}
	if !strings.Contains(page, "bytes cut here; the full text is in report.json") {
		t.Error("a long log was not clipped")
	}
	if len(page) > 64<<10 {
		t.Errorf("page of one cell with a 30 KB log is %d bytes", len(page))
	}
}

func BenchmarkRender(b *testing.B) {
	rep := fixture.Report(6, 150)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := html.Write(&buf, rep); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/page")
}

// TestPageObjects checks the markup of the Objects section: one row per
// program, none of them in the feature grid, and no section at all for a
// report without object cells. TestBrowserObjects uses it in a browser.
func TestPageObjects(t *testing.T) {
	plain := render(t, fixture.Report(3, 20))
	if strings.Contains(plain, `id="objects"`) || strings.Contains(plain, "object programs") {
		t.Error("a report without object cells has an Objects section")
	}
	rep := objectsReport()
	page := render(t, rep)
	if got := strings.Count(page, `id="objects"`); got != 1 {
		t.Errorf("%d Objects sections, want 1", got)
	}
	if got := len(gridOf(t, page).Rows); got != 20 {
		t.Errorf("%d feature grid rows, want the 20 catalog features", got)
	}
	if got := strings.Count(page, `<tr data-f="object/`); got != fixture.ObjectPrograms {
		t.Errorf("%d object rows, want %d", got, fixture.ObjectPrograms)
	}
	// The totals are the catalog's; only the unexpected count says both.
	for _, want := range []string{"3 unexpected (1 in objects)", "5 object programs: 10 of 15 cells reached their stage", "9/20 ✓ · 1*</span>", "3/5 reached · 1*</span>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<img", `onerror="window`, "<b>bold"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains raw %q", bad)
		}
	}
	// A run of object cells only: the objects, and a grid that says it
	// has no feature rather than that the filters hide them.
	only := render(t, fixture.Objects(fixture.Report(2, 0)))
	if !strings.Contains(only, `id="objects"`) || !strings.Contains(only, "This report holds no catalog feature.") || len(gridOf(t, only).Rows) != 0 {
		t.Error("a report of object cells only: want the Objects section and an empty grid that says so")
	}
}

// archesReport is 5.10, 6.1 and 6.12 of the fixture, 40 features, with 5.10
// and 6.12 built for arm64 too: there features 5 and 13 need a BPF
// trampoline (none on 5.10 arm64), and 6.12 arm64 fails feature 8,
// unexpectedly, with hostile text in its cause.
func archesReport() *reports.Report {
	rep := fixture.Report(3, 40)
	rep.Runs = append(rep.Runs, fixture.ARM64(rep.Runs[0], fixture.Feature(5), fixture.Feature(13)), fixture.ARM64(rep.Runs[2]))
	c := &rep.Runs[4].Cells[8]
	c.Status, c.Unexpected = reports.Failed, true
	c.Evidence = "attached, but observed 0 events: " + hostile + "\nsecond line"
	return rep
}

// TestPageArches checks the markup of the arch differences: the arm64
// columns say their arch, the section holds one row per difference with
// both cells and the arm64 cause escaped, the rows of the grid carry the
// filter's flag; a report of one arch has none of it.
func TestPageArches(t *testing.T) {
	rep := archesReport()
	page := render(t, rep)
	if got := strings.Count(page, `<span class="a">arm64</span>`); got != 2 {
		t.Errorf("%d column headings say arm64, want 2", got)
	}
	differ := 0
	features := map[string]bool{}
	for _, s := range reports.NewGrid(rep).ArchDifferences() {
		differ += len(s.Rows)
		for _, r := range s.Rows {
			features[r.Feature] = true
		}
	}
	if differ != 3 {
		t.Fatalf("the fixture has %d arch differences, want 3", differ)
	}
	_, section, _ := strings.Cut(page, `<section id="arch-arm64"`)
	section, _, _ = strings.Cut(section, "</section>")
	if got := strings.Count(section, "<tr data-f="); got != differ {
		t.Errorf("%d rows in the arch section, want %d", got, differ)
	}
	for _, want := range []string{
		"<h2 id=\"arch-arm64-title\">x86/arm64 differences</h2>",
		"3 on 5.10 (2 of 40), 6.12 (1 of 40).",
		`<td class="why">BPF trampolines on arm64 need Linux &gt;= 6.0 (running 5.10.262) — attach tracing link: not supported (ENOTSUPP)</td>`,
		`aria-label="` + fixture.Feature(5) + ` on 5.10 arm64 vm: unsupported"`,
		"attached, but observed 0 events: &lt;/script&gt;",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("arch section lacks %q:\n%s", want, section)
		}
	}
	if strings.Contains(section, "second line") || strings.Contains(section, "<img") {
		t.Error("the arch section holds more than the cause's first line, or raw hostile text")
	}
	for _, want := range []string{`<option value="a">only x86/arm64 differences</option>`, `href="#arch-arm64"`, "3 x86/arm64 differences"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if got := gridOf(t, page).flagged("a"); got != len(features) {
		t.Errorf("%d rows flagged as arch differences, want %d", got, len(features))
	}
	// The Objects section's headings say the arch too.
	if got := strings.Count(render(t, fixture.Objects(archesReport())), `<span class="a">arm64</span>`); got != 4 {
		t.Errorf("%d headings of the grid and the Objects section say arm64, want 4", got)
	}
	plain := render(t, fixture.Report(3, 40))
	for _, bad := range []string{`class="a"`, `id="arch-`, `value="a"`, "x86/"} {
		if strings.Contains(plain, bad) {
			t.Errorf("a report of one arch has %q", bad)
		}
	}
}

// TestPageLinks: rows link their kind's upstream page, the harness's own
// rows none; a run links its files only where the report names its
// directory, and never a path the runner could not have written.
func TestPageLinks(t *testing.T) {
	rep := fixture.Report(3, 0)
	for ri := range rep.Runs {
		for _, f := range []string{"helper/kprobe/bpf_loop", "map/arena", "attach/lsm", "attach/kprobe", "misc/isa_v4", "probepoints/inventory"} {
			rep.Runs[ri].Cells = append(rep.Runs[ri].Cells, reports.Cell{Feature: f, Area: "tracing", Status: reports.Supported, Expected: reports.Supported})
		}
	}
	rep.Runs[0].Files = []string{"runs/vm-5.10/console.log", "runs/vm-5.10/run.json", "runs/vm-5.10/probepoints.json"}
	rep.Runs[1].Files = []string{"javascript:alert(1)//runs/x/run.json"}
	rep.Runs[2].Files = []string{"runs/../../etc/passwd"}
	g := gridOf(t, render(t, rep))

	want := map[string]string{
		"helper/kprobe/bpf_loop": "https://man7.org/linux/man-pages/man7/bpf-helpers.7.html",
		"map/arena":              "https://docs.kernel.org/bpf/maps.html",
		"attach/lsm":             "https://docs.kernel.org/bpf/prog_lsm.html",
		"attach/kprobe":          "https://docs.kernel.org/bpf/libbpf/program_types.html",
		"misc/isa_v4":            "https://docs.kernel.org/bpf/standardization/instruction-set.html",
		"probepoints/inventory":  "",
	}
	for ri, f := range g.Rows {
		got := ""
		if d := g.Grid.Doc[ri]; d >= 0 {
			got = g.Docs[d]
		}
		if got != want[f] {
			t.Errorf("%s links %q, want %q", f, got, want[f])
		}
	}
	if len(g.Cols) != 3 {
		t.Fatalf("%d columns, want 3", len(g.Cols))
	}
	if got, want := g.Cols[0].Logs, []string{"console.log", "run.json", "probepoints.json"}; g.Cols[0].Dir != "runs/vm-5.10" || !slices.Equal(got, want) {
		t.Errorf("the 5.10 run's files %q in %q, want %q in runs/vm-5.10", got, g.Cols[0].Dir, want)
	}
	for _, ci := range []int{1, 2} {
		if g.Cols[ci].Logs != nil || g.Cols[ci].Dir != "" {
			t.Errorf("column %d links %q in %q from a file name the runner cannot have written", ci, g.Cols[ci].Logs, g.Cols[ci].Dir)
		}
	}
}

func TestPageSaysWhichRunsWereReused(t *testing.T) {
	rep := fixture.Report(3, 6)
	ran := rep.Runs[1].Start.Add(-24 * time.Hour)
	rep.Runs[1].Start, rep.Runs[1].End = ran, ran.Add(31*time.Second)
	rep.Runs[1].CachedFrom = &reports.Cached{Key: "ab12cd", Entry: "/cache/runs/ab12cd", RanAt: ran}
	page := render(t, rep)
	for _, want := range []string{
		"<b>1 of 3</b> runs reused from the run cache",
		`"cached":"reused from the run cache: ran ` + ran.UTC().Format("2006-01-02 15:04:05 UTC") + `, entry ab12cd"`,
		// Two runs ran for this report, 31 s each, the second from 14 s
		// after the first: the reused one's day and time count for nothing.
		"took <b>45s</b> (1m2s of runs)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}
