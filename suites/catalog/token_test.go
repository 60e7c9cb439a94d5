package catalog

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/testns"
	"github.com/bpfmatrix/bpfmatrix/matrix/token/bpffs"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

func TestDelegatingMounts(t *testing.T) {
	mountinfo := `84 70 0:39 / /sys/fs/bpf rw,relatime - bpf bpf rw
90 84 0:40 / /sys/fs/bpf rw,relatime - bpf none rw,uid=100000,gid=100000,delegate_cmds=map_create:prog_load:btf_load,delegate_maps=hash:array,delegate_progs=xdp,delegate_attachs=any
91 84 0:41 / /run/my\040bpf rw - bpf none rw,delegate_progs=0x40
92 84 0:42 / /sys/kernel/tracing rw - tracefs tracefs rw,delegate_cmds=any`
	got := delegatingMounts(mountinfo)
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

// token is a token with d's options, resolved with fakeEnums.
func token(d bpffs.Delegation) Token {
	t := Token{Mount: "/sys/fs/bpf", Cmds: d.Cmds, Maps: d.Maps, Progs: d.Progs, Attachs: d.Attachs, PerfEventParanoid: "2"}
	t.resolve(fakeEnums)
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
	fentry := &Feature{ID: "attach/fentry", Prog: ebpf.Tracing, Attach: ebpf.AttachTraceFEntry, Needs: []Requirement{FunctionTracer()}}
	classic := &Feature{ID: "attach/socket_filter.classic"}
	xdpOnly := bpffs.Delegation{Cmds: "map_create:prog_load:btf_load", Maps: "hash", Progs: "xdp", Attachs: "xdp"}
	for _, tc := range []struct {
		name  string
		tok   Token
		f     *Feature
		p     Privileges
		stage reports.Stage
		errno string
		why   string // a substring of the reason; "" with stage "" means admitted
	}{
		{"map", token(bpffs.Any), hash, root, "", "", ""},
		{"XDP", token(bpffs.Any), xdp, root, "", "", ""},
		{"no object", token(bpffs.Delegation{Progs: "xdp"}), classic, root, "", "", ""},
		{"tracepoint through perf", token(bpffs.Any), tracepoint, root, reports.StageAttach, "EACCES", "perf_event_open(2), which no token reaches: with kernel.perf_event_paranoid=2"},
		{"uprobe through perf", token(bpffs.Any), uprobe, root, reports.StageAttach, "EACCES", "perf_event_open(2)"},
		{"no CAP_NET_ADMIN in the namespace", token(bpffs.Any), xdp, noNetAdmin, reports.StageLoad, "EPERM", "program type XDP needs CAP_NET_ADMIN or CAP_SYS_ADMIN in the token's user namespace"},
		{"no CAP_NET_ADMIN, sockmap", token(bpffs.Any), sockmap, noNetAdmin, reports.StageCreate, "EPERM", "map type SockMap needs CAP_NET_ADMIN"},
		{"map type not delegated", token(xdpOnly), &Feature{ID: "map/array", Map: ebpf.Array}, root, reports.StageCreate, "EPERM", "does not delegate map type Array (delegate_maps=hash)"},
		{"map_create not delegated", token(bpffs.Delegation{Cmds: "prog_load", Maps: "any"}), hash, root, reports.StageCreate, "EPERM", "does not delegate map_create (delegate_cmds=prog_load)"},
		{"program type not delegated", token(xdpOnly), filter, root, reports.StageLoad, "EPERM", "does not delegate program type SocketFilter (delegate_progs=xdp)"},
		{"attach type not delegated", token(bpffs.Delegation{Cmds: "any", Maps: "any", Progs: "any", Attachs: "0x2"}), xdp, root, reports.StageLoad, "EPERM", "expected attach type XDP (37) (delegate_attachs=0x2)"},
		{"delegated narrowly", token(xdpOnly), xdp, root, "", "", ""},
		{"no token", Token{Refused: "BPF_TOKEN_CREATE from /sys/fs/bpf: EPERM"}, hash, root, reports.StageCreate, "EPERM", "no BPF token (BPF_TOKEN_CREATE from /sys/fs/bpf: EPERM)"},
		{"trampoline: unknown", token(bpffs.Any), fentry, root, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stage, errno, why := tc.tok.Refusal(tc.f, tc.p)
			if stage != tc.stage || errno != tc.errno || (tc.why == "") != (why == "") || !strings.Contains(why, tc.why) {
				t.Errorf("Refusal = %q %q %q; want %q %q containing %q", stage, errno, why, tc.stage, tc.errno, tc.why)
			}
			k := &Kernel{Privileges: tc.p}
			if got := tc.tok.Admits(tc.f).Unmet(k); got != why {
				t.Errorf("Admits(%s).Unmet = %q, want Refusal's reason %q", tc.f.ID, got, why)
			}
		})
	}
}

