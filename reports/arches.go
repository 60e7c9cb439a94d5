package reports

import (
	"slices"
	"strings"
)

// ArchSeries is one kernel series that ran in a VM both on DefaultArch and
// on another architecture: the features whose status differs between the
// two builds of the same kernel. Where eBPF arrived on arm64 later than on
// x86 (trampolines, multi-kprobes, some helpers) or Debian's arm64 config
// leaves a feature out, it shows here, with the other build's cause.
type ArchSeries struct {
	// Kernel is the series' catalog name ("6.12"), Arch the other
	// architecture ("arm64").
	Kernel, Arch string
	// Base and Other are the grid's columns of the DefaultArch build and
	// of the other one.
	Base, Other int
	// Compared counts the features that ran on both.
	Compared int
	// Rows are the features whose statuses differ, in the grid's order;
	// a feature that ran on one build only is no difference of the
	// architectures, and is left out.
	Rows []Row
}

// ArchDifferences pairs every VM column of an architecture other than
// DefaultArch with the DefaultArch VM column of the same kernel, in the
// grid's column order; nil when no kernel series ran on two architectures.
// Only VMs are paired: "host" names another kernel on every machine, and a
// restricted environment runs on the host.
func (g *Grid) ArchDifferences() []ArchSeries {
	base := map[string]int{}
	for ci, col := range g.Columns {
		if col.Key.Target == "vm" && col.Key.Arch == DefaultArch {
			base[col.Key.Kernel] = ci
		}
	}
	var out []ArchSeries
	for ci, col := range g.Columns {
		bi, ok := base[col.Key.Kernel]
		if col.Key.Target != "vm" || col.Key.Arch == DefaultArch || !ok {
			continue
		}
		s := ArchSeries{Kernel: col.Key.Kernel, Arch: col.Key.Arch, Base: bi, Other: ci}
		for _, grp := range g.Groups {
			for _, row := range grp.Rows {
				b, o := row.Cells[bi], row.Cells[ci]
				if len(b) == 0 || len(o) == 0 {
					continue
				}
				s.Compared++
				if !equalStatuses(statusSet(b), statusSet(o)) {
					s.Rows = append(s.Rows, row)
				}
			}
		}
		out = append(out, s)
	}
	return out
}

// Why says why row differs on the other build, in one line of Cause: the
// cause of its first cell whose status no cell of the base build has.
func (s *ArchSeries) Why(row *Row, max int) string {
	base, other := row.Cells[s.Base], row.Cells[s.Other]
	for i := range other {
		if !slices.ContainsFunc(base, func(b Cell) bool { return b.Status == other[i].Status }) {
			return other[i].Cause(max)
		}
	}
	return other[0].Cause(max)
}

// Cause says in one line why a cell is what it is: the reason of its
// expectation and its EvidenceLine, joined by " — ", each cut to max runes.
func (c *Cell) Cause(max int) string {
	ev, reason := c.EvidenceLine(max), firstLine(c.Reason, max)
	switch {
	case reason == "" || strings.Contains(ev, reason):
		return ev
	case ev == "":
		return reason
	}
	return reason + " — " + ev
}

// EvidenceLine is the kernel's words of a cell in one line of at most max
// runes: its evidence's first line, or the verifier log's last line (where
// the verifier says why) when the cell has no evidence.
func (c *Cell) EvidenceLine(max int) string {
	if e := firstLine(c.Evidence, max); e != "" {
		return e
	}
	log := strings.TrimSpace(c.VerifierLog)
	return firstLine(log[strings.LastIndexByte(log, '\n')+1:], max)
}
