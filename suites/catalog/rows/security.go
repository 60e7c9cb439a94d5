package rows

import (
	"github.com/cilium/ebpf"

	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
)

// Security features: BPF LSM and the cgroup programs that act as access
// control.
func init() {
	catalog.Register(
		// An LSM program runs from a BPF trampoline on bpf_lsm_file_open, a
		// function ftrace manages, so, as for fentry, the kernel attaches it
		// through an ftrace direct call and answers ENOTSUPP without
		// DYNAMIC_FTRACE_WITH_DIRECT_CALLS (register_fentry in
		// kernel/bpf/trampoline.c). Debian's amd64 kernels all have it;
		// its arm64 kernels only from 6.4's arm64 direct calls on (5.10 and
		// 6.1 arm64 configs lack it, 6.12's has it).
		catalog.Feature{ID: "attach/lsm", Area: catalog.Security, Prog: ebpf.LSM, Attach: ebpf.AttachLSMMac, Since: "5.7",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_BPF_LSM", "CONFIG_DEBUG_INFO_BTF", "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS"), catalog.ActiveLSM("bpf"), catalog.Trampolines()},
			Doc:   "BPF LSM program on file_open, fired by opens the spec makes"},
		catalog.Feature{ID: "attach/cgroup_device", Area: catalog.Security, Prog: ebpf.CGroupDevice, Attach: ebpf.AttachCGroupDevice, Since: "4.15",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_CGROUP_BPF")},
			Doc:   "cgroup/dev on a cgroup v2 the spec enters, denying opens of the null device 1:3"},
		catalog.Feature{ID: "attach/cgroup_sysctl", Area: catalog.Security, Prog: ebpf.CGroupSysctl, Attach: ebpf.AttachCGroupSysctl, Since: "5.2",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_CGROUP_BPF")},
			Doc:   "cgroup/sysctl counting the spec's reads of /proc/sys/kernel/ostype"},
		catalog.Feature{ID: "attach/cgroup_sockopt", Area: catalog.Security, Prog: ebpf.CGroupSockopt, Attach: ebpf.AttachCGroupSetsockopt, Since: "5.3",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_CGROUP_BPF"), catalog.OwnNetNS()},
			Doc:   "cgroup/setsockopt counting the spec's setsockopt(IP_TOS) calls"},
	)
}
