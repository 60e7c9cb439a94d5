//go:build ignore

// SPDX-License-Identifier: GPL-2.0
//
// One program per kfunc cell, named <program type>__<kfunc>: each calls the
// kfunc in the smallest sequence a kernel that allows it accepts (acquire
// then release, an iterator's new/next/destroy, RCU lock then unlock) and
// adds to hits[0] what the call did (1 for a lookup that found its object,
// the number of steps an iterator took). The spec runs the program (a test
// run, or a trigger) and reads hits[0]: a cell is supported only when the
// kfunc ran and did what it says.
//
// The kfuncs are declared __weak so that one object loads wherever any of
// them exists; the spec looks each up in the kernel's BTF before loading
// and never loads a program whose kfunc is missing. Kernel structs are
// declared with the members the programs touch, relocated by CO-RE.

#include "../../bpf/common.h"
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

// target_tgid is the suite's process: tracing and LSM programs, which every
// process reaches, count only the spec's own events. target_ppid is its
// parent's. target_port is the local port of the socket the sock_destroy
// spec made.
volatile const __u32 target_tgid;
volatile const __u32 target_ppid;
volatile const __u16 target_port;

#define EOPNOTSUPP 95
#define ENODATA 61
#define ENOENT 2
#define EINVAL 22

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
} __attribute__((preserve_access_index));

struct kernfs_node {
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup_subsys_state {
	struct cgroup *cgroup;
} __attribute__((preserve_access_index));

struct cgroup {
	struct cgroup_subsys_state self;
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct path {
	void *mnt;
} __attribute__((preserve_access_index));

struct file {
	struct path f_path;
} __attribute__((preserve_access_index));

struct sock_common {
	__u16 skc_num;
} __attribute__((preserve_access_index));

struct bpf_iter_meta {
	void *seq;
} __attribute__((preserve_access_index));

struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
} __attribute__((preserve_access_index));

struct bpf_map {
	__u32 id;
} __attribute__((preserve_access_index));

struct bpf_iter__bpf_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
} __attribute__((preserve_access_index));

struct bpf_cpumask {
	__u64 opaque;
};

struct nf_conn {
	__u64 opaque;
};

// The iterator states are the kernel's opaque sizes (include/uapi's
// bpf_iter_num; kernel/bpf/task_iter.c's bpf_iter_task and bpf_iter_css).
struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

struct bpf_iter_task {
	__u64 __opaque[3];
} __attribute__((aligned(8)));

struct bpf_iter_css {
	__u64 __opaque[3];
} __attribute__((aligned(8)));

// bpf_ct_opts as 6.0 defined it (NF_BPF_CT_OPTS_SZ, 12 bytes), which every
// later kernel still accepts.
struct bpf_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u8 reserved[2];
};

// bpf_xfrm_info as net/xfrm/xfrm_interface_bpf.c defines it (6.2).
struct bpf_xfrm_info {
	__u32 if_id;
	int link;
};

enum xdp_rss_hash_type { XDP_RSS_TYPE_NONE = 0 };
enum pid_type { PIDTYPE_PID = 0 };

