package rows

import (
	"github.com/cilium/ebpf"

	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
)

func init() {
	catalog.Register(
		catalog.Feature{ID: "probepoints/inventory", Area: catalog.ProbePoints, Since: "4.7",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_TRACEPOINTS"), catalog.TracefsMounted()},
			Doc:   "counts tracepoints, syscall tracepoints, ftrace functions, perf event sources; reads the watch list's formats and which functions ftrace can attach to (BTF functions and prototypes are read from the kernel's BTF on the host)"},
		catalog.Feature{ID: "probepoints/format", Area: catalog.ProbePoints, Prog: ebpf.TracePoint, Since: "4.7",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_FTRACE_SYSCALLS", "CONFIG_PERF_EVENTS"), catalog.TracefsMounted()},
			Doc:   "a tracepoint program reads sys_enter_openat's dfd and flags at the offsets and sizes its format file gives, and sees the values the spec passed"},
	)
}
