package catalog

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Privileges are what the suite's process may do beyond what the kernel
// supports: a container's capabilities, seccomp filter and user namespace
// take eBPF away with the same errno, EPERM, that the kernel uses.
type Privileges struct {
	// Seccomp is the mode from /proc/self/status: "0" none, "2" a filter.
	Seccomp string
	// CapEff is the effective capability set, as hex in /proc/self/status.
	CapEff string
	// UserNS is the uid_map when the process runs in a user namespace
	// other than the initial one, whose capabilities bpf(2) ignores.
	UserNS string
	// BPFGate and PerfGate are what bpf(2) and perf_event_open(2) return
	// when called with a NULL attribute pointer: the kernel reads the
	// attributes first and answers EFAULT, so EPERM means a seccomp filter
	// refused the syscall before the kernel saw it.
	BPFGate, PerfGate unix.Errno
	// UnprivilegedBPF is kernel.unprivileged_bpf_disabled.
	UnprivilegedBPF string
}

// filtered reports whether a seccomp filter is active.
func (p Privileges) filtered() bool { return p.Seccomp != "" && p.Seccomp != "0" }

// SeccompRefuses reports whether the seccomp filter refuses syscall
// ("bpf" or "perf_event_open"), as the NULL-attribute probe showed.
func (p Privileges) SeccompRefuses(syscall string) bool {
	gate := p.BPFGate
	if syscall == "perf_event_open" {
		gate = p.PerfGate
	}
	return p.filtered() && gate == unix.EPERM
}

// Layer explains an EPERM: whether the seccomp filter refused it before the
// kernel saw it, or the kernel did. The probes tell the two apart per
// syscall; when the filter refuses one of bpf(2) and perf_event_open(2) and
// admits the other, the layer depends on which call failed, and the text
// says so rather than guess.
func (p Privileges) Layer() string {
	caps := "CapEff=" + p.CapEff
	if p.UserNS != "" {
		caps += " in a user namespace (uid_map " + p.UserNS + "), which bpf(2) does not honour"
	}
	if !p.filtered() {
		return fmt.Sprintf("(no seccomp filter, %s: the kernel refused)", caps)
	}
	bpf, perf := p.SeccompRefuses("bpf"), p.SeccompRefuses("perf_event_open")
	switch {
	case bpf && perf:
		also := ""
		if why := p.kernelRefusesBPF(); why != "" {
			also = "; the kernel would refuse bpf(2) too: " + why
		}
		return fmt.Sprintf("(seccomp filter active, %s: the seccomp profile refused; it returns EPERM for bpf(2) and perf_event_open(2) before the kernel reads their arguments%s)", caps, also)
	case !bpf && !perf:
		return fmt.Sprintf("(seccomp filter active but it admits bpf(2) and perf_event_open(2), %s: the kernel refused)", caps)
	case bpf:
		return fmt.Sprintf("(seccomp filter active, %s: it refuses bpf(2) but admits perf_event_open(2): the seccomp profile refused if this was bpf(2), the kernel otherwise)", caps)
	default:
		return fmt.Sprintf("(seccomp filter active, %s: it refuses perf_event_open(2) but admits bpf(2): the seccomp profile refused if this was perf_event_open(2), the kernel otherwise)", caps)
	}
}

