package catalog

import "github.com/cilium/ebpf"

func init() {
	register(
		Feature{ID: "probepoints/inventory", Area: ProbePoints, Since: "4.7",
			Needs: []Requirement{Config("CONFIG_TRACEPOINTS"), TracefsMounted()},
			Doc:   "counts tracepoints, syscall tracepoints, ftrace and BTF functions, perf event sources; reads the watch list's formats and prototypes"},
		Feature{ID: "probepoints/format", Area: ProbePoints, Prog: ebpf.TracePoint, Since: "4.7",
			Needs: []Requirement{Config("CONFIG_FTRACE_SYSCALLS", "CONFIG_PERF_EVENTS"), TracefsMounted()},
			Doc:   "a tracepoint program reads sys_enter_openat's dfd and flags at the offsets and sizes its format file gives, and sees the values the spec passed"},
	)
}
