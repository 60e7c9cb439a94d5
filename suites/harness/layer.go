package harness

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
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

// detectPrivileges probes the process's privileges; DetectKernel does it
// once for the suite (Running().Privileges).
func detectPrivileges() Privileges {
	var p Privileges
	p.Seccomp, p.CapEff = procStatus()
	p.UserNS = userNS()
	_, _, p.BPFGate = unix.Syscall(unix.SYS_BPF, 0 /* BPF_MAP_CREATE */, 0, 8)
	_, _, p.PerfGate = unix.Syscall6(unix.SYS_PERF_EVENT_OPEN, 0, 0, ^uintptr(0), ^uintptr(0), 0, 0)
	if b, err := os.ReadFile("/proc/sys/kernel/unprivileged_bpf_disabled"); err == nil {
		p.UnprivilegedBPF = strings.TrimSpace(string(b))
	}
	return p
}

// userNS returns the uid_map unless it is the initial namespace's identity map.
func userNS() string {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return ""
	}
	m := strings.Join(strings.Fields(string(b)), " ")
	if m == "0 0 4294967295" {
		return ""
	}
	return m
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
