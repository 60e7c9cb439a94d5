package catalog

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/bpfmatrix/bpfmatrix/internal/mountinfo"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

func TestDelegatingMounts(t *testing.T) {
	text := `84 70 0:39 / /sys/fs/bpf rw,relatime - bpf bpf rw
90 84 0:40 / /sys/fs/bpf rw,relatime - bpf none rw,uid=100000,gid=100000,delegate_cmds=map_create:prog_load:btf_load,delegate_maps=hash:array,delegate_progs=xdp,delegate_attachs=any
91 84 0:41 / /run/my\040bpf rw - bpf none rw,delegate_progs=0x40
92 84 0:42 / /sys/kernel/tracing rw - tracefs tracefs rw,delegate_cmds=any`
	got := DelegatingMounts(mountinfo.Parse(text))
	want := []Token{
		{Mount: "/sys/fs/bpf", Cmds: "map_create:prog_load:btf_load", Maps: "hash:array", Progs: "xdp", Attachs: "any"},
		{Mount: "/run/my bpf", Progs: "0x40"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("delegatingMounts = %+v, want %+v", got, want)
	}
}

// fakeEnums resolves the few names the tests use, as the kernel's BTF would.
func fakeEnums(enum, name string) (uint64, bool) {
	v, ok := map[string]uint64{
		"bpf_cmd/BPF_MAP_CREATE": 0, "bpf_cmd/BPF_PROG_LOAD": 5, "bpf_cmd/BPF_BTF_LOAD": 18,
		"bpf_map_type/BPF_MAP_TYPE_HASH": 1, "bpf_map_type/BPF_MAP_TYPE_ARRAY": 2,
		"bpf_prog_type/BPF_PROG_TYPE_XDP": 6, "bpf_attach_type/BPF_XDP": 37,
	}[enum+"/"+name]
	return v, ok
}

func TestDelegationMask(t *testing.T) {
	for _, tc := range []struct {
		value, enum, prefix string
		mask                uint64
		ok                  bool
	}{
		{"", "bpf_cmd", "BPF_", 0, true},
		{"any", "bpf_cmd", "BPF_", ^uint64(0), true},
		{"0x21", "bpf_cmd", "BPF_", 0x21, true},
		{"map_create:prog_load:btf_load", "bpf_cmd", "BPF_", 1<<0 | 1<<5 | 1<<18, true},
		{"hash:0x8", "bpf_map_type", "BPF_MAP_TYPE_", 1<<1 | 0x8, true},
		{"xdp", "bpf_prog_type", "BPF_PROG_TYPE_", 1 << 6, true},
		{"no_such_type", "bpf_prog_type", "BPF_PROG_TYPE_", 0, false},
	} {
		mask, ok := delegationMask(tc.value, tc.enum, tc.prefix, fakeEnums)
		if mask != tc.mask || ok != tc.ok {
			t.Errorf("delegationMask(%q) = %#x, %v; want %#x, %v", tc.value, mask, ok, tc.mask, tc.ok)
		}
	}
}

// delegation is a bpffs's delegate_* options.
type delegation struct{ Cmds, Maps, Progs, Attachs string }

// delegateAll delegates everything, as the bpf-token target does.
var delegateAll = delegation{"any", "any", "any", "any"}

// token is a token with d's options, resolved with fakeEnums.
func token(d delegation) Token {
	t := Token{Mount: "/sys/fs/bpf", Cmds: d.Cmds, Maps: d.Maps, Progs: d.Progs, Attachs: d.Attachs, PerfEventParanoid: "2"}
	t.Resolve(fakeEnums)
	return t
}

func TestTokenRefusal(t *testing.T) {
	// Root of a user namespace: every capability, in that namespace only.
	root := Privileges{Seccomp: "0", CapEff: capsPrivileged, UserNS: "0 100000 65536", UnprivilegedBPF: "2"}
	noNetAdmin := root
	noNetAdmin.CapEff = "000001ffffdfefff" // neither CAP_NET_ADMIN nor CAP_SYS_ADMIN
	hash := &Feature{ID: "map/hash", Map: ebpf.Hash}
	sockmap := &Feature{ID: "map/sockmap", Map: ebpf.SockMap}
	xdp := &Feature{ID: "attach/xdp.generic", Prog: ebpf.XDP, Attach: ebpf.AttachXDP}
	filter := &Feature{ID: "prog/socket_filter", Prog: ebpf.SocketFilter}
	tracepoint := &Feature{ID: "attach/tracepoint", Prog: ebpf.TracePoint}
	uprobe := &Feature{ID: "attach/uprobe", Prog: ebpf.Kprobe, Needs: []Requirement{UprobePMU()}}
	fentry := &Feature{ID: "attach/fentry", Prog: ebpf.Tracing, Attach: ebpf.AttachTraceFEntry, Needs: []Requirement{Trampolines()}}
	classic := &Feature{ID: "attach/socket_filter.classic"}
	xdpOnly := delegation{Cmds: "map_create:prog_load:btf_load", Maps: "hash", Progs: "xdp", Attachs: "xdp"}
	for _, tc := range []struct {
		name  string
		tok   Token
		f     *Feature
		p     Privileges
		stage reports.Stage
		errno string
		why   string // a substring of the reason; "" with stage "" means admitted
	}{
		{"map", token(delegateAll), hash, root, "", "", ""},
		{"XDP", token(delegateAll), xdp, root, "", "", ""},
		{"no object", token(delegation{Progs: "xdp"}), classic, root, "", "", ""},
		{"tracepoint through perf", token(delegateAll), tracepoint, root, reports.StageAttach, "EACCES", "perf_event_open(2), which no token reaches: with kernel.perf_event_paranoid=2"},
		{"uprobe through perf", token(delegateAll), uprobe, root, reports.StageAttach, "EACCES", "perf_event_open(2)"},
		{"no CAP_NET_ADMIN in the namespace", token(delegateAll), xdp, noNetAdmin, reports.StageLoad, "EPERM", "program type XDP needs CAP_NET_ADMIN or CAP_SYS_ADMIN in the token's user namespace"},
		{"no CAP_NET_ADMIN, sockmap", token(delegateAll), sockmap, noNetAdmin, reports.StageCreate, "EPERM", "map type SockMap needs CAP_NET_ADMIN"},
		{"map type not delegated", token(xdpOnly), &Feature{ID: "map/array", Map: ebpf.Array}, root, reports.StageCreate, "EPERM", "does not delegate map type Array (delegate_maps=hash)"},
		{"map_create not delegated", token(delegation{Cmds: "prog_load", Maps: "any"}), hash, root, reports.StageCreate, "EPERM", "does not delegate map_create (delegate_cmds=prog_load)"},
		{"program type not delegated", token(xdpOnly), filter, root, reports.StageLoad, "EPERM", "does not delegate program type SocketFilter (delegate_progs=xdp)"},
		{"attach type not delegated", token(delegation{Cmds: "any", Maps: "any", Progs: "any", Attachs: "0x2"}), xdp, root, reports.StageLoad, "EPERM", "expected attach type XDP (37) (delegate_attachs=0x2)"},
		{"delegated narrowly", token(xdpOnly), xdp, root, "", "", ""},
		{"no token", Token{Refused: "BPF_TOKEN_CREATE from /sys/fs/bpf: EPERM"}, hash, root, reports.StageCreate, "EPERM", "no BPF token (BPF_TOKEN_CREATE from /sys/fs/bpf: EPERM)"},
		{"trampoline: unknown", token(delegateAll), fentry, root, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stage, errno, why := tc.tok.Refusal(tc.f, tc.p)
			if stage != tc.stage || errno != tc.errno || (tc.why == "") != (why == "") || !strings.Contains(why, tc.why) {
				t.Errorf("Refusal = %q %q %q; want %q %q containing %q", stage, errno, why, tc.stage, tc.errno, tc.why)
			}
			k := &Kernel{Privileges: tc.p}
			m := tc.tok.Admits(tc.f).Unmet(k)
			switch {
			case tc.tok.Unknown(tc.f) != "":
				if m == nil || m.Status != reports.Unknown {
					t.Errorf("Admits(%s).Unmet = %+v, want unknown", tc.f.ID, m)
				}
			case why == "":
				if m != nil {
					t.Errorf("Admits(%s).Unmet = %+v, want met", tc.f.ID, m)
				}
			case m == nil || m.Reason != why || m.Status != reports.Blocked || m.Stage != stage:
				t.Errorf("Admits(%s).Unmet = %+v, want blocked at %s: %q", tc.f.ID, m, stage, why)
			}
		})
	}
}

