// SPDX-License-Identifier: (MIT OR GPL-2.0)
// Shared by every program: the UAPI types and libbpf's helper macros
// (Debian's libbpf-dev), nothing kernel-version specific.
#pragma once

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
