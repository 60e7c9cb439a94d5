package catalog

import (
	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Kernel is what the catalog knows about the running kernel: enough to
// predict each feature's status and to explain it.
type Kernel struct {
	Release string
	// Arch is the kernel's architecture (GOARCH): "amd64", "arm64"; ""
	// in a test's literal, which no architecture's requirement refuses.
	Arch string
	// Version is the upstream version, patch level included.
	Version kversion.Version
	// Config maps CONFIG_* names to their value ("y", "m", a string); nil
	// when no config could be found, in which case config needs are unknown.
	Config       map[string]string
	ConfigSource string
	BTF          bool
	Tracefs      string
	// FunctionTracer is "" when the kernel lets this process read ftrace's
	// function list, else the error it gave: BPF trampolines (fentry, fexit,
	// fmod_ret, LSM) attach through ftrace.
	FunctionTracer string
	// Trampolines is "" when a trampoline program (fentry) without a target
	// reaches the verifier, as on every kernel that has the type, else what
	// refused it before the verifier. InitPrivate is kernel.init_private,
	// the switch of a vendor patch that restricts trampolines and dynamic
	// ftrace to init (tgid 1); "" where the sysctl does not exist.
	Trampolines, InitPrivate string
	LSMs                     []string
	// BTFModules are the loaded modules that have BTF (/sys/kernel/btf but
	// vmlinux): where a module's kfuncs are. nil where it was not listed.
	BTFModules []string
	Lockdown   string
	// Privileges are the suite process's own: capabilities, seccomp, user
	// namespace, kernel.unprivileged_bpf_disabled.
	Privileges
	// Token is the BPF token the process can hold, if any.
	Token Token
}

// ConfigValue returns the value of a CONFIG_ option and whether the config
// is known at all. An unset option in a known config returns ("", true).
func (k *Kernel) ConfigValue(name string) (value string, known bool) {
	if k.Config == nil {
		return "", false
	}
	return k.Config[name], true
}

// HasLSM reports whether name is in the active LSM list.
func (k *Kernel) HasLSM(name string) bool {
	for _, l := range k.LSMs {
		if l == name {
			return true
		}
	}
	return false
}

// Facts converts k to the report's plain type.
func (k *Kernel) Facts() reports.Kernel {
	return reports.Kernel{
		Release:         k.Release,
		Arch:            k.Arch,
		Version:         k.Version.Full(),
		ConfigSource:    k.ConfigSource,
		BTF:             k.BTF,
		Tracefs:         k.Tracefs,
		FunctionTracer:  orOK(k.FunctionTracer),
		Trampolines:     orOK(k.Trampolines),
		InitPrivate:     k.InitPrivate,
		Token:           k.tokenFact(),
		LSMs:            k.LSMs,
		Lockdown:        k.Lockdown,
		UnprivilegedBPF: k.UnprivilegedBPF,
		Seccomp:         k.Seccomp,
		CapEff:          k.CapEff,
	}
}

func orOK(problem string) string {
	if problem == "" {
		return "ok"
	}
	return problem
}

// tokenFact is the token for the report's facts: "" where the process
// holds none, as outside a user namespace.
func (k *Kernel) tokenFact() string {
	if !k.Token.Held() {
		return ""
	}
	return k.Token.String()
}
