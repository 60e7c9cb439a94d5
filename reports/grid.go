package reports

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
)

// Grid is a report arranged the way people read it: one row per catalog
// feature, grouped by area, and one column per (kernel, arch, target),
// ordered by kernel version; a run of object cells only is a column too.
// The HTML and Markdown renderers share it, so both show the same
// differences, conflicts and mismatches.
type Grid struct {
	Columns []Column
	Groups  []Group
}

// Column is one (kernel, arch, target). Runs of a report with the same key
// share a column, so an unmerged report still shows its conflicts.
type Column struct {
	Key    RunKey
	Kernel Kernel
	// Status and Detail say how the run ended; Detail is the console tail
	// of a panic or the error of a broken start.
	Status, Detail string
	// Counts is the number of cells per status, conflicts included, and
	// Unexpected the number whose status differs from the expected one:
	// of catalog features only. The cells of users' objects are no rows of
	// the grid and are counted apart (Cell.IsObject).
	Counts     map[Status]int
	Unexpected int
	Seconds    float64
	// Cached is where and when the column's run ran when it was reused
	// from the run cache (Run.CachedFrom), else nil.
	Cached *Cached

	version    kversion.Version
	hasVersion bool
}

// Label is the column's heading, its key as RunKey.String says it: "6.1
// vm", "6.1 arm64 vm"; "host host" is shortened to "host" ("host arm64").
func (c *Column) Label() string {
	if c.Key.Kernel == c.Key.Target {
		return c.Key.kernelArch()
	}
	return c.Key.String()
}

// Group is the rows of one area.
type Group struct {
	Area string
	Rows []Row
}

// Row is one feature across every column.
type Row struct {
	Feature string
	Area    string
	// Since is the upstream version from the catalog, as the cells carry it.
	Since string
	// Cells holds, per column, the cells recorded: none when the column
	// never ran the feature, more than one when shards disagree.
	Cells [][]Cell
	// Differs is set when the columns do not all agree on one status.
	Differs bool
	// Unexpected is set when any cell is unexpected.
	Unexpected bool
	// Conflict is set when a column holds cells with different statuses.
	Conflict bool
	// FirstSupported is the lowest kernel where the feature works on a
	// kernel's own target (vm or host), "" when it works nowhere: its
	// catalog name, with the version when the name is not one ("6.18
	// (host)"), and its architecture when it is not DefaultArch ("6.0
	// arm64").
	FirstSupported string
	// Mismatch says why FirstSupported disagrees with Since: a kernel older
	// than Since where it works (a backport), or one at least as new where
	// it does not (a config that turns it off). Empty when they agree.
	Mismatch string
}

// Statuses returns the distinct statuses of the row, in Statuses order.
func (r *Row) Statuses() []Status {
	seen := map[Status]bool{}
	for _, cells := range r.Cells {
		for _, c := range cells {
			seen[c.Status] = true
		}
	}
	var out []Status
	for _, s := range Statuses {
		if seen[s] {
			out = append(out, s)
		}
	}
	return out
}

// areaOrder is the catalog's order of areas; areas it does not know follow
// alphabetically.
var areaOrder = []string{"features", "tracing", "networking", "security"}

