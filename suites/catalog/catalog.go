// Package catalog is the feature catalog's model: what a row says of an
// eBPF feature the suites prove (what it is, the upstream version that added
// it, what else a kernel must have), the facts of a kernel, and the rules
// that predict each feature's cell from them: status, stage and errnos
// (Expect). The rows themselves are package rows; catalog/detect reads the
// running kernel's facts. It is data and rules only: no spec runs here, and
// the package tests are plain tables.
//
// IDs are kind/name. The kinds prog/, map/ and helper/ follow bpftool's names
// (`bpftool feature list_builtins`), misc/ follows bpftool's misc probe names
// (have_bounded_loops is misc/bounded_loops) and asks only whether the
// kernel accepts an object; attach/ follows libbpf's SEC() names
// (kprobe.multi) and proves that the attachment fires on an event the spec
// caused. So misc/kprobe_multi (the kernel creates a kprobe_multi link) and
// attach/kprobe.multi (the link fires) are two questions a kernel can answer
// differently.
package catalog

import (
	"sort"

	"github.com/cilium/ebpf"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Area groups features in reports and Ginkgo labels.
type Area string

// The areas of the catalog, one suites/ package each (suites/leaks is
// Suite's).
const (
	Features   Area = "features"
	Tracing    Area = "tracing"
	Networking Area = "networking"
	Security   Area = "security"
	// Kfuncs are kernel functions programs call (kfunc/<program
	// type>/<kfunc>), from the watch list of internal/kfuncs.
	Kfuncs Area = "kfuncs"
	// ProbePoints is not a feature of eBPF but what a kernel offers it to
	// hook, and whether the layouts tools read hold.
	ProbePoints Area = "probepoints"
	// Faults are specs that break the kernel on purpose, to prove the runner
	// keeps every cell streamed before a crash. The harness labels their
	// specs contract.CrashLabel, which default plans leave out.
	Faults Area = "faults"
	// Objects are the programs of users' own objects: rows the suite makes
	// from each object and its manifest, never registered here.
	Objects Area = reports.AreaObjects
	// Suite holds checks on the suite itself rather than on a kernel
	// feature: its leak check.
	Suite Area = "suite"
)

// Feature is one row of the catalog: what a feature is, and what a kernel
// needs for it to work. Specs prove the feature; the row predicts the result.
type Feature struct {
	// ID names the feature: "prog/kprobe", "map/ringbuf",
	// "helper/xdp/bpf_redirect", "attach/fentry".
	ID   string
	Area Area
	// Prog, Attach and Map describe the kernel object involved, when one is.
	Prog   ebpf.ProgramType
	Attach ebpf.AttachType
	Map    ebpf.MapType
	// Since is the upstream kernel version that introduced the feature.
	Since string
	// Needs lists what else the kernel must have: CONFIG options, an active
	// LSM. Each one that is unmet makes the feature expected unsupported (or
	// blocked, for what the environment refuses).
	Needs []Requirement
	// At is where a kernel that lacks the feature first refuses it, when
	// that is not where FailStage puts features of its kind.
	At reports.Stage
	// Doc is one line saying what the spec does.
	Doc string
	// Judge, for a row the catalog does not own (a user's program, whose
	// claims come from its manifest), turns the catalog's prediction into
	// the cell's expectation.
	Judge func(k *Kernel, predicted Expectation) Expectation
}

var rows = map[string]*Feature{}

// Register adds rows to the catalog; package rows calls it for every row.
func Register(fs ...Feature) {
	for i := range fs {
		f := fs[i]
		if _, dup := rows[f.ID]; dup {
			panic("catalog: feature " + f.ID + " registered twice")
		}
		rows[f.ID] = &f
	}
}

// Lookup returns the row of id.
func Lookup(id string) (*Feature, bool) {
	f, ok := rows[id]
	return f, ok
}

// All returns every row, sorted by ID.
func All() []*Feature {
	all := make([]*Feature, 0, len(rows))
	for _, f := range rows {
		all = append(all, f)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return all
}
