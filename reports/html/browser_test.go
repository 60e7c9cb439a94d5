package html_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/html"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
)

var (
	chromiumOnce sync.Once
	chromiumPath string
	chromiumWhy  string
)

// chromium returns Debian's chromium, installing the package when it is
// missing and the test runs as root (the project's machines), or skips
// naming what is missing. It never downloads a browser of its own.
func chromium(t testing.TB) string {
	t.Helper()
	chromiumOnce.Do(func() {
		if p, err := exec.LookPath("chromium"); err == nil {
			chromiumPath = p
			return
		}
		if os.Geteuid() != 0 {
			chromiumWhy = "needs Debian's chromium package (/usr/bin/chromium), and is not root to apt-get install it"
			return
		}
		cmd := exec.Command("apt-get", "install", "-y", "--no-install-recommends", "chromium")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			chromiumWhy = fmt.Sprintf("needs Debian's chromium package; apt-get install chromium failed: %v", err)
			if last := lastLine(out); last != "" {
				chromiumWhy += ": " + last
			}
			return
		}
		if p, err := exec.LookPath("chromium"); err == nil {
			chromiumPath = p
			return
		}
		chromiumWhy = "needs Debian's chromium package; it is still missing after apt-get install chromium"
	})
	if chromiumPath == "" {
		t.Skip(chromiumWhy)
	}
	return chromiumPath
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// browser starts headless Chromium with the flags this closed network and
// root need, and a fresh profile.
func browser(t testing.TB) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1400, 1000),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return ctx
}

// hostile is report text shaped like an attack: a verifier log or a
// console tail can hold anything a program or a kernel module printed.
const hostile = `</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"><b>bold</b>`

// hostileCell is the index of an unsupported cell of the 6.1 column.
const hostileCell = 6

// browserReport is the 6-kernel × 150-feature fixture with hostile text in
// every place a kernel or a verifier writes, plus a conflict from a second
// shard.
func browserReport() *reports.Report {
	rep := fixture.Report(6, 150)
	c := &rep.Runs[1].Cells[hostileCell]
	c.Evidence = "load program: permission denied: " + hostile
	c.VerifierLog = "0: (b7) r0 = 0\n" + hostile + "\nR0 !read_ok"
	c.Errno = "EACCES" + hostile
	rep.Runs[2].Kernel.Release = "6.12.117" + hostile
	rep.Runs[3].Status, rep.Runs[3].Detail = "panic", "Kernel panic - not syncing: "+hostile
	shard := &reports.Report{Schema: 1, Runs: []reports.Run{rep.Runs[4]}}
	shard.Runs[0].Cells = []reports.Cell{rep.Runs[4].Cells[9]}
	shard.Runs[0].Cells[0].Status = reports.Failed
	shard.Runs[0].Cells[0].Evidence = "attached, but observed 0 events after 10 getpgid(2) calls"
	return reports.Merge(rep, shard)
}

// objectsReport is the 3-kernel × 20-feature fixture with the fixture's
// object programs, hostile text where a user's object or its kernel
// writes: a map name, a section, the reason a target is needed.
func objectsReport() *reports.Report {
	rep := fixture.Objects(fixture.Report(3, 20))
	for i := range rep.Runs[2].Cells {
		c := &rep.Runs[2].Cells[i]
		if c.Object == nil {
			continue
		}
		switch c.Object.Program {
		case "xdp_drop":
			o := *c.Object
			o.Needs = "a network interface " + hostile
			o.Maps = []reports.ObjectMap{{Name: "drops" + hostile, Type: "PerCPUArray", MaxEntries: 1}}
			c.Object = &o
		case "trace_unlink":
			o := *c.Object
			o.Section = "kprobe/" + hostile
			c.Object = &o
		}
	}
	return rep
}

func writePage(t testing.TB, dir string, rep *reports.Report) (path string, size int) {
	t.Helper()
	var buf bytes.Buffer
	if err := html.Write(&buf, rep); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "index.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, buf.Len()
}

func fileURL(path string) string { return (&url.URL{Scheme: "file", Path: path}).String() }

