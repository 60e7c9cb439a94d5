// Package security proves the BPF LSM and the cgroup programs that act as
// access control.
package security

import (
	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

var _ = harness.Spec("attach/lsm", "attaches to file_open and fires on open", func(c *harness.Cell) {
	k := c.LoadCounter("lsm_count")
	c.Attach(link.AttachLSM(link.LSMOptions{Program: k.Prog}))
	c.ExpectFired(k, harness.OpenFile())
})
