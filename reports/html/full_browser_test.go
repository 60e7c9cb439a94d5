package html_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
)

// fullMatrix is a real report of the whole matrix (fixture.FullMatrix),
// 182 features each.
func fullMatrix(t *testing.T) *reports.Report {
	t.Helper()
	return fixture.Gzipped(t, "testdata/full-matrix.json.gz")
}

// differences returns the features whose status differs among kernels of
// one kind (VMs of one arch, the host), how many differ across every
// column, environments included, and how many features there are.
func differences(rep *reports.Report) (differ []string, all, features int) {
	g := reports.NewGrid(rep)
	g.ByKind()
	kinds := g.KernelKinds()
	for _, grp := range g.Groups {
		for _, row := range grp.Rows {
			features++
			if row.DiffersAmongKinds(kinds) {
				differ = append(differ, row.Feature)
			}
			if row.Differs {
				all++
			}
		}
	}
	return differ, all, features
}

// fullPage renders the full matrix into the test's artifact directory and
// starts a browser with a 1600×1000 viewport, the size the acceptance of
// the grid's layout is about.
func fullPage(t *testing.T) (rep *reports.Report, ctx context.Context, dir, path string, size int) {
	t.Helper()
	rep = fullMatrix(t)
	ctx, dir = browser(t), t.ArtifactDir()
	path, size = writePage(t, dir, rep)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1600, 1000)); err != nil {
		t.Fatal(err)
	}
	return rep, ctx, dir, path, size
}

