//go:build ignore

// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// Counter programs: one per program type and attach mechanism. Each counts
// the events caused by one process (target_tgid, set by the loader to the
// suite's own PID) into hits[0], so a spec can prove that its attachment
// fired on an event it caused itself, not on background noise.
//
// The programs never read their context beyond what the verifier grants every
// kernel since 5.10, and never read registers (no PT_REGS_*, which differ per
// arch), so one object runs unchanged on the whole catalog and on every arch.

#include "common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

volatile const __u32 target_tgid = 0;

// target_syscall is getpgid(2)'s number on this arch, set by the loader:
// programs that see every syscall of the process count only the spec's.
volatile const __u32 target_syscall = 0;

static __always_inline int count(void)
{
	if (!target_tgid || (bpf_get_current_pid_tgid() >> 32) == target_tgid)
		hit();
	return 0;
}

SEC("kprobe") int kprobe_count(void *ctx) { return count(); }
SEC("kretprobe") int kretprobe_count(void *ctx) { return count(); }
SEC("kprobe.multi") int kprobe_multi_count(void *ctx) { return count(); }
SEC("uprobe") int uprobe_count(void *ctx) { return count(); }
SEC("uretprobe") int uretprobe_count(void *ctx) { return count(); }
SEC("uprobe.multi") int uprobe_multi_count(void *ctx) { return count(); }
SEC("usdt") int usdt_count(void *ctx) { return count(); }
SEC("tracepoint") int tracepoint_count(void *ctx) { return count(); }

// count_syscall counts a sys_enter event of the spec's syscall only: the
// suite's own bpf(2) calls that read the counter must not count.
static __always_inline int count_syscall(long id)
{
	if (id == target_syscall)
		count();
	return 0;
}

SEC("raw_tracepoint") int raw_tracepoint_count(struct bpf_raw_tracepoint_args *ctx) { return count_syscall(ctx->args[1]); }

// raw_syscalls/sys_enter's record: the common fields, then the syscall id.
struct sys_enter_record {
	__u64 common;
	long id;
};

SEC("tracepoint") int raw_syscalls_count(struct sys_enter_record *ctx) { return count_syscall(ctx->id); }

// task/task_newtask's record (the same layout since 3.13): the new task's
// pid, comm and clone flags. A new process, not a thread of the Go runtime,
// is what the spec's forks make.
struct task_newtask_record {
	__u64 common;
	int pid;
	char comm[16];
	__u64 clone_flags;
};

#define CLONE_THREAD 0x00010000

SEC("tracepoint") int task_newtask_count(struct task_newtask_record *ctx)
{
	if (!(ctx->clone_flags & CLONE_THREAD))
		count();
	return 0;
}
SEC("perf_event") int perf_event_count(void *ctx) { return count(); }

// BTF-typed programs name their target in the section: the kernel checks it
// at load time, so a missing BTF function fails the load, not the attach.
// fentry and fexit name getpgid(2)'s entry point arch-neutrally, sys_getpgid:
// the kernel's function is __x64_sys_getpgid on amd64, __arm64_sys_getpgid
// on arm64, and Object.Spec (bpf/object.go) names the running arch's.
SEC("tp_btf/sys_enter") int tp_btf_count(__u64 *ctx) { return count_syscall((long)ctx[1]); }
SEC("fentry/sys_getpgid") int fentry_count(__u64 *ctx) { return count(); }
SEC("fexit/sys_getpgid") int fexit_count(__u64 *ctx) { return count(); }

// fmod_ret may only target error-injectable functions and security_*
// hooks. Returning 0 leaves the hooked function's behaviour unchanged.
SEC("fmod_ret/security_file_open") int fmod_ret_count(__u64 *ctx) { return count(); }

SEC("lsm/file_open") int lsm_count(__u64 *ctx) { return count(); }

struct task_struct {
	int tgid;
} __attribute__((preserve_access_index));

struct bpf_iter_meta;

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

// iter_task counts, while the spec reads the iterator, the tasks of the
// suite's own process: the read is the event.
SEC("iter/task") int iter_task_count(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (task && (!target_tgid || task->tgid == target_tgid))
		hit();
	return 0;
}
