package vm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Machine is one qemu boot: a kernel, an initramfs, and where the guest's
// serial ports go.
type Machine struct {
	// Qemu is the emulator binary; empty means qemu-system-x86_64.
	Qemu string
	// Vmlinux is the uncompressed ELF kernel, entered through PVH: no
	// decompression under emulation (~2.7 s for XZ kernels: docs/facts.md#boot-pvh).
	Vmlinux string
	Initrd  string
	// Append is added to the kernel command line.
	Append string
	// MemoryMiB and CPUs size the guest.
	MemoryMiB, CPUs int
	// Serial are the files the guest's ttyS0, ttyS1, ... write to, in
	// order: the console first.
	Serial []string
	// Accel is "kvm" or "tcg"; empty means Accel() decides.
	Accel string
}

// BaseCmdline is every guest's kernel command line. panic=-1 reboots at once
// on a panic, which -no-reboot turns into qemu exiting; oops=panic and
// softlockup_panic=1 turn an oops or a soft lockup into that same quick end
// instead of a guest limping on until the host's timeout. no_timer_check
// skips the boot-time IO-APIC timer test, which emulation on a busy host
// fails ("IO-APIC + timer doesn't work!" panicked a 6.1 boot here).
const BaseCmdline = "console=ttyS0 panic=-1 oops=panic softlockup_panic=1 no_timer_check quiet"

// Accel returns "kvm" when the CPU has hardware virtualization (vmx or svm
// in /proc/cpuinfo) and /dev/kvm answers KVM_GET_API_VERSION, else "tcg".
// Both are needed: on these machines /dev/kvm exists and answers, but the
// CPU lacks vmx/svm and qemu aborts setting the first MSR.
func Accel() string {
	if !hardwareVirt() {
		return "tcg"
	}
	fd, err := unix.Open("/dev/kvm", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return "tcg"
	}
	defer unix.Close(fd)
	const kvmGetAPIVersion = 0xAE00
	v, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), kvmGetAPIVersion, uintptr(unsafe.Pointer(nil)))
	if errno != 0 || v != 12 {
		return "tcg"
	}
	return "kvm"
}

func hardwareVirt() bool {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "flags") {
			for _, f := range strings.Fields(line) {
				if f == "vmx" || f == "svm" {
					return true
				}
			}
			return false
		}
	}
	return false
}

// Args returns qemu's command line.
func (m *Machine) Args() []string {
	accel := m.Accel
	if accel == "" {
		accel = Accel()
	}
	mem, cpus := m.MemoryMiB, m.CPUs
	if mem <= 0 {
		mem = 1024
	}
	if cpus <= 0 {
		cpus = 2
	}
	args := []string{"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-m", strconv.Itoa(mem), "-smp", strconv.Itoa(cpus)}
	if accel == "kvm" {
		args = append(args, "-accel", "kvm", "-cpu", "host")
	} else {
		// Multi-threaded TCG hung or crashed ~6% of boots on these
		// machines, always while a probe was being enabled; single-threaded
		// TCG: 0 of 80 (docs/facts.md#boot-tcg-single-thread).
		args = append(args, "-accel", "tcg,thread=single", "-cpu", "max")
	}
	for _, s := range m.Serial {
		args = append(args, "-serial", "file:"+s)
	}
	cmdline := BaseCmdline
	if m.Append != "" {
		cmdline += " " + m.Append
	}
	return append(args, "-kernel", m.Vmlinux, "-initrd", m.Initrd, "-append", cmdline)
}

// ErrNoQemu says in one line what to install.
var ErrNoQemu = errors.New("qemu-system-x86_64 not found: install it (apt-get install qemu-system-x86) or run make matrix, which does")

// lookQemu finds the emulator; "" means qemu-system-x86_64.
func lookQemu(qemu string) (string, error) {
	if qemu == "" {
		qemu = "qemu-system-x86_64"
	}
	path, err := exec.LookPath(qemu)
	if err != nil {
		return "", ErrNoQemu
	}
	return path, nil
}

// Run boots the machine and waits until qemu exits or ctx ends; then it
// kills qemu. It returns qemu's own failure, if any (a guest that powers off
// or panics makes qemu exit 0).
func (m *Machine) Run(ctx context.Context) (time.Duration, error) {
	path, err := lookQemu(m.Qemu)
	if err != nil {
		return 0, err
	}
	var stderr strings.Builder
	cmd := exec.Command(path, m.Args()...)
	cmd.Stderr = &stderr
	cmd.Stdin = nil
	// A process group of its own: a Ctrl-C at the terminal reaches the
	// runner only, which stops qemu by ctx and records the run interrupted.
	// Whatever ends the runner ends qemu too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", path, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return time.Since(start), context.Cause(ctx)
	}
	took := time.Since(start)
	if err != nil {
		return took, fmt.Errorf("qemu: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return took, nil
}

// removeQuietly removes files a run leaves that nobody reads afterwards.
func removeQuietly(paths ...string) {
	for _, p := range paths {
		_ = os.Remove(p)
	}
}
