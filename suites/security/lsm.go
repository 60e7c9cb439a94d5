// Package security proves the BPF LSM and the cgroup programs that act as
// access control.
package security

import (
	"strings"

	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/bpf"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

// A BPF LSM program can fail at three different points, and the cell says
// which: the type does not load (no CONFIG_BPF_LSM, or the kernel refuses
// trampolines), it loads and attaches but never runs because "bpf" is not
// in the active LSM list (bpftrace issue 2716; Debian 5.10 boots without
// it), or it runs. The load's and the verdict's evidence both carry the
// active LSM list.
var _ = harness.Spec("attach/lsm", "attaches to file_open and fires on open", func(c *harness.Cell) {
	lsms := activeLSMs(c.Kernel)
	k := c.Load(bpf.LsmCount, harness.Note(lsms))
	c.Attach(link.AttachLSM(link.LSMOptions{Program: k.Prog}))
	t := harness.OpenFile()
	if k.Events() == 0 && c.Kernel.LSMs != nil && !c.Kernel.HasLSM("bpf") {
		c.Unsupported(reports.StageObserve, "", "the program type loads and attaches, but observed 0 events after %s: %s", t.What, lsms)
	}
	t.What += " (" + lsms + ")"
	c.ExpectFired(k, t)
})

func activeLSMs(k *catalog.Kernel) string {
	switch {
	case k.LSMs == nil:
		return "active LSM list unknown: /sys/kernel/security/lsm unreadable"
	case k.HasLSM("bpf"):
		return "bpf is in the active LSM list " + strings.Join(k.LSMs, ",")
	}
	return "bpf is not in the active LSM list " + strings.Join(k.LSMs, ",") + "; boot with lsm=...,bpf"
}
