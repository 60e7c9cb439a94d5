package harness

import "github.com/cilium/ebpf"

// Security features: BPF LSM and the cgroup programs that act as access
// control.
func init() {
	register(
		Feature{ID: "attach/lsm", Area: Security, Prog: ebpf.LSM, Attach: ebpf.AttachLSMMac, Since: "5.7",
			Needs: []Requirement{Config("CONFIG_BPF_LSM", "CONFIG_DEBUG_INFO_BTF"), ActiveLSM("bpf"), FunctionTracer()},
			Doc:   "BPF LSM program on file_open, fired by opens the spec makes"},
	)
}
