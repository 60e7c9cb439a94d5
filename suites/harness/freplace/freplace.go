// Package freplace loads the two programs a function replacement needs: an
// XDP program whose body is a global function with BTF, and an ext program
// that replaces that function. The XDP program returns XDP_ABORTED (0) and
// the extension XDP_PASS (2), so a test run tells which one ran.
package freplace

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

// Func is the global function of the XDP program the extension replaces.
const Func = "replaceable"

// Programs are the XDP program and its extension, closed when the spec
// ends.
type Programs struct {
	Target, Ext *ebpf.Program
}

// Load loads the XDP program, then the ext program targeting its Func.
func Load(c *harness.Cell) Programs {
	c.Helper()
	fn := &btf.Func{
		Name: Func,
		Type: &btf.FuncProto{
			Return: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed},
			Params: []btf.FuncParam{{Name: "ctx", Type: &btf.Pointer{Target: &btf.Struct{Name: "xdp_md"}}}},
		},
		Linkage: btf.GlobalFunc,
	}
	body := func(ret int32) asm.Instructions {
		return asm.Instructions{
			btf.WithFuncMetadata(asm.Mov.Imm(asm.R0, ret), fn),
			asm.Return(),
		}
	}
	target, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: body(0)})
	c.Loaded("load the XDP program to extend", err)
	c.Defer(func() { target.Close() })

	ext, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.Extension, License: "GPL", Instructions: body(2),
		AttachTarget: target, AttachTo: Func,
	})
	c.Loaded("load ext program", err)
	c.Defer(func() { ext.Close() })
	return Programs{Target: target, Ext: ext}
}
