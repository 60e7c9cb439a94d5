package markdown

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// kernels says, per kind of the kernels' own targets (vm, host) and
// architecture, how many features differ among its kernels, with the table
// of them folded: a kernel is compared only with kernels that run the same
// way on the same architecture, never with a restricted environment. The
// architectures are compared in their own view (arches).
func (s *summary) kernels(g *reports.Grid) {
	kinds := map[string][]int{}
	var order []string
	for ci := range g.Columns {
		if col := &g.Columns[ci]; col.OwnTarget() {
			kind := kindOf(col.Key)
			if kinds[kind] == nil {
				order = append(order, kind)
			}
			kinds[kind] = append(kinds[kind], ci)
		}
	}
	if len(kinds) == 0 {
		return
	}
	// vm before host, amd64 before the other architectures.
	slices.SortStableFunc(order, func(a, b string) int {
		ka, kb := g.Columns[kinds[a][0]].Key, g.Columns[kinds[b][0]].Key
		if ka.Target != kb.Target {
			return -strings.Compare(ka.Target, kb.Target)
		}
		return reports.CompareArch(ka.Arch, kb.Arch)
	})
	type table struct {
		kind string
		cols []int
		rows []reports.Row
	}
	var tables []table
	s.line("### Kernels")
	s.line("")
	for _, kind := range order {
		cols := kinds[kind]
		var names []string
		for _, ci := range cols {
			names = append(names, text(kernelName(&g.Columns[ci])))
		}
		ran, differ := 0, []reports.Row(nil)
		for _, grp := range g.Groups {
			for _, row := range grp.Rows {
				if !ranAny(&row, cols) {
					continue
				}
				ran++
				if row.DiffersAmong(cols) {
					differ = append(differ, row)
				}
			}
		}
		switch {
		case len(cols) == 1:
			s.line("- **%s** %s: %s, compared with no other kernel", text(kind), names[0], plural(ran, "feature"))
		case len(differ) == 0:
			s.line("- **%s** %s: the same status for all %s", text(kind), strings.Join(names, ", "), plural(ran, "feature"))
		default:
			s.line("- **%s** %s: %d of %s differ", text(kind), strings.Join(names, ", "), len(differ), plural(ran, "feature"))
			tables = append(tables, table{kind, cols, differ})
		}
	}
	s.line("")
	for _, t := range tables {
		s.details(fmt.Sprintf("The %s that differ among the %s kernels", plural(len(t.rows), "feature"), t.kind), func() {
			s.differences(g, t.cols, t.rows)
		})
	}
}

// kindOf names the kind of a kernel's own target: "vm", "host", with the
// architecture before it when it is not the default ("arm64 vm").
func kindOf(k reports.RunKey) string {
	return strings.TrimPrefix(reports.RunKey{Arch: k.Arch, Target: k.Target}.String(), " ")
}

// kernelName is how a kernel is named in a list of its kind: its catalog
// name, or its release when the name is the kind's ("host").
func kernelName(col *reports.Column) string {
	if col.Key.Kernel == col.Key.Target && col.Kernel.Release != "" {
		return col.Kernel.Release
	}
	return col.Key.Kernel
}

func ranAny(row *reports.Row, cols []int) bool {
	for _, ci := range cols {
		if len(row.Cells[ci]) > 0 {
			return true
		}
	}
	return false
}

// differences writes the table of rows over the columns cols, with the
// upstream version and the first kernel where each feature works.
func (s *summary) differences(g *reports.Grid, cols []int, rows []reports.Row) {
	s.line("%s · ⚠ first working kernel differs from upstream, or fails on a newer kernel", legend)
	s.line("")
	s.line("%s", causeLegend)
	s.line("")
	head, rule := "| feature | upstream | works from |", "|---|---|---|"
	for _, ci := range cols {
		head += " " + text(g.Columns[ci].Key.Kernel) + " |"
		rule += ":-:|"
	}
	s.line("%s", head)
	s.line("%s", rule)
	// shown counts the notes of the rows written: a row cut by the
	// budget numbers its notes, but they are not listed.
	var notes reports.Notes
	shown := 0
	for i, row := range rows {
		first := text(orDash(row.FirstSupported))
		if row.Mismatch != "" {
			first += " ⚠"
		}
		l := fmt.Sprintf("| %s | %s | %s |", text(row.Feature), text(orDash(row.Since)), first)
		for _, ci := range cols {
			l += " " + causeMark(row.Cells[ci], &notes) + " |"
		}
		if i >= maxRows || !s.line("%s", l) {
			s.closing("")
			s.more(len(rows)-i, "rows", "")
			break
		}
		shown = len(notes.List)
	}
	if shown > 0 {
		s.line("")
		for i, note := range notes.List[:shown] {
			s.line("%s %s  ", superscript(i+1), text(note))
		}
	}
}

// loss is what one restricted environment loses against its reference.
type loss struct {
	col, ref int
	// supported counts the features the reference supports; lost are
	// those of them this column does not, by feature, each with its
	// cause; gained counts those it supports and the reference does not.
	supported int
	lost      map[string]string
	gained    int
}

