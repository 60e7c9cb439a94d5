package container

import _ "embed"

// The files podman needs to run the container target on these machines,
// embedded so that bpfmatrix runs from any directory; Setup writes them out
// next to the run.
var (
	// containersConf is passed to podman through CONTAINERS_CONF, so the
	// machine's own podman configuration stays untouched.
	//
	//go:embed podmanfiles/containers.conf
	containersConf []byte

	// seccompBPF is podman's default seccomp profile, except that bpf(2) is
	// admitted with CAP_BPF and perf_event_open(2) with CAP_PERFMON, not
	// only with CAP_SYS_ADMIN (moby issue 43987). It is derived from the
	// default profile (seccomp.go), and a test checks it still matches.
	//
	//go:embed podmanfiles/seccomp-bpf.json
	seccompBPF []byte
)
