package reports

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// RunKey identifies a column of the matrix: one kernel of one architecture
// on one target. Runs with the same key in different reports are the same
// column; a 6.12 amd64 vm and a 6.12 arm64 vm are two.
type RunKey struct {
	Kernel string // Kernel.Name
	Arch   string // Run.Arch: never empty
	Target string
}

// kernelArch names the kernel of k as String does, without the target:
// "6.12", "6.12 arm64".
func (k RunKey) kernelArch() string {
	return strings.TrimSuffix(k.String(), " "+k.Target)
}

// DefaultArch is the architecture of a run whose kernel names none: reports
// before schema 4, host runs included, all ran on amd64.
const DefaultArch = "amd64"

// CompareArch orders architectures as reports show them: DefaultArch
// first, the others by name.
func CompareArch(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == DefaultArch:
		return -1
	case b == DefaultArch:
		return 1
	}
	return strings.Compare(a, b)
}

// Arch is the architecture of the run's kernel: Kernel.Arch, DefaultArch
// when it is empty.
func (run *Run) Arch() string {
	if run.Kernel.Arch == "" {
		return DefaultArch
	}
	return run.Kernel.Arch
}

// Key returns the column run belongs to.
func (run *Run) Key() RunKey { return RunKey{run.Kernel.Name, run.Arch(), run.Target} }

// String formats k as reports label columns: "kernel target", with the
// architecture between them when it is not DefaultArch ("6.12 vm",
// "6.12 arm64 vm"), so the amd64 columns read as they did before schema 4.
func (k RunKey) String() string {
	if k.Arch == "" || k.Arch == DefaultArch {
		return k.Kernel + " " + k.Target
	}
	return k.Kernel + " " + k.Arch + " " + k.Target
}

// Merge combines reports, typically the shards of a CI matrix (one job per
// kernel, or per label filter), into one.
//
// Runs with the same RunKey become one run holding the cells of all of them.
// Every cell is kept: only a cell identical to one already merged is dropped,
// so merging a shard twice changes nothing, and the same feature seen twice
// with different statuses stays as two cells, a conflict a renderer shows
// (see Conflicts). Merge is associative: Merge(Merge(a, b), c) equals
// Merge(a, Merge(b, c)), so CI can merge shards in any grouping. Inputs are
// not modified.
func Merge(reps ...*Report) *Report {
	out := &Report{Schema: SchemaVersion}
	index := map[RunKey]int{}
	seen := map[RunKey]map[cellKey]bool{}
	for _, r := range reps {
		if r == nil {
			continue
		}
		out.Tool = joinDistinct(out.Tool, r.Tool)
		out.Host = joinDistinct(out.Host, r.Host)
		if r.Generated.After(out.Generated) {
			out.Generated = r.Generated
		}
		for _, run := range r.Runs {
			key := run.Key()
			i, ok := index[key]
			if !ok {
				index[key] = len(out.Runs)
				seen[key] = map[cellKey]bool{}
				merged := run
				merged.Kernel.LSMs = append([]string(nil), run.Kernel.LSMs...)
				merged.Files = slices.Clone(run.Files)
				merged.Cells = nil
				out.Runs = append(out.Runs, merged)
				i = len(out.Runs) - 1
			} else {
				mergeRun(&out.Runs[i], &run)
			}
			for _, c := range run.Cells {
				if k := keyOf(c); !seen[key][k] {
					seen[key][k] = true
					out.Runs[i].Cells = append(out.Runs[i].Cells, c)
				}
			}
		}
	}
	if out.Runs == nil {
		out.Runs = []Run{}
	}
	return out
}

// cellKey is what makes two cells the same one: every field, the object's
// by value. Its pointer would make one cell read from two shard files two
// cells.
type cellKey struct {
	cell   Cell
	object string
}

func keyOf(c Cell) cellKey {
	k := cellKey{cell: c}
	if c.Object != nil {
		k.cell.Object = nil
		// An Object always marshals: plain strings, numbers and slices.
		data, _ := json.Marshal(c.Object)
		k.object = string(data)
	}
	return k
}

