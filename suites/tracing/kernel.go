// Package tracing proves the tracing attach mechanisms: each spec attaches a
// counter program, causes the event itself, and records how many it saw.
package tracing

import (
	"io"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/bpf"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
	"github.com/bpfmatrix/bpfmatrix/suites/internal/rawbpf"
)

var _ = harness.Spec("attach/tracepoint", "attaches to task/task_newtask and fires on the spec's forks", func(c *harness.Cell) {
	k := c.Load(bpf.TaskNewtaskCount)
	c.Attach(link.Tracepoint("task", "task_newtask", k.Prog, nil))
	c.ExpectFired(k, harness.Fork())
})

var _ = harness.Spec("attach/raw_tracepoint", "attaches to sys_enter and fires on getpgid", func(c *harness.Cell) {
	k := c.Load(bpf.RawTracepointCount)
	c.Attach(link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: k.Prog}))
	c.ExpectFired(k, harness.Getpgid())
})

var _ = harness.Spec("attach/tp_btf", "attaches to sys_enter and fires on getpgid", func(c *harness.Cell) {
	k := c.Load(bpf.TpBtfCount)
	c.Attach(link.AttachTracing(link.TracingOptions{Program: k.Prog}))
	c.ExpectFired(k, harness.Getpgid())
})

var _ = harness.Spec("attach/kprobe", "attaches and fires on "+harness.GetpgidFunc, func(c *harness.Cell) {
	k := c.Load(bpf.KprobeCount)
	c.Attach(link.Kprobe(harness.GetpgidFunc, k.Prog, nil))
	c.ExpectFired(k, harness.Getpgid())
})

var _ = harness.Spec("attach/kretprobe", "attaches and fires on the return of "+harness.GetpgidFunc, func(c *harness.Cell) {
	k := c.Load(bpf.KretprobeCount)
	c.Attach(link.Kretprobe(harness.GetpgidFunc, k.Prog, nil))
	c.ExpectFired(k, harness.Getpgid())
})

var _ = harness.Spec("attach/kprobe.multi", "attaches one link to "+harness.GetpgidFunc+" and fires", func(c *harness.Cell) {
	k := c.Load(bpf.KprobeMultiCount)
	// cilium/ebpf turns the kernel's answer into "requires >= v5.18" even when
	// the version is fine and CONFIG_FPROBE is off; ask the kernel directly so
	// the evidence carries its errno.
	c.Attached("link_create(kprobe_multi)", rawbpf.ProbeKprobeMulti(k.Prog, harness.GetpgidFunc))
	c.Attach(link.KprobeMulti(k.Prog, link.KprobeMultiOptions{Symbols: []string{harness.GetpgidFunc}}))
	c.ExpectFired(k, harness.Getpgid())
})

var _ = harness.Spec("attach/fentry", "attaches and fires on "+harness.GetpgidFunc, func(c *harness.Cell) {
	k := c.Load(bpf.FentryCount)
	c.Attach(link.AttachTracing(link.TracingOptions{Program: k.Prog}))
	c.ExpectFired(k, harness.Getpgid())
})

var _ = harness.Spec("attach/fexit", "attaches and fires on the return of "+harness.GetpgidFunc, func(c *harness.Cell) {
	k := c.Load(bpf.FexitCount)
	c.Attach(link.AttachTracing(link.TracingOptions{Program: k.Prog}))
	c.ExpectFired(k, harness.Getpgid())
})

var _ = harness.Spec("attach/fmod_ret", "attaches to security_file_open and fires on open", func(c *harness.Cell) {
	k := c.Load(bpf.FmodRetCount)
	c.Attach(link.AttachTracing(link.TracingOptions{Program: k.Prog, AttachType: ebpf.AttachModifyReturn}))
	c.ExpectFired(k, harness.OpenFile())
})

var _ = harness.Spec("attach/syscalls.sys_enter", "attaches to syscalls/sys_enter_getpgid and fires", func(c *harness.Cell) {
	k := c.Load(bpf.TracepointCount)
	c.Attach(link.Tracepoint("syscalls", "sys_enter_getpgid", k.Prog, nil))
	c.ExpectFired(k, harness.Getpgid())
})

var _ = harness.Spec("attach/syscalls.sys_exit", "attaches to syscalls/sys_exit_getpgid and fires", func(c *harness.Cell) {
	k := c.Load(bpf.TracepointCount)
	c.Attach(link.Tracepoint("syscalls", "sys_exit_getpgid", k.Prog, nil))
	c.ExpectFired(k, harness.Getpgid())
})

var _ = harness.Spec("attach/raw_syscalls", "attaches to raw_syscalls/sys_enter and fires on getpgid", func(c *harness.Cell) {
	k := c.Load(bpf.RawSyscallsCount)
	c.Attach(link.Tracepoint("raw_syscalls", "sys_enter", k.Prog, nil))
	c.ExpectFired(k, harness.Getpgid())
})

var _ = harness.Spec("attach/iter.task", "iterates the suite's own tasks when read", func(c *harness.Cell) {
	k := c.Load(bpf.IterTaskCount)
	it := c.Attach(link.AttachIter(link.IterOptions{Program: k.Prog})).(*link.Iter)
	c.ExpectFired(k, drain(c, it))
})

// drain reads an iterator to its end: reading is what runs its program,
// once for each object it walks (for the task iterator, the suite's own
// threads: at least one).
func drain(c *harness.Cell, it *link.Iter) harness.Trigger {
	c.Helper()
	r, err := it.Open()
	c.Create("open iterator", err)
	defer r.Close()
	_, err = io.Copy(io.Discard, r)
	c.Triggered("read iterator", err)
	return harness.Trigger{What: "one read of the task iterator", Events: 1}
}
