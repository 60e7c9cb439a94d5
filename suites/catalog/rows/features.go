package rows

import (
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"

	"github.com/cilium/ebpf"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Probes of what the kernel can load: every program type and map type of
// the kernel's enums (named as bpftool names them, so a report lines up with
// `bpftool feature probe`), helpers per program type, and verifier and link
// features. Since is the upstream version that introduced the feature (bcc's
// docs/kernel-versions.md); Needs are the CONFIG options that gate the
// type's registration in include/linux/bpf_types.h or kernel/bpf/Makefile.
func init() {
	for _, p := range featureProgs {
		catalog.Register(catalog.Feature{ID: "prog/" + p.name, Area: catalog.Features, Prog: p.typ, Since: p.since, Needs: p.needs,
			Doc: "load a minimal " + p.name + " program"})
	}
	for _, m := range featureMaps {
		catalog.Register(catalog.Feature{ID: "map/" + m.name, Area: catalog.Features, Map: m.typ, Since: m.since, Needs: m.needs,
			Doc: "create a " + m.name + " map"})
	}
	for _, h := range featureHelpers {
		prog := progTypeByName(h.prog)
		needs := append(append([]catalog.Requirement{}, prog.needs...), h.needs...)
		catalog.Register(catalog.Feature{ID: "helper/" + h.prog + "/" + h.name, Area: catalog.Features, Prog: prog.typ,
			Since: catalog.Later(prog.since, h.since), Needs: needs,
			Doc: "load a " + h.prog + " program that calls " + h.name})
	}
	catalog.Register(
		catalog.Feature{ID: "misc/large_insn_limit", Area: catalog.Features, Prog: ebpf.SocketFilter, Since: "5.2",
			Doc: "load a socket_filter program of 4097 instructions (the old limit was 4096)"},
		catalog.Feature{ID: "misc/bounded_loops", Area: catalog.Features, Prog: ebpf.SocketFilter, Since: "5.3",
			Doc: "load a socket_filter program with a backward jump that loops 10 times"},
		catalog.Feature{ID: "misc/isa_v2", Area: catalog.Features, Prog: ebpf.SocketFilter, Since: "4.14",
			Doc: "load a program using BPF_JLT (ISA v2)"},
		catalog.Feature{ID: "misc/isa_v3", Area: catalog.Features, Prog: ebpf.SocketFilter, Since: "5.1",
			Doc: "load a program using a 32-bit jump, BPF_JMP32 (ISA v3)"},
		// gotol came with ISA v4 in 6.6, and stable 6.1.72 backported it
		// ("bpf: Support new 32bit offset jmp instruction", listed under
		// ChangeLog-6.1.72 in Debian's 6.1 changelog); Debian 6.1.192 loads it.
		catalog.Feature{ID: "misc/isa_v4", Area: catalog.Features, Prog: ebpf.SocketFilter, Since: "6.1",
			Needs: []catalog.Requirement{catalog.Backported("6.6", "6.1.72"),
				// The stable backport is the verifier's and x86's JIT's; the
				// arm64 JIT refuses gotol with ENOTSUPP on Debian's 6.1
				// (docs/facts.md#arm64-expectations).
				catalog.ArchSince("arm64", "6.6", "the arm64 JIT learned the ISA v4 instructions in 6.6", "ENOTSUPP")},
			Doc: "load a program using BPF_JA with a 32-bit offset, gotol (ISA v4)"},
		catalog.Feature{ID: "misc/bpf_link", Area: catalog.Features, At: reports.StageAttach, Prog: ebpf.CGroupSKB, Attach: ebpf.AttachCGroupInetIngress, Since: "5.7",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_CGROUP_BPF")},
			Doc:   "create a bpf_link with BPF_LINK_CREATE (cgroup_skb ingress on the cgroup2 root) and read its info"},
		catalog.Feature{ID: "misc/kprobe_multi", Area: catalog.Features, At: reports.StageAttach, Prog: ebpf.Kprobe, Attach: ebpf.AttachTraceKprobeMulti, Since: "5.18",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_BPF_EVENTS", "CONFIG_FPROBE")},
			Doc:   "create a kprobe_multi link on one kernel function and close it"},
		catalog.Feature{ID: "misc/uprobe_multi", Area: catalog.Features, At: reports.StageAttach, Prog: ebpf.Kprobe, Attach: ebpf.AttachTraceUprobeMulti, Since: "6.6",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_BPF_EVENTS", "CONFIG_UPROBES")},
			Doc:   "create a uprobe_multi link on a function of the suite binary and close it"},
	)
}

type progRow struct {
	name  string
	typ   ebpf.ProgramType
	since string
	needs []catalog.Requirement
}

var (
	needsNet       = []catalog.Requirement{catalog.Config("CONFIG_NET")}
	needsInet      = []catalog.Requirement{catalog.Config("CONFIG_NET", "CONFIG_INET")}
	needsCgroupBPF = []catalog.Requirement{catalog.Config("CONFIG_CGROUP_BPF")}
	needsBPFEvents = []catalog.Requirement{catalog.Config("CONFIG_BPF_EVENTS")}
)

// featureProgs is enum bpf_prog_type in order, as bpftool lists it
// (`bpftool feature list_builtins prog_types`).
var featureProgs = []progRow{
	{"socket_filter", ebpf.SocketFilter, "3.19", needsNet},
	{"kprobe", ebpf.Kprobe, "4.1", needsBPFEvents},
	{"sched_cls", ebpf.SchedCLS, "4.1", needsNet},
	{"sched_act", ebpf.SchedACT, "4.1", needsNet},
	{"tracepoint", ebpf.TracePoint, "4.7", needsBPFEvents},
	{"xdp", ebpf.XDP, "4.8", needsNet},
	{"perf_event", ebpf.PerfEvent, "4.9", needsBPFEvents},
	{"cgroup_skb", ebpf.CGroupSKB, "4.10", needsCgroupBPF},
	{"cgroup_sock", ebpf.CGroupSock, "4.10", needsCgroupBPF},
	{"lwt_in", ebpf.LWTIn, "4.10", needsNet},
	{"lwt_out", ebpf.LWTOut, "4.10", needsNet},
	{"lwt_xmit", ebpf.LWTXmit, "4.10", needsNet},
	{"sock_ops", ebpf.SockOps, "4.13", needsNet},
	{"sk_skb", ebpf.SkSKB, "4.14", needsNet},
	{"cgroup_device", ebpf.CGroupDevice, "4.15", needsCgroupBPF},
	{"sk_msg", ebpf.SkMsg, "4.17", needsNet},
	{"raw_tracepoint", ebpf.RawTracepoint, "4.17", needsBPFEvents},
	{"cgroup_sock_addr", ebpf.CGroupSockAddr, "4.17", needsCgroupBPF},
	{"lwt_seg6local", ebpf.LWTSeg6Local, "4.18", needsNet},
	{"lirc_mode2", ebpf.LircMode2, "4.18", []catalog.Requirement{catalog.Config("CONFIG_BPF_LIRC_MODE2")}},
	{"sk_reuseport", ebpf.SkReuseport, "4.19", needsInet},
	{"flow_dissector", ebpf.FlowDissector, "4.20", needsNet},
	{"cgroup_sysctl", ebpf.CGroupSysctl, "5.2", needsCgroupBPF},
	{"raw_tracepoint_writable", ebpf.RawTracepointWritable, "5.2", needsBPFEvents},
	{"cgroup_sockopt", ebpf.CGroupSockopt, "5.3", needsCgroupBPF},
	// A tracing program needs a BTF target in vmlinux (the probe uses the
	// tp_btf target sys_enter, which needs no ftrace).
	{"tracing", ebpf.Tracing, "5.5", []catalog.Requirement{catalog.Config("CONFIG_BPF_EVENTS", "CONFIG_DEBUG_INFO_BTF")}},
	// The probe's target is tcp_congestion_ops, registered by bpf_tcp_ca.c.
	{"struct_ops", ebpf.StructOps, "5.6", []catalog.Requirement{catalog.Config("CONFIG_BPF_JIT", "CONFIG_INET", "CONFIG_DEBUG_INFO_BTF")}},
	// ext and lsm programs get a BPF trampoline at load time
	// (bpf_trampoline_get), as fentry does. Where this process is refused
	// the function tracer, all three loads fail with EPERM and an empty
	// verifier log (measured on a 6.18 host with lockdown=integrity), while
	// tp_btf and iterator programs, which need no trampoline, load.
	{"ext", ebpf.Extension, "5.6", []catalog.Requirement{catalog.Config("CONFIG_BPF_JIT"), catalog.Trampolines()}},
	{"lsm", ebpf.LSM, "5.7", []catalog.Requirement{catalog.Config("CONFIG_BPF_JIT", "CONFIG_BPF_LSM", "CONFIG_DEBUG_INFO_BTF"), catalog.Trampolines()}},
	{"sk_lookup", ebpf.SkLookup, "5.9", needsInet},
	{"syscall", ebpf.Syscall, "5.14", nil},
	{"netfilter", ebpf.Netfilter, "6.4", []catalog.Requirement{catalog.Config("CONFIG_NETFILTER_BPF_LINK")}},
}

func progTypeByName(name string) progRow {
	for _, p := range featureProgs {
		if p.name == name {
			return p
		}
	}
	panic("catalog: no program type " + name)
}

type mapRow struct {
	name  string
	typ   ebpf.MapType
	since string
	needs []catalog.Requirement
}

// featureMaps is enum bpf_map_type in order, as bpftool lists it
// (`bpftool feature list_builtins map_types`), plus the types newer than
// Debian 12's bpftool.
var featureMaps = []mapRow{
	{"hash", ebpf.Hash, "3.19", nil},
	{"array", ebpf.Array, "3.19", nil},
	{"prog_array", ebpf.ProgramArray, "4.2", nil},
	{"perf_event_array", ebpf.PerfEventArray, "4.3", nil},
	{"percpu_hash", ebpf.PerCPUHash, "4.6", nil},
	{"percpu_array", ebpf.PerCPUArray, "4.6", nil},
	{"stack_trace", ebpf.StackTrace, "4.6", []catalog.Requirement{catalog.Config("CONFIG_PERF_EVENTS")}},
	{"cgroup_array", ebpf.CGroupArray, "4.8", []catalog.Requirement{catalog.Config("CONFIG_CGROUPS")}},
	{"lru_hash", ebpf.LRUHash, "4.10", nil},
	{"lru_percpu_hash", ebpf.LRUCPUHash, "4.10", nil},
	{"lpm_trie", ebpf.LPMTrie, "4.11", nil},
	{"array_of_maps", ebpf.ArrayOfMaps, "4.12", nil},
	{"hash_of_maps", ebpf.HashOfMaps, "4.12", nil},
	{"devmap", ebpf.DevMap, "4.14", needsNet},
	{"sockmap", ebpf.SockMap, "4.14", []catalog.Requirement{catalog.Config("CONFIG_NET", "CONFIG_BPF_STREAM_PARSER")}},
	{"cpumap", ebpf.CPUMap, "4.15", needsNet},
	{"xskmap", ebpf.XSKMap, "4.18", []catalog.Requirement{catalog.Config("CONFIG_NET", "CONFIG_XDP_SOCKETS")}},
	{"sockhash", ebpf.SockHash, "4.18", []catalog.Requirement{catalog.Config("CONFIG_NET", "CONFIG_BPF_STREAM_PARSER")}},
	{"cgroup_storage", ebpf.CGroupStorage, "4.19", needsCgroupBPF},
	{"reuseport_sockarray", ebpf.ReusePortSockArray, "4.19", needsInet},
	{"percpu_cgroup_storage", ebpf.PerCPUCGroupStorage, "4.20", needsCgroupBPF},
	{"queue", ebpf.Queue, "4.20", nil},
	{"stack", ebpf.Stack, "4.20", nil},
	{"sk_storage", ebpf.SkStorage, "5.2", needsNet},
	{"devmap_hash", ebpf.DevMapHash, "5.4", needsNet},
	// The probe creates a real tcp_congestion_ops struct_ops map, whose
	// value type it finds in vmlinux BTF.
	{"struct_ops", ebpf.StructOpsMap, "5.6", []catalog.Requirement{catalog.Config("CONFIG_BPF_JIT", "CONFIG_INET", "CONFIG_DEBUG_INFO_BTF")}},
	{"ringbuf", ebpf.RingBuf, "5.8", nil},
	{"inode_storage", ebpf.InodeStorage, "5.10", []catalog.Requirement{catalog.Config("CONFIG_BPF_LSM")}},
	// 5.11 built task storage only with CONFIG_BPF_LSM; 5.12 made it
	// unconditional for tracing programs.
	{"task_storage", ebpf.TaskStorage, "5.11", nil},
	{"bloom_filter", ebpf.BloomFilter, "5.16", nil},
	{"user_ringbuf", ebpf.UserRingbuf, "6.1", nil},
	{"cgrp_storage", ebpf.CgroupStorage, "6.2", []catalog.Requirement{catalog.Config("CONFIG_CGROUPS")}},
	// kernel/bpf/Makefile builds arena.o only for 64-bit MMU kernels, and
	// only a JIT that supports arena instructions can use it.
	{"arena", ebpf.Arena, "6.9", []catalog.Requirement{catalog.Config("CONFIG_BPF_JIT", "CONFIG_MMU", "CONFIG_64BIT")}},
}

type helperRow struct {
	prog, name string
	// since is when the program type gained the helper, which for most
	// rows is when the helper was added.
	since string
	needs []catalog.Requirement
}

// featureHelpers are the helpers probed per program type: each program type's
// characteristic helpers, plus ones gated by a CONFIG option or lockdown, so
// a report shows those gates at work.
var featureHelpers = []helperRow{
	{"socket_filter", "bpf_map_lookup_elem", "3.19", nil},
	{"socket_filter", "bpf_get_prandom_u32", "4.1", nil},
	{"socket_filter", "bpf_ktime_get_ns", "4.1", nil},
	{"socket_filter", "bpf_skb_load_bytes", "4.5", nil},
	{"socket_filter", "bpf_get_socket_cookie", "4.12", nil},
	{"socket_filter", "bpf_get_socket_uid", "4.12", nil},
	{"socket_filter", "bpf_skb_load_bytes_relative", "4.18", nil},
	{"socket_filter", "bpf_ringbuf_output", "5.8", nil},
	{"socket_filter", "bpf_ktime_get_coarse_ns", "5.11", nil},
	{"socket_filter", "bpf_loop", "5.17", nil},

	{"kprobe", "bpf_trace_printk", "4.1", nil},
	{"kprobe", "bpf_get_current_pid_tgid", "4.2", nil},
	{"kprobe", "bpf_perf_event_output", "4.4", nil},
	{"kprobe", "bpf_get_stackid", "4.6", nil},
	{"kprobe", "bpf_probe_write_user", "4.8", []catalog.Requirement{catalog.LockdownBelow("integrity", "5.14")}},
	{"kprobe", "bpf_override_return", "4.16", []catalog.Requirement{catalog.Config("CONFIG_BPF_KPROBE_OVERRIDE")}},
	{"kprobe", "bpf_send_signal", "5.3", nil},
	{"kprobe", "bpf_probe_read_kernel", "5.5", []catalog.Requirement{catalog.LockdownBelow("confidentiality", "5.5")}},
	{"kprobe", "bpf_get_current_task_btf", "5.11", []catalog.Requirement{catalog.Config("CONFIG_DEBUG_INFO_BTF")}},
	{"kprobe", "bpf_get_func_ip", "5.15", nil},
	{"kprobe", "bpf_get_attach_cookie", "5.15", nil},

	{"tracepoint", "bpf_get_current_comm", "4.7", nil},
	{"tracepoint", "bpf_perf_event_output", "4.7", nil},
	{"tracepoint", "bpf_get_stackid", "4.7", nil},
	{"tracepoint", "bpf_get_current_task", "4.8", nil},
	{"tracepoint", "bpf_get_current_cgroup_id", "4.18", []catalog.Requirement{catalog.Config("CONFIG_CGROUPS")}},
	{"tracepoint", "bpf_probe_read_user", "5.5", nil},
	{"tracepoint", "bpf_ringbuf_output", "5.8", nil},
	{"tracepoint", "bpf_get_attach_cookie", "5.15", nil},

	{"xdp", "bpf_xdp_adjust_head", "4.10", nil},
	{"xdp", "bpf_redirect", "4.14", nil},
	{"xdp", "bpf_redirect_map", "4.14", nil},
	{"xdp", "bpf_xdp_adjust_meta", "4.15", nil},
	{"xdp", "bpf_xdp_adjust_tail", "4.18", nil},
	{"xdp", "bpf_fib_lookup", "4.18", []catalog.Requirement{catalog.Config("CONFIG_INET")}},
	{"xdp", "bpf_xdp_get_buff_len", "5.18", nil},
	{"xdp", "bpf_xdp_load_bytes", "5.18", nil},

	{"sched_cls", "bpf_skb_store_bytes", "4.1", nil},
	{"sched_cls", "bpf_l3_csum_replace", "4.1", nil},
	{"sched_cls", "bpf_clone_redirect", "4.2", nil},
	{"sched_cls", "bpf_skb_vlan_push", "4.3", nil},
	{"sched_cls", "bpf_redirect", "4.4", nil},
	{"sched_cls", "bpf_skb_adjust_room", "4.13", nil},
	{"sched_cls", "bpf_sk_assign", "5.7", []catalog.Requirement{catalog.Config("CONFIG_INET")}},
	{"sched_cls", "bpf_redirect_neigh", "5.10", nil},
	{"sched_cls", "bpf_redirect_peer", "5.10", nil},
	{"sched_cls", "bpf_check_mtu", "5.12", nil},
	{"sched_cls", "bpf_skb_set_tstamp", "5.18", nil},

	{"cgroup_skb", "bpf_skb_load_bytes", "4.10", nil},
	{"cgroup_skb", "bpf_get_socket_cookie", "4.12", nil},
	{"cgroup_skb", "bpf_sk_fullsock", "5.1", []catalog.Requirement{catalog.Config("CONFIG_INET")}},
	{"cgroup_skb", "bpf_tcp_sock", "5.1", []catalog.Requirement{catalog.Config("CONFIG_INET")}},
	{"cgroup_skb", "bpf_skb_ecn_set_ce", "5.1", []catalog.Requirement{catalog.Config("CONFIG_INET")}},
	{"cgroup_skb", "bpf_get_listener_sock", "5.1", []catalog.Requirement{catalog.Config("CONFIG_INET")}},
	{"cgroup_skb", "bpf_sk_storage_get", "5.2", nil},
}
