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
	var bl btfLoadAttr
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"prog_load insns", unsafe.Offsetof(pl.insns), 8},
		{"prog_load license", unsafe.Offsetof(pl.license), 16},
		{"prog_load log_buf", unsafe.Offsetof(pl.logBuf), 32},
		{"prog_load expected_attach_type", unsafe.Offsetof(pl.expectedAttach), 68},
		{"prog_load func_info", unsafe.Offsetof(pl.funcInfo), 80},
		{"prog_load line_info", unsafe.Offsetof(pl.lineInfo), 96},
		{"prog_load attach_btf_id", unsafe.Offsetof(pl.attachBTFID), 108},
		{"prog_load size", unsafe.Sizeof(pl), 112},
		{"kprobe_multi cnt", unsafe.Offsetof(km.cnt), 20},
		{"kprobe_multi syms", unsafe.Offsetof(km.syms), 24},
		{"kprobe_multi addrs", unsafe.Offsetof(km.addrs), 32},
		{"kprobe_multi cookies", unsafe.Offsetof(km.cookies), 40},
		{"kprobe_multi size", unsafe.Sizeof(km), unsafe.Sizeof(linkCreateAttr{})},
		{"uprobe_multi path", unsafe.Offsetof(um.path), 16},
		{"uprobe_multi offsets", unsafe.Offsetof(um.offsets), 24},
		{"uprobe_multi ref_ctr_offsets", unsafe.Offsetof(um.refCtrOffsets), 32},
		{"uprobe_multi cookies", unsafe.Offsetof(um.cookies), 40},
		{"uprobe_multi cnt", unsafe.Offsetof(um.cnt), 48},
		{"uprobe_multi pid", unsafe.Offsetof(um.pid), 56},
		{"uprobe_multi size", unsafe.Sizeof(um), unsafe.Sizeof(linkCreateAttr{})},
		{"btf_load btf_log_buf", unsafe.Offsetof(bl.logBuf), 8},
		{"btf_load btf_size", unsafe.Offsetof(bl.size), 16},
		{"btf_load btf_token_fd", unsafe.Offsetof(bl.token), 36},
	} {
		if c.got != c.want {
			t.Errorf("%s at %d, want %d", c.name, c.got, c.want)
		}
	}
}