// NewGrid arranges r. It does not modify r.
func NewGrid(r *Report) *Grid {
	g := &Grid{}
	colIndex := map[RunKey]int{}
	for _, run := range r.Runs {
		key := run.Key()
		i, ok := colIndex[key]
		if !ok {
			i = len(g.Columns)
			colIndex[key] = i
			col := Column{Key: key, Kernel: run.Kernel, Status: run.Status, Detail: run.Detail, Counts: map[Status]int{}}
			col.version, col.hasVersion = run.Kernel.KernelVersion()
			g.Columns = append(g.Columns, col)
		}
		col := &g.Columns[i]
		if runSeverity(run.Status) > runSeverity(col.Status) {
			col.Status, col.Detail = run.Status, run.Detail
		}
		col.Seconds += run.WallTime
		if run.CachedFrom != nil {
			col.Cached = run.CachedFrom
		}
		for _, c := range run.Cells {
			if c.IsObject() {
				continue
			}
			col.Counts[c.Status]++
			if c.Unexpected {
				col.Unexpected++
			}
		}
	}
	sort.SliceStable(g.Columns, func(i, j int) bool { return columnLess(&g.Columns[i], &g.Columns[j]) })
	for i, col := range g.Columns {
		colIndex[col.Key] = i
	}

	rows := map[string]*Row{}
	for _, run := range r.Runs {
		ci := colIndex[run.Key()]
		for _, c := range run.Cells {
			if c.IsObject() {
				continue
			}
			row := rows[c.Feature]
			if row == nil {
				row = &Row{Feature: c.Feature, Area: c.Area, Cells: make([][]Cell, len(g.Columns))}
				rows[c.Feature] = row
			}
			if row.Area == "" {
				row.Area = c.Area
			}
			if row.Since == "" {
				row.Since = c.Since
			}
			row.Cells[ci] = append(row.Cells[ci], c)
		}
	}

	groups := map[string]*Group{}
	for _, row := range rows {
		row.summarize(g.Columns)
		area := row.Area
		if area == "" {
			area = "other"
		}
		if groups[area] == nil {
			groups[area] = &Group{Area: area}
		}
		groups[area].Rows = append(groups[area].Rows, *row)
	}
	for _, grp := range groups {
		sort.Slice(grp.Rows, func(i, j int) bool { return grp.Rows[i].Feature < grp.Rows[j].Feature })
		g.Groups = append(g.Groups, *grp)
	}
	sort.Slice(g.Groups, func(i, j int) bool {
		ri, rj := areaRank(g.Groups[i].Area), areaRank(g.Groups[j].Area)
		if ri != rj {
			return ri < rj
		}
		return g.Groups[i].Area < g.Groups[j].Area
	})
	return g
}

func areaRank(area string) int {
	for i, a := range areaOrder {
		if a == area {
			return i
		}
	}
	return len(areaOrder)
}

// columnLess orders columns by kernel version, then by target: the kernel's
// own target (vm, then host) before its container profiles; the same
// target of another architecture right after the amd64 one, so the two
// builds of a kernel stand side by side.
func columnLess(a, b *Column) bool {
	if a.hasVersion != b.hasVersion {
		return a.hasVersion
	}
	// By series, not by patch level: the arm64 build of 5.10 may be a
	// few stable releases behind the amd64 one and still stand beside it.
	if a.hasVersion {
		if c := seriesOf(a.version).Compare(seriesOf(b.version)); c != 0 {
			return c < 0
		}
	}
	if a.Key.Kernel != b.Key.Kernel {
		return a.Key.Kernel < b.Key.Kernel
	}
	if ra, rb := targetRank(a.Key.Target), targetRank(b.Key.Target); ra != rb {
		return ra < rb
	}
	if a.Key.Target != b.Key.Target {
		return a.Key.Target < b.Key.Target
	}
	return CompareArch(a.Key.Arch, b.Key.Arch) < 0
}

func seriesOf(v kversion.Version) kversion.Version {
	return kversion.Version{Major: v.Major, Minor: v.Minor}
}

func targetRank(target string) int {
	switch {
	case target == "vm":
		return 0
	case target == "host":
		return 1
	}
	return 2
}

// OwnTarget reports whether the column runs its kernel with the kernel's
// full powers (vm, host), so its cells speak for the kernel. A container
// profile or a BPF token's user namespace loses features by design: its
// cells say what the environment allows, and are compared with the
// kernel's own target rather than with other kernels.
func (c *Column) OwnTarget() bool { return ownTarget(c.Key.Target) }

func ownTarget(target string) bool { return target == "vm" || target == "host" }

// DiffersAmong reports whether the row's cells in the columns cols (indexes
// of the grid's columns) do not all agree on one status: the differences
// among kernels of one kind. A column that never ran the feature differs
// from one that did.
func (row *Row) DiffersAmong(cols []int) bool {
	var first Status
	ran, missing := false, false
	for _, ci := range cols {
		cells := row.Cells[ci]
		if len(cells) == 0 {
			missing = true
			continue
		}
		ran = true
		for _, c := range cells {
			if first == "" {
				first = c.Status
			} else if c.Status != first {
				return true
			}
		}
	}
	return ran && missing
}