// TestBrowserFullMatrix (needs Debian's chromium) opens the real full
// matrix at 1600×1000 as a reader would: the columns stand grouped by kind
// and are named by what they are, every VM kernel is on screen without
// scrolling sideways, "only differences between kernels" compares kernels
// of one kind, the environment group folds away, and keyboard focus is
// visible on a cell and on the panel's close button.
func TestBrowserFullMatrix(t *testing.T) {
	rep, ctx, dir, path, size := fullPage(t)
	ms, err := loadMS(ctx, path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	t.Logf("full matrix: %.0f ms from navigation to load end, %d KB", ms, size/1024)
	eval := func(js string) string { t.Helper(); return evaluate(t, ctx, js) }

	// Headings: VMs by version, arm64 beside amd64, then the host, then the
	// environments, each named by kernel version and target.
	heads := eval(`Array.from(document.querySelectorAll("#grid thead .colbtn")).map(b => [".k", ".a", ".t"].map(s => b.querySelector(s)).filter(e => e).map(e => e.innerText).join(" ")).join(", ")`)
	want := "5.10 vm, 5.10 arm64 vm, 6.1 vm, 6.1 arm64 vm, 6.12 vm, 6.12 arm64 vm, 7.2 vm, 7.2 arm64 vm, 7.3 vm, 7.3 arm64 vm, " +
		"6.18 host, 6.18 podman bpf-caps, 6.18 podman bpf-caps-seccomp, 6.18 podman default, 6.18 podman privileged, 6.18 podman userns, 6.18 bpf-token"
	if heads != want {
		t.Errorf("column headings\n%s\nwant\n%s", heads, want)
	}
	if got := eval(`Array.from(document.querySelectorAll("#grid thead th.col")).map(th => th.className.match(/kind-\w+/)[0]).join(" ")`); got != strings.TrimSpace(strings.Repeat("kind-vm ", 10)+"kind-host "+strings.Repeat("kind-env ", 6)) {
		t.Errorf("column kinds %q", got)
	}
	// No heading is cut: a target name fits its box, wrapped if it must.
	if got := eval(`Array.from(document.querySelectorAll("#grid thead .colbtn .t")).filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText).join(", ")`); got != "" {
		t.Errorf("cut column headings: %s", got)
	}
	// A separator opens the host group and the environment group.
	if got := eval(`[14, 15, 2].map(i => getComputedStyle(document.querySelector("#grid tbody tr[data-r] > :nth-child(" + i + ")")).borderLeftWidth).join(" ")`); got != "3px 3px 0px" {
		t.Errorf("left borders of the host, the first environment and the upstream cell: %s, want 3px 3px 0px", got)
	}
	// Every VM kernel column is on screen without scrolling sideways.
	offscreen := `(function(){var w=document.querySelector("main .wrap"), r=w.getBoundingClientRect(), right=Math.min(r.left+w.clientWidth, window.innerWidth);
		return Array.from(document.querySelectorAll("#grid thead th.kind-vm")).filter(th => th.getBoundingClientRect().right > right + 0.5).map(th => th.innerText.replace(/\s+/g, " ")).join(", ")})()`
	if got := eval(offscreen); got != "" {
		t.Errorf("VM columns off screen at 1600×1000: %s", got)
	}
	screenshot(t, ctx, dir, "full-matrix-1600x1000.png")

	// "Only differences between kernels": the rows that differ among the
	// kernels of one kind (VMs of one arch, the host), not the environments.
	differ, all, features := differences(rep)
	eval(`(function(){var s=document.getElementById("f-show");s.value="d";s.dispatchEvent(new Event("change"));return ""})()`)
	shownRows := eval(`Array.from(document.querySelectorAll("#grid tbody tr[data-r]")).filter(r => r.offsetParent !== null).map(r => r.dataset.f).join("\n")`)
	if got := strings.Split(shownRows, "\n"); !sameSet(got, differ) || len(differ) == 0 || len(differ) >= all {
		t.Errorf("only differences shows %d rows, want the %d that differ among kernels of one kind (of %d that differ anywhere)", len(got), len(differ), all)
	}
	t.Logf("only differences between kernels: %d of %d rows (%d differ across every column)", len(differ), features, all)
	screenshot(t, ctx, dir, "full-matrix-differences.png")
	eval(`(function(){var s=document.getElementById("f-show");s.value="";s.dispatchEvent(new Event("change"));return ""})()`)

	// The environment group folds away and back.
	fold := `(function(){var c=document.getElementById("f-env");c.click();return String(Array.from(document.querySelectorAll("#grid thead th.col")).filter(th => th.getClientRects().length).length)})()`
	if got := eval(fold); got != "11" {
		t.Errorf("with the environments folded %s columns show, want 11", got)
	}
	screenshot(t, ctx, dir, "full-matrix-kernels-only.png")
	if got := eval(fold); got != "17" {
		t.Errorf("with the environments shown again %s columns show, want 17", got)
	}

	// Print: every column of the grid fits a landscape page (Letter's 980
	// CSS px inside its margins). The probe-point tables do not yet.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(980, 1000), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	if got := eval(`(function(){var ths=document.querySelectorAll("#grid thead th"), last=ths[ths.length-1];return Math.ceil(last.getBoundingClientRect().right) + " " + Math.ceil(document.getElementById("grid").getBoundingClientRect().right)})()`); got == "" || !fitsIn(got, 980) {
		t.Errorf("print: the last column and the grid end at %s px, want ≤ 980", got)
	}
	// The cause tags and note numbers keep to the narrow columns: the
	// feature names keep their room (a line each, most of them).
	if got := eval(`String(Math.round(document.querySelector("#grid thead th.feat").getBoundingClientRect().width))`); !atLeast(got, 190) {
		t.Errorf("print: the feature column is %s px wide, want ≥ 190 (the cells' marks squeeze it)", got)
	}
	screenshot(t, ctx, dir, "full-matrix-print.png")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1600, 1000), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""})
		return err
	})); err != nil {
		t.Fatal(err)
	}

	// Keyboard focus is visible: on a cell the keyboard moved to, and on
	// the panel's close button; closing gives the focus back to the cell.
	outline := `(function(){var e=document.activeElement, s=getComputedStyle(e);return (e.id || e.closest("tr").dataset.f) + " " + s.outlineStyle + " " + s.outlineWidth})()`
	eval(`(function(){document.querySelector("#grid tbody tr[data-r] td.c button").focus();return ""})()`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowDown)); err != nil {
		t.Fatal(err)
	}
	second := reports.NewGrid(rep).Groups[0].Rows[1].Feature
	if got := eval(outline); got != second+" solid 3px" {
		t.Errorf("focused cell: %q, want %q", got, second+" solid 3px")
	}
	screenshot(t, ctx, dir, "focus-cell.png")
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#panel"))); err != nil {
		t.Fatal(err)
	}
	if got := eval(`["role", "aria-modal", "aria-labelledby"].map(a => document.getElementById("panel").getAttribute(a)).join(" ")`); got != "dialog false panel-title" {
		t.Errorf("panel role, aria-modal, aria-labelledby: %q", got)
	}
	eval(`(function(){document.getElementById("panel-close").focus();return ""})()`)
	if got := eval(outline); got != "panel-close solid 3px" {
		t.Errorf("focused close button: %q, want solid 3px", got)
	}
	screenshot(t, ctx, dir, "focus-close.png")
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	if got := eval(`String(document.getElementById("panel").hidden) + " " + document.activeElement.getAttribute("aria-label")`); !strings.HasPrefix(got, fmt.Sprintf("true %s on 5.10 arm64 vm: ", second)) {
		t.Errorf("after closing: %q, want the panel hidden and focus on %s on 5.10 arm64 vm", got, second)
	}
}