// Capability bits of linux/capability.h that eBPF checks.
const (
	capNetAdmin = 12
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

var capNames = map[int]string{capNetAdmin: "CAP_NET_ADMIN", capSysAdmin: "CAP_SYS_ADMIN", capPerfmon: "CAP_PERFMON", capBPF: "CAP_BPF"}

// has reports whether the process holds capability c where bpf(2) looks
// for it, the initial user namespace. An unreadable CapEff counts as held,
// so that an unknown fact never predicts a refusal.
func (p Privileges) has(c int) bool {
	return p.UserNS == "" && p.hasInOwnNS(c)
}

// hasInOwnNS reports whether the process holds c in its own user namespace,
// which is what namespace operations such as unshare(CLONE_NEWNET) check.
func (p Privileges) hasInOwnNS(c int) bool {
	set, err := strconv.ParseUint(p.CapEff, 16, 64)
	return err != nil || set&(1<<c) != 0
}

// capable is the kernel's bpf_token_capable: c, or CAP_SYS_ADMIN instead.
func (p Privileges) capable(c int) bool { return p.has(c) || p.has(capSysAdmin) }

func (p Privileges) lacks(c int) string {
	where := ""
	if p.UserNS != "" {
		where = " in the initial user namespace (the suite runs in one with uid_map " + p.UserNS + ")"
	}
	if c == capSysAdmin {
		return fmt.Sprintf("CapEff=%s lacks CAP_SYS_ADMIN%s", p.CapEff, where)
	}
	return fmt.Sprintf("CapEff=%s has neither %s nor CAP_SYS_ADMIN%s", p.CapEff, capNames[c], where)
}

// kernelRefusesBPF says why the kernel refuses every bpf(2) object
// creation of this process, or "" if it does not.
func (p Privileges) kernelRefusesBPF() string {
	if p.capable(capBPF) || p.UnprivilegedBPF == "" || p.UnprivilegedBPF == "0" {
		return ""
	}
	return p.lacks(capBPF) + " and kernel.unprivileged_bpf_disabled=" + p.UnprivilegedBPF
}

// Privileged is the requirement every feature has: the process may use
// bpf(2) (and perf_event_open(2) where the feature attaches through it)
// with the capabilities the kernel checks for the feature's program and
// map type. Where the environment takes them away (a container's seccomp
// profile, capabilities, user namespace, or kernel.unprivileged_bpf_disabled)
// the cell is Blocked: the kernel's support is never asked.
func Privileged(f *Feature) Requirement {
	return privilegeCheck(func(p Privileges) *Miss { return privilegeNeed{f}.unmet(p) })
}

type privilegeNeed struct{ f *Feature }

// privilegeCheck is a requirement on the suite process's privileges: the
// func says what is missing, or nil. A Kernel not read from a running
// process (a test's literal) meets it.
type privilegeCheck func(Privileges) *Miss

func (check privilegeCheck) Unmet(k *Kernel) *Miss {
	if k.CapEff == "" {
		return nil
	}
	return check(k.Privileges)
}

// blocked is the miss of a privilege: the environment refuses at stage with
// EPERM or EACCES (or the errnos given). Which layer refused is the cell's
// to say (BlockedLayer): a spec may reach another refused privilege first.
func blocked(stage reports.Stage, reason string, errnos ...string) *Miss {
	if len(errnos) == 0 {
		errnos = []string{"EPERM", "EACCES"}
	}
	return &Miss{Reason: reason, Status: reports.Blocked, Stage: stage, Errnos: errnos}
}

// OwnNetNS is the requirement of a spec outside the networking area that
// builds its own network namespace (networking specs all have it).
func OwnNetNS() Requirement { return privilegeCheck(Privileges.netnsUnmet) }

func (p Privileges) netnsUnmet() *Miss {
	if p.hasInOwnNS(capSysAdmin) {
		return nil
	}
	return blocked(reports.StageSetup, fmt.Sprintf("the spec creates its own network namespace, and unshare(CLONE_NEWNET) needs CAP_SYS_ADMIN: CapEff=%s lacks it", p.CapEff))
}

// IterateObjects is the requirement of a spec that walks the kernel's BPF
// objects (BPF_LINK_GET_NEXT_ID and friends): the kernel admits that only
// with CAP_SYS_ADMIN in the initial user namespace.
func IterateObjects() Requirement {
	return privilegeCheck(func(p Privileges) *Miss {
		if p.has(capSysAdmin) {
			return nil
		}
		return blocked(reports.StageObserve, "walking BPF objects (BPF_LINK_GET_NEXT_ID) needs CAP_SYS_ADMIN: "+p.lacks(capSysAdmin))
	})
}

// capsLayer names what withholds a capability: a user namespace, whose
// capabilities bpf(2) does not honour, or the capability set itself.
func (p Privileges) capsLayer() string {
	if p.UserNS != "" {
		return "user namespace"
	}
	return "capabilities"
}

// Unrestricted reports whether nothing in the environment keeps the
// process from eBPF: no seccomp filter, the initial user namespace, and
// every capability the kernel checks. An EPERM such a process gets is the
// kernel's own rule, never a blocked environment.
func (p Privileges) Unrestricted() bool {
	return !p.filtered() && p.has(capSysAdmin) && p.has(capBPF) && p.has(capPerfmon) && p.has(capNetAdmin)
}

// RefusesBPF reports whether the environment refuses every bpf(2) object:
// then even cilium/ebpf's own feature probes fail, and the ErrNotSupported
// they report is the environment's refusal, not the kernel's answer.
func (p Privileges) RefusesBPF() bool {
	return p.SeccompRefuses("bpf") || p.kernelRefusesBPF() != ""
}

// BlockedLayer names the layer that refused an EPERM or EACCES of a
// restricted process, for the cells the catalog could not foresee.
func (p Privileges) BlockedLayer() string {
	switch {
	case p.SeccompRefuses("bpf") || p.SeccompRefuses("perf_event_open"):
		return "seccomp"
	case p.UserNS != "":
		// Capabilities there are the namespace's, which the kernel's eBPF
		// checks ignore (bar a BPF token's): the namespace is the layer.
		return "user namespace"
	case p.kernelRefusesBPF() != "":
		return "kernel.unprivileged_bpf_disabled"
	}
	return p.capsLayer()
}

func (n privilegeNeed) unmet(p Privileges) *Miss {
	f := n.f
	// Networking specs build their own network namespace first (netns.New).
	if f.Area == Networking {
		if m := p.netnsUnmet(); m != nil {
			return m
		}
	}
	// A row naming no program or map type makes no bpf(2) object: classic
	// socket filters go through setsockopt(2) alone.
	if f.Prog == ebpf.UnspecifiedProgram && f.Map == ebpf.UnspecifiedMap {
		return nil
	}
	// The first bpf(2) call of a spec creates its map (map rows) or loads
	// its program, maps and all, in one step.
	first := reports.StageLoad
	if strings.HasPrefix(f.ID, "map/") {
		first = reports.StageCreate
	}
	// Where every bpf(2) call is refused, cilium/ebpf's own feature probes
	// fail too and say ErrNotSupported ("BTF not supported") for EPERM.
	if p.SeccompRefuses("bpf") {
		return blocked(first, fmt.Sprintf("the seccomp filter refuses bpf(2) (Seccomp=%s; a probe call got EPERM before the kernel read its arguments)", p.Seccomp),
			"EPERM", ErrNotSupported)
	}
	if why := p.kernelRefusesBPF(); why != "" {
		return blocked(first, why, "EPERM", "EACCES", ErrNotSupported)
	}
	var unmet []string
	need := func(c int, what string) {
		if !p.capable(c) {
			unmet = append(unmet, what+" needs "+capNames[c]+" or CAP_SYS_ADMIN: "+p.lacks(c))
		}
	}
	if f.Prog != ebpf.UnspecifiedProgram && f.Prog != ebpf.SocketFilter && f.Prog != ebpf.CGroupSKB {
		need(capBPF, "program type "+f.Prog.String())
	}
	if perfmonProg[f.Prog] {
		need(capPerfmon, "program type "+f.Prog.String())
	}
	if netAdminProg[f.Prog] {
		need(capNetAdmin, "program type "+f.Prog.String())
	}
	if netAdminMap[f.Map] {
		need(capNetAdmin, "map type "+f.Map.String())
	}
	if len(unmet) > 0 {
		return blocked(first, strings.Join(unmet, "; "))
	}
	if perfEventAttach(f) && p.SeccompRefuses("perf_event_open") {
		return blocked(reports.StageAttach, fmt.Sprintf("it attaches through perf_event_open(2), which the seccomp filter refuses (Seccomp=%s)", p.Seccomp))
	}
	return nil
}

// perfmonProg and netAdminProg are the kernel's is_perfmon_prog_type and
// is_net_admin_prog_type (kernel/bpf/syscall.c): loading these program
// types needs CAP_PERFMON or CAP_NET_ADMIN besides CAP_BPF.
var perfmonProg = map[ebpf.ProgramType]bool{
	ebpf.Kprobe: true, ebpf.TracePoint: true, ebpf.PerfEvent: true, ebpf.RawTracepoint: true,
	ebpf.RawTracepointWritable: true, ebpf.Tracing: true, ebpf.LSM: true, ebpf.StructOps: true, ebpf.Extension: true,
}

var netAdminProg = map[ebpf.ProgramType]bool{
	ebpf.SchedCLS: true, ebpf.SchedACT: true, ebpf.XDP: true, ebpf.LWTIn: true, ebpf.LWTOut: true,
	ebpf.LWTXmit: true, ebpf.LWTSeg6Local: true, ebpf.SkSKB: true, ebpf.SkMsg: true, ebpf.FlowDissector: true,
	ebpf.CGroupDevice: true, ebpf.CGroupSock: true, ebpf.CGroupSockAddr: true, ebpf.CGroupSockopt: true,
	ebpf.CGroupSysctl: true, ebpf.SockOps: true, ebpf.Extension: true, ebpf.Netfilter: true,
}

// netAdminMap are the map types map_create admits only with CAP_NET_ADMIN.
var netAdminMap = map[ebpf.MapType]bool{
	ebpf.SockMap: true, ebpf.SockHash: true, ebpf.DevMap: true, ebpf.DevMapHash: true, ebpf.XSKMap: true,
}

// UprobePMU is the requirement of specs that open a uprobe perf event: the
// uprobe PMU of perf_event_open(2) answers EACCES without CAP_SYS_ADMIN, even
// with CAP_PERFMON (measured on 6.18).
func UprobePMU() Requirement { return privilegeCheck(Privileges.uprobePMUUnmet) }

func (p Privileges) uprobePMUUnmet() *Miss {
	if p.has(capSysAdmin) {
		return nil
	}
	return blocked(reports.StageAttach, "the uprobe PMU of perf_event_open(2) answers EACCES without CAP_SYS_ADMIN, even with CAP_PERFMON: "+p.lacks(capSysAdmin), "EACCES", "EPERM")
}

// perfEventAttach reports whether a feature's spec attaches through
// perf_event_open(2): kprobes, uprobes, tracepoints and perf events, unlike
// the multi links, which bpf(2) creates alone. A user's program of these
// kinds (area Objects) attaches the same way.
func perfEventAttach(f *Feature) bool {
	switch f.Prog {
	case ebpf.Kprobe, ebpf.TracePoint, ebpf.PerfEvent:
		return (strings.HasPrefix(f.ID, "attach/") || f.Area == Objects) && f.Attach == ebpf.AttachNone
	}
	return false
}