extern struct task_struct *bpf_task_from_pid(__s32 pid) __ksym __weak;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;
extern struct cgroup *bpf_cgroup_from_id(__u64 cgid) __ksym __weak;
extern struct cgroup *bpf_cgroup_acquire(struct cgroup *cgrp) __ksym __weak;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym __weak;
extern void bpf_rcu_read_lock(void) __ksym __weak;
extern void bpf_rcu_read_unlock(void) __ksym __weak;
extern void *bpf_obj_new_impl(__u64 local_type_id__k, void *meta__ign) __ksym __weak;
extern void bpf_obj_drop_impl(void *p__alloc, void *meta__ign) __ksym __weak;
extern void *bpf_percpu_obj_new_impl(__u64 local_type_id__k, void *meta__ign) __ksym __weak;
extern void bpf_percpu_obj_drop_impl(void *p__alloc, void *meta__ign) __ksym __weak;
extern struct bpf_cpumask *bpf_cpumask_create(void) __ksym __weak;
extern void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym __weak;
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym __weak;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym __weak;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym __weak;
extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task, unsigned int flags) __ksym __weak;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __ksym __weak;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __ksym __weak;
extern int bpf_iter_css_new(struct bpf_iter_css *it, struct cgroup_subsys_state *start, unsigned int flags) __ksym __weak;
extern struct cgroup_subsys_state *bpf_iter_css_next(struct bpf_iter_css *it) __ksym __weak;
extern void bpf_iter_css_destroy(struct bpf_iter_css *it) __ksym __weak;
extern int bpf_dynptr_from_skb(struct __sk_buff *skb, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym __weak;
extern int bpf_dynptr_from_xdp(struct xdp_md *xdp, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym __weak;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *p, __u32 offset, void *buffer__opt, __u32 buffer__szk) __ksym __weak;
extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, __u64 *timestamp) __ksym __weak;
extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash, enum xdp_rss_hash_type *rss_type) __ksym __weak;
extern int bpf_sock_destroy(struct sock_common *sock) __ksym __weak;
extern int bpf_path_d_path(struct path *path, char *buf, __u64 buf__sz) __ksym __weak;
extern int bpf_get_file_xattr(struct file *file, const char *name__str, struct bpf_dynptr *value_p) __ksym __weak;
extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb_ctx, struct bpf_sock_tuple *bpf_tuple, __u32 tuple__sz,
					 struct bpf_ct_opts *opts, __u32 opts__sz) __ksym __weak;
extern struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *xdp_ctx, struct bpf_sock_tuple *bpf_tuple, __u32 tuple__sz,
					 struct bpf_ct_opts *opts, __u32 opts__sz) __ksym __weak;
extern void bpf_ct_release(struct nf_conn *nfct) __ksym __weak;
extern int bpf_skb_get_xfrm_info(struct __sk_buff *skb_ctx, struct bpf_xfrm_info *to) __ksym __weak;
extern __s64 bpf_map_sum_elem_count(const struct bpf_map *map) __ksym __weak;
extern int bpf_send_signal_task(struct task_struct *task, int sig, enum pid_type type, __u64 value) __ksym __weak;

// add counts n into hits[0] without branching on n, so that the verifier
// need not track an iterator's count precisely.
static __always_inline void add(__u64 n)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&hits, &key);

	if (value)
		__sync_fetch_and_add(value, n);
}

