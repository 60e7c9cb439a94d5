// Package faults holds specs that break the kernel on purpose, so the
// runner's crash handling is tested against a real panic: the cells
// streamed before it must stay, the rest must come out "crashed" and the
// matrix must go on with the next kernel. The harness labels its specs
// contract.CrashLabel, which every run excludes unless asked (bpfmatrix run
// --crash-test), and they refuse to act outside a bpfmatrix VM guest.
package faults

import (
	"os"
	"time"

	"github.com/bpfmatrix/bpfmatrix/suites/catalog/rows"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

var _ = harness.Spec("faults/crash", "crashes the kernel through /proc/sysrq-trigger", func(c *harness.Cell) {
	if why := rows.CrashRefused(); why != "" {
		c.Skipped("refusing to crash the kernel: %s", why)
	}
	f, err := os.OpenFile("/proc/sysrq-trigger", os.O_WRONLY, 0)
	c.Setup("open /proc/sysrq-trigger", err)
	_, err = f.Write([]byte("c"))
	c.Triggered("write c to /proc/sysrq-trigger", err)
	// The kernel panics inside write(2); reaching here means it did not.
	time.Sleep(5 * time.Second)
	c.Failed("wrote 'c' to /proc/sysrq-trigger and the kernel is still running 5s later")
})