// loadMS navigates to path and returns the time from navigation start to
// the end of the load event, as the browser measured it.
func loadMS(ctx context.Context, path string) (float64, error) {
	if err := chromedp.Do(ctx, chromedp.Navigate(fileURL(path))); err != nil {
		return 0, err
	}
	return chromedp.Run(ctx, chromedp.Poll[float64](`(function(){var n=performance.getEntriesByType("navigation")[0];return n&&n.loadEventEnd>0?n.loadEventEnd:null})()`, chromedp.WithPollingTimeout(30*time.Second)))
}

// TestBrowserMatrix (needs Debian's chromium) opens the rendered page from
// disk in headless Chromium and uses it as a reader would: it clicks cells,
// reads their evidence, proves hostile evidence stays text, filters rows,
// searches, drives it with the keyboard, and leaves screenshots and a PDF
// print in the test's artifact directory (go test -artifacts keeps them).
func TestBrowserMatrix(t *testing.T) {
	ctx := browser(t)
	dir := t.ArtifactDir()
	rep := browserReport()
	path, size := writePage(t, dir, rep)
	t.Logf("page %s: %d bytes", path, size)

	ms, err := loadMS(ctx, path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	t.Logf("6 kernels × 150 features: %.0f ms from navigation to load end, %d KB", ms, size/1024)

	eval := func(js string) string { t.Helper(); return evaluate(t, ctx, js) }
	visibleRows := func() []string {
		t.Helper()
		var rows []string
		s := eval(`Array.from(document.querySelectorAll("#grid tbody tr[data-r]")).filter(r => r.offsetParent !== null).map(r => r.dataset.f).join("\n")`)
		if s != "" {
			rows = strings.Split(s, "\n")
		}
		return rows
	}
	shot := func(name string) { t.Helper(); screenshot(t, ctx, dir, name) }

	if n := len(visibleRows()); n != 150 {
		t.Fatalf("%d rows visible after load, want 150", n)
	}

	// Click the cell holding hostile evidence: the panel shows it as text.
	g := reports.NewGrid(rep)
	if rep.Runs[1].Cells[hostileCell].Status != reports.Unsupported {
		t.Fatalf("fixture: cell %d of 6.1 should be unsupported", hostileCell)
	}
	feature := rep.Runs[1].Cells[hostileCell].Feature
	sel := chromedp.CSS(fmt.Sprintf(`tr[data-f=%q] td:nth-child(%d) button`, feature, 4+1))
	if err := chromedp.Do(ctx, chromedp.Click(sel), chromedp.WaitVisible(chromedp.CSS("#panel"))); err != nil {
		t.Fatalf("click %s on 6.1: %v", feature, err)
	}
	panel := eval(`document.getElementById("panel").textContent`)
	for _, want := range []string{feature + " · 6.1 vm", "unsupported", "EACCES", "load program: permission denied: " + hostile, "Verifier log", "R0 !read_ok", "Duration"} {
		if !strings.Contains(panel, want) {
			t.Errorf("evidence panel lacks %q:\n%s", want, panel)
		}
	}
	if got := eval(`String(window.__pwned)`); got != "undefined" {
		t.Errorf("hostile evidence ran: window.__pwned = %s", got)
	}
	if got := eval(`String(document.querySelectorAll("#panel script, #panel img, #panel b, thead img, thead script").length)`); got != "0" {
		t.Errorf("hostile text became %s elements", got)
	}
	if got := eval(`String(document.scripts.length)`); got != "2" {
		t.Errorf("%s script elements in the page, want its own 2", got)
	}
	shot("evidence.png")

	// Keyboard: Escape closes the panel and returns focus to the cell; an
	// arrow moves to the next column, Enter opens that cell's evidence.
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if got := eval(`String(document.getElementById("panel").hidden) + " " + document.activeElement.getAttribute("aria-label")`); !strings.HasPrefix(got, "true "+feature+" on 6.1 vm") {
		t.Errorf("after Escape: hidden and focus = %q, want the panel hidden and focus on the cell", got)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	below := ""
	for _, grp := range g.Groups {
		for i, row := range grp.Rows {
			if row.Feature == feature && i+1 < len(grp.Rows) {
				below = grp.Rows[i+1].Feature
			}
		}
	}
	if got := eval(`document.getElementById("panel").hidden ? "hidden" : document.getElementById("panel-title").textContent`); got != below+" · 6.12 vm" {
		t.Errorf("after →, ↓, Enter the panel shows %q, want %q", got, below+" · 6.12 vm")
	}

	// Filter "only unexpected": exactly the rows with an unexpected cell.
	var wantUnexpected, wantDiffers []string
	for _, grp := range g.Groups {
		for _, row := range grp.Rows {
			if row.Unexpected {
				wantUnexpected = append(wantUnexpected, row.Feature)
			}
			if row.Differs {
				wantDiffers = append(wantDiffers, row.Feature)
			}
		}
	}
	setSelect := func(id, value string) {
		t.Helper()
		eval(fmt.Sprintf(`(function(){var s=document.getElementById(%q);s.value=%q;s.dispatchEvent(new Event("change"));return ""})()`, id, value))
	}
	setSelect("f-show", "u")
	if got := visibleRows(); !sameSet(got, wantUnexpected) || len(got) == 0 {
		t.Errorf("only unexpected shows %v, want %v", got, wantUnexpected)
	}
	if got := eval(`document.getElementById("f-count").textContent`); got != fmt.Sprintf("%d of 150 features", len(wantUnexpected)) {
		t.Errorf("count says %q", got)
	}
	shot("only-unexpected.png")
	setSelect("f-show", "d")
	if got := visibleRows(); !sameSet(got, wantDiffers) || len(got) >= 150 {
		t.Errorf("only differences shows %d rows, want %d", len(got), len(wantDiffers))
	}
	setSelect("f-area", "security")
	for _, f := range visibleRows() {
		if !strings.HasPrefix(f, "helper/") { // the fixture's security rows
			t.Errorf("area security shows %s", f)
		}
	}
	if got := eval(`Array.from(document.querySelectorAll("#grid tbody")).filter(b => !b.hidden).map(b => b.dataset.area).join()`); got != "security" {
		t.Errorf("visible area groups %q, want security only", got)
	}
	setSelect("f-area", "")
	setSelect("f-show", "")

	// Search by the kernel's words: a CONFIG option in the evidence.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#f-q")), chromedp.SendKeys(chromedp.CSS("#f-q"), "config_fprobe")); err != nil {
		t.Fatal(err)
	}
	var wantFprobe []string
	for _, run := range rep.Runs {
		for _, c := range run.Cells {
			if strings.Contains(c.Evidence, "CONFIG_FPROBE") || strings.Contains(c.Reason, "CONFIG_FPROBE") {
				wantFprobe = append(wantFprobe, c.Feature)
			}
		}
	}
	if got := visibleRows(); !sameSet(got, wantFprobe) || len(got) == 0 {
		t.Errorf("search config_fprobe shows %v, want %v", got, wantFprobe)
	}
	eval(`(function(){var q=document.getElementById("f-q");q.value="";q.dispatchEvent(new Event("input"));return ""})()`)

	// The conflict cell shows both records.
	conflict := rep.Runs[4].Cells[9].Feature
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-f=%q] td.conflict button`, conflict)))); err != nil {
		t.Fatalf("click the conflict of %s: %v", conflict, err)
	}
	panel = eval(`document.getElementById("panel").textContent`)
	if !strings.Contains(panel, "Conflict: 2 records") || !strings.Contains(panel, "failed") || !strings.Contains(panel, "supported") {
		t.Errorf("conflict panel:\n%s", panel)
	}

	// A column header shows the kernel's facts, the panic's console text inert.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`th.col:nth-child(7) button`))); err != nil {
		t.Fatal(err)
	}
	panel = eval(`document.getElementById("panel").textContent`)
	if !strings.Contains(panel, "Kernel panic - not syncing: "+hostile) || !strings.Contains(panel, "panic") {
		t.Errorf("column panel:\n%s", panel)
	}
	if got := eval(`String(window.__pwned)`); got != "undefined" {
		t.Errorf("hostile run detail ran: window.__pwned = %s", got)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	shot("matrix.png")

	// Print: the page must print (landscape CSS, no controls).
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFLandscape(), chromedp.PDFPrintBackground()))
	if err != nil {
		t.Fatalf("print: %v", err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatal("print gave no PDF")
	}
	if err := os.WriteFile(filepath.Join(dir, "print.pdf"), pdf, 0o644); err != nil {
		t.Fatal(err)
	}

	// What a print looks like, as a screenshot a person can check: print
	// media hides the filters and keeps the colours and marks.
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	if got := eval(`getComputedStyle(document.querySelector(".controls")).display`); got != "none" {
		t.Errorf("print shows the filters (display %q)", got)
	}
	shot("print.png")
}

func sameSet(a, b []string) bool {
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	a, b = dedupe(a), dedupe(b)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func dedupe(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// BenchmarkBrowserLoad (needs Debian's chromium) measures how long the
// browser takes to load the 6 × 150 page from disk: ms/load is the
// browser's own navigation-to-load-end time, the number the 1 s goal is
// about.
func BenchmarkBrowserLoad(b *testing.B) {
	ctx := browser(b)
	path, size := writePage(b, b.TempDir(), fixture.Report(6, 150))
	var total float64
	for b.Loop() {
		ms, err := loadMS(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		total += ms
	}
	b.ReportMetric(total/float64(b.N), "ms/load")
	b.ReportMetric(float64(size), "bytes/page")
}

// TestBrowserObjects (needs Debian's chromium) opens a page with object
// cells: the Objects section shows each program's stage and figures per
// column, a click shows a cell's evidence (the verifier log of a rejected
// load, maps and figures of a fired one), hostile text stays text, and the
// feature grid holds no object row.
func TestBrowserObjects(t *testing.T) {
	rep := objectsReport()
	ctx, dir := openPage(t, rep)
	eval := func(js string) string { t.Helper(); return evaluate(t, ctx, js) }
	cellText := func(program, column string) string {
		t.Helper()
		return eval(fmt.Sprintf(`(function(){
			var cols = Array.from(document.querySelectorAll("#objects-table thead th")).map(th => th.textContent.replace(/\s+/g, " ").trim());
			var ci = cols.findIndex(c => c.indexOf(%q) === 0);
			var tr = document.querySelector('#objects-table tr[data-f="object/' + %q + '"]');
			if (ci < 0 || !tr) return "(no cell)";
			var td = tr.cells[ci];
			return td.offsetParent === null ? "(hidden)" : td.innerText.replace(/\s+/g, " ").trim();
		})()`, column, program))
	}

	if got := eval(`String(Array.from(document.querySelectorAll("#objects-table tbody tr")).filter(r => r.offsetParent !== null).length)`); got != fmt.Sprint(fixture.ObjectPrograms) {
		t.Errorf("%s object rows visible, want %d", got, fixture.ObjectPrograms)
	}
	if got := eval(`String(document.querySelectorAll("#grid tr[data-f^='object/']").length) + " " + document.querySelectorAll("#grid tbody tr[data-r]").length`); got != "0 20" {
		t.Errorf("feature grid: object rows and rows %q, want 0 and 20", got)
	}
	for _, tc := range []struct{ program, column, want string }{
		{"probe.bpf.o/handle_exec", "5.10 vm", "fired ✓ 12,345 insns (98.8% headroom) 10 runs"},
		{"probe.bpf.o/count_loop", "5.10 vm", "load ✗ EINVAL"},
		{"probe.bpf.o/count_loop", "6.1 vm", "fired ✓ 196,772 insns (80.3% headroom) 11 runs"},
		{"net.bpf.o/xdp_drop", "6.12 vm", "attach: needs a target 105 insns (100.0% headroom)"},
		{"net.bpf.o/connect4", "6.1 vm", "fired ! 0 runs* 326 insns (100.0% headroom)"},
	} {
		if got := cellText(tc.program, tc.column); got != tc.want {
			t.Errorf("%s on %s shows %q, want %q", tc.program, tc.column, got, tc.want)
		}
	}

	open := func(program string, col int) string {
		t.Helper()
		sel := chromedp.CSS(fmt.Sprintf(`#objects-table tr[data-f="object/%s"] button[data-c="%d"]`, program, col))
		if err := chromedp.Do(ctx, chromedp.Click(sel), chromedp.WaitVisible(chromedp.CSS("#panel"))); err != nil {
			t.Fatalf("click %s on column %d: %v", program, col, err)
		}
		return eval(`document.getElementById("panel").textContent`)
	}
	// A rejected load: the errno, the evidence and the verifier's log.
	panel := open("probe.bpf.o/count_loop", 0)
	for _, want := range []string{"object/probe.bpf.o/count_loop · 5.10 vm", "unsupported", "load ✗ EINVAL", "AskedfiredReachednone",
		"EINVAL", "load program count_loop: invalid argument", "Verifier log", "unknown func bpf_loop#181"} {
		if !strings.Contains(panel, want) {
			t.Errorf("panel of the rejected load lacks %q:\n%s", want, panel)
		}
	}
	screenshot(t, ctx, dir, "objects-rejected.png")
	// A fired program: its figures, maps and run count.
	panel = open("probe.bpf.o/handle_exec", 1)
	for _, want := range []string{"object/probe.bpf.o/handle_exec · 6.1 vm", "fired ✓", "Runs11 runs", "12,962 insns processed: 98.7% headroom under the limit of 1,000,000",
		"events: RingBuf, max_entries 262,144", "counts: Hash, max_entries 1,024, flags 0x1", "Triggerexec /bin/true", "Manifestclaims this kernel"} {
		if !strings.Contains(panel, want) {
			t.Errorf("panel of the fired program lacks %q:\n%s", want, panel)
		}
	}
	// Hostile text of the user's object stays text.
	panel = open("net.bpf.o/xdp_drop", 2)
	if !strings.Contains(panel, "a network interface "+hostile) || !strings.Contains(panel, "drops"+hostile) {
		t.Errorf("panel of xdp_drop lacks its hostile needs and map name as text:\n%s", panel)
	}
	if got := eval(`String(window.__pwned) + " " + document.querySelectorAll("#panel script, #panel img, #panel b, #objects-table img, #objects-table b").length`); got != "undefined 0" {
		t.Errorf("hostile object text ran or became elements: %s", got)
	}
	// Escape closes the panel and gives the focus back to the cell.
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if got := eval(`String(document.getElementById("panel").hidden) + " " + document.activeElement.getAttribute("data-o")`); got == "" || !strings.HasPrefix(got, "true ") || strings.HasSuffix(got, " null") {
		t.Errorf("after Escape: hidden and focus = %q, want the panel hidden and focus on the object cell", got)
	}
	screenshot(t, ctx, dir, "objects.png")

	// A page without object cells has no Objects section.
	plain, _ := writePage(t, t.TempDir(), fixture.Report(3, 20))
	if _, err := loadMS(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if got := eval(`String(document.getElementById("objects"))`); got != "null" {
		t.Errorf("a report without object cells shows an Objects section: %s", got)
	}
}

