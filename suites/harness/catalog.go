package harness

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Area groups features in reports and Ginkgo labels.
type Area string

// The areas of the catalog, one suites/ package each.
const (
	Features   Area = "features"
	Tracing    Area = "tracing"
	Networking Area = "networking"
	Security   Area = "security"
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
	// LSM. Each one that is unmet makes the feature expected unsupported.
	Needs []Requirement
	// Doc is one line saying what the spec does.
	Doc string
}

// Requirement is a condition on the running kernel beyond its version.
type Requirement interface {
	// Unmet returns why the kernel fails the requirement, or "" if it meets
	// it or cannot tell.
	Unmet(k *Kernel) string
}

// Config requires every named CONFIG option to be built in or a module.
func Config(names ...string) Requirement { return configNeed{all: names} }

// AnyConfig requires at least one of the named CONFIG options.
func AnyConfig(names ...string) Requirement { return configNeed{any: names} }

type configNeed struct{ all, any []string }

func (n configNeed) Unmet(k *Kernel) string {
	if k.Config == nil {
		return ""
	}
	for _, name := range n.all {
		if v := k.Config[name]; v != "y" && v != "m" {
			return name + " is not set"
		}
	}
	if len(n.any) == 0 {
		return ""
	}
	for _, name := range n.any {
		if v := k.Config[name]; v == "y" || v == "m" {
			return ""
		}
	}
	return "none of " + strings.Join(n.any, ", ") + " is set"
}

// ActiveLSM requires name in /sys/kernel/security/lsm: a BPF LSM program
// loads and attaches without it, but never runs.
func ActiveLSM(name string) Requirement { return lsmNeed(name) }

type lsmNeed string

func (n lsmNeed) Unmet(k *Kernel) string {
	if k.LSMs == nil || k.HasLSM(string(n)) {
		return ""
	}
	return fmt.Sprintf("%q is not in the active LSM list (%s); boot with lsm=...,%s", string(n), strings.Join(k.LSMs, ","), string(n))
}

// TracefsMounted requires tracefs, at /sys/kernel/tracing or under debugfs:
// the harness mounts it where it may, but a container without the mount or
// the right to make one has none.
func TracefsMounted() Requirement { return tracefsNeed{} }

type tracefsNeed struct{}

func (tracefsNeed) Unmet(k *Kernel) string {
	if k.Tracefs != "" {
		return ""
	}
	return "tracefs is mounted neither at /sys/kernel/tracing nor under debugfs, and the suite could not mount it"
}

// FunctionTracer requires ftrace's function tracer to be usable by this
// process. BPF trampolines (fentry, fexit, fmod_ret, LSM) are registered as
// ftrace direct calls, and a kernel can build ftrace in and still refuse
// it. Measured on the project's hosts (6.18, lockdown=integrity): where the
// function list is refused, loading any program that needs a trampoline,
// freplace included, fails with EPERM and an empty verifier log, while
// tp_btf, iterators and struct_ops load. Which check in the kernel refuses
// was not pinned down; the evidence says so.
func FunctionTracer() Requirement { return ftraceNeed{} }

type ftraceNeed struct{}

func (ftraceNeed) Unmet(k *Kernel) string {
	if k.FunctionTracer == "" {
		return ""
	}
	why := "ftrace's function tracer is refused to this process (" + k.FunctionTracer
	if k.Lockdown != "" && k.Lockdown != "none" {
		why += "; lockdown=" + k.Lockdown
	}
	return why + "); kernels that refuse it were measured to refuse BPF trampoline programs too"
}

var catalog = map[string]*Feature{}

// register adds rows to the catalog; it is called from the catalog_*.go files.
func register(rows ...Feature) {
	for i := range rows {
		f := rows[i]
		if _, dup := catalog[f.ID]; dup {
			panic("harness: feature " + f.ID + " registered twice")
		}
		catalog[f.ID] = &f
	}
}

// Lookup returns the catalog row of id.
func Lookup(id string) (*Feature, bool) {
	f, ok := catalog[id]
	return f, ok
}

// Catalog returns every row, sorted by ID.
func Catalog() []*Feature {
	rows := make([]*Feature, 0, len(catalog))
	for _, f := range catalog {
		rows = append(rows, f)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	return rows
}

// Expect predicts a feature's status on k and says why.
func (f *Feature) Expect(k *Kernel) (expected reports.Status, reason string) {
	if major, minor, ok := splitVersion(f.Since); ok && !k.AtLeast(major, minor) {
		return reports.Unsupported, fmt.Sprintf("needs Linux >= %s (running %s)", f.Since, k.Version())
	}
	var unmet []string
	// Privileged first: where bpf(2) itself is refused, that is the reason.
	for _, need := range append([]Requirement{Privileged(f)}, f.Needs...) {
		if why := need.Unmet(k); why != "" {
			unmet = append(unmet, why)
		}
	}
	if len(unmet) > 0 {
		return reports.Unsupported, strings.Join(unmet, "; ")
	}
	return reports.Supported, ""
}

func splitVersion(v string) (major, minor int, ok bool) {
	a, b, found := strings.Cut(v, ".")
	if !found {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	return major, minor, err1 == nil && err2 == nil
}