func TestTokenUnknown(t *testing.T) {
	fentry := &Feature{ID: "attach/fentry", Prog: ebpf.Tracing, Attach: ebpf.AttachTraceFEntry, Needs: []Requirement{FunctionTracer()}}
	xdp := &Feature{ID: "attach/xdp.generic", Prog: ebpf.XDP, Attach: ebpf.AttachXDP}
	tracepoint := &Feature{ID: "attach/tracepoint", Prog: ebpf.TracePoint}
	permissive := token(bpffs.Any)
	permissive.PerfEventParanoid = "-1"
	unresolved := token(bpffs.Delegation{Cmds: "any", Progs: "some_future_type"})
	for _, tc := range []struct {
		name string
		tok  Token
		f    *Feature
		want string
	}{
		{"trampoline", token(bpffs.Any), fentry, "BPF trampoline"},
		{"predictable", token(bpffs.Any), xdp, ""},
		{"perf_event_paranoid -1", permissive, tracepoint, "perf_event_paranoid=-1"},
		{"unresolved name", unresolved, xdp, "delegate_progs=some_future_type"},
		{"program without map_create", token(bpffs.Delegation{Cmds: "prog_load:btf_load", Progs: "any", Attachs: "any"}), xdp, "not both map_create and btf_load"},
		{"no token: the userns rules apply", Token{}, fentry, ""},
	} {
		if got := tc.tok.Unknown(tc.f); (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: Unknown(%s) = %q, want %q", tc.name, tc.f.ID, got, tc.want)
		}
	}
}

// tokenChildEnv makes the test binary (TestMain) the process in a user
// namespace that mounts the bpffs delegated to it at the named directory
// and prints its TokenFacts.
const tokenChildEnv = "BPFMATRIX_CATALOG_TOKEN_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(tokenChildEnv); dir != "" {
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := bpffs.MountDelegated(3, dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		tok := TokenFacts()
		_, _, why := tok.Refusal(&Feature{ID: "prog/socket_filter", Prog: ebpf.SocketFilter}, detectPrivileges())
		_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"token": tok, "masks": tok.masks, "resolved": tok.resolved, "string": tok.String(), "socket_filter": why})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestTokenFactsInAUserNamespaceNeedsRoot: a process in a user namespace
// with a bpffs delegated to it sees a token there, with the options the
// privileged side set, resolved through the kernel's BTF.
func TestTokenFactsInAUserNamespaceNeedsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: only CAP_SYS_ADMIN in the initial user namespace may delegate a bpffs")
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("needs the kernel's BTF, which names the delegated types")
	}
	dir := filepath.Join(t.TempDir(), "bpffs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stdout := testns.UserNS(t, tokenChildEnv+"="+dir, func(conn int) error {
		return bpffs.Delegate(conn, bpffs.Delegation{Cmds: "any", Maps: "any", Progs: "xdp", Attachs: "any"})
	})
	var got struct {
		Token        Token
		Masks        [4]uint64
		Resolved     [4]bool
		String       string
		SocketFilter string `json:"socket_filter"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	if got.Token.Mount != dir || got.Token.Cmds != "any" || got.Token.Progs != "xdp" {
		t.Errorf("TokenFacts in the namespace = %+v, want a token from %s delegating any command and the xdp program type", got.Token, dir)
	}
	if got.Masks[2] != 1<<uint(ebpf.XDP) || got.Resolved != [4]bool{true, true, true, true} {
		t.Errorf("delegate_progs=xdp resolved to %#x (%v), want bit %d", got.Masks[2], got.Resolved, ebpf.XDP)
	}
	if !strings.Contains(got.SocketFilter, "does not delegate program type SocketFilter (delegate_progs=xdp)") {
		t.Errorf("a socket filter in the namespace: %q, want a refusal naming the delegation", got.SocketFilter)
	}
	if !strings.HasPrefix(got.String, "BPF token from "+dir+": delegate_cmds=any") {
		t.Errorf("String() = %q", got.String)
	}
}

func TestNoTokenInTheInitialUserNamespaceNeedsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: BPF_TOKEN_CREATE answers EPERM before it checks the namespace otherwise")
	}
	if tok := TokenFacts(); tok.Held() {
		t.Errorf("TokenFacts in the initial user namespace = %+v: the kernel refuses tokens there (EOPNOTSUPP)", tok)
	}
}
