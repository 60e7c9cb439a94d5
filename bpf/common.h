// SPDX-License-Identifier: (MIT OR GPL-2.0)
// Shared by every program: the UAPI types and libbpf's helper macros
// (Debian's libbpf-dev), nothing kernel-version specific.
#pragma once

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// hits[0] counts the events a program saw. Every object has its own (the
// harness loads one program per cell) and the harness reads it to prove that
// the spec's own trigger reached the program.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

// hit counts one event.
static __always_inline void hit(void)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&hits, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
}
