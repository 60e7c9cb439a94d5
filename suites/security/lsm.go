// Package security proves the BPF LSM and the cgroup programs that act as
// access control.
package security

import (
	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

// A BPF LSM program attaches whether or not "bpf" is an active LSM, but
// only runs when it is (Debian 5.10 leaves it out of the default list):
// the load and the expectation both put the active LSM list in the evidence.
var _ = harness.Spec("attach/lsm", "attaches to file_open and fires on open", func(c *harness.Cell) {
	k := c.LoadLSM("lsm_count")
	c.Attach(link.AttachLSM(link.LSMOptions{Program: k.Prog}))
	c.ExpectLSMFired(k, harness.OpenFile())
})
