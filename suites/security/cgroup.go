package security

import (
	"github.com/cilium/ebpf"

	"github.com/bpfmatrix/bpfmatrix/bpf"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/cgroup"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/netns"
)

// cgroup programs that act as access control, on a cgroup v2 the spec
// creates and moves the suite into: only the spec's own actions reach them.

var _ = harness.Spec("attach/cgroup_device", "denies an open of the null device to a cgroup", func(c *harness.Cell) {
	k := c.Load(bpf.DeviceDenyNull)
	null := cgroup.NullDevice(c)
	cg := cgroup.New(c)
	c.Attach(cg.Attach(ebpf.AttachCGroupDevice, k.Prog))
	c.ExpectFired(k, cgroup.OpenDenied(null))
})

var _ = harness.Spec("attach/cgroup_sysctl", "counts a cgroup's sysctl reads", func(c *harness.Cell) {
	k := c.Load(bpf.SysctlCount)
	cg := cgroup.New(c)
	c.Attach(cg.Attach(ebpf.AttachCGroupSysctl, k.Prog))
	c.ExpectFired(k, harness.ReadSysctl())
})

var _ = harness.Spec("attach/cgroup_sockopt", "counts a cgroup's setsockopt calls", func(c *harness.Cell) {
	k := c.Load(bpf.SetsockoptCount)
	cg := cgroup.New(c)
	c.Attach(cg.Attach(ebpf.AttachCGroupSetsockopt, k.Prog))
	c.ExpectFired(k, netns.New(c).SetSockopts())
})