static __always_inline int ours(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

// The program types a body runs in: the spec runs syscall, tc, cgroup_skb
// and XDP programs with BPF_PROG_TEST_RUN and triggers the tp_btf one with
// its own syscalls.
#define ON_SYS_ENTER(name, body)                                                                                       \
	SEC("tp_btf/sys_enter") int tracing__##name(void *ctx)                                                         \
	{                                                                                                              \
		if (ours())                                                                                            \
			add(body(ctx));                                                                                \
		return 0;                                                                                              \
	}
#define ON_SYSCALL(name, body)                                                                                         \
	SEC("syscall") int syscall__##name(void *ctx)                                                                  \
	{                                                                                                              \
		add(body(ctx));                                                                                        \
		return 0;                                                                                              \
	}
#define ON_TC(name, body)                                                                                              \
	SEC("tc") int sched_cls__##name(struct __sk_buff *ctx)                                                         \
	{                                                                                                              \
		add(body(ctx));                                                                                        \
		return 0;                                                                                              \
	}
#define ON_CGROUP_SKB(name, body)                                                                                      \
	SEC("cgroup_skb/ingress") int cgroup_skb__##name(struct __sk_buff *ctx)                                        \
	{                                                                                                              \
		add(body(ctx));                                                                                        \
		return 1;                                                                                              \
	}
#define ON_XDP(name, body)                                                                                             \
	SEC("xdp") int xdp__##name(struct xdp_md *ctx)                                                                 \
	{                                                                                                              \
		add(body(ctx));                                                                                        \
		return XDP_PASS;                                                                                       \
	}

// found releases the object expr returned, if any, and says whether there
// was one and is(object) held: the lookups below return referenced objects,
// and the verifier insists that each is released.
#define found(expr, is, release)                                                                                       \
	({                                                                                                             \
		typeof(expr) obj_ = (expr);                                                                            \
		int found_ = 0;                                                                                        \
		if (obj_) {                                                                                            \
			found_ = is(obj_);                                                                             \
			release(obj_);                                                                                 \
		}                                                                                                      \
		found_;                                                                                                \
	})

// again looks an object up, acquires it once more, and releases both; it
// says whether the second reference was had and is(object) held.
#define again(lookup, acquire, is, release)                                                                            \
	({                                                                                                             \
		typeof(lookup) first_ = (lookup);                                                                      \
		int again_ = 0;                                                                                        \
		if (first_) {                                                                                          \
			again_ = found(acquire(first_), is, release);                                                  \
			release(first_);                                                                               \
		}                                                                                                      \
		again_;                                                                                                \
	})

// A release shows the program nothing: the release cells count the
// releases reached with a reference held (anything is what they check of
// the object), and their evidence says no more (kfuncs.go, unobservable).
#define anything(obj) 1
#define released(lookup, acquire, release) again(lookup, acquire, anything, release)

static __always_inline int is_suite(struct task_struct *t)
{
	return t->tgid == target_tgid;
}

// Tasks: the suite's own process (target_tgid, a pid of the initial
// namespace: containers share the host's). Not pid 1: a kernel can hide
// init from other processes (docs/facts.md#kfuncs).
static __always_inline int task_from_pid(void *ctx)
{
	return found(bpf_task_from_pid(target_tgid), is_suite, bpf_task_release);
}
ON_SYS_ENTER(bpf_task_from_pid, task_from_pid)
ON_SYSCALL(bpf_task_from_pid, task_from_pid)
ON_TC(bpf_task_from_pid, task_from_pid)
ON_XDP(bpf_task_from_pid, task_from_pid)

// The current task is trusted where there is one (tracing); elsewhere the
// task comes from bpf_task_from_pid, and is acquired once more. The
// acquired task must be the suite's.
static __always_inline int task_acquire_current(void *ctx)
{
	return found(bpf_task_acquire(bpf_get_current_task_btf()), is_suite, bpf_task_release);
}
static __always_inline int task_acquire_pid(void *ctx)
{
	return again(bpf_task_from_pid(target_tgid), bpf_task_acquire, is_suite, bpf_task_release);
}
static __always_inline int task_release_current(void *ctx)
{
	return found(bpf_task_acquire(bpf_get_current_task_btf()), anything, bpf_task_release);
}
static __always_inline int task_release_pid(void *ctx)
{
	return released(bpf_task_from_pid(target_tgid), bpf_task_acquire, bpf_task_release);
}
ON_SYS_ENTER(bpf_task_acquire, task_acquire_current)
ON_SYSCALL(bpf_task_acquire, task_acquire_pid)
ON_SYS_ENTER(bpf_task_release, task_release_current)
ON_SYSCALL(bpf_task_release, task_release_pid)

// Cgroups: the root of the cgroup2 hierarchy has ID 1 (its kernfs node's).
static __always_inline int is_root(struct cgroup *cg)
{
	return cg->kn->id == 1;
}
static __always_inline int cgroup_from_id(void *ctx)
{
	return found(bpf_cgroup_from_id(1), is_root, bpf_cgroup_release);
}
static __always_inline int cgroup_acquire(void *ctx)
{
	return again(bpf_cgroup_from_id(1), bpf_cgroup_acquire, is_root, bpf_cgroup_release);
}
static __always_inline int cgroup_release(void *ctx)
{
	return released(bpf_cgroup_from_id(1), bpf_cgroup_acquire, bpf_cgroup_release);
}
ON_SYS_ENTER(bpf_cgroup_from_id, cgroup_from_id)
ON_SYSCALL(bpf_cgroup_from_id, cgroup_from_id)
ON_TC(bpf_cgroup_from_id, cgroup_from_id)
ON_XDP(bpf_cgroup_from_id, cgroup_from_id)
ON_SYS_ENTER(bpf_cgroup_acquire, cgroup_acquire)
ON_SYSCALL(bpf_cgroup_acquire, cgroup_acquire)
ON_SYS_ENTER(bpf_cgroup_release, cgroup_release)
ON_SYSCALL(bpf_cgroup_release, cgroup_release)

// RCU: inside the read-side section, the current task's real_parent (a
// pointer RCU protects) is read; its tgid must be the suite's parent's.
static __always_inline int rcu(void *ctx)
{
	struct task_struct *t;
	int ppid;

	bpf_rcu_read_lock();
	t = bpf_get_current_task_btf();
	ppid = t->real_parent->tgid;
	bpf_rcu_read_unlock();
	return target_ppid && ppid == target_ppid;
}
ON_SYS_ENTER(bpf_rcu_read_lock, rcu)
ON_SYSCALL(bpf_rcu_read_lock, rcu)
ON_TC(bpf_rcu_read_lock, rcu)
ON_XDP(bpf_rcu_read_lock, rcu)
ON_SYS_ENTER(bpf_rcu_read_unlock, rcu)
ON_SYSCALL(bpf_rcu_read_unlock, rcu)

// Allocation: an object of a type of the program's own BTF.
struct kf_node {
	__u64 value;
};
static __always_inline int obj_new(void *ctx)
{
	struct kf_node *n = bpf_obj_new_impl(bpf_core_type_id_local(struct kf_node), 0);

	if (!n)
		return 0;
	n->value = 1;
	bpf_obj_drop_impl(n, 0);
	return 1;
}
static __always_inline int percpu_obj_new(void *ctx)
{
	struct kf_node *n = bpf_percpu_obj_new_impl(bpf_core_type_id_local(struct kf_node), 0);

	if (!n)
		return 0;
	bpf_percpu_obj_drop_impl(n, 0);
	return 1;
}
ON_SYS_ENTER(bpf_obj_new_impl, obj_new)
ON_SYSCALL(bpf_obj_new_impl, obj_new)
ON_TC(bpf_obj_new_impl, obj_new)
ON_XDP(bpf_obj_new_impl, obj_new)
ON_SYS_ENTER(bpf_obj_drop_impl, obj_new)
ON_SYSCALL(bpf_obj_drop_impl, obj_new)
ON_SYS_ENTER(bpf_percpu_obj_new_impl, percpu_obj_new)
ON_SYSCALL(bpf_percpu_obj_new_impl, percpu_obj_new)

// cpumask: create one and release it.
static __always_inline int cpumask(void *ctx)
{
	return found(bpf_cpumask_create(), anything, bpf_cpumask_release);
}
ON_SYS_ENTER(bpf_cpumask_create, cpumask)
ON_SYSCALL(bpf_cpumask_create, cpumask)
ON_SYS_ENTER(bpf_cpumask_release, cpumask)
ON_SYSCALL(bpf_cpumask_release, cpumask)

// Open-coded iterators: the count of steps is the effect. A destroy cell
// (stepped 0) counts 1 once it destroyed the iterator: counting nothing in
// the loop keeps the verifier's states few.
static __always_inline int iter_num_run(int stepped)
{
	struct bpf_iter_num it;
	int n = 0;

	bpf_iter_num_new(&it, 0, 3);
	while (bpf_iter_num_next(&it))
		n += stepped;
	bpf_iter_num_destroy(&it);
	return stepped ? n : 1;
}
static __always_inline int iter_num(void *ctx)
{
	return iter_num_run(1);
}
static __always_inline int iter_num_destroyed(void *ctx)
{
	return iter_num_run(0);
}
ON_SYS_ENTER(bpf_iter_num_new, iter_num)
ON_SYSCALL(bpf_iter_num_new, iter_num)
ON_TC(bpf_iter_num_new, iter_num)
ON_XDP(bpf_iter_num_new, iter_num)
ON_SYSCALL(bpf_iter_num_next, iter_num)
ON_SYSCALL(bpf_iter_num_destroy, iter_num_destroyed)

// Every process (flags 0, BPF_TASK_ITER_ALL_PROCS), inside an RCU read-side
// section, which a sleepable syscall program must take itself.
static __always_inline int iter_task_run(int stepped)
{
	struct bpf_iter_task it;
	int n = 0;

	bpf_rcu_read_lock();
	bpf_iter_task_new(&it, 0, 0);
	while (bpf_iter_task_next(&it))
		n += stepped;
	bpf_iter_task_destroy(&it);
	bpf_rcu_read_unlock();
	return stepped ? n : 1;
}
static __always_inline int iter_task(void *ctx)
{
	return iter_task_run(1);
}
static __always_inline int iter_task_destroyed(void *ctx)
{
	return iter_task_run(0);
}
ON_SYS_ENTER(bpf_iter_task_new, iter_task)
ON_SYSCALL(bpf_iter_task_new, iter_task)
ON_SYSCALL(bpf_iter_task_next, iter_task)
ON_SYSCALL(bpf_iter_task_destroy, iter_task_destroyed)

// The root cgroup's descendants in pre-order, the root first.
static __always_inline int iter_css_run(int stepped)
{
	struct cgroup *root = bpf_cgroup_from_id(1);
	struct bpf_iter_css it;
	int n = 0;

	if (!root)
		return 0;
	bpf_rcu_read_lock();
	bpf_iter_css_new(&it, &root->self, BPF_CGROUP_ITER_DESCENDANTS_PRE);
	while (bpf_iter_css_next(&it))
		n += stepped;
	bpf_iter_css_destroy(&it);
	bpf_rcu_read_unlock();
	bpf_cgroup_release(root);
	return stepped ? n : 1;
}
static __always_inline int iter_css(void *ctx)
{
	return iter_css_run(1);
}
static __always_inline int iter_css_destroyed(void *ctx)
{
	return iter_css_run(0);
}
ON_SYS_ENTER(bpf_iter_css_new, iter_css)
ON_SYSCALL(bpf_iter_css_new, iter_css)
ON_SYSCALL(bpf_iter_css_next, iter_css)
ON_SYSCALL(bpf_iter_css_destroy, iter_css_destroyed)

// Dynptrs over the test packet, which starts with an Ethernet header whose
// type is IPv4 (0x0800, big-endian in the packet).
static __always_inline int dynptr_from_skb(void *ctx)
{
	struct bpf_dynptr p;

	return bpf_dynptr_from_skb(ctx, 0, &p) == 0;
}
static __always_inline int dynptr_from_xdp(void *ctx)
{
	struct bpf_dynptr p;

	return bpf_dynptr_from_xdp(ctx, 0, &p) == 0;
}
static __always_inline int eth_is_ipv4(struct bpf_dynptr *p)
{
	__u8 buf[14];
	__u8 *eth = bpf_dynptr_slice(p, 0, buf, sizeof(buf));

	return eth && eth[12] == 0x08 && eth[13] == 0x00;
}
static __always_inline int dynptr_slice_skb(void *ctx)
{
	struct bpf_dynptr p;

	return bpf_dynptr_from_skb(ctx, 0, &p) == 0 && eth_is_ipv4(&p);
}
static __always_inline int dynptr_slice_xdp(void *ctx)
{
	struct bpf_dynptr p;

	return bpf_dynptr_from_xdp(ctx, 0, &p) == 0 && eth_is_ipv4(&p);
}
ON_TC(bpf_dynptr_from_skb, dynptr_from_skb)
ON_CGROUP_SKB(bpf_dynptr_from_skb, dynptr_from_skb)
// No kernel registers the skb dynptr for XDP, nor the XDP one for tc: the
// verifier's refusal is the evidence that the type check works.
ON_XDP(bpf_dynptr_from_skb, dynptr_from_skb)
ON_XDP(bpf_dynptr_from_xdp, dynptr_from_xdp)
ON_TC(bpf_dynptr_from_xdp, dynptr_from_xdp)
ON_TC(bpf_dynptr_slice, dynptr_slice_skb)
ON_XDP(bpf_dynptr_slice, dynptr_slice_xdp)

// XDP metadata: only a device-bound program may call these (the spec binds
// it to a veth); a device whose driver has no metadata ops runs the generic
// kfunc, which answers -EOPNOTSUPP (a driver's answers 0 or -ENODATA).
static __always_inline int rx_timestamp(void *ctx)
{
	__u64 ts = 0;
	int r = bpf_xdp_metadata_rx_timestamp(ctx, &ts);

	return r == -EOPNOTSUPP || r == 0 || r == -ENODATA;
}
static __always_inline int rx_hash(void *ctx)
{
	enum xdp_rss_hash_type type = XDP_RSS_TYPE_NONE;
	__u32 hash = 0;
	int r = bpf_xdp_metadata_rx_hash(ctx, &hash, &type);

	return r == -EOPNOTSUPP || r == 0 || r == -ENODATA;
}
ON_XDP(bpf_xdp_metadata_rx_timestamp, rx_timestamp)
ON_XDP(bpf_xdp_metadata_rx_hash, rx_hash)

// Conntrack: a lookup of a TCP tuple of zeros in the current netns finds
// nothing and says so in opts.error.
static __always_inline int ct_answered(struct nf_conn *ct, struct bpf_ct_opts *opts)
{
	if (ct) {
		bpf_ct_release(ct);
		return 1;
	}
	return opts->error == -ENOENT;
}
#define CT_LOOKUP(body, lookup)                                                                                        \
	static __always_inline int body(void *ctx)                                                                     \
	{                                                                                                              \
		struct bpf_ct_opts opts = { .netns_id = -1, .l4proto = 6 /* IPPROTO_TCP */ };                         \
		struct bpf_sock_tuple tup = {};                                                                        \
                                                                                                                       \
		return ct_answered(lookup(ctx, &tup, sizeof(tup.ipv4), &opts, sizeof(opts)), &opts);                   \
	}
CT_LOOKUP(ct_lookup_skb, bpf_skb_ct_lookup)
CT_LOOKUP(ct_lookup_xdp, bpf_xdp_ct_lookup)
ON_TC(bpf_skb_ct_lookup, ct_lookup_skb)
ON_XDP(bpf_xdp_ct_lookup, ct_lookup_xdp)

// XFRM interface metadata: the test run's skb came through no xfrm
// interface, so it carries no xfrm_md_info, and the get answers -EINVAL.
static __always_inline int xfrm_info_get(struct __sk_buff *ctx)
{
	struct bpf_xfrm_info info = {};

	return bpf_skb_get_xfrm_info(ctx, &info) == -EINVAL;
}
ON_TC(bpf_skb_get_xfrm_info, xfrm_info_get)

// Signals: signal 0 checks the right to signal and sends nothing.
static __always_inline int send_signal_current(void *ctx)
{
	return bpf_send_signal_task(bpf_get_current_task_btf(), 0, PIDTYPE_PID, 0) == 0;
}
static __always_inline int send_signal_pid(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(target_tgid);
	int r;

	if (!t)
		return 0;
	r = bpf_send_signal_task(t, 0, PIDTYPE_PID, 0);
	bpf_task_release(t);
	return r == 0;
}
ON_SYS_ENTER(bpf_send_signal_task, send_signal_current)
ON_SYSCALL(bpf_send_signal_task, send_signal_pid)

// bpf_sock_destroy is for socket iterators only: this one destroys the
// spec's own TCP socket, found by its local port.
SEC("iter/tcp") int tracing__bpf_sock_destroy(struct bpf_iter__tcp *ctx)
{
	struct sock_common *sk = ctx->sk_common;

	if (!sk || sk->skc_num != target_port)
		return 0;
	add(bpf_sock_destroy(sk) == 0);
	return 0;
}

// bpf_map_sum_elem_count takes the map of a map iterator: one call per map.
SEC("iter/bpf_map") int tracing__bpf_map_sum_elem_count(struct bpf_iter__bpf_map *ctx)
{
	struct bpf_map *map = ctx->map;

	if (!map)
		return 0;
	add(bpf_map_sum_elem_count(map) >= 0);
	return 0;
}

// File kfuncs are for LSM programs: the path of a file the spec opens, and
// an extended attribute of it (procfs has none: -ENODATA or -EOPNOTSUPP is
// the answer of a kfunc that ran).
SEC("lsm/file_open") int lsm__bpf_path_d_path(unsigned long long *ctx)
{
	struct file *f = (void *)ctx[0];
	char buf[64] = {};

	if (ours())
		add(bpf_path_d_path(&f->f_path, buf, sizeof(buf)) > 0);
	return 0;
}

const char xattr_name[] = "user.bpfmatrix";
// The value's buffer is a map value (.bss): until 7.3 at least, the
// verifier refuses a stack buffer for bpf_dynptr_from_mem ("Unsupported
// reg type fp for bpf_dynptr_from_mem data").
char xattr_value[16];

SEC("lsm.s/file_open") int lsm__bpf_get_file_xattr(unsigned long long *ctx)
{
	struct file *f = (void *)ctx[0];
	struct bpf_dynptr value;
	int r;

	if (!ours())
		return 0;
	bpf_dynptr_from_mem(xattr_value, sizeof(xattr_value), 0, &value);
	r = bpf_get_file_xattr(f, xattr_name, &value);
	add(r >= 0 || r == -ENODATA || r == -EOPNOTSUPP);
	return 0;
}
