package container

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// DefaultSeccompProfile is where Debian's containers-common installs the
// seccomp profile podman applies when a container names none.
const DefaultSeccompProfile = "/usr/share/containers/seccomp.json"

// bpfSyscalls maps each syscall that podman's default profile admits only
// with CAP_SYS_ADMIN to the narrower capability the kernel itself checks
// for it since 5.8: bpf(2) wants CAP_BPF, perf_event_open(2) CAP_PERFMON.
var bpfSyscalls = []struct{ name, capability string }{
	{"bpf", "CAP_BPF"},
	{"perf_event_open", "CAP_PERFMON"},
}

// DeriveBPFProfile turns podman's default seccomp profile into the profile
// of bpf-caps-seccomp: the same filter, except that bpf(2) and
// perf_event_open(2) are also admitted with CAP_BPF and CAP_PERFMON. The
// default profile admits them only with CAP_SYS_ADMIN and otherwise returns
// EPERM (moby issue 43987), so a container granted exactly the capabilities
// the kernel asks for is still refused.
//
// The default profile's rules for these syscalls are replaced rather than
// extended: libseccomp refuses two different actions for one syscall, and
// the default profile pairs its allow rule with an explicit EPERM rule.
func DeriveBPFProfile(defaultProfile []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(defaultProfile))
	dec.UseNumber() // keep argument values such as 4294967295 exact
	var profile map[string]any
	if err := dec.Decode(&profile); err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	rules, ok := profile["syscalls"].([]any)
	if !ok {
		return nil, fmt.Errorf("seccomp profile: no syscalls list")
	}

	var kept []any
	found := map[string]int{}
	for _, r := range rules {
		rule, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("seccomp profile: a syscalls entry is not an object")
		}
		if gatedOnSysAdmin(rule) {
			names, _ := rule["names"].([]any)
			var rest []any
			for _, n := range names {
				if isBPFSyscall(n) {
					found[n.(string)]++
					continue
				}
				rest = append(rest, n)
			}
			if len(rest) == 0 {
				continue
			}
			rule["names"] = rest
		}
		kept = append(kept, rule)
	}

	for _, s := range bpfSyscalls {
		// An allow rule and an EPERM rule, both gated on CAP_SYS_ADMIN.
		if found[s.name] != 2 {
			return nil, fmt.Errorf("seccomp profile: expected an allow and an EPERM rule for %s gated on CAP_SYS_ADMIN, found %d; the default profile changed, review DeriveBPFProfile", s.name, found[s.name])
		}
		why := fmt.Sprintf("bpfmatrix: %s with CAP_SYS_ADMIN or %s, as the kernel checks it", s.name, s.capability)
		kept = append(kept,
			rule(s.name, why, "SCMP_ACT_ALLOW", map[string]any{"caps": []any{"CAP_SYS_ADMIN"}}, nil),
			rule(s.name, why, "SCMP_ACT_ALLOW", map[string]any{"caps": []any{s.capability}}, nil),
			rule(s.name, why, "SCMP_ACT_ERRNO", nil, map[string]any{"caps": []any{"CAP_SYS_ADMIN", s.capability}}),
		)
	}
	profile["syscalls"] = kept

	out, err := json.MarshalIndent(profile, "", "\t")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func rule(name, comment, action string, includes, excludes map[string]any) map[string]any {
	r := map[string]any{
		"names":    []any{name},
		"action":   action,
		"args":     []any{},
		"comment":  comment,
		"includes": orEmpty(includes),
		"excludes": orEmpty(excludes),
	}
	if action == "SCMP_ACT_ERRNO" {
		r["errnoRet"] = json.Number("1")
		r["errno"] = "EPERM"
	}
	return r
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// gatedOnSysAdmin reports whether a rule applies only with, or only
// without, CAP_SYS_ADMIN and nothing else.
func gatedOnSysAdmin(rule map[string]any) bool {
	for _, key := range []string{"includes", "excludes"} {
		filter, _ := rule[key].(map[string]any)
		caps, _ := filter["caps"].([]any)
		if len(caps) == 1 && caps[0] == "CAP_SYS_ADMIN" {
			return true
		}
	}
	return false
}

func isBPFSyscall(name any) bool {
	return slices.ContainsFunc(bpfSyscalls, func(s struct{ name, capability string }) bool { return s.name == name })
}
