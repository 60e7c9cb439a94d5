//go:build ignore

// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// Networking programs: one per program type and attach mechanism. Each counts
// into hits[0] only what the spec itself sent: packet programs match the UDP
// probe port, the others run in a network namespace or cgroup that only the
// spec uses. The constants below are shared with suites/harness/netns.

#include "common.h"
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

// The UDP port the spec's probe datagrams go to, and the ports the
// rewriting and steering programs map between. Fixed ports are safe: every
// socket lives in a network namespace the spec created and no one else uses.
#define PROBE_PORT 4242
#define SERVICE_PORT 4243
#define VIRTUAL_IP 0xc0000201 /* 192.0.2.1, TEST-NET-1: never routed */

// drop makes the packet programs drop what they count, proving that their
// verdict is applied; the loader sets it.
volatile const __u32 drop = 0;

// socks holds the sockets that sk_msg, sk_skb and sk_lookup redirect
// between: the spec puts them in.
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} socks SEC(".maps");

// group is the SO_REUSEPORT group sk_reuseport selects from.
struct {
	__uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} group SEC(".maps");

// is_probe reports whether an Ethernet frame is a probe datagram.
static __always_inline int is_probe(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	if ((void *)(udp + 1) > data_end)
		return 0;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return 0;
	return udp->dest == bpf_htons(PROBE_PORT);
}

SEC("xdp") int xdp_count(struct xdp_md *ctx)
{
	if (!is_probe((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_PASS;
	hit();
	return drop ? XDP_DROP : XDP_PASS;
}

// tc_count serves cls_bpf (direct action), tcx and netkit alike.
SEC("tc") int tc_count(struct __sk_buff *skb)
{
	if (!is_probe((void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_UNSPEC;
	hit();
	return drop ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

// socket_count sees a UDP socket's datagrams from the UDP header on: it
// counts each and drops those whose payload starts with 'D'.
SEC("socket") int socket_count(struct __sk_buff *skb)
{
	__u8 mark = 0;

	hit();
	bpf_skb_load_bytes(skb, sizeof(struct udphdr), &mark, 1);
	return mark == 'D' ? 0 : skb->len;
}

SEC("cgroup_skb/ingress") int cgroup_skb_ingress_count(struct __sk_buff *skb)
{
	hit();
	return 1;
}

SEC("cgroup_skb/egress") int cgroup_skb_egress_count(struct __sk_buff *skb)
{
	hit();
	return 1;
}

SEC("cgroup/sock_create") int sock_create_count(struct bpf_sock *sk)
{
	hit();
	return 1;
}

// connect4_rewrite sends connections for VIRTUAL_IP:PROBE_PORT to
// 127.0.0.1:SERVICE_PORT, the way a service load balancer does.
SEC("cgroup/connect4") int connect4_rewrite(struct bpf_sock_addr *ctx)
{
	if (ctx->user_ip4 != bpf_htonl(VIRTUAL_IP) || ctx->user_port != bpf_htons(PROBE_PORT))
		return 1;
	ctx->user_ip4 = bpf_htonl(0x7f000001);
	ctx->user_port = bpf_htons(SERVICE_PORT);
	hit();
	return 1;
}

// bind4_rewrite moves binds of PROBE_PORT to SERVICE_PORT.
SEC("cgroup/bind4") int bind4_rewrite(struct bpf_sock_addr *ctx)
{
	if (ctx->user_port != bpf_htons(PROBE_PORT))
		return 1;
	ctx->user_port = bpf_htons(SERVICE_PORT);
	hit();
	return 1;
}

// sockops_state_count asks for TCP state callbacks once a connection is
// established, then counts them.
SEC("sockops") int sockops_state_count(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		hit();
		break;
	}
	return 1;
}

// sk_msg_redirect moves every message sent on a socket in socks into the
// receive queue of socks[1].
SEC("sk_msg") int sk_msg_redirect(struct sk_msg_md *msg)
{
	hit();
	return bpf_msg_redirect_map(msg, &socks, 1, BPF_F_INGRESS);
}

SEC("sk_skb/stream_parser") int sk_skb_parser(struct __sk_buff *skb)
{
	return skb->len;
}

// sk_skb_redirect sends what a socket in socks receives out of socks[1].
SEC("sk_skb/stream_verdict") int sk_skb_redirect(struct __sk_buff *skb)
{
	hit();
	return bpf_sk_redirect_map(skb, &socks, 1, 0);
}

// sk_lookup_steer hands connections for SERVICE_PORT, where nothing
// listens, to the listener in socks[0].
SEC("sk_lookup") int sk_lookup_steer(struct bpf_sk_lookup *ctx)
{
	__u32 key = 0;
	struct bpf_sock *sk;
	long err;

	if (ctx->local_port != SERVICE_PORT)
		return SK_PASS;
	sk = bpf_map_lookup_elem(&socks, &key);
	if (!sk)
		return SK_PASS;
	err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	if (!err)
		hit();
	return SK_PASS;
}

// reuseport_select picks group[1] for every datagram.
SEC("sk_reuseport") int reuseport_select(struct sk_reuseport_md *md)
{
	__u32 key = 1;

	if (bpf_sk_select_reuseport(md, &group, &key, 0) == 0)
		hit();
	return SK_PASS;
}

SEC("flow_dissector") int flow_dissector_count(struct __sk_buff *skb)
{
	hit();
	return BPF_OK;
}

// The lwt programs count what a route sends them. lwt_in drops, because
// what it sees is being forwarded and has nowhere to go.
SEC("lwt_in") int lwt_in_count(struct __sk_buff *skb)
{
	hit();
	return BPF_DROP;
}

SEC("lwt_out") int lwt_out_count(struct __sk_buff *skb)
{
	hit();
	return BPF_OK;
}

SEC("lwt_xmit") int lwt_xmit_count(struct __sk_buff *skb)
{
	hit();
	return BPF_OK;
}

#define NF_ACCEPT 1

SEC("netfilter") int netfilter_count(void *ctx)
{
	hit();
	return NF_ACCEPT;
}