// mergeRun folds the metadata of b into a (same key). Each rule is
// associative: the first run that knows the kernel's facts wins, the worst
// status wins (the first of equals), and the time span covers both.
func mergeRun(a, b *Run) {
	if a.Kernel.Release == "" && b.Kernel.Release != "" {
		a.Kernel = b.Kernel
		a.Kernel.LSMs = append([]string(nil), b.Kernel.LSMs...)
	}
	if runSeverity(b.Status) > runSeverity(a.Status) {
		a.Status, a.Detail = b.Status, b.Detail
	}
	if !b.Start.IsZero() && (a.Start.IsZero() || b.Start.Before(a.Start)) {
		a.Start = b.Start
	}
	if b.End.After(a.End) {
		a.End = b.End
	}
	a.Files = mergeFiles(a.Files, b.Files)
	if !a.Start.IsZero() && !a.End.IsZero() {
		a.WallTime = a.End.Sub(a.Start).Seconds()
	} else if b.WallTime > a.WallTime {
		a.WallTime = b.WallTime
	}
}

// runSeverity orders run statuses so merging keeps the one that says most
// about what went wrong. Unknown statuses rank between ok and error.
func runSeverity(status string) int {
	switch status {
	case "ok":
		return 0
	case "error":
		return 2
	case "timeout":
		return 3
	case "panic":
		return 4
	}
	return 1
}

// joinDistinct adds the comma-separated items of b to a, skipping those a
// already lists: hosts and tool versions of shards, each named once.
func joinDistinct(a, b string) string {
	items := splitItems(a)
	have := map[string]bool{}
	for _, it := range items {
		have[it] = true
	}
	for _, it := range splitItems(b) {
		if !have[it] {
			have[it] = true
			items = append(items, it)
		}
	}
	return strings.Join(items, ", ")
}

func splitItems(s string) []string {
	var out []string
	for _, it := range strings.Split(s, ",") {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// Conflict is one feature of one column that was recorded more than once
// with different statuses, as merging shards that both ran it can produce.
type Conflict struct {
	Run     RunKey
	Feature string
	Cells   []Cell
}

// Conflicts lists every conflict in r, in run and cell order.
func (r *Report) Conflicts() []Conflict {
	var out []Conflict
	for _, run := range r.Runs {
		byFeature := map[string][]Cell{}
		var order []string
		for _, c := range run.Cells {
			if byFeature[c.Feature] == nil {
				order = append(order, c.Feature)
			}
			byFeature[c.Feature] = append(byFeature[c.Feature], c)
		}
		for _, f := range order {
			if cells := byFeature[f]; distinctStatuses(cells) > 1 {
				out = append(out, Conflict{Run: run.Key(), Feature: f, Cells: cells})
			}
		}
	}
	return out
}

func distinctStatuses(cells []Cell) int {
	seen := map[Status]bool{}
	for _, c := range cells {
		seen[c.Status] = true
	}
	return len(seen)
}

// span returns the earliest start and latest end of r's runs: how long the
// matrix took, even when merged from shards that ran side by side.
func (r *Report) span() (start, end time.Time) {
	for _, run := range r.Runs {
		if run.CachedFrom != nil {
			continue // its times are those of the run it reuses
		}
		if !run.Start.IsZero() && (start.IsZero() || run.Start.Before(start)) {
			start = run.Start
		}
		if run.End.After(end) {
			end = run.End
		}
	}
	return start, end
}

// Elapsed is the time from the first run's start to the last run's end,
// of the runs that ran for this report: a run reused from the run cache
// ran earlier, maybe days before.
func (r *Report) Elapsed() time.Duration {
	start, end := r.span()
	if start.IsZero() || end.Before(start) {
		return 0
	}
	return end.Sub(start)
}

// Reused counts the runs of r reused from the run cache (Run.CachedFrom).
func (r *Report) Reused() int {
	n := 0
	for _, run := range r.Runs {
		if run.CachedFrom != nil {
			n++
		}
	}
	return n
}
