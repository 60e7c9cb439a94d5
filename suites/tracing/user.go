package tracing

import (
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

// target is testdata/target.c, built static by `make generate`: the suite
// carries its own uprobe and USDT target into every VM and container.
//
//go:embed testdata/target
var target []byte

const targetFunc = "bpfmatrix_uprobe_target"

// userTarget writes the target binary to a temporary file and opens it for
// uprobes; the file goes when the spec ends.
func userTarget(c *harness.Cell) (string, *link.Executable) {
	dir, err := os.MkdirTemp("", "bpfmatrix-target-")
	c.Check("create target dir", err)
	c.Defer(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "target")
	c.Check("write target", os.WriteFile(path, target, 0o755))
	ex, err := link.OpenExecutable(path)
	c.Check("open target", err)
	return path, ex
}

// runTarget runs the target, which calls its probed function and fires its
// USDT probe harness.TriggerCalls times.
func runTarget(c *harness.Cell, path string) string {
	out, err := exec.Command(path, strconv.Itoa(harness.TriggerCalls)).CombinedOutput()
	if err != nil {
		c.Failed("run target %s: %v: %s", path, err, out)
	}
	return "a run of the target calling " + targetFunc + " 10 times"
}

var _ = harness.Spec("attach/uprobe", "attaches to a function of the target binary and fires", func(c *harness.Cell) {
	k := c.LoadCounterAnyProcess("uprobe_count")
	path, ex := userTarget(c)
	c.Attach(ex.Uprobe(targetFunc, k.Prog, nil))
	c.ExpectFired(k, runTarget(c, path))
})

var _ = harness.Spec("attach/uretprobe", "attaches to the return of a function of the target binary and fires", func(c *harness.Cell) {
	k := c.LoadCounterAnyProcess("uretprobe_count")
	path, ex := userTarget(c)
	c.Attach(ex.Uretprobe(targetFunc, k.Prog, nil))
	c.ExpectFired(k, runTarget(c, path))
})

var _ = harness.Spec("attach/uprobe.multi", "attaches one link to a function of the target binary and fires", func(c *harness.Cell) {
	k := c.LoadCounterAnyProcess("uprobe_multi_count")
	path, ex := userTarget(c)
	c.Attach(ex.UprobeMulti([]string{targetFunc}, k.Prog, nil))
	c.ExpectFired(k, runTarget(c, path))
})

var _ = harness.Spec("attach/usdt", "attaches to bpfmatrix:tick with its semaphore and fires", func(c *harness.Cell) {
	k := c.LoadCounterAnyProcess("usdt_count")
	path, ex := userTarget(c)
	probe, err := findUSDT(path, "bpfmatrix", "tick")
	c.Check("read .note.stapsdt", err)
	// The target fires the probe only while the kernel holds its semaphore
	// up, so a count proves ref_ctr_offset works too.
	c.Attach(ex.Uprobe("", k.Prog, &link.UprobeOptions{Address: probe.Offset, RefCtrOffset: probe.SemaphoreOffset}))
	c.ExpectFired(k, runTarget(c, path))
})
