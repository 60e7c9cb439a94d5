package features

import (
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/suites/harness"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/cgroup"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/usertarget"
	"github.com/bpfmatrix/bpfmatrix/suites/internal/rawbpf"
)

// Verifier features: each loads a socket_filter program that only a kernel
// with the feature accepts.

var _ = harness.Spec("misc/large_insn_limit", "loads a program of 4097 instructions", func(c *harness.Cell) {
	const n = 4096 // BPF_MAXINSNS, the limit before 5.2
	insns := make(asm.Instructions, 0, n+1)
	for range n {
		insns = append(insns, asm.Mov.Imm(asm.R0, 0))
	}
	loadSocketFilter(c, append(insns, asm.Return()), "a socket_filter program of 4097 instructions")
})

var _ = harness.Spec("misc/bounded_loops", "loads a program that loops 10 times", func(c *harness.Cell) {
	loadSocketFilter(c, asm.Instructions{
		asm.Mov.Imm(asm.R0, 10),
		asm.Sub.Imm(asm.R0, 1).WithSymbol("loop"),
		asm.JNE.Imm(asm.R0, 0, "loop"),
		asm.Return(),
	}, "a socket_filter program with a backward jump that loops 10 times")
})

var _ = harness.Spec("misc/isa_v2", "loads a program using BPF_JLT", func(c *harness.Cell) {
	loadSocketFilter(c, asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		asm.JLT.Imm(asm.R0, 0, "exit"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return().WithSymbol("exit"),
	}, "a socket_filter program using BPF_JLT (ISA v2)")
})

var _ = harness.Spec("misc/isa_v3", "loads a program using BPF_JMP32", func(c *harness.Cell) {
	loadSocketFilter(c, asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		asm.JLT.Imm32(asm.R0, 0, "exit"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return().WithSymbol("exit"),
	}, "a socket_filter program using a BPF_JMP32 jump (ISA v3)")
})

var _ = harness.Spec("misc/isa_v4", "loads a program using gotol", func(c *harness.Cell) {
	loadSocketFilter(c, asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		asm.JEq.Imm(asm.R0, 1, "error"),
		asm.LongJump("exit"),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("error"),
		asm.Return().WithSymbol("exit"),
	}, "a socket_filter program using gotol, BPF_JA with a 32-bit offset (ISA v4)")
})

func loadSocketFilter(c *harness.Cell, insns asm.Instructions, what string) {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, License: "GPL", Instructions: insns})
	c.Loaded("load "+what, err)
	prog.Close()
	c.Supported("loaded %s", what)
}

var _ = harness.Spec("misc/bpf_link", "creates a cgroup_skb link with BPF_LINK_CREATE", func(c *harness.Cell) {
	// A cgroup of the spec's own, so the link touches no traffic but the
	// spec's (and the program allows every packet anyway).
	root := cgroup.New(c).Path
	dir, err := os.Open(root)
	c.Setup("open cgroup", err)
	c.Defer(func() { dir.Close() })

	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.CGroupSKB, AttachType: ebpf.AttachCGroupInetIngress, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Return()},
	})
	c.Loaded("load cgroup_skb program", err)
	c.Defer(func() { prog.Close() })

	fd, err := rawbpf.LinkCreate(prog, int(dir.Fd()), ebpf.AttachCGroupInetIngress)
	c.Attached("create link (BPF_LINK_CREATE)", err)
	l, err := link.NewFromFD(fd)
	c.Attached("wrap link fd", err)
	defer l.Close()
	info := "no link info before 5.8"
	if i, err := l.Info(); err == nil {
		info = fmt.Sprintf("link ID %d, type %d", i.ID, i.Type)
	}
	c.Supported("BPF_LINK_CREATE made a cgroup_skb ingress link on %s (%s)", root, info)
})

var _ = harness.Spec("misc/kprobe_multi", "creates a kprobe_multi link on "+harness.GetpgidFunc, func(c *harness.Cell) {
	prog := loadKprobe(c, ebpf.AttachTraceKprobeMulti)
	c.Attached("create kprobe_multi link on "+harness.GetpgidFunc, rawbpf.ProbeKprobeMulti(prog, harness.GetpgidFunc))
	c.Supported("created (and closed) a kprobe_multi link on %s", harness.GetpgidFunc)
})

var _ = harness.Spec("misc/uprobe_multi", "creates a uprobe_multi link on a function of the user target", func(c *harness.Cell) {
	prog := loadKprobe(c, ebpf.AttachTraceUprobeMulti)
	target := usertarget.New(c)
	off, err := target.Offset(usertarget.Func)
	c.Setup("find "+usertarget.Func, err)
	c.Attached("create uprobe_multi link", rawbpf.ProbeUprobeMulti(prog, target.Path, off))
	c.Supported("created (and closed) a uprobe_multi link on %s at file offset %#x", usertarget.Func, off)
})

func loadKprobe(c *harness.Cell, attach ebpf.AttachType) *ebpf.Program {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.Kprobe, AttachType: attach, License: "GPL", Instructions: returnZero})
	c.Loaded("load kprobe program with expected attach type "+attach.String(), err)
	c.Defer(func() { prog.Close() })
	return prog
}
