//go:build ignore

// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// A TCP congestion control written in BPF (struct_ops): it keeps the initial
// window, which is all a short loopback connection needs, and counts in
// hits[0] how many sockets it was initialised for.

#include "common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

// The members the kernel requires (ssthresh, undo_cwnd, cong_avoid) and init.
// cilium/ebpf matches them to the kernel's struct by name.
struct sock;
struct tcp_congestion_ops {
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	void (*init)(struct sock *sk);
	char name[16];
};

SEC("struct_ops/bm_init") void bm_init(unsigned long long *ctx) { hit(); }

SEC("struct_ops/bm_ssthresh") __u32 bm_ssthresh(unsigned long long *ctx) { return 10; }
SEC("struct_ops/bm_cong_avoid") void bm_cong_avoid(unsigned long long *ctx) {}
SEC("struct_ops/bm_undo_cwnd") __u32 bm_undo_cwnd(unsigned long long *ctx) { return 10; }

SEC(".struct_ops.link") struct tcp_congestion_ops bpfmatrix_cc = {
	.init = (void *)bm_init,
	.ssthresh = (void *)bm_ssthresh,
	.cong_avoid = (void *)bm_cong_avoid,
	.undo_cwnd = (void *)bm_undo_cwnd,
	.name = "bpfmatrix_cc",
};
