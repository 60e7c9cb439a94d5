package harness

import (
	"runtime"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

const (
	bpfLinkCreate             = 28 // BPF_LINK_CREATE
	bpfTraceKprobeMulti       = 42 // BPF_TRACE_KPROBE_MULTI
	linkCreateKprobeMultiSize = 48
)

// ProbeKprobeMulti asks the kernel to create a kprobe_multi link for prog on
// symbol, and closes it at once. It exists because cilium/ebpf reports every
// refusal as "requires >= v5.18", hiding the kernel's errno (EOPNOTSUPP when
// CONFIG_FPROBE is off, EINVAL before 5.18); this returns the errno itself.
func ProbeKprobeMulti(prog *ebpf.Program, symbol string) error {
	name, err := unix.BytePtrFromString(symbol)
	if err != nil {
		return err
	}
	syms := []*byte{name}
	// union bpf_attr, link_create with its kprobe_multi member.
	var attr struct {
		progFd, targetFd, attachType, flags uint32
		kmFlags, cnt                        uint32
		syms, addrs, cookies                uint64
	}
	attr.progFd = uint32(prog.FD())
	attr.attachType = bpfTraceKprobeMulti
	attr.cnt = 1
	attr.syms = uint64(uintptr(unsafe.Pointer(&syms[0])))
	fd, _, errno := unix.Syscall(unix.SYS_BPF, bpfLinkCreate, uintptr(unsafe.Pointer(&attr)), linkCreateKprobeMultiSize)
	runtime.KeepAlive(syms)
	runtime.KeepAlive(name)
	if errno != 0 {
		return errno
	}
	return unix.Close(int(fd))
}

const bpfBTFLoad = 18 // BPF_BTF_LOAD

// ProbeBTFLoad asks the kernel to load a minimal BTF blob (one int type),
// and closes it at once. cilium/ebpf turns every refusal of BPF_BTF_LOAD
// into "BTF not supported" (and struct_ops maps into "struct_ops requires
// BTF"), hiding the errno that says why: EPERM for a missing capability.
func ProbeBTFLoad() error {
	var b btf.Builder
	if _, err := b.Add(&btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}); err != nil {
		return err
	}
	blob, err := b.Marshal(nil, nil)
	if err != nil {
		return err
	}
	// union bpf_attr, BPF_BTF_LOAD: btf, btf_log_buf, btf_size, btf_log_size, btf_log_level.
	attr := struct {
		btf, logBuf             uint64
		size, logSize, logLevel uint32
		_                       uint32
	}{btf: uint64(uintptr(unsafe.Pointer(&blob[0]))), size: uint32(len(blob))}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, bpfBTFLoad, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(blob)
	if errno != 0 {
		return errno
	}
	return unix.Close(int(fd))
}
