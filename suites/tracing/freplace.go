package tracing

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/suites/harness"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/freplace"
)

// freplace traces by replacing: the extension runs instead of the function
// it targets, which each test run of the XDP program shows.
var _ = harness.Spec("attach/freplace", "replaces a function of an XDP program and sees the replacement run", func(c *harness.Cell) {
	p := freplace.Load(c)
	data := make([]byte, 64) // an Ethernet frame's worth of zeros
	before, err := p.Target.Run(&ebpf.RunOptions{Data: data})
	c.Triggered("test run the XDP program before replacing", err)
	c.Attach(link.AttachFreplace(p.Target, freplace.Func, p.Ext))
	var replaced uint64
	for range harness.TriggerCalls {
		ret, err := p.Target.Run(&ebpf.RunOptions{Data: data})
		c.Triggered("test run the XDP program after replacing", err)
		if ret == 2 && before == 0 {
			replaced++
		}
	}
	c.ExpectFired(harness.Count(replaced), harness.Trigger{
		What:   fmt.Sprintf("%d BPF_PROG_TEST_RUN runs (the XDP program returns %d alone, the extension 2)", harness.TriggerCalls, before),
		Events: harness.TriggerCalls,
	})
})
