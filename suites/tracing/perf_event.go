package tracing

import (
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/bpf"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

var _ = harness.Spec("attach/perf_event", "samples the software cpu-clock of a busy thread", func(c *harness.Cell) {
	k := c.Load(bpf.PerfEventCount)

	// A thread-bound event: sample this OS thread's CPU clock every 100µs
	// while it spins for 50ms; only the spec's own work can fire it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	attr := unix.PerfEventAttr{
		Type:   unix.PERF_TYPE_SOFTWARE,
		Config: unix.PERF_COUNT_SW_CPU_CLOCK,
		Sample: 100_000,
	}
	attr.Size = uint32(unsafe.Sizeof(attr))
	fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	c.Create("perf_event_open(cpu-clock)", err)
	c.Defer(func() { unix.Close(fd) })
	c.Attached("attach (PERF_EVENT_IOC_SET_BPF)", unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, k.Prog.FD()))
	c.Attached("enable (PERF_EVENT_IOC_ENABLE)", unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0))

	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
	}
	c.Observed("disable (PERF_EVENT_IOC_DISABLE)", unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_DISABLE, 0))
	c.ExpectFired(k, harness.Trigger{What: "50ms of busy CPU on a thread sampled every 100µs", Events: 1})
})
