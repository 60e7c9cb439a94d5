package catalog

import (
	"fmt"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
)

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

// Backported requires Linux mainline or later, or a stable kernel at or
// above one of the "major.minor.patch" releases that backported the
// feature. The row's Since is then the oldest stable series, so that the
// version check leaves the decision to the patch level.
func Backported(mainline string, stable ...string) Requirement {
	return backportNeed{mainline: mainline, stable: stable}
}

type backportNeed struct {
	mainline string
	stable   []string
}

func (n backportNeed) Unmet(k *Kernel) string {
	if !before(k, n.mainline) {
		return ""
	}
	for _, s := range n.stable {
		v, _ := kversion.Parse(s)
		if k.Version.Major == v.Major && k.Version.Minor == v.Minor {
			if k.Version.AtLeast(v) {
				return ""
			}
			return fmt.Sprintf("needs Linux >= %s, or %s where it was backported (running %s)", n.mainline, s, k.Version.Full())
		}
	}
	return fmt.Sprintf("needs Linux >= %s (backported only to %s; running %s)", n.mainline, strings.Join(n.stable, ", "), k.Version.Full())
}

// lockdownLevels are the modes of /sys/kernel/security/lockdown, weakest first.
var lockdownLevels = []string{"none", "integrity", "confidentiality"}

// LockdownBelow requires the kernel's lockdown mode to be weaker than level
// on kernels from version since on: the lockdown LSM makes the verifier
// refuse some helpers ("unknown func") at or above a level, and which level
// guards a helper changed over time (bpf_probe_write_user joined the
// integrity level in 5.14).
func LockdownBelow(level, since string) Requirement {
	return lockdownNeed{level: level, since: since}
}

type lockdownNeed struct{ level, since string }

func (n lockdownNeed) Unmet(k *Kernel) string {
	if k.Lockdown == "" {
		return ""
	}
	if before(k, n.since) {
		return ""
	}
	rank := func(level string) int {
		for i, l := range lockdownLevels {
			if l == level {
				return i
			}
		}
		return -1
	}
	if rank(k.Lockdown) < rank(n.level) {
		return ""
	}
	return fmt.Sprintf("lockdown is %q, and from %s on the verifier refuses this helper from lockdown %s up", k.Lockdown, n.since, strings.ToLower(n.level))
}
