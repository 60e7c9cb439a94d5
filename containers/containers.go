// Package containers holds the files podman needs to run bpfmatrix's
// container target on these machines: a containers.conf and the seccomp
// profile of the bpf-caps-seccomp profile. They are embedded so that the
// bpfmatrix binary runs the target from any directory; matrix/container
// writes them out next to the run.
package containers

import _ "embed"

// Conf is containers.conf, passed to podman through CONTAINERS_CONF.
//
//go:embed containers.conf
var Conf []byte

// SeccompBPF is podman's default seccomp profile, except that bpf(2) is
// admitted with CAP_BPF and perf_event_open(2) with CAP_PERFMON, not only
// with CAP_SYS_ADMIN (moby issue 43987). matrix/container derives it from
// the default profile and its tests check that it still matches.
//
//go:embed seccomp-bpf.json
var SeccompBPF []byte
