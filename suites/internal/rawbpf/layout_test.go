package rawbpf

import (
	"testing"
	"unsafe"
)

// The attributes with pointer fields keep the kernel's layout of union
// bpf_attr (include/uapi/linux/bpf.h): a wrong offset would hand the
// kernel a count where it reads an address.
func TestAttributesKeepTheKernelsLayout(t *testing.T) {
	var pl progLoadAttr
	var km kprobeMultiAttr
	var um uprobeMultiAttr
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"prog_load insns", unsafe.Offsetof(pl.insns), 8},
		{"prog_load license", unsafe.Offsetof(pl.license), 16},
		{"prog_load log_buf", unsafe.Offsetof(pl.logBuf), 32},
		{"prog_load expected_attach_type", unsafe.Offsetof(pl.expectedAttach), 68},
		{"kprobe_multi cnt", unsafe.Offsetof(km.cnt), 20},
		{"kprobe_multi syms", unsafe.Offsetof(km.syms), 24},
		{"kprobe_multi size", unsafe.Sizeof(km), unsafe.Sizeof(linkCreateAttr{})},
		{"uprobe_multi path", unsafe.Offsetof(um.path), 16},
		{"uprobe_multi offsets", unsafe.Offsetof(um.offsets), 24},
		{"uprobe_multi cnt", unsafe.Offsetof(um.cnt), 48},
		{"uprobe_multi size", unsafe.Sizeof(um), unsafe.Sizeof(linkCreateAttr{})},
	} {
		if c.got != c.want {
			t.Errorf("%s at %d, want %d", c.name, c.got, c.want)
		}
	}
}