// TestBrowserPermalinks (needs Debian's chromium): the address opens the
// one-feature view (#f=attach/kprobe.multi: the feature on every column,
// its upstream version, where it works from) and keeps the filters, so a
// view can be linked to.
func TestBrowserPermalinks(t *testing.T) {
	rep, ctx, dir, path, _ := fullPage(t)
	eval := func(js string) string { t.Helper(); return evaluate(t, ctx, js) }
	open := func(hash string) {
		t.Helper()
		u := fileURL(path) + hash
		if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("#f-count"))); err != nil {
			t.Fatalf("load %s: %v", u, err)
		}
	}
	view := `(document.getElementById("panel").hidden ? "hidden" : document.getElementById("panel-title").textContent + " | " +
		Array.from(document.querySelectorAll("#panel dl dt")).map(dt => dt.textContent + ": " + dt.nextElementSibling.textContent).join(" | ") + "\n" +
		Array.from(document.querySelectorAll("#panel table.one tbody tr")).map(tr => Array.from(tr.cells).map(c => c.textContent).join(" | ")).join("\n"))`

	open("#f=attach/kprobe.multi")
	got := eval(view)
	lines := strings.Split(got, "\n")
	if lines[0] != "attach/kprobe.multi | Upstream since: 5.18 | Works from: 6.12" {
		t.Errorf("one-feature view heads %q", lines[0])
	}
	// Each row's status carries its cause's tag and note number: too
	// old on 5.10, CONFIG_FPROBE on the builds without it.
	notes := notesOf(t, ctx)
	note := func(text string) string {
		t.Helper()
		if i := slices.Index(notes, text); i >= 0 {
			return fmt.Sprint(i + 1)
		}
		t.Errorf("no note %q among %q", text, notes)
		return "?"
	}
	tooOld, fprobe := note("needs Linux >= 5.18; CONFIG_FPROBE is not set"), note("CONFIG_FPROBE is not set")
	for _, want := range []string{
		"5.10 vm | ✗ unsupported old" + tooOld + " | EINVAL | ",
		"6.12 vm | ✓ supported (10 events) • | ",
		"6.12 arm64 vm | ✗ unsupported cfg" + fprobe + " | ENOTSUP | ",
		"6.18 host | ✗ unsupported cfg" + fprobe + " | ENOTSUP | ",
		"6.18 podman default | ⊘ blocked" + note("the seccomp filter refuses bpf(2) (Seccomp=2; a probe call got EPERM before the kernel read its arguments)") + " | EPERM | ",
		"6.18 bpf-token | ✗ unsupported cfg" + fprobe + " | ENOTSUP | ",
	} {
		if !strings.Contains(got, "\n"+want) {
			t.Errorf("one-feature view lacks a row %q:\n%s", want, got)
		}
	}
	if n := len(lines) - 1; n != 17 {
		t.Errorf("one-feature view has %d rows, want one per column (17)", n)
	}
	screenshot(t, ctx, dir, "permalink-kprobe-multi.png")

	// A feature the oldest kernel tested already has works from "≤" it.
	old := reports.NewGrid(rep).Groups[0].Rows[0]
	open("#f=" + old.Feature)
	if got := strings.Split(eval(view), "\n")[0]; !strings.HasSuffix(got, "Works from: ≤ 5.10 (the oldest kernel tested)") {
		t.Errorf("%s: %q, want works from ≤ 5.10", old.Feature, got)
	}
	if got := eval(fmt.Sprintf(`document.querySelector('#grid tr[data-f=%q]').cells[2].textContent + " | " + document.querySelector('#grid tr[data-f="attach/kprobe.multi"]').cells[2].textContent`, old.Feature)); got != "≤ 5.10 | 6.12 ⚠" {
		t.Errorf("the grid's works-from cells of %s and attach/kprobe.multi: %q, want \"≤ 5.10 | 6.12 ⚠\"", old.Feature, got)
	}

	// Filters come from the address and go back into it.
	open("#show=d&env=0")
	differ, _, features := differences(rep)
	if got, want := eval(`document.getElementById("f-count").textContent + " | " + Array.from(document.querySelectorAll("#grid thead th.col")).filter(th => th.getClientRects().length).length + " | " + document.getElementById("panel").hidden`), fmt.Sprintf("%d of %d features | 11 | true", len(differ), features); got != want {
		t.Errorf("#show=d&env=0 shows %q, want %q: the features that differ among kernels, in the 11 kernel columns", got, want)
	}
	eval(`(function(){var s=document.getElementById("f-area");s.value="tracing";s.dispatchEvent(new Event("change"));return ""})()`)
	if got := eval(`location.hash`); got != "#area=tracing&show=d&env=0" {
		t.Errorf("after choosing an area the address says %q", got)
	}
	// A cell's evidence links to its feature's view; closing it clears #f.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#grid tbody tr[data-r]:not([hidden]) td.c button`)), chromedp.WaitVisible(chromedp.CSS("#panel a.every")),
		chromedp.Click(chromedp.CSS("#panel a.every"))); err != nil {
		t.Fatal(err)
	}
	if got := eval(`location.hash + " " + document.querySelectorAll("#panel table.one tbody tr").length`); !strings.HasPrefix(got, "#f=") || !strings.HasSuffix(got, "&area=tracing&show=d&env=0 17") {
		t.Errorf("after following the link: %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if got := eval(`location.hash`); got != "#area=tracing&show=d&env=0" {
		t.Errorf("after closing the view the address says %q", got)
	}
}

