// Package markdown renders the summary of a report that a CI job shows on
// its page ($GITHUB_STEP_SUMMARY): a gate a person reads in twenty seconds.
// It opens with the verdict and its counts, then what fails the job — the
// unexpected cells and the regressions against a baseline, each with its
// cause in the kernel's words — then what changed since the baseline, the
// differences among kernels of one kind and architecture, those between
// the amd64 and arm64 builds of a kernel, and what each restricted
// environment (a container profile, a BPF token) loses against the
// kernel's own target. Everything else (per-column counts, the tables of
// differences, the users' objects, probe points) is folded into <details>
// blocks; the full matrix is the HTML page's job, linked from the top.
package markdown

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/objview"
)

// MaxBytes bounds the summary. GitHub refuses a step summary over 1 MiB;
// staying far below keeps the job page quick. Rows beyond the bound are
// counted, and the reader is sent to the full report.
const MaxBytes = 256 << 10

// maxListed bounds each list a reader reads before any <details> (the
// unexpected cells, the regressions, the changes, the broken runs), and
// maxRows a table folded into <details>: past those a summary stops being
// read, and the HTML report has the rest.
const (
	maxListed = 20
	maxRows   = 300
)

// reserve is the part of the budget kept for the closing lines of what is
// open when the budget runs out: the "… and N more" notes and </details>.
const reserve = 1024

// DefaultHTMLURL is where the summary points for the full matrix when no
// URL is given: index.html, written beside summary.md.
const DefaultHTMLURL = "index.html"

// Options say what a summary compares with and where it points.
type Options struct {
	// Diff is the comparison of the baseline report (the last published
	// one) with this one, by reports.Compare; nil when no baseline was
	// given, and the summary then says so.
	Diff *reports.Diff
	// Baseline names the baseline in the summary: its path or URL.
	Baseline string
	// HTMLURL is where the HTML report is; DefaultHTMLURL when empty.
	HTMLURL string
}

// marks are the same signs the HTML page uses, readable without colour.
var marks = func() map[reports.Status]string {
	m := map[reports.Status]string{}
	for _, st := range reports.Statuses {
		m[st] = reports.Mark(st)
	}
	return m
}()

const legend = "✓ supported · ✗ unsupported · ! failed · ⊘ blocked by the environment · E error · – skipped · ☠ crashed · T timeout · **\\*** unexpected · `·` not run"

// causeLegend explains the cause tags of a table's marks and its notes.
const causeLegend = "✓• seen firing · ✓ loaded or attached (not fired) · ✗ old: kernel too old · ✗ cfg: a CONFIG option not set · " +
	"✗ lsm: an LSM or lockdown · ✗ perm: privilege · ¹ a numbered note under the table"

// Write writes the summary of r to w.
func Write(w io.Writer, r *reports.Report, opt Options) error {
	bw := bufio.NewWriter(w)
	s := &summary{w: bw, budget: MaxBytes, opt: opt, html: linkTarget(opt.HTMLURL)}
	s.write(r)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write markdown summary: %w", err)
	}
	return nil
}

type summary struct {
	w      *bufio.Writer
	budget int
	// full is set once a line did not fit: what follows is left out
	// whole, not in pieces.
	full bool
	opt  Options
	// html is the link target of the HTML report, safe in a Markdown link.
	html string
}

// line writes one line if it fits the budget, keeping the reserve for the
// closing lines; it reports whether it did. Once a line does not fit, no
// other does.
func (s *summary) line(format string, args ...any) bool {
	l := fmt.Sprintf(format, args...) + "\n"
	if s.full || len(l) > s.budget-reserve {
		s.full = true
		return false
	}
	s.budget -= len(l)
	s.w.WriteString(l)
	return true
}

// closing writes a line that ends what is open (a note of what was left
// out, a </details>) from the reserve, so a cut summary still says what it
// left out and renders as it should.
func (s *summary) closing(format string, args ...any) {
	l := fmt.Sprintf(format, args...) + "\n"
	if len(l) > s.budget {
		return
	}
	s.budget -= len(l)
	s.w.WriteString(l)
}

// more says how many items (of what, when given) a list or table left
// out, and where they are.
func (s *summary) more(n int, what, prefix string) {
	if what != "" {
		what = " " + what
	}
	s.closing("%s… and %d more%s: see the [HTML report](%s) or report.json.", prefix, n, what, s.html)
}

// details writes what body writes inside a <details> block titled title
// (plain text): folded on the job page, so it costs the reader nothing.
// Nothing is written when not even its first line fits.
func (s *summary) details(title string, body func()) {
	if !s.line("<details><summary>%s</summary>", htmlText.Replace(title)) {
		return
	}
	s.line("")
	body()
	s.closing("")
	s.closing("</details>")
	s.closing("")
}

func (s *summary) write(r *reports.Report) {
	g := reports.NewGrid(r)
	objects := objview.New(r, g)
	items := unexpectedItems(g, objects)
	s.head(r, g, objects, items)
	s.unexpected(items)
	s.regressions()
	s.changes()
	s.brokenRuns(g)
	s.conflicts(r)
	s.kernels(g)
	s.arches(g)
	s.environments(g)
	s.objects(objects, g)
	s.matrix(r, g)
}

