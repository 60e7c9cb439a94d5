// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// newer.bpf.o: an object only newer kernels take in full. loop_getpgid
// calls bpf_loop and strncmp_getpgid bpf_strncmp (both Linux 5.17), so
// older kernels refuse them; core_tgid reads a task_struct field
// through a CO-RE relocation, which the loader resolves against the running
// kernel's BTF, and loads everywhere.
//
// The two refusals differ: a kernel that predates a helper refuses its call
// (5.10: "invalid func unknown#182"), while bpf_loop's program is refused
// before, for its callback, a function no call instruction reaches (5.10:
// "number of funcs in func_info doesn't match number of subprogs").

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

// seen[0] is the sum loop_getpgid's loop computed, seen[1] the tgid
// core_tgid read last, seen[2] how often strncmp_getpgid saw comm.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline void store(__u32 slot, __u64 v)
{
	bpf_map_update_elem(&seen, &slot, &v, BPF_ANY);
}

static long add_index(__u32 i, void *ctx)
{
	__u64 *sum = ctx;

	*sum += i;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpgid")
int loop_getpgid(void *ctx)
{
	__u64 sum = 0;

	bpf_loop(8, add_index, &sum, 0);
	store(0, sum);
	return 0;
}

// comm is the command name strncmp_getpgid looks for; bpf_strncmp takes its
// second string only from a read-only map, here .rodata.
volatile const char comm[16] = "bpfmatrix";

SEC("tracepoint/syscalls/sys_enter_getpgid")
int strncmp_getpgid(void *ctx)
{
	char current[16];
	__u32 slot = 2;
	__u64 *value;

	bpf_get_current_comm(current, sizeof(current));
	if (bpf_strncmp(current, sizeof(current), (const char *)comm))
		return 0;
	value = bpf_map_lookup_elem(&seen, &slot);
	if (value)
		__sync_fetch_and_add(value, 1);
	return 0;
}

// Only the field read is declared: its offset comes from the kernel's BTF.
struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_enter_getpgid")
int core_tgid(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();

	store(1, BPF_CORE_READ(task, tgid));
	return 0;
}
