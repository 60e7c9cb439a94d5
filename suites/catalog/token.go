package catalog

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/bpfmatrix/bpfmatrix/internal/mountinfo"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Token is the BPF token (Linux 6.9+) the suite's process can hold: a
// bpffs mount that its own user namespace owns and whose delegate_*
// options a privileged process set, from which BPF_TOKEN_CREATE succeeds.
// cilium/ebpf finds such a mount by itself and passes the token with
// every map creation, program load and BTF load; the kernel then checks
// the capabilities of those commands (bpf_token_capable) in the token's
// user namespace instead of the initial one.
type Token struct {
	// Mount is the bpffs mount point a token was created from; "" when
	// the process can hold none.
	Mount string
	// Cmds, Maps, Progs and Attachs are the mount's delegate_* options as
	// /proc/self/mountinfo shows them: "any", names joined by ":"
	// (map_create:prog_load), or a mask; "" delegates none of that kind.
	Cmds, Maps, Progs, Attachs string
	// Refused says why no token could be created from a bpffs mount that
	// delegates something: the errno of BPF_TOKEN_CREATE (EPERM: the
	// superblock belongs to another user namespace; EOPNOTSUPP: the
	// process is in the initial one; EINVAL: the kernel predates tokens).
	Refused string
	// PerfEventParanoid is kernel.perf_event_paranoid, which decides
	// perf_event_open(2), a syscall no token reaches.
	PerfEventParanoid string

	// masks are the four options resolved to bits: cmds, maps, progs,
	// attachs; resolved[i] is false when option i names something that
	// could not be resolved (no kernel BTF), which then predicts nothing.
	masks    [4]uint64
	resolved [4]bool
}

// The bpf(2) commands a spec's objects go through (enum bpf_cmd).
const (
	cmdMapCreate = 0
	cmdProgLoad  = 5
	cmdBTFLoad   = 18
)

// Held reports whether the process can hold a token.
func (t Token) Held() bool { return t.Mount != "" }

