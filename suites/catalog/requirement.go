package catalog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Requirement is a condition on the running kernel beyond its version.
type Requirement interface {
	// Unmet returns how the kernel fails the requirement, or nil if it
	// meets it. A requirement whose fact could not be read misses with
	// status Unknown: an unknown fact never predicts a refusal.
	Unmet(k *Kernel) *Miss
}

// absent is the miss of something the kernel does not have.
func absent(format string, args ...any) *Miss { return &Miss{Reason: fmt.Sprintf(format, args...)} }

// unknown is the miss of a fact that could not be read.
func unknown(format string, args ...any) *Miss {
	return &Miss{Reason: fmt.Sprintf(format, args...), Status: reports.Unknown}
}

// Config requires every named CONFIG option to be built in or a module.
func Config(names ...string) Requirement { return configNeed{all: names} }

// AnyConfig requires at least one of the named CONFIG options.
func AnyConfig(names ...string) Requirement { return configNeed{any: names} }

type configNeed struct{ all, any []string }

func (n configNeed) Unmet(k *Kernel) *Miss {
	if k.Config == nil {
		return unknown("the kernel's config could not be read, and the feature needs %s", strings.Join(append(n.all, n.any...), ", "))
	}
	for _, name := range n.all {
		if v := k.Config[name]; v != "y" && v != "m" {
			return absent("%s is not set", name)
		}
	}
	if len(n.any) == 0 {
		return nil
	}
	for _, name := range n.any {
		if v := k.Config[name]; v == "y" || v == "m" {
			return nil
		}
	}
	return absent("none of %s is set", strings.Join(n.any, ", "))
}

// Module requires the kernel module name, the one CONFIG option builds:
// built in, or loaded with its BTF (/sys/kernel/btf/<name>, which needs
// CONFIG_DEBUG_INFO_BTF_MODULES, 5.11), since a module's kfuncs are in its
// own BTF. A module that is not loaded skips the cell at setup, where the
// spec finds no BTF of it: the kernel has the feature, the machine did not
// load it. Without the config, a module that is not listed may be built in
// or not loaded: the outcome is unknown.
func Module(name, config string) Requirement { return moduleNeed{name, config} }

type moduleNeed struct{ name, config string }

func (n moduleNeed) Unmet(k *Kernel) *Miss {
	value, known := k.ConfigValue(n.config)
	switch {
	case known && value == "y":
		return nil
	case known && value != "m":
		return absent("%s is not set", n.config)
	case known && k.Config["CONFIG_DEBUG_INFO_BTF_MODULES"] != "y":
		return absent("%s is a module (%s=m), and modules have no BTF: CONFIG_DEBUG_INFO_BTF_MODULES is not set", n.name, n.config)
	case k.BTFModules == nil:
		return unknown("the modules with BTF could not be listed (/sys/kernel/btf), and the feature needs %s", n.name)
	case slices.Contains(k.BTFModules, n.name):
		return nil
	case !known:
		return unknown("the kernel's config could not be read, and %s is no module with BTF here (no /sys/kernel/btf/%s): it may be built in (%s=y) or not loaded", n.name, n.name, n.config)
	}
	return &Miss{Reason: fmt.Sprintf("%s is a module (%s=%s) that is not loaded: no /sys/kernel/btf/%s", n.name, n.config, value, n.name),
		Status: reports.Skipped, Stage: reports.StageSetup}
}

// ActiveLSM requires name in /sys/kernel/security/lsm: a BPF LSM program
// loads and attaches without it, but never runs, so the cell ends at
// observe, where its counter stays at zero.
func ActiveLSM(name string) Requirement { return lsmNeed(name) }

type lsmNeed string

