package markdown

import (
	"fmt"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// arches says, per architecture other than amd64, how many features differ
// between the two builds of each kernel series that ran on both in a VM, in
// one line, with the table of them folded: each feature with both statuses
// and the cause of the other build's cell in its kernel's words. Nothing
// is written when no series ran on two architectures.
func (s *summary) arches(g *reports.Grid) {
	byArch := map[string][]reports.ArchSeries{}
	var order []string
	for _, sr := range g.ArchDifferences() {
		if byArch[sr.Arch] == nil {
			order = append(order, sr.Arch)
		}
		byArch[sr.Arch] = append(byArch[sr.Arch], sr)
	}
	for _, arch := range order {
		series := byArch[arch]
		differ, compared := 0, 0
		var kernels []string
		for _, sr := range series {
			differ += len(sr.Rows)
			compared += sr.Compared
			kernels = append(kernels, fmt.Sprintf("%s (%d of %d)", text(sr.Kernel), len(sr.Rows), sr.Compared))
		}
		title := "x86/" + text(arch) + " differences"
		built := fmt.Sprintf("%d kernel series built for both", len(series))
		if differ == 0 {
			s.line("**%s:** none: %s (%s), the same status for all %d features that ran on both.", title, built, strings.Join(kernelNames(series), ", "), compared)
			s.line("")
			continue
		}
		verb := "differ"
		if differ == 1 {
			verb = "differs"
		}
		s.line("**%s:** %s %s on %s: %s.", title, plural(differ, "feature"), verb, built, strings.Join(kernels, ", "))
		s.line("")
		s.details(fmt.Sprintf("The %s whose status differs between amd64 and %s", plural(differ, "feature"), arch), func() {
			s.archTable(g, arch, series, differ)
		})
	}
}

func kernelNames(series []reports.ArchSeries) []string {
	var names []string
	for _, sr := range series {
		names = append(names, text(sr.Kernel))
	}
	return names
}

// archTable writes the rows of series: the kernel, the feature, its
// status on amd64 and on arch, and why arch's cell is what it is.
func (s *summary) archTable(g *reports.Grid, arch string, series []reports.ArchSeries, rows int) {
	a := text(arch)
	s.line("The same kernel series built for amd64 and for %s, each in a VM · **\\*** unexpected", a)
	s.line("")
	s.line("| kernel | feature | amd64 | %s | %s: why |", a, a)
	s.line("|---|---|---|---|---|")
	written := 0
	for _, sr := range series {
		for ri := range sr.Rows {
			row := &sr.Rows[ri]
			l := fmt.Sprintf("| %s | %s | %s | %s | %s |", text(sr.Kernel), text(row.Feature),
				statusWords(row.Cells[sr.Base]), statusWords(row.Cells[sr.Other]), text(orDash(sr.Why(row, 200))))
			if written >= maxRows || !s.line("%s", l) {
				s.closing("")
				s.more(rows-written, "rows", "")
				return
			}
			written++
		}
	}
}

// statusWords says a table cell's statuses in words, each with its mark
// and errno ("✗ unsupported ENOTSUPP"), bold with a star when unexpected.
func statusWords(cells []reports.Cell) string {
	return eachStatus(cells, " ≠ ", func(c *reports.Cell) string {
		return text(strings.Join(nonEmpty(marks[c.Status], string(c.Status), c.Errno), " "))
	})
}
