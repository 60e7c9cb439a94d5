package features

import (
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/freplace"
)

// returnZero is the smallest program every type accepts: each type's
// verifier admits 0 as a return value for the attach types used here.
var returnZero = asm.Instructions{
	asm.Mov.Imm(asm.R0, 0),
	asm.Return(),
}

// progSpec is the minimal program of a type: the attach type and target the
// kernel insists on at load time, and nothing else. It also says what the
// target is, for the evidence.
func progSpec(t ebpf.ProgramType) (*ebpf.ProgramSpec, string) {
	spec := &ebpf.ProgramSpec{Type: t, License: "GPL", Instructions: returnZero}
	switch t {
	case ebpf.CGroupSockAddr:
		spec.AttachType = ebpf.AttachCGroupInet4Connect
	case ebpf.CGroupSockopt:
		spec.AttachType = ebpf.AttachCGroupGetsockopt
	case ebpf.SkLookup:
		spec.AttachType = ebpf.AttachSkLookup
	case ebpf.Netfilter:
		spec.AttachType = ebpf.AttachNetfilter
	case ebpf.Syscall:
		// The verifier admits only sleepable syscall programs.
		spec.Flags = bpfFSleepable
	case ebpf.Tracing:
		// tp_btf needs vmlinux BTF but, unlike fentry, no ftrace: the load
		// proves the type, not the function tracer.
		spec.AttachType, spec.AttachTo = ebpf.AttachTraceRawTp, "sys_enter"
		return spec, "tp_btf target sys_enter"
	case ebpf.LSM:
		spec.AttachType, spec.AttachTo = ebpf.AttachLSMMac, "file_open"
		return spec, "LSM hook file_open"
	case ebpf.StructOps:
		spec.AttachTo = "tcp_congestion_ops:ssthresh"
		return spec, "tcp_congestion_ops member ssthresh"
	}
	return spec, ""
}

// bpfFSleepable is BPF_F_SLEEPABLE of the uapi.
const bpfFSleepable = 1 << 4

var _ = registerAll("prog/", func(f *catalog.Feature) {
	name := strings.TrimPrefix(f.ID, "prog/")
	if f.Prog == ebpf.Extension {
		harness.Spec(f.ID, "loads an ext program replacing a function of an XDP program", func(c *harness.Cell) {
			p := freplace.Load(c)
			c.Supported("loaded an ext program (%s) that replaces global function %q of an XDP program", p.Ext, freplace.Func)
		})
		return
	}
	spec, target := progSpec(f.Prog)
	sentence := "loads a minimal " + name + " program"
	if target != "" {
		sentence += " (" + target + ")"
	}
	harness.Spec(f.ID, sentence, func(c *harness.Cell) {
		prog, err := harness.NewProgram(spec, ebpf.ProgramOptions{})
		c.Loaded("load "+name+" program", err)
		prog.Close()
		c.Supported("loaded a minimal %s program%s", name, paren(target))
	})
})

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// registerAll registers one spec per catalog row of the features area whose
// ID starts with prefix.
func registerAll(prefix string, register func(f *catalog.Feature)) bool {
	for _, f := range catalog.All() {
		if f.Area == catalog.Features && strings.HasPrefix(f.ID, prefix) {
			register(f)
		}
	}
	return true
}
