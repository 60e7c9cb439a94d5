package catalog

import "github.com/cilium/ebpf"

// Security features: BPF LSM and the cgroup programs that act as access
// control.
func init() {
	register(
		Feature{ID: "attach/lsm", Area: Security, Prog: ebpf.LSM, Attach: ebpf.AttachLSMMac, Since: "5.7",
			Needs: []Requirement{Config("CONFIG_BPF_LSM", "CONFIG_DEBUG_INFO_BTF"), ActiveLSM("bpf"), Trampolines()},
			Doc:   "BPF LSM program on file_open, fired by opens the spec makes"},
		Feature{ID: "attach/cgroup_device", Area: Security, Prog: ebpf.CGroupDevice, Attach: ebpf.AttachCGroupDevice, Since: "4.15",
			Needs: []Requirement{Config("CONFIG_CGROUP_BPF")},
			Doc:   "cgroup/dev on a cgroup v2 the spec enters, denying opens of the null device 1:3"},
		Feature{ID: "attach/cgroup_sysctl", Area: Security, Prog: ebpf.CGroupSysctl, Attach: ebpf.AttachCGroupSysctl, Since: "5.2",
			Needs: []Requirement{Config("CONFIG_CGROUP_BPF")},
			Doc:   "cgroup/sysctl counting the spec's reads of /proc/sys/kernel/ostype"},
		Feature{ID: "attach/cgroup_sockopt", Area: Security, Prog: ebpf.CGroupSockopt, Attach: ebpf.AttachCGroupSetsockopt, Since: "5.3",
			Needs: []Requirement{Config("CONFIG_CGROUP_BPF"), OwnNetNS()},
			Doc:   "cgroup/setsockopt counting the spec's setsockopt(IP_TOS) calls"},
	)
}