// TestBrowserArches (needs Debian's chromium) opens a page with amd64 and
// arm64 builds of two kernels: the arm64 columns say their arch beside
// their amd64 twins, the x86/arm64 section lists exactly the features
// whose status differs with the arm64 cause, a click on its arm64 cell
// opens that cell's evidence, hostile text stays text, and the filter
// "only x86/arm64 differences" shows exactly those rows in the grid.
func TestBrowserArches(t *testing.T) {
	rep := archesReport()
	ctx, dir := openPage(t, rep)
	eval := func(js string) string { t.Helper(); return evaluate(t, ctx, js) }

	heads := eval(`Array.from(document.querySelectorAll("#grid thead .colbtn")).map(b => [b.querySelector(".k"), b.querySelector(".a"), b.querySelector(".t")].filter(e => e).map(e => e.innerText).join(" ")).join(", ")`)
	if want := "5.10 vm, 5.10 arm64 vm, 6.1 vm, 6.12 vm, 6.12 arm64 vm"; heads != want {
		t.Errorf("column headings %q, want %q", heads, want)
	}

	g := reports.NewGrid(rep)
	var want []string
	differ := map[string]bool{}
	for _, s := range g.ArchDifferences() {
		for ri := range s.Rows {
			r := &s.Rows[ri]
			want = append(want, s.Kernel+" "+r.Feature+" | "+s.Why(r, 300))
			differ[r.Feature] = true
		}
	}
	rows := eval(`Array.from(document.querySelectorAll("#arch-arm64-table tbody tr")).filter(r => r.offsetParent !== null).map(r => r.cells[0].innerText + " " + r.cells[1].innerText + " | " + r.cells[4].innerText).join("\n")`)
	if rows != strings.Join(want, "\n") || len(want) != 3 {
		t.Errorf("arch section rows:\n%s\nwant:\n%s", rows, strings.Join(want, "\n"))
	}
	first := `document.querySelector("#arch-arm64-table tbody tr")`
	if got := eval(`(` + first + `.cells[2].textContent + " → " + ` + first + `.cells[3].textContent).replace(/\s+/g, " ").trim()`); got != "✓ supported → ✗ unsupported" {
		t.Errorf("the first row's cells read %q", got)
	}
	if got := eval(`String(document.querySelectorAll("#arch-arm64 img, #arch-arm64 script, #arch-arm64 b").length) + " " + window.__pwned`); got != "0 undefined" {
		t.Errorf("hostile cause became elements or ran: %s", got)
	}

	// The header's chip leads to the section; the arm64 cell of its first
	// row opens that cell's evidence.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="#arch-arm64"]`)),
		chromedp.Click(chromedp.CSS(`#arch-arm64-table tbody tr:first-child td:nth-child(4) button`)), chromedp.WaitVisible(chromedp.CSS("#panel"))); err != nil {
		t.Fatalf("open the first arm64 difference: %v", err)
	}
	feature := fixture.Feature(5)
	panel := eval(`document.getElementById("panel").textContent`)
	for _, w := range []string{feature + " · 5.10 arm64 vm", "unsupported", "ENOTSUPP", "BPF trampolines on arm64 need Linux >= 6.0 (running 5.10.262)", "5.10.0-46-cloud-arm64"} {
		if !strings.Contains(panel, w) {
			t.Errorf("panel of the arm64 cell lacks %q:\n%s", w, panel)
		}
	}
	screenshot(t, ctx, dir, "arches.png")
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if got := eval(`String(document.getElementById("panel").hidden) + " " + document.activeElement.getAttribute("aria-label")`); got != "true "+feature+" on 5.10 arm64 vm: unsupported" {
		t.Errorf("after Escape: hidden and focus = %q, want the panel hidden and focus on the arm64 cell", got)
	}
	// A column's facts say its arch.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`th.col:nth-child(5) button`)), chromedp.WaitVisible(chromedp.CSS("#panel"))); err != nil {
		t.Fatal(err)
	}
	if panel := eval(`document.getElementById("panel-title").textContent + " | " + document.getElementById("panel-body").textContent`); !strings.HasPrefix(panel, "5.10 arm64 vm | ") || !strings.Contains(panel, "Archarm64Release5.10.0-46-cloud-arm64") {
		t.Errorf("column panel of 5.10 arm64 vm:\n%s", panel)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}

	// The filter shows exactly the rows that differ between the builds.
	eval(`(function(){var s=document.getElementById("f-show");s.value="a";s.dispatchEvent(new Event("change"));return ""})()`)
	got := eval(`Array.from(document.querySelectorAll("#grid tbody tr[data-r]")).filter(r => r.offsetParent !== null).map(r => r.dataset.f).join("\n")`)
	var wantRows []string
	for f := range differ {
		wantRows = append(wantRows, f)
	}
	if !sameSet(strings.Split(got, "\n"), wantRows) {
		t.Errorf("only x86/arm64 differences shows %q, want %v", got, wantRows)
	}
	screenshot(t, ctx, dir, "only-arch-differences.png")

	// A report of one arch has no arch section and no such filter.
	plain, _ := writePage(t, t.TempDir(), fixture.Report(3, 20))
	if _, err := loadMS(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if got := eval(`String(document.querySelector("section.arches")) + " " + document.querySelectorAll('#f-show option[value="a"], .colbtn .a').length`); got != "null 0" {
		t.Errorf("a report of one arch shows arch parts: %s", got)
	}
}

