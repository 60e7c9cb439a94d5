// Package security proves the BPF LSM and the cgroup programs that act as
// access control.
package security

import (
	"strings"

	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

var _ = harness.Spec("attach/lsm", "attaches to file_open and fires on open", func(c *harness.Cell) {
	k := c.LoadCounter("lsm_count")
	c.Attach(link.AttachLSM(link.LSMOptions{Program: k.Prog}))
	what := harness.OpenFile()
	// A BPF LSM program attaches whether or not "bpf" is an active LSM, but
	// only runs when it is (Debian 5.10 leaves it out of the default list):
	// then zero events mean the kernel does not run it, not a broken attach.
	if k.Events() == 0 && c.Kernel.LSMs != nil && !c.Kernel.HasLSM("bpf") {
		c.Unsupported("", "attached, but observed 0 events after %s: \"bpf\" is not in /sys/kernel/security/lsm (%s)", what, strings.Join(c.Kernel.LSMs, ","))
	}
	c.ExpectFired(k, what)
})
