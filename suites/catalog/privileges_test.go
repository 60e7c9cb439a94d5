package catalog

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// CapEff values measured in podman containers on the project's machine.
const (
	capsPrivileged = "000001fffeffffff"
	capsBPF        = "000000c0a80435fb" // default + CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN
	capsDefault    = "00000000a80425fb"
)

func TestPrivilegeNeed(t *testing.T) {
	kprobe := &Feature{ID: "attach/kprobe", Prog: ebpf.Kprobe}
	xdp := &Feature{ID: "attach/xdp", Prog: ebpf.XDP}
	sockmap := &Feature{ID: "map/sockmap", Map: ebpf.SockMap}
	admitted := Privileges{Seccomp: "2", BPFGate: unix.EFAULT, PerfGate: unix.EFAULT, UnprivilegedBPF: "2"}
	for _, tc := range []struct {
		name string
		f    *Feature
		p    Privileges
		want string // "" or a substring of the reason; the miss is blocked
	}{
		{"root on the host", kprobe, Privileges{Seccomp: "0", CapEff: capsPrivileged, UnprivilegedBPF: "2"}, ""},
		{"default seccomp refuses bpf", kprobe, Privileges{Seccomp: "2", CapEff: capsBPF, BPFGate: unix.EPERM, PerfGate: unix.EPERM, UnprivilegedBPF: "2"}, "seccomp filter refuses bpf(2)"},
		{"no CAP_BPF", kprobe, Privileges{Seccomp: "0", CapEff: capsDefault, UnprivilegedBPF: "2"}, "neither CAP_BPF nor CAP_SYS_ADMIN"},
		{"user namespace", kprobe, Privileges{Seccomp: "0", CapEff: capsPrivileged, UserNS: "0 100000 65536", UnprivilegedBPF: "2"}, "initial user namespace"},
		{"bpf caps, tracing", kprobe, with(admitted, capsBPF), ""},
		{"bpf caps, XDP", xdp, with(admitted, capsBPF), ""},
		{"no CAP_NET_ADMIN, XDP", xdp, with(admitted, "000000c0a80425fb"), "program type XDP needs CAP_NET_ADMIN"},
		{"no CAP_NET_ADMIN, sockmap", sockmap, with(admitted, "000000c0a80425fb"), "map type SockMap needs CAP_NET_ADMIN"},
		{"no CAP_PERFMON", kprobe, with(admitted, "00000080a80435fb"), "needs CAP_PERFMON"},
		{"seccomp refuses perf only", kprobe, Privileges{Seccomp: "2", CapEff: capsBPF, BPFGate: unix.EFAULT, PerfGate: unix.EPERM, UnprivilegedBPF: "2"}, "perf_event_open(2), which the seccomp filter refuses"},
		{"unprivileged bpf allowed, socket filter", &Feature{ID: "prog/socket_filter", Prog: ebpf.SocketFilter}, Privileges{Seccomp: "0", CapEff: capsDefault, UnprivilegedBPF: "0"}, ""},
		{"unknown CapEff", kprobe, Privileges{UnprivilegedBPF: "2"}, ""},
		{"netns without CAP_SYS_ADMIN", &Feature{ID: "attach/xdp.generic", Area: Networking, Prog: ebpf.XDP}, with(admitted, capsBPF), "unshare(CLONE_NEWNET) needs CAP_SYS_ADMIN"},
		{"classic filter in a user namespace", &Feature{ID: "attach/socket_filter.classic", Area: Networking}, Privileges{Seccomp: "0", CapEff: capsPrivileged, UserNS: "0 100000 65536", UnprivilegedBPF: "2"}, ""},
	} {
		m := privilegeNeed{tc.f}.unmet(tc.p)
		if tc.want == "" {
			if m != nil {
				t.Errorf("%s: unmet = %+v, want none", tc.name, m)
			}
			continue
		}
		if m == nil || !strings.Contains(m.Reason, tc.want) || m.Status != reports.Blocked || m.Stage == "" {
			t.Errorf("%s: unmet = %+v, want blocked at a stage, reason containing %q", tc.name, m, tc.want)
		}
	}
}

func TestUprobePMUNeedsSysAdmin(t *testing.T) {
	admitted := Privileges{Seccomp: "2", BPFGate: unix.EFAULT, PerfGate: unix.EFAULT, UnprivilegedBPF: "2"}
	if m := with(admitted, capsBPF).uprobePMUUnmet(); m == nil || !strings.Contains(m.Reason, "uprobe PMU") || m.Stage != reports.StageAttach {
		t.Errorf("CAP_BPF+CAP_PERFMON: unmet = %+v, want the uprobe PMU's need of CAP_SYS_ADMIN, at attach", m)
	}
	if m := with(admitted, capsPrivileged).uprobePMUUnmet(); m != nil {
		t.Errorf("privileged: unmet = %+v, want none", m)
	}
}

func with(p Privileges, capEff string) Privileges { p.CapEff = capEff; return p }

func TestLayer(t *testing.T) {
	for _, tc := range []struct {
		p    Privileges
		want string
	}{
		{Privileges{Seccomp: "0", CapEff: capsPrivileged}, "no seccomp filter, CapEff=" + capsPrivileged + ": the kernel refused"},
		{Privileges{Seccomp: "2", CapEff: capsBPF, BPFGate: unix.EPERM, PerfGate: unix.EPERM, UnprivilegedBPF: "2"}, "the seccomp profile refused"},
		{Privileges{Seccomp: "2", CapEff: capsDefault, BPFGate: unix.EPERM, PerfGate: unix.EPERM, UnprivilegedBPF: "2"}, "the kernel would refuse bpf(2) too"},
		{Privileges{Seccomp: "2", CapEff: capsBPF, BPFGate: unix.EFAULT, PerfGate: unix.EFAULT}, "admits bpf(2) and perf_event_open(2)"},
		{Privileges{Seccomp: "0", CapEff: capsPrivileged, UserNS: "0 100000 65536"}, "user namespace"},
	} {
		if got := tc.p.Layer(); !strings.Contains(got, tc.want) {
			t.Errorf("Layer(%+v) = %q, want it to contain %q", tc.p, got, tc.want)
		}
	}
}
