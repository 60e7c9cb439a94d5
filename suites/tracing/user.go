package tracing

import (
	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/bpf"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/usertarget"
)

var _ = harness.Spec("attach/uprobe", "attaches to a function of the target binary and fires", func(c *harness.Cell) {
	k := c.Load(bpf.UprobeCount, harness.AnyProcess())
	target := usertarget.New(c)
	c.Attach(target.Uprobe(usertarget.Func, k.Prog, nil))
	c.ExpectFired(k, target.Run())
})

var _ = harness.Spec("attach/uretprobe", "attaches to the return of a function of the target binary and fires", func(c *harness.Cell) {
	k := c.Load(bpf.UretprobeCount, harness.AnyProcess())
	target := usertarget.New(c)
	c.Attach(target.Uretprobe(usertarget.Func, k.Prog, nil))
	c.ExpectFired(k, target.Run())
})

var _ = harness.Spec("attach/uprobe.multi", "attaches one link to a function of the target binary and fires", func(c *harness.Cell) {
	k := c.Load(bpf.UprobeMultiCount, harness.AnyProcess())
	target := usertarget.New(c)
	c.Attach(target.UprobeMulti([]string{usertarget.Func}, k.Prog, nil))
	c.ExpectFired(k, target.Run())
})

var _ = harness.Spec("attach/usdt", "attaches to bpfmatrix:tick with its semaphore and fires", func(c *harness.Cell) {
	k := c.Load(bpf.UsdtCount, harness.AnyProcess())
	target := usertarget.New(c)
	probe, err := target.USDT("bpfmatrix", "tick")
	c.Setup("read .note.stapsdt", err)
	// The target fires the probe only while the kernel holds its semaphore
	// up, so a count proves ref_ctr_offset works too.
	c.Attach(target.Uprobe("", k.Prog, &link.UprobeOptions{Address: probe.Offset, RefCtrOffset: probe.SemaphoreOffset}))
	c.ExpectFired(k, target.Run())
})