// atLeast reports whether the number s is at least min.
func atLeast(s string, min int) bool {
	var n int
	_, err := fmt.Sscan(s, &n)
	return err == nil && n >= min
}

// fitsIn reports whether every number of the space-separated list s is at
// most max.
func fitsIn(s string, max int) bool {
	for _, f := range strings.Fields(s) {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n > max {
			return false
		}
	}
	return true
}

// measuredCells is the matrix the report page was first measured at: 11
// columns of 182 features. The page must stay under 1 MB at four times it.
const measuredCells = 11 * 182

// TestBrowserFourTimesMatrix (needs Debian's chromium) renders the full
// matrix with every run again under more kernel names until it holds four
// times measuredCells, holds the page to 1 MB and checks that the script
// builds every row and cell. Its load times are logged, never held to a limit: these
// machines are too noisy for a timed test (the median of three loads was
// 736-837 ms to DOMContentLoaded here).
func TestBrowserFourTimesMatrix(t *testing.T) {
	rep := fullMatrix(t)
	runs := rep.Runs
	cells := func() (n int) {
		for _, run := range rep.Runs {
			n += len(run.Cells)
		}
		return n
	}
	for _, copyName := range []string{"b", "c", "d", "e", "f", "g"} {
		if cells() >= 4*measuredCells {
			break
		}
		for _, run := range runs {
			run.Kernel.Name += "-" + copyName
			run.Kernel.Release += "-" + copyName
			run.Cells = slices.Clone(run.Cells)
			rep.Runs = append(rep.Runs, run)
		}
	}
	ctx, dir := browser(t), t.ArtifactDir()
	path, size := writePage(t, dir, rep)
	if size > 1_000_000 {
		t.Errorf("%d cells: page is %d bytes, want at most 1 MB", cells(), size)
	}
	// The first load, with cold caches, is not counted.
	var loads, ends []float64
	for i := range 4 {
		if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(fileURL(path))); err != nil {
			t.Fatal(err)
		}
		ms, err := chromedp.Run(ctx, chromedp.Poll[[2]float64](`(function(){var n=performance.getEntriesByType("navigation")[0];return n&&n.loadEventEnd>0?[n.domContentLoadedEventEnd,n.loadEventEnd]:null})()`, chromedp.WithPollingTimeout(30*time.Second)))
		if err != nil {
			t.Fatalf("load %s: %v", path, err)
		}
		if i > 0 {
			loads, ends = append(loads, ms[0]), append(ends, ms[1])
		}
	}
	slices.Sort(loads)
	slices.Sort(ends)
	t.Logf("%d runs, %d cells: %d KB, DOMContentLoaded %.0f ms (median of %.0f, %.0f, %.0f), load end %.0f ms (median)", len(rep.Runs), cells(), size/1024, loads[1], loads[0], loads[1], loads[2], ends[1])
	// The rows the script built are all there, each with every column.
	g := reports.NewGrid(rep)
	features := 0
	for _, grp := range g.Groups {
		features += len(grp.Rows)
	}
	if got, want := evaluate(t, ctx, `document.querySelectorAll("#grid tbody tr[data-r]").length + " " + document.querySelectorAll("#grid tbody tr[data-r] td.c").length`), fmt.Sprintf("%d %d", features, features*len(g.Columns)); got != want {
		t.Errorf("grid rows and cells %q, want %q", got, want)
	}
}

