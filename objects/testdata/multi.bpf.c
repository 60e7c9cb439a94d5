// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// multi.bpf.o: a user's object as bpfmatrix meets it in the wild, many
// sections and map kinds in one ELF. Every program is trivial but real: it
// counts its runs into its own slot of runs, and a few also use one of the
// other map kinds, so loading the object creates every kind. Each returns
// the verdict that lets traffic and syscalls through (connect4 must return 1,
// or every connect(2) in the cgroup fails).

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

// target_tgid is a load-time constant (.rodata): 0 counts every process,
// a loader may set it to count only its own.
volatile const __u32 target_tgid = 0;

// One slot of runs per program.
enum {
	RUN_TP_GETPGID,
	RUN_RAWTP_SYS_ENTER,
	RUN_TPBTF_SYS_ENTER,
	RUN_FENTRY_GETPGID,
	RUN_KPROBE_GETPGID,
	RUN_XDP_PASS,
	RUN_TC_PASS,
	RUN_TCX_PASS,
	RUN_CGSKB_EGRESS,
	RUN_CONNECT4_ALLOW,
	RUN_SOCKET_KEEP,
	RUN_ITER_TASK,
	RUN_NPROGS,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RUN_NPROGS);
	__type(key, __u32);
	__type(value, __u64);
} runs SEC(".maps");

// by_tgid counts getpgid(2) calls per process.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} by_tgid SEC(".maps");

// per_cpu counts syscall entries per CPU, without atomics.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} per_cpu SEC(".maps");

// recent keeps the last processes a kprobe saw; old ones are evicted.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u64);
} recent SEC(".maps");

// events carries one record per getpgid(2) call to user space.
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

static __always_inline int mine(void)
{
	return !target_tgid || current_tgid() == target_tgid;
}

static __always_inline void count(__u32 slot)
{
	__u64 *value = bpf_map_lookup_elem(&runs, &slot);

	if (value)
		__sync_fetch_and_add(value, 1);
}

// count_in adds one to key's value in a hash-like map.
static __always_inline void count_in(void *map, __u32 key)
{
	__u64 one = 1, *value = bpf_map_lookup_elem(map, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
	else
		bpf_map_update_elem(map, &key, &one, BPF_NOEXIST);
}

SEC("tracepoint/syscalls/sys_enter_getpgid")
int tp_getpgid(void *ctx)
{
	__u32 tgid = current_tgid();

	if (!mine())
		return 0;
	count(RUN_TP_GETPGID);
	count_in(&by_tgid, tgid);
	bpf_ringbuf_output(&events, &tgid, sizeof(tgid), 0);
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int rawtp_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 key = 0;
	__u64 *value;

	if (!mine())
		return 0;
	count(RUN_RAWTP_SYS_ENTER);
	value = bpf_map_lookup_elem(&per_cpu, &key);
	if (value)
		*value += 1;
	return 0;
}

SEC("tp_btf/sys_enter")
int tpbtf_sys_enter(__u64 *ctx)
{
	if (mine())
		count(RUN_TPBTF_SYS_ENTER);
	return 0;
}

// Arch-neutral targets: do_sys_openat2 is every arch's open(2), and a
// ksyscall section names the syscall, its loader the arch's entry point.
SEC("fentry/do_sys_openat2")
int fentry_openat2(__u64 *ctx)
{
	if (mine())
		count(RUN_FENTRY_GETPGID);
	return 0;
}

SEC("ksyscall/getpgid")
int ksyscall_getpgid(void *ctx)
{
	if (!mine())
		return 0;
	count(RUN_KPROBE_GETPGID);
	count_in(&recent, current_tgid());
	return 0;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	count(RUN_XDP_PASS);
	return XDP_PASS;
}

SEC("tc")
int tc_pass(struct __sk_buff *skb)
{
	count(RUN_TC_PASS);
	return TC_ACT_OK;
}

// tcx's TCX_PASS is TC_ACT_OK's 0 (the 6.1 UAPI headers predate tcx).
SEC("tcx/ingress")
int tcx_pass(struct __sk_buff *skb)
{
	count(RUN_TCX_PASS);
	return TC_ACT_OK;
}

SEC("cgroup_skb/egress")
int cgskb_egress(struct __sk_buff *skb)
{
	count(RUN_CGSKB_EGRESS);
	return 1;
}

SEC("cgroup/connect4")
int connect4_allow(struct bpf_sock_addr *ctx)
{
	count(RUN_CONNECT4_ALLOW);
	return 1;
}

// A socket filter keeps the bytes it returns: all of them.
SEC("socket")
int socket_keep(struct __sk_buff *skb)
{
	count(RUN_SOCKET_KEEP);
	return skb->len;
}

// The iterator's context, as the kernel's BTF names it: CO-RE relocates the
// fields, so only the ones read are declared.
struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

// iter_task prints one line per task: its tgid and pid.
SEC("iter/task")
int iter_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	count(RUN_ITER_TASK);
	BPF_SEQ_PRINTF(ctx->meta->seq, "%d %d\n", task->tgid, task->pid);
	return 0;
}
