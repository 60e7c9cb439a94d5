//go:build ignore

// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// Access-control programs for cgroups the spec creates and moves itself
// into: each counts into hits[0] what the spec did while inside.

#include "common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

// device_deny_null refuses opens of the character device 1:3 (/dev/null, or
// a node the spec made for it) and allows every other device.
SEC("cgroup/dev") int device_deny_null(struct bpf_cgroup_dev_ctx *ctx)
{
	if ((ctx->access_type & 0xffff) != BPF_DEVCG_DEV_CHAR || ctx->major != 1 || ctx->minor != 3)
		return 1;
	hit();
	return 0;
}

// sysctl_count counts sysctl reads and writes and allows them.
SEC("cgroup/sysctl") int sysctl_count(struct bpf_sysctl *ctx)
{
	hit();
	return 1;
}

// setsockopt_count counts setsockopt calls and lets the kernel handle them.
SEC("cgroup/setsockopt") int setsockopt_count(struct bpf_sockopt *ctx)
{
	hit();
	return 1;
}

// getsockopt_count counts getsockopt calls and keeps the kernel's answer.
SEC("cgroup/getsockopt") int getsockopt_count(struct bpf_sockopt *ctx)
{
	hit();
	return 1;
}
