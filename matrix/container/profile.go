package container

import (
	"fmt"
	"strings"
)

// Profile is one way to run a container: the capabilities, seccomp profile
// and namespaces it gets. Each profile is one column of the report.
type Profile struct {
	// Name is the report's column, after "container/".
	Name string
	// Doc says in a line what the profile takes away or grants.
	Doc string
	// Flags are the `podman run` options that make the profile.
	Flags []string
	// SeccompBPF runs the container under the shipped seccomp profile
	// (containers/seccomp-bpf.json) instead of podman's default one.
	SeccompBPF bool
}

// Profiles are the container profiles, in report order.
var Profiles = []Profile{
	{Name: "privileged", Doc: "--privileged: every capability, no seccomp filter",
		Flags: []string{"--privileged"}},
	{Name: "bpf-caps", Doc: "CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN under podman's default seccomp profile",
		Flags: []string{"--cap-add=CAP_BPF,CAP_PERFMON,CAP_NET_ADMIN"}},
	{Name: "bpf-caps-seccomp", Doc: "bpf-caps under a seccomp profile that admits bpf(2) with CAP_BPF and perf_event_open(2) with CAP_PERFMON",
		Flags: []string{"--cap-add=CAP_BPF,CAP_PERFMON,CAP_NET_ADMIN"}, SeccompBPF: true},
	{Name: "default", Doc: "podman's default capabilities and seccomp profile"},
	// --privileged, so that the user namespace is the only thing taken away.
	{Name: "userns", Doc: "--privileged inside a user namespace (root mapped to uid 100000)",
		Flags: []string{"--privileged", "--uidmap=0:100000:65536", "--gidmap=0:100000:65536"}},
}

// LookupProfile returns the profile called name.
func LookupProfile(name string) (Profile, bool) {
	for _, p := range Profiles {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// ProfileNames lists the profiles' names, for flags and errors.
func ProfileNames() []string {
	names := make([]string, len(Profiles))
	for i, p := range Profiles {
		names[i] = p.Name
	}
	return names
}

// UnknownProfileError is a profile name that is not in Profiles; its
// message is the one line a user needs.
type UnknownProfileError struct{ Name string }

func (e *UnknownProfileError) Error() string {
	return fmt.Sprintf("unknown container profile %q: use one of %s", e.Name, strings.Join(ProfileNames(), ", "))
}