func TestTokenUnknown(t *testing.T) {
	fentry := &Feature{ID: "attach/fentry", Prog: ebpf.Tracing, Attach: ebpf.AttachTraceFEntry, Needs: []Requirement{Trampolines()}}
	xdp := &Feature{ID: "attach/xdp.generic", Prog: ebpf.XDP, Attach: ebpf.AttachXDP}
	tracepoint := &Feature{ID: "attach/tracepoint", Prog: ebpf.TracePoint}
	permissive := token(delegateAll)
	permissive.PerfEventParanoid = "-1"
	unresolved := token(delegation{Cmds: "any", Progs: "some_future_type"})
	for _, tc := range []struct {
		name string
		tok  Token
		f    *Feature
		want string
	}{
		{"trampoline", token(delegateAll), fentry, "BPF trampoline"},
		{"predictable", token(delegateAll), xdp, ""},
		{"perf_event_paranoid -1", permissive, tracepoint, "perf_event_paranoid=-1"},
		{"unresolved name", unresolved, xdp, "delegate_progs=some_future_type"},
		{"program without map_create", token(delegation{Cmds: "prog_load:btf_load", Progs: "any", Attachs: "any"}), xdp, "not both map_create and btf_load"},
		{"no token: the userns rules apply", Token{}, fentry, ""},
	} {
		if got := tc.tok.Unknown(tc.f); (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: Unknown(%s) = %q, want %q", tc.name, tc.f.ID, got, tc.want)
		}
	}
}