// String says what the token delegates, for a report's facts.
func (t Token) String() string {
	if !t.Held() {
		if t.Refused != "" {
			return "no BPF token (" + t.Refused + ")"
		}
		return "no BPF token (no bpffs with delegate_* options)"
	}
	return fmt.Sprintf("BPF token from %s: delegate_cmds=%s delegate_maps=%s delegate_progs=%s delegate_attachs=%s",
		t.Mount, orNone(t.Cmds), orNone(t.Maps), orNone(t.Progs), orNone(t.Attachs))
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// Admits is the requirement that stands for Privileged(f) when the process
// holds t: f's maps, BTF and program pass the kernel's capability checks
// through the token, with the capabilities the process holds in its own
// user namespace, where t delegates f's command, map type, program type
// and attach type; and f attaches through nothing that no token reaches
// (perf_event_open(2)). It is unmet, with the reason, where the token does
// not admit f. Rows it cannot judge (Unknown) it leaves met.
func (t Token) Admits(f *Feature) Requirement {
	return privilegeCheck(func(p Privileges) *Miss {
		if why := t.Unknown(f); why != "" {
			return unknown("%s", why)
		}
		stage, errno, why := t.Refusal(f, p)
		if why == "" {
			return nil
		}
		return blocked(stage, why, errno)
	})
}

// Refusal is where and how f must fail for a process with privileges p
// that holds t: the stage, the errno and why; all "" where t admits f, or
// where Unknown says it cannot tell.
func (t Token) Refusal(f *Feature, p Privileges) (stage reports.Stage, errno, why string) {
	if f.Prog == ebpf.UnspecifiedProgram && f.Map == ebpf.UnspecifiedMap {
		return "", "", "" // no bpf(2) object: nothing a token is for
	}
	if t.Unknown(f) != "" {
		return "", "", ""
	}
	if !t.Held() {
		return reports.StageCreate, "EPERM", t.String() + ": bpf(2) checks the capabilities of a user namespace other than the initial one only through a token"
	}
	// The kernel ignores a token that does not delegate the command and
	// type, and checks the initial user namespace instead: EPERM.
	if f.Map != ebpf.UnspecifiedMap {
		if why := t.undelegated(cmdMapCreate, "map_create", 1, uint64(f.Map), "map type "+f.Map.String()); why != "" {
			return reports.StageCreate, "EPERM", why
		}
		// Map types beyond the few unprivileged ones need CAP_BPF in any
		// case, which the catalog does not list: an unknown need predicts
		// nothing.
		var caps []int
		if p.UnprivilegedBPF != "0" {
			caps = append(caps, capBPF)
		}
		if netAdminMap[f.Map] {
			caps = append(caps, capNetAdmin)
		}
		if why := ownLacks(p, "map type "+f.Map.String(), caps); why != "" {
			return reports.StageCreate, "EPERM", why
		}
	}
	if f.Prog != ebpf.UnspecifiedProgram {
		if why := t.undelegated(cmdProgLoad, "prog_load", 2, uint64(f.Prog), "program type "+f.Prog.String()); why != "" {
			return reports.StageLoad, "EPERM", why
		}
		// Attach types are delegated for program loads: the expected
		// attach type, 0 (cgroup_inet_ingress) when the spec names none.
		if why := t.undelegated(cmdProgLoad, "prog_load", 3, uint64(f.Attach), fmt.Sprintf("expected attach type %s (%d)", f.Attach, f.Attach)); why != "" {
			return reports.StageLoad, "EPERM", why
		}
		if why := ownLacks(p, "program type "+f.Prog.String(), progCaps(f.Prog, p)); why != "" {
			return reports.StageLoad, "EPERM", why
		}
	}
	// Measured: docs/bpf-token.md#perf.
	if perfEventAttach(f) {
		return reports.StageAttach, "EACCES", fmt.Sprintf("it attaches through perf_event_open(2), which no token reaches: with kernel.perf_event_paranoid=%s the kernel refuses kernel events without CAP_PERFMON in the initial user namespace", t.PerfEventParanoid)
	}
	return "", "", ""
}

// Unknown says why the catalog cannot predict f in a user namespace holding
// t, or "" if it can. Programs that need a BPF trampoline (fentry, fexit,
// fmod_ret, LSM, freplace) load through the token's capabilities, but what
// else their attachment checks was not measured on a kernel that admits
// trampolines at all; a token whose delegation names something this build
// cannot resolve predicts nothing; perf_event_open(2) with
// kernel.perf_event_paranoid=-1 admits what was not measured; and a
// program row whose spec needs maps or BTF the token does not delegate
// depends on the spec's object.
func (t Token) Unknown(f *Feature) string {
	if !t.Held() {
		return ""
	}
	if needs[trampolineNeed](f) {
		return "needs a BPF trampoline, whose attachment with a token's capabilities alone was not measured on a kernel that admits trampolines"
	}
	for i, v := range t.options() {
		if !t.resolved[i] {
			return fmt.Sprintf("the token's delegate_%s=%s names what this build cannot resolve without the kernel's BTF", optionNames[i], v)
		}
	}
	if perfEventAttach(f) && t.PerfEventParanoid == "-1" {
		return "it attaches through perf_event_open(2), which kernel.perf_event_paranoid=-1 may admit without CAP_PERFMON"
	}
	if f.Prog != ebpf.UnspecifiedProgram && (t.masks[0]&(1<<cmdMapCreate) == 0 || t.masks[0]&(1<<cmdBTFLoad) == 0) {
		return "the token delegates not both map_create and btf_load, which the spec's object may need besides prog_load"
	}
	return ""
}

// optionNames name the delegate_* options in the order of masks.
var optionNames = [4]string{"cmds", "maps", "progs", "attachs"}

func (t Token) options() [4]string { return [4]string{t.Cmds, t.Maps, t.Progs, t.Attachs} }

// undelegated says why t does not delegate cmd and value of option i
// (1 maps, 2 progs, 3 attachs), or "".
func (t Token) undelegated(cmd uint64, cmdName string, i int, value uint64, what string) string {
	if t.masks[0]&(1<<cmd) == 0 {
		return fmt.Sprintf("the token does not delegate %s (delegate_cmds=%s), so the kernel ignores it", cmdName, orNone(t.Cmds))
	}
	if value >= 64 || t.masks[i]&(1<<value) == 0 {
		return fmt.Sprintf("the token does not delegate %s (delegate_%s=%s), so the kernel ignores it", what, optionNames[i], orNone(t.options()[i]))
	}
	return ""
}

// progCaps are the capabilities bpf_prog_load checks for prog, through the
// token when there is one: CAP_BPF (of every type but socket filters and
// cgroup_skb, and of those too under kernel.unprivileged_bpf_disabled), and
// CAP_PERFMON or CAP_NET_ADMIN by type.
func progCaps(prog ebpf.ProgramType, p Privileges) []int {
	var caps []int
	if (prog != ebpf.SocketFilter && prog != ebpf.CGroupSKB) || p.UnprivilegedBPF != "0" {
		caps = append(caps, capBPF)
	}
	if perfmonProg[prog] {
		caps = append(caps, capPerfmon)
	}
	if netAdminProg[prog] {
		caps = append(caps, capNetAdmin)
	}
	return caps
}

// ownLacks says which of caps (each or CAP_SYS_ADMIN, bpf_token_capable)
// the process lacks in its own user namespace, where a token looks for
// them, or "".
func ownLacks(p Privileges, what string, caps []int) string {
	for _, c := range caps {
		if !p.hasInOwnNS(c) && !p.hasInOwnNS(capSysAdmin) {
			return fmt.Sprintf("%s needs %s or CAP_SYS_ADMIN in the token's user namespace: CapEff=%s has neither", what, capNames[c], p.CapEff)
		}
	}
	return ""
}

// needs reports whether a row's Needs hold a requirement of type R.
func needs[R Requirement](f *Feature) bool {
	for _, n := range f.Needs {
		if _, ok := n.(R); ok {
			return true
		}
	}
	return false
}

// DelegatingMounts are the bpf mounts of a mount table that delegate
// something, in mount order, each as the token it would give.
func DelegatingMounts(mounts []mountinfo.Mount) []Token {
	var tokens []Token
	for _, mnt := range mounts {
		if mnt.FSType != "bpf" {
			continue
		}
		m := Token{Mount: mnt.Point}
		for _, opt := range strings.Split(mnt.Options, ",") {
			key, value, _ := strings.Cut(opt, "=")
			switch key {
			case "delegate_cmds":
				m.Cmds = value
			case "delegate_maps":
				m.Maps = value
			case "delegate_progs":
				m.Progs = value
			case "delegate_attachs":
				m.Attachs = value
			}
		}
		if m.Cmds+m.Maps+m.Progs+m.Attachs != "" {
			tokens = append(tokens, m)
		}
	}
	return tokens
}

// EnumValue resolves a kernel enum constant by name, such as
// ("bpf_map_type", "BPF_MAP_TYPE_HASH").
type EnumValue func(enum, name string) (uint64, bool)

// Resolve turns the four options into masks, with lookup for the names
// they hold (the kernel's BTF, which detect reads).
func (t *Token) Resolve(lookup EnumValue) {
	enums := [4][2]string{{"bpf_cmd", "BPF_"}, {"bpf_map_type", "BPF_MAP_TYPE_"}, {"bpf_prog_type", "BPF_PROG_TYPE_"}, {"bpf_attach_type", "BPF_"}}
	for i, v := range t.options() {
		t.masks[i], t.resolved[i] = delegationMask(v, enums[i][0], enums[i][1], lookup)
	}
}

// delegationMask is the bits a delegate_* value sets, the way the kernel
// parses it: ":"-separated "any", enum names (lowercase, without the
// prefix) or numbers; mountinfo shows the names (docs/bpf-token.md#mountinfo).
// ok is false when a name does not resolve.
func delegationMask(value, enum, prefix string, lookup EnumValue) (mask uint64, ok bool) {
	if value == "" {
		return 0, true
	}
	for _, item := range strings.Split(value, ":") {
		if item == "any" {
			mask = ^uint64(0)
			continue
		}
		if n, err := strconv.ParseUint(item, 0, 64); err == nil {
			mask |= n
			continue
		}
		v, found := lookup(enum, prefix+strings.ToUpper(item))
		if !found || v >= 64 {
			return 0, false
		}
		mask |= 1 << v
	}
	return mask, true
}