// TestBrowserCauseMarks (needs Debian's chromium) reads the full matrix's
// marks as a reader would: a ✓ seen firing looks unlike a ✓ that only
// loaded, in the counts the report's records give; an unsupported cell
// shows its cause's tag; every note number in the grid resolves to the
// note listed under it, the one its record explains; and the one-feature
// view links the feature's upstream page and each run's files.
func TestBrowserCauseMarks(t *testing.T) {
	rep, ctx, dir, path, _ := fullPage(t)
	if _, err := loadMS(ctx, path); err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	eval := func(js string) string { t.Helper(); return evaluate(t, ctx, js) }

	// What the records say, cell by cell of the grid: the first record's
	// class, and the note of the first record that has one.
	g := reports.NewGrid(rep)
	g.ByKind()
	fired, loaded := 0, 0
	wantNotes := map[string]string{}
	for _, grp := range g.Groups {
		for _, row := range grp.Rows {
			for ci, cells := range row.Cells {
				if len(cells) == 0 {
					continue
				}
				switch cells[0].CauseClass() {
				case reports.CauseFired:
					fired++
				case reports.CauseLoaded:
					loaded++
				}
				for _, c := range cells {
					if n := c.Note(); n != "" {
						wantNotes[fmt.Sprintf("%s|%d", row.Feature, ci)] = n
						break
					}
				}
			}
		}
	}
	if fired == 0 || loaded == 0 {
		t.Fatalf("the full matrix has %d cells seen firing and %d loaded only: want both kinds", fired, loaded)
	}
	got := eval(`(function(){var f=document.querySelectorAll("#grid td.c.s-supported.fired"), l=document.querySelectorAll("#grid td.c.s-supported:not(.fired)");
		var fb=f[0].firstChild, lb=l[0].firstChild;
		return [f.length, l.length, fb.textContent, lb.textContent, getComputedStyle(fb).backgroundColor !== getComputedStyle(lb).backgroundColor].join(" ")})()`)
	if want := fmt.Sprintf("%d %d ✓• ✓ true", fired, loaded); got != want {
		t.Errorf("seen firing, loaded only, their marks and whether their colours differ: %q, want %q", got, want)
	}
	t.Logf("%d cells seen firing, %d loaded or attached only", fired, loaded)

	// A cause's tag: attach/kprobe.multi on 6.1 vm lacks CONFIG_FPROBE;
	// its screen reader label says the cause and reads the note.
	cell := `document.querySelector('#grid tr[data-f="attach/kprobe.multi"]').cells[3 + 2].firstChild`
	got = eval(`(function(){var b=` + cell + `;b.dispatchEvent(new FocusEvent("focusin", {bubbles: true}));return b.querySelector(".tg").textContent + " | " + b.getAttribute("aria-label")})()`)
	if !strings.HasPrefix(got, "cfg | attach/kprobe.multi on 6.1 vm: unsupported: CONFIG option not set; note ") || !strings.HasSuffix(got, ": CONFIG_FPROBE is not set") {
		t.Errorf("attach/kprobe.multi on 6.1 vm: %q, want the cfg tag and a label naming the cause and its note", got)
	}

	// Every note number in the grid resolves to a listed note, the one
	// its record gives; every listed note is cited.
	cited := eval(`(function(){var out=[];document.querySelectorAll("#grid tbody tr[data-r]").forEach(function(tr){
		Array.from(tr.cells).forEach(function(td, i){var fn=td.querySelector("sup.fn");if(!fn)return;
			var li=document.getElementById("note-"+fn.textContent);
			out.push(tr.dataset.f+"|"+(i-3)+"\t"+(li && li.parentNode.id === "notes-list" ? li.textContent : "(no note "+fn.textContent+")"));});});
		return out.join("\n")})()`)
	gotNotes := map[string]string{}
	for _, l := range strings.Split(cited, "\n") {
		k, v, _ := strings.Cut(l, "\t")
		gotNotes[k] = v
	}
	for k, want := range wantNotes {
		if gotNotes[k] != want {
			t.Errorf("cell %s cites %q, want its note %q", k, gotNotes[k], want)
		}
	}
	if len(gotNotes) != len(wantNotes) {
		t.Errorf("%d cells cite a note, want the %d whose records give one", len(gotNotes), len(wantNotes))
	}
	distinct := map[string]bool{}
	for _, v := range wantNotes {
		distinct[v] = true
	}
	if got := eval(`String(document.querySelectorAll("#notes-list > li").length)`); got != fmt.Sprint(len(distinct)) {
		t.Errorf("%s notes listed, want one per distinct explanation (%d)", got, len(distinct))
	}
	t.Logf("%d cells cite %d notes", len(wantNotes), len(distinct))
	eval(`(function(){var s=document.getElementById("f-area");s.value="tracing";s.dispatchEvent(new Event("change"));return ""})()`)
	screenshot(t, ctx, dir, "cause-marks-tracing.png")
	eval(`(function(){document.getElementById("notes").scrollIntoView();return ""})()`)
	screenshot(t, ctx, dir, "notes.png")

	// The one-feature view links upstream documentation and, per column,
	// the run's files the report names.
	for _, tc := range []struct{ feature, doc string }{
		{"attach/kprobe.multi", "https://docs.kernel.org/bpf/libbpf/program_types.html"},
		{"helper/kprobe/bpf_probe_write_user", "https://man7.org/linux/man-pages/man7/bpf-helpers.7.html"},
		{"map/arena", "https://docs.kernel.org/bpf/maps.html"},
	} {
		u := fileURL(path) + "#f=" + tc.feature
		if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS("#panel table.one"))); err != nil {
			t.Fatalf("load %s: %v", u, err)
		}
		if got := eval(`(function(){var a=document.querySelector("#panel a.doc");return a ? a.href : "none"})()`); got != tc.doc {
			t.Errorf("%s: upstream documentation link %q, want %q", tc.feature, got, tc.doc)
		}
	}
	got = eval(`Array.from(document.querySelectorAll("#panel table.one tbody tr")).slice(0, 1).concat(Array.from(document.querySelectorAll("#panel table.one tbody tr")).filter(tr => tr.cells[0].textContent === "6.18 host")).map(tr => tr.cells[0].textContent + ": " + Array.from(tr.cells[4].querySelectorAll("a")).map(a => a.getAttribute("href")).join(" ")).join("\n")`)
	if want := "5.10 vm: runs/vm-5.10/console.log\n6.18 host: runs/host-host/run.json"; got != want {
		t.Errorf("run files of the one-feature view:\n%s\nwant\n%s", got, want)
	}
	screenshot(t, ctx, dir, "one-feature-links.png")
	// A cell's evidence links every file of its run, and its note.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#grid tr[data-f="map/arena"] td:nth-child(4) button`)), chromedp.WaitVisible(chromedp.CSS("#panel a.log"))); err != nil {
		t.Fatal(err)
	}
	got = eval(`Array.from(document.querySelectorAll("#panel a.doc, #panel a.log, #panel a.note")).map(a => a.getAttribute("href") + " " + a.textContent).join("\n")`)
	if want := "#note-" + fmt.Sprint(slices.Index(notesOf(t, ctx), "needs Linux >= 6.9")+1) + " note "; !strings.HasPrefix(got, want) ||
		!strings.HasSuffix(got, "https://docs.kernel.org/bpf/maps.html Upstream documentation ↗\nruns/vm-5.10/console.log console.log\nruns/vm-5.10/run.json run.json\nruns/vm-5.10/cells.jsonl cells.jsonl\nruns/vm-5.10/bpftool.json bpftool.json\nruns/vm-5.10/probepoints.json probepoints.json\nruns/vm-5.10/qemu.cmdline qemu.cmdline") {
		t.Errorf("links of map/arena's evidence on 5.10 vm:\n%s", got)
	}
	screenshot(t, ctx, dir, "cell-links.png")
}

// notesOf returns the page's numbered notes, note n at n-1.
func notesOf(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return strings.Split(evaluate(t, ctx, `JSON.parse(document.getElementById("data").textContent).notes.join("\n")`), "\n")
}