// head writes the verdict, the counts it rests on and the link to the HTML
// report. The verdict is the exit code's: unexpected cells, regressions
// and runs that did not end ok each fail the job.
func (s *summary) head(r *reports.Report, g *reports.Grid, objects *objview.Table, items []item) {
	unexpected, inObjects := 0, 0
	for _, it := range items {
		unexpected += it.cells
		if it.object {
			inObjects += it.cells
		}
	}
	broken := 0
	for _, col := range g.Columns {
		if col.Status != "ok" {
			broken++
		}
	}
	regressions := 0
	if s.opt.Diff != nil {
		regressions = s.opt.Diff.Regressions()
	}

	var problems []string
	if unexpected > 0 {
		p := plural(unexpected, "unexpected cell")
		if inObjects > 0 {
			p += fmt.Sprintf(" (%d in objects)", inObjects)
		}
		problems = append(problems, p)
	} else {
		problems = append(problems, "0 unexpected")
	}
	if s.opt.Diff != nil {
		problems = append(problems, plural(regressions, "regression"))
	} else {
		problems = append(problems, "no baseline")
	}
	if broken > 0 {
		problems = append(problems, fmt.Sprintf("%s not ok", plural(broken, "run")))
	}
	sign := "✅"
	if unexpected > 0 || regressions > 0 || broken > 0 {
		sign = "❌"
	}
	features := 0
	for _, grp := range g.Groups {
		features += len(grp.Rows)
	}
	shape := fmt.Sprintf("%s × %s", plural(len(g.Columns), "column"), plural(features, "feature"))
	if objects != nil {
		shape += fmt.Sprintf(" + %s", plural(len(objects.Rows), "object program"))
	}
	s.line("## %s %s — %s", sign, strings.Join(problems, ", "), shape)
	s.line("")
	meta := fmt.Sprintf("eBPF compatibility matrix · **[HTML report](%s)** · generated %s by bpfmatrix %s on %s", s.html,
		r.Generated.UTC().Format("2006-01-02 15:04 UTC"), text(orDash(r.Tool)), text(orDash(r.Host)))
	if el := r.Elapsed(); el > 0 {
		meta += " · took " + el.Round(time.Second).String()
	}
	if n := r.Reused(); n > 0 {
		meta += fmt.Sprintf(" · %d of %d runs reused from the run cache (their inputs did not change; `--no-cache` runs them again)", n, len(r.Runs))
	}
	s.line("%s", meta)
	s.line("")
}

// linkTarget makes a URL safe as the target of a Markdown link: what
// would end the link or the line is percent-encoded.
func linkTarget(u string) string {
	if u == "" {
		u = DefaultHTMLURL
	}
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E", "\n", "%0A", "\r", "%0D", "\t", "%09").Replace(u)
}

func mark(s reports.Status) string { return marks[s] }

// cellMark is a table cell's text: the mark(s) of its statuses, bold with a
// star when unexpected; "·" when the column did not run the feature.
func cellMark(cells []reports.Cell) string {
	if len(cells) == 0 {
		return "·"
	}
	return eachStatus(cells, "≠", func(c *reports.Cell) string { return marks[c.Status] })
}

// causeMark is a table cell's text with its cause: cellMark's, the first
// record's cause tag after its mark and the number notes gives its note,
// in superscript ("✗ cfg¹").
func causeMark(cells []reports.Cell, notes *reports.Notes) string {
	if len(cells) == 0 {
		return "·"
	}
	m := cellMark(cells)
	if tag := cells[0].CauseTag(); tag == "•" {
		m += tag
	} else if tag != "" {
		m += " " + tag
	}
	for i := range cells {
		if n := notes.Number(cells[i].Note()); n > 0 {
			return m + superscript(n)
		}
	}
	return m
}

// superscript writes n in Unicode's superscript digits: a footnote's
// number that no Markdown renderer reads as markup.
func superscript(n int) string {
	const digits = "⁰¹²³⁴⁵⁶⁷⁸⁹"
	var b strings.Builder
	for _, d := range fmt.Sprint(n) {
		b.WriteString(string([]rune(digits)[d-'0']))
	}
	return b.String()
}

// eachStatus joins with sep what say says of the first cell of each
// distinct status, bold with a star when any cell is unexpected.
func eachStatus(cells []reports.Cell, sep string, say func(*reports.Cell) string) string {
	var out []string
	seen := map[reports.Status]bool{}
	unexpected := false
	for i := range cells {
		unexpected = unexpected || cells[i].Unexpected
		if !seen[cells[i].Status] {
			seen[cells[i].Status] = true
			out = append(out, say(&cells[i]))
		}
	}
	m := strings.Join(out, sep)
	if unexpected {
		return "**" + m + "\\***"
	}
	return m
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// htmlText makes text safe inside an HTML element, where Markdown's
// escapes are not read.
var htmlText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// text makes report-provided text safe in a Markdown table cell: no HTML
// (GitHub renders some), no table breaks, no accidental emphasis or links.
func text(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		case '|', '\\', '`', '*', '_', '[', ']', '#', '~', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func firstLine(s string, max int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}