// openPage renders rep into the test's artifact directory and opens it in
// a fresh browser.
func openPage(t *testing.T, rep *reports.Report) (ctx context.Context, dir string) {
	t.Helper()
	ctx, dir = browser(t), t.ArtifactDir()
	path, _ := writePage(t, dir, rep)
	if _, err := loadMS(ctx, path); err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return ctx, dir
}

// evaluate returns what js, a string expression, evaluates to in the page.
func evaluate(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

// screenshot saves a screenshot of the page as dir/name.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

// TestBrowserExport (needs Debian's chromium) filters the grid to one area
// and exports it: the CSV holds the header and exactly the rows shown,
// each cell its status, and the Markdown the same rows as a table. The
// download is caught at URL.createObjectURL, so no file is needed.
func TestBrowserExport(t *testing.T) {
	rep := fixture.Report(3, 20)
	ctx, _ := openPage(t, rep)
	evaluate(t, ctx, `(function(){window.__blobs=[];var orig=URL.createObjectURL;URL.createObjectURL=function(b){window.__blobs.push(b);return orig.call(URL,b)};
		var a=document.getElementById("f-area");a.value="tracing";a.dispatchEvent(new Event("change"));
		document.getElementById("export-csv").click();document.getElementById("export-md").click();return ""})()`)
	text := func(i int) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`window.__blobs[%d].text()`, i), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("export %d: %v", i, err)
		}
		return s
	}
	csv, md := text(0), text(1)

	g := reports.NewGrid(rep)
	var want []reports.Row
	for _, grp := range g.Groups {
		if grp.Area == "tracing" {
			want = grp.Rows
		}
	}
	lines := strings.Split(strings.TrimSuffix(csv, "\r\n"), "\r\n")
	if len(want) == 0 || len(lines) != len(want)+1 {
		t.Fatalf("CSV has %d lines, want a header and the %d tracing rows:\n%s", len(lines), len(want), csv)
	}
	if head := strings.Split(lines[0], ","); len(head) != 3+len(g.Columns) || strings.Join(head[:3], ",") != "Feature,Upstream,Works from" {
		t.Errorf("CSV header %q, want Feature, Upstream, Works from and the %d columns", lines[0], len(g.Columns))
	}
	for i, row := range want {
		fields := strings.Split(lines[i+1], ",")
		if len(fields) != 3+len(g.Columns) || fields[0] != row.Feature {
			t.Errorf("CSV row %d is %q, want %s's", i+1, lines[i+1], row.Feature)
			continue
		}
		for ci, cells := range row.Cells {
			st := "not run"
			if len(cells) > 0 {
				st = string(cells[0].Status)
			}
			if !strings.HasPrefix(fields[3+ci], st) {
				t.Errorf("CSV %s on column %d is %q, want %s", row.Feature, ci, fields[3+ci], st)
			}
		}
	}
	mdLines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	if len(mdLines) != len(want)+2 || !strings.HasPrefix(mdLines[0], "| Feature | Upstream | Works from | ") || !strings.HasPrefix(mdLines[1], "| --- |") || !strings.HasPrefix(mdLines[2], "| "+want[0].Feature+" | ") {
		t.Errorf("Markdown export, want a table of the %d tracing rows:\n%s", len(want), md)
	}
}

// TestBrowserObjectsOnly (needs Debian's chromium) opens a report of
// object cells only: the script must still run, saying the grid holds no
// feature and keeping a tab stop in the grid's headings.
func TestBrowserObjectsOnly(t *testing.T) {
	ctx, _ := openPage(t, fixture.Objects(fixture.Report(2, 0)))
	got := evaluate(t, ctx, `document.getElementById("empty").hidden + " " + (document.querySelector("#grid button[tabindex='0']") !== null) + " " + document.getElementById("f-count").textContent`)
	if got != "false true 0 of 0 features" {
		t.Errorf("grid of an objects-only report: %q, want the empty note shown, a tab stop, 0 of 0 features", got)
	}
}
