// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// needs-target.bpf.o: programs whose section names no target. A loader
// cannot attach them (nor, for fentry and freplace, even load them) without
// being told what to attach to: a function, a program, a binary, an event.

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline int hit(void)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&hits, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
	return 0;
}

SEC("fentry") int fentry_any(__u64 *ctx) { return hit(); }
SEC("freplace") int freplace_any(void *ctx) { return hit(); }
SEC("uprobe") int uprobe_any(void *ctx) { return hit(); }
SEC("perf_event") int perf_any(void *ctx) { return hit(); }
