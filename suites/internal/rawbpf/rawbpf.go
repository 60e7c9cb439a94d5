// Package rawbpf makes the few bpf(2) calls whose answer cilium/ebpf folds
// into a generic ErrNotSupported ("requires >= v5.18", "BTF not
// supported"): a cell's evidence must carry the errno the kernel gave.
// Each call creates an object and closes it at once, or hands its fd to
// the caller.
package rawbpf

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/mountinfo"
)

const (
	bpfMapCreate   = 0  // BPF_MAP_CREATE
	bpfProgLoad    = 5  // BPF_PROG_LOAD
	bpfTokenCreate = 36 // BPF_TOKEN_CREATE, Linux 6.9
	bpfBTFLoad     = 18 // BPF_BTF_LOAD
	bpfLinkCreate  = 28 // BPF_LINK_CREATE

	bpfTraceKprobeMulti = 42 // BPF_TRACE_KPROBE_MULTI
	bpfTraceUprobeMulti = 48 // BPF_TRACE_UPROBE_MULTI
)

// linkCreateAttr is the BPF_LINK_CREATE member of union bpf_attr; rest
// holds the per-type part (kprobe_multi, uprobe_multi).
type linkCreateAttr struct {
	progFd, targetFd, attachType, flags uint32
	rest                                [6]uint64
}

// kprobeMultiAttr is linkCreateAttr with its kprobe_multi part.
//
// This attribute and the others below hold the addresses the kernel reads
// as unsafe.Pointer, never as integers: Go moves a goroutine's stack when
// it grows, and updates the pointers into it, not integers. With uint64
// fields, a buffer left on the stack moved under a call's stack growth
// before bpf(2) read it: the kernel read stale memory, and ProbeLoad's
// tp_btf control failed in one build of the suite and not in another,
// which turned the host's trampoline probe into "ok"
// (docs/facts.md#host-trampolines). On 64-bit machines, the only ones
// bpfmatrix runs, a pointer is the kernel's __aligned_u64.
type kprobeMultiAttr struct {
	progFd, targetFd, attachType, flags uint32
	kmFlags, cnt                        uint32
	syms, addrs, cookies                unsafe.Pointer
	_                                   [2]uint64
}

// uprobeMultiAttr is linkCreateAttr with its uprobe_multi part.
type uprobeMultiAttr struct {
	progFd, targetFd, attachType, flags   uint32
	path, offsets, refCtrOffsets, cookies unsafe.Pointer
	cnt, umFlags, pid                     uint32
	_                                     uint32
}

