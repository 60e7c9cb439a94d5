package rows

import (
	"github.com/cilium/ebpf"
	"slices"

	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
)

// Tracing attach mechanisms: each spec attaches and observes events it
// caused. Since is the upstream version that added the mechanism for the
// program type used here; Needs names the CONFIG options Debian and upstream
// gate them on.
func init() {
	catalog.Register(
		catalog.Feature{ID: "attach/tracepoint", Area: catalog.Tracing, Prog: ebpf.TracePoint, Since: "4.7",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_TRACEPOINTS", "CONFIG_PERF_EVENTS")},
			Doc:   "tracepoint program on task/task_newtask through perf_event_open, counting the spec's forks (not the Go runtime's threads)"},
		catalog.Feature{ID: "attach/raw_tracepoint", Area: catalog.Tracing, Prog: ebpf.RawTracepoint, Since: "4.17",
			Doc: "raw tracepoint program on sys_enter, counting the spec's getpgid(2) calls only"},
		catalog.Feature{ID: "attach/tp_btf", Area: catalog.Tracing, Prog: ebpf.Tracing, Attach: ebpf.AttachTraceRawTp, Since: "5.5",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_DEBUG_INFO_BTF")},
			Doc:   "BTF-typed raw tracepoint on sys_enter"},
		catalog.Feature{ID: "attach/kprobe", Area: catalog.Tracing, Prog: ebpf.Kprobe, Since: "4.1",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_KPROBES", "CONFIG_KPROBE_EVENTS")},
			Doc:   "kprobe on getpgid(2)'s kernel entry point (__x64_sys_getpgid, __arm64_sys_getpgid)"},
		catalog.Feature{ID: "attach/kretprobe", Area: catalog.Tracing, Prog: ebpf.Kprobe, Since: "4.1",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_KPROBES", "CONFIG_KPROBE_EVENTS")},
			Doc:   "kretprobe on getpgid(2)'s kernel entry point (__x64_sys_getpgid, __arm64_sys_getpgid)"},
		catalog.Feature{ID: "attach/kprobe.multi", Area: catalog.Tracing, Prog: ebpf.Kprobe, Attach: ebpf.AttachTraceKprobeMulti, Since: "5.18",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_FPROBE")},
			Doc:   "kprobe.multi link on getpgid(2)'s kernel entry point (__x64_sys_getpgid, __arm64_sys_getpgid)"},
		catalog.Feature{ID: "attach/fentry", Area: catalog.Tracing, Prog: ebpf.Tracing, Attach: ebpf.AttachTraceFEntry, Since: "5.5",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_DEBUG_INFO_BTF", "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS"), catalog.Trampolines()},
			Doc:   "fentry on getpgid(2)'s kernel entry point (__x64_sys_getpgid, __arm64_sys_getpgid)"},
		catalog.Feature{ID: "attach/fexit", Area: catalog.Tracing, Prog: ebpf.Tracing, Attach: ebpf.AttachTraceFExit, Since: "5.5",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_DEBUG_INFO_BTF", "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS"), catalog.Trampolines()},
			Doc:   "fexit on getpgid(2)'s kernel entry point (__x64_sys_getpgid, __arm64_sys_getpgid)"},
		catalog.Feature{ID: "attach/fmod_ret", Area: catalog.Tracing, Prog: ebpf.Tracing, Attach: ebpf.AttachModifyReturn, Since: "5.7",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_DEBUG_INFO_BTF", "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS"), catalog.Trampolines()},
			Doc:   "fmod_ret on security_file_open, returning 0 so opens still succeed"},
		catalog.Feature{ID: "attach/uprobe", Area: catalog.Tracing, Prog: ebpf.Kprobe, Since: "4.3",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_UPROBES", "CONFIG_UPROBE_EVENTS"), catalog.UprobePMU()},
			Doc:   "uprobe on a function of the bundled target binary"},
		catalog.Feature{ID: "attach/uretprobe", Area: catalog.Tracing, Prog: ebpf.Kprobe, Since: "4.3",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_UPROBES", "CONFIG_UPROBE_EVENTS"), catalog.UprobePMU()},
			Doc:   "uretprobe on a function of the bundled target binary"},
		catalog.Feature{ID: "attach/uprobe.multi", Area: catalog.Tracing, Prog: ebpf.Kprobe, Attach: ebpf.AttachTraceUprobeMulti, Since: "6.6",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_UPROBES")},
			Doc:   "uprobe.multi link on a function of the bundled target binary"},
		catalog.Feature{ID: "attach/usdt", Area: catalog.Tracing, Prog: ebpf.Kprobe, Since: "4.20",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_UPROBES", "CONFIG_UPROBE_EVENTS"), catalog.UprobePMU()},
			Doc:   "USDT probe with a semaphore (ref_ctr_offset) in the bundled target binary"},
		catalog.Feature{ID: "attach/perf_event", Area: catalog.Tracing, Prog: ebpf.PerfEvent, Since: "4.9",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_PERF_EVENTS")},
			Doc:   "perf_event program sampling the software cpu-clock of a busy thread"},
		catalog.Feature{ID: "attach/syscalls.sys_enter", Area: catalog.Tracing, Prog: ebpf.TracePoint, Since: "4.7",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_FTRACE_SYSCALLS")},
			Doc:   "syscall tracepoint syscalls/sys_enter_getpgid"},
		catalog.Feature{ID: "attach/syscalls.sys_exit", Area: catalog.Tracing, Prog: ebpf.TracePoint, Since: "4.7",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_FTRACE_SYSCALLS")},
			Doc:   "syscall tracepoint syscalls/sys_exit_getpgid"},
		catalog.Feature{ID: "attach/raw_syscalls", Area: catalog.Tracing, Prog: ebpf.TracePoint, Since: "4.7",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_FTRACE_SYSCALLS")},
			Doc:   "tracepoint raw_syscalls/sys_enter"},
		catalog.Feature{ID: "attach/freplace", Area: catalog.Tracing, Prog: ebpf.Extension, Since: "5.6",
			// An ext link patches the target's code (bpf_arch_text_poke),
			// which arm64 has since 6.0: Debian's arm64 5.10 refuses the
			// link (docs/facts.md#arm64-expectations).
			Needs: append(slices.Clip(progTypeByName("ext").needs), catalog.ArchSince("arm64", "6.0", "bpf_arch_text_poke came to arm64 in 6.0", "ENOTSUPP", catalog.ErrNotSupported)),
			Doc:   "replace a global function of an XDP program with an ext program and run it with BPF_PROG_TEST_RUN"},
		catalog.Feature{ID: "attach/iter.task", Area: catalog.Tracing, Prog: ebpf.Tracing, Attach: ebpf.AttachTraceIter, Since: "5.8",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_DEBUG_INFO_BTF")},
			Doc:   "task iterator that counts the suite's own threads while the spec reads it"},
	)
}
