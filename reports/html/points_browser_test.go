package html_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// TestBrowserProbePoints (needs Debian's chromium) reads the probe points of
// the real full matrix at 1280×900: both tables fit the window with every
// value wrapped inside its cell, the cells where a part changed carry the
// highlight of their kind of change and no other cell does, the trivial
// changes stay hidden until the toggle shows them, and on a narrower window
// the point and field labels stay in view when the table scrolls sideways.
func TestBrowserProbePoints(t *testing.T) {
	rep := fullMatrix(t)
	ctx, dir := browser(t), t.ArtifactDir()
	path, _ := writePage(t, dir, rep)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	if _, err := loadMS(ctx, path); err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	eval := func(js string) string { t.Helper(); return evaluate(t, ctx, js) }

	// What the page must show, from the report's own classification.
	pt := reports.NewPointsTable(rep)
	var want []string
	trivial := 0
	for _, p := range pt.Points {
		for _, f := range p.Changed() {
			if f.Change == reports.PointTrivial {
				trivial++
			}
			for ri, c := range f.Cells {
				if c.Change != "" {
					want = append(want, fmt.Sprintf("%s %s @%s: %s", p.Name, f.Name, pt.Runs[ri].Label(), c.Change))
				}
			}
		}
	}
	if trivial == 0 || len(want) == 0 {
		t.Fatalf("the full matrix has %d changed cells and %d trivial rows; the test needs both", len(want), trivial)
	}

	// Both tables fit their box at 1280 px, and no value spills out of its cell.
	for _, id := range []string{"pp-counts", "pp-diff"} {
		fit := fmt.Sprintf(`(function(){var t=document.getElementById(%q), w=t.parentElement;
			var cut=Array.from(t.querySelectorAll("td, th")).filter(c => c.getClientRects().length && c.scrollWidth > c.clientWidth + 1).length;
			return t.scrollWidth + " " + w.clientWidth + " " + cut + " " + Math.round(w.getBoundingClientRect().right)})()`, id)
		var table, box, cut, right int
		if _, err := fmt.Sscan(eval(fit), &table, &box, &cut, &right); err != nil {
			t.Fatal(err)
		}
		t.Logf("#%s at 1280 px: table %d px in a box of %d px ending at %d px", id, table, box, right)
		if table > box || right > 1280 || cut != 0 {
			t.Errorf("#%s at 1280 px: table %d px wide in a box of %d px ending at %d px, %d cells spill over", id, table, box, right, cut)
		}
	}

	// The highlighted cells are exactly the changed ones, each with its kind.
	cells := `Array.from(document.querySelectorAll("#pp-diff tbody tr:not(.pp-gh)")).flatMap(tr => {
		var th=tr.querySelectorAll("th"), heads=Array.from(document.querySelectorAll("#pp-diff thead th")).map(h => h.innerText);
		return Array.from(tr.querySelectorAll("td")).map((td, i) => [td, i]).filter(([td]) => td.classList.contains("pp-chg"))
			.map(([td, i]) => th[0].innerText.replace(/\s+/g, "") + " " + th[1].firstChild.textContent.trim() + " @" + heads[i+2] + ": " + (td.className.match(/pp-(removed|retyped|moved|added|trivial)/)||["", "?"])[1])
	}).join("\n")`
	if got := strings.Split(eval(cells), "\n"); !sameSet(got, want) {
		slices.Sort(got)
		slices.Sort(want)
		t.Errorf("highlighted cells\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := eval(`getComputedStyle(document.querySelector("#pp-diff td.pp-chg.pp-moved")).backgroundColor + " / " + getComputedStyle(document.querySelector("#pp-diff td:not(.pp-chg):not(.pp-none)")).backgroundColor`); !strings.HasPrefix(got, "rgb(255, 248, 197) / ") || strings.HasSuffix(got, "rgb(255, 248, 197)") {
		t.Errorf("a moved cell and an unchanged one: backgrounds %s, want the moved one tinted alone", got)
	}

	// Trivial changes: hidden, shown by the toggle, hidden again.
	shownTrivial := `String(Array.from(document.querySelectorAll("#pp-diff tbody.pp-g-trivial tr:not(.pp-gh)")).filter(r => r.getClientRects().length).length)`
	if got := eval(shownTrivial); got != "0" {
		t.Errorf("%s trivial rows show by default, want none", got)
	}
	if got := eval(`document.querySelector("label.pp-toggle").innerText`); !strings.Contains(got, fmt.Sprint(trivial)) {
		t.Errorf("the toggle reads %q, want it to count the %d trivial changes", got, trivial)
	}
	eval(`(function(){var s=document.getElementById("probepoints");s.scrollIntoView();return ""})()`)
	screenshot(t, ctx, dir, "probepoints-1280x900.png")
	eval(`(function(){document.getElementById("pp-trivial").click();return ""})()`)
	if got := eval(shownTrivial); got != fmt.Sprint(trivial) {
		t.Errorf("with the toggle on %s trivial rows show, want %d", got, trivial)
	}
	eval(`(function(){document.querySelector("#pp-diff tbody.pp-g-trivial").scrollIntoView();return ""})()`)
	screenshot(t, ctx, dir, "probepoints-trivial-1280x900.png")
	eval(`(function(){document.getElementById("pp-trivial").click();return ""})()`)
	if got := eval(shownTrivial); got != "0" {
		t.Errorf("with the toggle off again %s trivial rows show", got)
	}
	// No ✓ stands for "present": presence reads in words.
	if got := eval(`String(document.getElementById("probepoints").innerText.includes("✓"))`); got != "false" {
		t.Error("the probe points section writes ✓")
	}

	// On a window narrower than the table, it scrolls sideways inside its
	// box and the point and field labels stay where they were.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(900, 900)); err != nil {
		t.Fatal(err)
	}
	sticky := `(function(){var t=document.getElementById("pp-diff"), w=t.parentElement, tr=t.querySelector("tbody tr:not(.pp-gh)");
		var p=tr.querySelector(".pp-point"), f=tr.querySelector(".pp-field"), d=tr.querySelector("td");
		w.scrollTop=0; w.scrollIntoView(); w.scrollLeft=w.scrollWidth;
		var wr=w.getBoundingClientRect(), pr=p.getBoundingClientRect(), fr=f.getBoundingClientRect(), dr=d.getBoundingClientRect();
		var top=document.elementFromPoint(fr.left + fr.width/2, fr.top + fr.height/2);
		return [getComputedStyle(p).position, getComputedStyle(f).position, Math.round(w.scrollLeft), Math.round(pr.left - wr.left),
			Math.round(fr.left - pr.right), Math.round(dr.right - fr.right), String(f.contains(top)), innerWidth+"x"+innerHeight+"@"+Math.round(fr.left)+","+Math.round(fr.top)].join(" ")})()`
	var posP, posF, covered, onTop string
	var scrolled, pointAt, fieldAt, firstCell int
	if _, err := fmt.Sscan(eval(sticky), &posP, &posF, &scrolled, &pointAt, &fieldAt, &firstCell, &covered, &onTop); err != nil {
		t.Fatal(err)
	}
	t.Logf("at 900 px: scrolled %d px; point label %d px from the box, field label %d px after it, first kernel's cell ends %d px past it", scrolled, pointAt, fieldAt, firstCell)
	if posP != "sticky" || posF != "sticky" || scrolled < 100 || pointAt < 0 || pointAt > 2 || fieldAt < -1 || fieldAt > 1 || firstCell > 0 || covered != "true" {
		t.Errorf("after scrolling sideways by %d px: positions %s %s, point label %d px from the box's left, field label %d px after it, the first kernel's cell ends %d px past the field label (want under it), the field label on top: %s (%s)",
			scrolled, posP, posF, pointAt, fieldAt, firstCell, covered, onTop)
	}
	screenshot(t, ctx, dir, "probepoints-scrolled-900x900.png")
}
