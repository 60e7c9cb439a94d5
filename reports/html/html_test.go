package html_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

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
	for _, want := range []string{"prog/&lt;img src=x onerror=alert(1)&gt;", `\u003cscript\u003ewindow.__pwned=1\u003c/script\u003e`} {
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
	if got := strings.Count(page, `<tr data-r=`); got != 150 {
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
	flagged := regexp.MustCompile(`data-flags="[^"]*\bu\b`).FindAllString(page, -1)
	unexpected := 0
	for _, grp := range g.Groups {
		for _, row := range grp.Rows {
			if row.Unexpected {
				unexpected++
			}
		}
	}
	if len(flagged) != unexpected || unexpected == 0 {
		t.Errorf("%d rows flagged unexpected, the grid has %d", len(flagged), unexpected)
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
	if got := strings.Count(page, `<tr data-r=`); got != 20 {
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
	if !strings.Contains(only, `id="objects"`) || !strings.Contains(only, "This report holds no catalog feature.") || strings.Contains(only, `<tr data-r=`) {
		t.Error("a report of object cells only: want the Objects section and an empty grid that says so")
	}
}