func sysBPF(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// MapAttr is the BPF_MAP_CREATE member of union bpf_attr up to map_extra.
type MapAttr struct {
	MapType, KeySize, ValueSize, MaxEntries, Flags uint32
	InnerMapFD, NumaNode                           uint32
	Name                                           [16]byte
	Ifindex, BTFFD, BTFKeyTypeID, BTFValueTypeID   uint32
	BTFVmlinuxValueTypeID                          uint32
	MapExtra                                       uint64
}

// MapCreate creates a map with BPF_MAP_CREATE itself: cilium/ebpf's map
// creation and feature probes turn several of the kernel's answers into
// ErrNotSupported. The error names the attributes.
func MapCreate(attr *MapAttr) (int, error) {
	ext := struct {
		MapAttr
		valueTypeBTFObjFD, tokenFD int32
	}{MapAttr: *attr}
	if tok := token(); tok >= 0 {
		ext.Flags |= bpfFTokenFD
		ext.tokenFD = int32(tok)
	}
	fd, err := sysBPF(bpfMapCreate, unsafe.Pointer(&ext), unsafe.Sizeof(ext))
	runtime.KeepAlive(attr)
	if err != nil {
		return -1, fmt.Errorf("bpf(BPF_MAP_CREATE, type %d, key %d, value %d, max_entries %d, flags %#x): %w",
			attr.MapType, attr.KeySize, attr.ValueSize, attr.MaxEntries, attr.Flags, err)
	}
	return fd, nil
}

// probeBPF creates a kernel object with bpf(2) and closes it at once: the
// probes below only want the kernel's answer.
func probeBPF(cmd int, attr unsafe.Pointer, size uintptr) error {
	fd, err := sysBPF(cmd, attr, size)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// LinkCreate creates a bpf_link of prog on target (a cgroup, netns or
// interface fd) with BPF_LINK_CREATE itself: cilium/ebpf first probes for
// bpf_link support and reports a refusal as ErrNotSupported.
func LinkCreate(prog *ebpf.Program, target int, attach ebpf.AttachType) (int, error) {
	attr := linkCreateAttr{progFd: uint32(prog.FD()), targetFd: uint32(target), attachType: uint32(attach)}
	return sysBPF(bpfLinkCreate, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
}

// ProbeKprobeMulti asks the kernel to create a kprobe_multi link for prog on
// symbol, and closes it at once: EOPNOTSUPP when CONFIG_FPROBE is off,
// EINVAL before 5.18.
func ProbeKprobeMulti(prog *ebpf.Program, symbol string) error {
	name, err := unix.BytePtrFromString(symbol)
	if err != nil {
		return err
	}
	syms := []*byte{name}
	attr := kprobeMultiAttr{progFd: uint32(prog.FD()), attachType: bpfTraceKprobeMulti, cnt: 1, syms: unsafe.Pointer(&syms[0])}
	return probeBPF(bpfLinkCreate, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
}

// ProbeUprobeMulti asks the kernel to create a uprobe_multi link for prog
// at file offset off of the executable at path, and closes it at once.
func ProbeUprobeMulti(prog *ebpf.Program, path string, off uint64) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	offsets := []uint64{off}
	attr := uprobeMultiAttr{progFd: uint32(prog.FD()), attachType: bpfTraceUprobeMulti, path: unsafe.Pointer(p), offsets: unsafe.Pointer(&offsets[0]), cnt: 1}
	return probeBPF(bpfLinkCreate, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
}

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
	attr := btfLoadAttr{btf: unsafe.Pointer(&blob[0]), size: uint32(len(blob))}
	if tok := token(); tok >= 0 {
		attr.flags, attr.token = bpfFTokenFD, int32(tok)
	}
	return probeBPF(bpfBTFLoad, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
}

// btfLoadAttr is the BPF_BTF_LOAD member of union bpf_attr: btf,
// btf_log_buf, btf_size, btf_log_size, btf_log_level, btf_log_true_size,
// btf_flags, btf_token_fd.
type btfLoadAttr struct {
	btf, logBuf                      unsafe.Pointer
	size, logSize, logLevel, logTrue uint32
	flags                            uint32
	token                            int32
}

// progLoadAttr is the BPF_PROG_LOAD member of union bpf_attr up to
// attach_btf_id, the fields a trampoline program names its target by.
type progLoadAttr struct {
	progType, insnCnt            uint32
	insns, license               unsafe.Pointer
	logLevel, logSize            uint32
	logBuf                       unsafe.Pointer
	kernVersion, progFlags       uint32
	progName                     [16]byte
	progIfindex, expectedAttach  uint32
	progBTFFd, funcInfoRecSize   uint32
	funcInfo                     unsafe.Pointer
	funcInfoCnt, lineInfoRecSize uint32
	lineInfo                     unsafe.Pointer
	lineInfoCnt, attachBTFID     uint32
}

// ProbeLoad loads "r0 = 0; exit" as a program of type prog and expected
// attach type attach, with no attach target, and returns the verifier's log
// and the kernel's errno (nil if it loaded). For a tracing, extension or LSM
// type every kernel that has it refuses such a program with EINVAL and a
// log asking for the target ("Tracing programs must provide btf_id"): an
// answer before the verifier, such as EPERM with an empty log, comes from a
// check in front of it.
func ProbeLoad(prog ebpf.ProgramType, attach ebpf.AttachType) (log string, errno error) {
	insns := []uint64{0x00000000000000b7, 0x0000000000000095} // mov r0, 0; exit
	license := []byte("GPL\x00")
	buf := make([]byte, 4096)
	attr := progLoadAttr{
		progType: uint32(prog), insnCnt: uint32(len(insns)),
		insns: unsafe.Pointer(&insns[0]), license: unsafe.Pointer(&license[0]),
		logLevel: 1, logSize: uint32(len(buf)), logBuf: unsafe.Pointer(&buf[0]),
		expectedAttach: uint32(attach),
	}
	err := probeBPF(bpfProgLoad, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return unix.ByteSliceToString(buf), err
}

// bpfFTokenFD is BPF_F_TOKEN_FD: the attribute's token fd is set.
const bpfFTokenFD = 1 << 16

var (
	tokenOnce sync.Once
	tokenFD   = -1
)

// token is a BPF token from the first bpffs mount that grants one (in a
// user namespace holding a delegated bpffs), or -1. The raw calls pass it
// as cilium/ebpf passes its own; without it the kernel checks the initial
// user namespace's capabilities and refuses there. It stays open for the
// process's life, like cilium/ebpf's.
func token() int {
	tokenOnce.Do(func() {
		mounts, _ := mountinfo.Read()
		for _, m := range mounts {
			if m.FSType != "bpf" {
				continue
			}
			if fd, err := TokenCreate(m.Point); err == nil {
				tokenFD = fd
				return
			}
		}
	})
	return tokenFD
}

// TokenCreate creates a BPF token (BPF_TOKEN_CREATE, Linux 6.9) from the
// bpffs mounted at dir and returns its fd; the kernel refuses unless the
// bpffs belongs to the caller's user namespace and delegates something.
func TokenCreate(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fd)
	attr := struct{ flags, bpffsFD uint32 }{bpffsFD: uint32(fd)}
	return sysBPF(bpfTokenCreate, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
}