func (n lsmNeed) Unmet(k *Kernel) *Miss {
	switch {
	case k.LSMs == nil:
		return unknown("the active LSM list could not be read (no securityfs)")
	case k.HasLSM(string(n)):
		return nil
	}
	return &Miss{Reason: fmt.Sprintf("%q is not in the active LSM list (%s); boot with lsm=...,%s", string(n), strings.Join(k.LSMs, ","), string(n)),
		Stage: reports.StageObserve, Errnos: []string{}}
}

// TracefsMounted requires tracefs, at /sys/kernel/tracing or under debugfs:
// the harness mounts it where it may, but a container without the mount or
// the right to make one has none. That is the environment's refusal: the
// cell is Blocked at setup.
func TracefsMounted() Requirement { return tracefsNeed{} }

type tracefsNeed struct{}

func (tracefsNeed) Unmet(k *Kernel) *Miss {
	if k.Tracefs != "" {
		return nil
	}
	return &Miss{Reason: "tracefs is mounted neither at /sys/kernel/tracing nor under debugfs, and the suite could not mount it",
		Status: reports.Blocked, Stage: reports.StageSetup}
}

// Trampolines requires that the kernel lets this process load BPF
// trampoline programs (fentry, fexit, fmod_ret, freplace, LSM), as every
// kernel that has them does for a privileged process. The project's hosts
// run a kernel with a vendor patch (its switch: kernel.init_private=1)
// whose check at the top of bpf_prog_load refuses them with EPERM, before
// the verifier, to every process but init (tgid 1); its disassembly and
// the probes that show it are in docs/facts.md#host-trampolines.
func Trampolines() Requirement { return trampolineNeed{} }

type trampolineNeed struct{}

func (trampolineNeed) Unmet(k *Kernel) *Miss {
	if k.Trampolines == "" {
		return nil
	}
	why := k.Trampolines
	if k.InitPrivate == "1" {
		why += "; kernel.init_private=1: this kernel restricts trampoline programs and dynamic ftrace to init (tgid 1)"
	}
	return &Miss{Reason: why, Stage: reports.StageLoad, Errnos: []string{"EPERM"}}
}

// ArchSince requires Linux since or later where the kernel runs on arch:
// what one architecture's port got later than the feature itself (its JIT,
// its trampolines), an upstream fact like Since, why saying what came
// then. A kernel before it refuses with one of errnos, the port's "not
// supported" alone (ENOTSUPP; cilium/ebpf's ErrNotSupported where it
// keeps no errno), never with the errnos of a kernel that lacks the
// feature itself.
func ArchSince(arch, since, why string, errnos ...string) Requirement {
	return archNeed{arch, since, why, errnos}
}

type archNeed struct {
	arch, since, why string
	errnos           []string
}

func (n archNeed) Unmet(k *Kernel) *Miss {
	if k.Arch != n.arch || !before(k, n.since) {
		return nil
	}
	m := absent("on %s it needs Linux >= %s (%s; running %s)", n.arch, n.since, n.why, k.Version.Full())
	m.Errnos = n.errnos
	return m
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

func (n backportNeed) Unmet(k *Kernel) *Miss {
	if !before(k, n.mainline) {
		return nil
	}
	for _, s := range n.stable {
		v, _ := kversion.Parse(s)
		if k.Version.Major == v.Major && k.Version.Minor == v.Minor {
			if k.Version.AtLeast(v) {
				return nil
			}
			return absent("needs Linux >= %s, or %s where it was backported (running %s)", n.mainline, s, k.Version.Full())
		}
	}
	return absent("needs Linux >= %s (backported only to %s; running %s)", n.mainline, strings.Join(n.stable, ", "), k.Version.Full())
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

func (n lockdownNeed) Unmet(k *Kernel) *Miss {
	if k.Lockdown == "" {
		return unknown("the lockdown mode could not be read (no securityfs)")
	}
	if before(k, n.since) {
		return nil
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
		return nil
	}
	return absent("lockdown is %q, and from %s on the verifier refuses this helper from lockdown %s up", k.Lockdown, n.since, strings.ToLower(n.level))
}