// environments says what each restricted environment (a container
// profile, a BPF token's user namespace) loses against the most the same
// kernel offers it: a container profile against container/privileged, the
// others against the kernel's own target. Each loses features by design;
// the counts by cause say whether it loses the ones it should.
func (s *summary) environments(g *reports.Grid) {
	var losses []loss
	for ci := range g.Columns {
		if g.Columns[ci].OwnTarget() {
			continue
		}
		losses = append(losses, compareWith(g, ci, reference(g, ci)))
	}
	if len(losses) == 0 {
		return
	}
	s.line("### Environments: what each loses")
	s.line("")
	total := map[string]bool{}
	for _, l := range losses {
		col := text(g.Columns[l.col].Label())
		if l.ref < 0 {
			s.line("- **%s**: no column of its kernel to compare it with", col)
			continue
		}
		ref := text(g.Columns[l.ref].Label())
		line := fmt.Sprintf("- **%s**: loses %d of the %s %s supports", col, len(l.lost), plural(l.supported, "feature"), ref)
		if len(l.lost) == 0 {
			line = fmt.Sprintf("- **%s**: loses none of the %s %s supports", col, plural(l.supported, "feature"), ref)
		}
		byCause := map[string]int{}
		for f, c := range l.lost {
			byCause[c]++
			total[f] = true
		}
		var causes []string
		for _, c := range slices.SortedFunc(maps.Keys(byCause), func(a, b string) int {
			if byCause[a] != byCause[b] {
				return byCause[b] - byCause[a]
			}
			return strings.Compare(a, b)
		}) {
			causes = append(causes, fmt.Sprintf("%d %s", byCause[c], text(c)))
		}
		if len(causes) > 0 {
			line += ": " + strings.Join(causes, ", ")
		}
		if l.gained > 0 {
			line += fmt.Sprintf("; supports %d that %s does not", l.gained, ref)
		}
		s.line("%s", line)
	}
	s.line("")
	if len(total) == 0 {
		return
	}
	s.details(fmt.Sprintf("The %s lost in some environment", plural(len(total), "feature")), func() {
		s.losses(g, losses, total)
	})
}

// reference is the column a restricted environment is compared with, -1
// when the report has none: container/privileged of the same kernel and
// architecture for another container profile, else the kernel's own
// target. "host" on an arm64 machine is another kernel than on an amd64
// one.
func reference(g *reports.Grid, ci int) int {
	col := &g.Columns[ci]
	const privileged = "container/privileged"
	own := -1
	for ri := range g.Columns {
		r := &g.Columns[ri]
		if r.Key.Kernel != col.Key.Kernel || r.Key.Arch != col.Key.Arch || ri == ci {
			continue
		}
		if r.Key.Target == privileged && strings.HasPrefix(col.Key.Target, "container/") {
			return ri
		}
		if r.OwnTarget() && own < 0 {
			own = ri
		}
	}
	return own
}

// compareWith finds what column ci loses against column ref.
func compareWith(g *reports.Grid, ci, ref int) loss {
	l := loss{col: ci, ref: ref, lost: map[string]string{}}
	if ref < 0 {
		return l
	}
	for _, grp := range g.Groups {
		for _, row := range grp.Rows {
			in, base := supported(row.Cells[ci]), supported(row.Cells[ref])
			switch {
			case base && !in:
				l.lost[row.Feature] = lossCause(row.Cells[ci])
			case in && !base:
				l.gained++
			}
			if base {
				l.supported++
			}
		}
	}
	return l
}

func supported(cells []reports.Cell) bool {
	for _, c := range cells {
		if c.Status != reports.Supported {
			return false
		}
	}
	return len(cells) > 0
}

// lossCause says why a feature is lost: the layer that blocked it, or the
// status it ended with.
func lossCause(cells []reports.Cell) string {
	for _, c := range cells {
		switch {
		case c.Status == reports.Supported:
		case c.Status == reports.Blocked:
			return "blocked by " + orDash(c.Layer)
		default:
			return string(c.Status)
		}
	}
	return "not run"
}

// losses writes the table of every feature some environment loses: its
// mark where it is lost, with the layer or errno that took it.
func (s *summary) losses(g *reports.Grid, all []loss, lost map[string]bool) {
	// An environment that loses nothing has an empty column.
	var losses []loss
	head, rule := "| feature |", "|---|"
	for _, l := range all {
		if len(l.lost) > 0 {
			losses = append(losses, l)
			head += " " + text(g.Columns[l.col].Label()) + " |"
			rule += "---|"
		}
	}
	s.line("Where a feature is lost: ⊘ blocked, with the layer · ✗ unsupported, with the errno · `·` not run")
	s.line("")
	s.line("%s", head)
	s.line("%s", rule)
	var rows []reports.Row
	for _, grp := range g.Groups {
		for _, row := range grp.Rows {
			if lost[row.Feature] {
				rows = append(rows, row)
			}
		}
	}
	for i, row := range rows {
		line := "| " + text(row.Feature) + " |"
		for _, l := range losses {
			v := ""
			if _, ok := l.lost[row.Feature]; ok {
				v = lostMark(row.Cells[l.col])
			}
			line += " " + v + " |"
		}
		if i >= maxRows || !s.line("%s", line) {
			s.closing("")
			s.more(len(rows)-i, "rows", "")
			break
		}
	}
}

// lostMark is a lost cell's mark with what took it: "⊘ seccomp",
// "✗ EPERM".
func lostMark(cells []reports.Cell) string {
	for _, c := range cells {
		if c.Status == reports.Supported {
			continue
		}
		why := c.Errno
		if c.Status == reports.Blocked {
			why = c.Layer
		}
		return strings.TrimSpace(cellMark(cells) + " " + text(why))
	}
	return "·"
}