// summarize fills the derived fields of row from its cells.
func (row *Row) summarize(cols []Column) {
	all := make([]int, len(cols))
	for i := range all {
		all[i] = i
	}
	row.Differs = row.DiffersAmong(all)
	for _, cells := range row.Cells {
		for _, c := range cells {
			if c.Unexpected {
				row.Unexpected = true
			}
			if c.Status != cells[0].Status {
				row.Conflict = true
			}
		}
	}

	since, hasSince := kversion.Parse(row.Since)
	var backport, missing []string
	for ci, cells := range row.Cells {
		col := &cols[ci]
		if len(cells) == 0 || !ownTarget(col.Key.Target) || !col.hasVersion {
			continue
		}
		works := false
		for _, c := range cells {
			if c.Status == Supported {
				works = true
			}
		}
		if works && row.FirstSupported == "" {
			row.FirstSupported = col.Key.kernelArch()
			if _, named := kversion.Parse(col.Key.Kernel); !named {
				// "host" alone says nothing about the version.
				row.FirstSupported = fmt.Sprintf("%d.%d (%s)", col.version.Major, col.version.Minor, col.Key.kernelArch())
			}
		}
		if !hasSince {
			continue
		}
		newEnough := col.version.Compare(since) >= 0
		switch {
		case works && !newEnough:
			backport = append(backport, fmt.Sprintf("works on %s (%s), older than upstream %s: a backport", col.Key.kernelArch(), col.version, row.Since))
		case !works && newEnough && cells[0].Status == Unsupported:
			why := cells[0].Reason
			if why == "" {
				why = firstLine(cells[0].Evidence, 120)
			}
			missing = append(missing, fmt.Sprintf("unsupported on %s (%s), although upstream has it since %s: %s", col.Key.String(), col.version, row.Since, why))
		}
	}
	row.Mismatch = strings.Join(append(backport, missing...), "\n")
}

// ByKind reorders the columns the way a reader compares them: the kernels'
// VMs first (by version, each kernel's architectures side by side), then
// the host, then the restricted environments (container profiles, BPF
// tokens), each kind in version order. The rows' cells follow their
// columns. NewGrid keeps the version order, where a kernel's environments
// stand beside it.
func (g *Grid) ByKind() {
	perm := make([]int, len(g.Columns))
	for i := range perm {
		perm[i] = i
	}
	// vm, host, podman profiles, then BPF tokens and the rest.
	rank := func(target string) int {
		switch r := targetRank(target); {
		case r < 2:
			return r
		case strings.HasPrefix(target, "container/"):
			return 2
		}
		return 3
	}
	sort.SliceStable(perm, func(a, b int) bool {
		return rank(g.Columns[perm[a]].Key.Target) < rank(g.Columns[perm[b]].Key.Target)
	})
	cols := make([]Column, len(perm))
	for i, ci := range perm {
		cols[i] = g.Columns[ci]
	}
	g.Columns = cols
	for gi := range g.Groups {
		for ri := range g.Groups[gi].Rows {
			row := &g.Groups[gi].Rows[ri]
			cells := make([][]Cell, len(perm))
			for i, ci := range perm {
				cells[i] = row.Cells[ci]
			}
			row.Cells = cells
		}
	}
}

// KernelKinds returns the columns of the kernels' own targets, one set per
// target and architecture ("vm", "arm64 vm", "host"), in column order: a
// kernel is compared with kernels that run the same way on the same
// architecture, never with a restricted environment.
func (g *Grid) KernelKinds() [][]int {
	index := map[RunKey]int{}
	var kinds [][]int
	for ci := range g.Columns {
		col := &g.Columns[ci]
		if !col.OwnTarget() {
			continue
		}
		kind := RunKey{Arch: col.Key.Arch, Target: col.Key.Target}
		i, ok := index[kind]
		if !ok {
			i = len(kinds)
			index[kind] = i
			kinds = append(kinds, nil)
		}
		kinds[i] = append(kinds[i], ci)
	}
	return kinds
}

// DiffersAmongKinds reports whether the row differs among the columns of
// any one of kinds (as KernelKinds returns them).
func (row *Row) DiffersAmongKinds(kinds [][]int) bool {
	for _, cols := range kinds {
		if row.DiffersAmong(cols) {
			return true
		}
	}
	return false
}
