package harness

import (
	"strings"

	"github.com/bpfmatrix/bpfmatrix/bpf"
)

// A BPF LSM program can fail at three different points, and a cell must say
// which: the type does not load (no CONFIG_BPF_LSM, or the kernel refuses
// trampolines), it loads and attaches but never runs because "bpf" is not
// in the active LSM list (bpftrace issue 2716; Debian 5.10 boots without
// it), or it runs. Both helpers put the active LSM list in the evidence.

// LoadLSM loads the BPF LSM counter program called name from
// bpf/counters.c, counting only this process.
func (c *Cell) LoadLSM(name string) *Counter {
	return c.loadObjects("counters", bpf.LoadCounters, loadOptions{note: " (" + c.activeLSMs() + ")"}, name).Counter
}

// ExpectLSMFired ends the spec by the counter: supported when the program
// saw the events what caused; unsupported when it saw none because bpf is
// not an active LSM; failed when it saw none although bpf is active.
func (c *Cell) ExpectLSMFired(k *Counter, what string) {
	n := k.Events()
	c.rec.Events = n
	switch {
	case n > 0:
		c.Supported("attached and observed %d events after %s; %s", n, what, c.activeLSMs())
	case c.Kernel.LSMs != nil && !c.Kernel.HasLSM("bpf"):
		c.Unsupported("", "the program type loads and attaches, but observed 0 events after %s: %s", what, c.activeLSMs())
	}
	c.Failed("attached, but observed 0 events after %s although %s", what, c.activeLSMs())
}

func (c *Cell) activeLSMs() string {
	switch {
	case c.Kernel.LSMs == nil:
		return "active LSM list unknown: /sys/kernel/security/lsm unreadable"
	case c.Kernel.HasLSM("bpf"):
		return "bpf is in the active LSM list " + strings.Join(c.Kernel.LSMs, ",")
	}
	return "bpf is not in the active LSM list " + strings.Join(c.Kernel.LSMs, ",") + "; boot with lsm=...,bpf"
}
