// Package arch holds what differs between the CPU architectures bpfmatrix
// runs kernels of, one value per architecture: the kernel's names for
// syscall entry points, the emulator and machine that boot it, the guest's
// console, and the C compiler that builds static guest binaries for it.
// Everything arch-specific reads it here, never from "arm64 is like x86".
package arch

import (
	"fmt"
	"runtime"
	"slices"
)

// Arch is one architecture.
type Arch struct {
	// Name is both GOARCH and Debian's architecture name: "amd64", "arm64".
	Name string
	// SyscallPrefix is what the kernel prepends to a syscall's name for its
	// entry point: __x64_sys_getpgid, __arm64_sys_getpgid.
	SyscallPrefix string
	// Qemu is the system emulator, QemuPackage the Debian package that
	// ships it.
	Qemu, QemuPackage string
	// Machine is qemu's machine and CPU under TCG; KVMMachine under KVM.
	Machine, KVMMachine []string
	// Console is the guest's first serial line, for console=.
	Console string
	// CC is the C compiler of static guest binaries (the uprobe/USDT
	// target), CCPackage its Debian package.
	CC, CCPackage string
	// VirtioPorts: the guest's lines besides the console are named virtio
	// serial ports on PCI, not more UARTs (ttyS1, ttyS2, ...). arm64's virt
	// machine has one UART only; on amd64 a UART costs an emulated I/O
	// exit per byte, and the suite's ~0.4 MB of records took 0.3 s more
	// of a 7.2 run than through a port (docs/speed.md).
	VirtioPorts bool
	// GuestModules are modules the guest loads first where its kernel has
	// them as modules: the drivers of those ports on kernels that build
	// them as modules (5.10 and 6.1: docs/facts.md#boot-serial).
	GuestModules []string
}

// AMD64 and ARM64 are the architectures bpfmatrix knows.
var (
	AMD64 = Arch{
		Name: "amd64", SyscallPrefix: "__x64_sys_",
		Qemu: "qemu-system-x86_64", QemuPackage: "qemu-system-x86",
		Machine: []string{"-cpu", "max"}, KVMMachine: []string{"-cpu", "host"},
		Console: "ttyS0", CC: "x86_64-linux-gnu-gcc", CCPackage: "gcc-x86-64-linux-gnu",
		VirtioPorts: true, GuestModules: []string{"virtio_pci", "virtio_console"},
	}
	// ARM64's CPU model: plain "max" emulates pointer authentication in
	// full, ~2.5x slower to boot; pauth-impdef=on keeps the feature with
	// qemu's cheap implementation-defined algorithm.
	ARM64 = Arch{
		Name: "arm64", SyscallPrefix: "__arm64_sys_",
		Qemu: "qemu-system-aarch64", QemuPackage: "qemu-system-arm",
		Machine: []string{"-M", "virt", "-cpu", "max,pauth-impdef=on"}, KVMMachine: []string{"-M", "virt", "-cpu", "host"},
		Console: "ttyAMA0", CC: "aarch64-linux-gnu-gcc", CCPackage: "gcc-aarch64-linux-gnu",
		VirtioPorts: true, GuestModules: []string{"virtio_pci", "virtio_console"},
	}
)

// All lists the architectures, the host's usual one first.
var All = []Arch{AMD64, ARM64}

// Names are the architectures' names, for messages.
func Names() []string {
	var names []string
	for _, a := range All {
		names = append(names, a.Name)
	}
	return names
}

// Lookup finds an architecture by name; "" is the running one.
func Lookup(name string) (Arch, error) {
	if name == "" {
		name = runtime.GOARCH
	}
	if i := slices.IndexFunc(All, func(a Arch) bool { return a.Name == name }); i >= 0 {
		return All[i], nil
	}
	return Arch{}, fmt.Errorf("unknown architecture %q: known are %v", name, Names())
}

// Running is the architecture this binary was built for: in a guest, the
// guest's.
func Running() Arch {
	a, err := Lookup(runtime.GOARCH)
	if err != nil {
		panic("bpfmatrix: built for " + runtime.GOARCH + ", which internal/arch does not know")
	}
	return a
}

// OrRunning is a, or the running architecture where a is the zero value.
func (a Arch) OrRunning() Arch {
	if a.Name == "" {
		return Running()
	}
	return a
}

// SyscallFunc is the kernel function behind syscall name: "getpgid" is
// __x64_sys_getpgid on amd64.
func (a Arch) SyscallFunc(name string) string { return a.SyscallPrefix + name }
