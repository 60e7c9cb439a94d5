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

	"github.com/bpfmatrix/bpfmatrix/internal/arch"
	"github.com/bpfmatrix/bpfmatrix/matrix/guest"
)

// Machine is one qemu boot: a kernel, an initramfs, and where the guest's
// serial ports go.
type Machine struct {
	// Arch is the guest's architecture; the zero value is the host's.
	Arch arch.Arch
	// Qemu is the emulator binary; empty means Arch's.
	Qemu string
	// Vmlinux is the kernel: on amd64 the uncompressed ELF, entered
	// through PVH with no decompression under emulation (~2.7 s for XZ
	// kernels: docs/facts.md#boot-pvh); on arm64 the Image.
	Vmlinux string
	Initrd  string
	// Append is added to the kernel command line.
	Append string
	// MemoryMiB and CPUs size the guest.
	MemoryMiB, CPUs int
	// Serial are the files the guest's console and its other lines write
	// to, in order (guest.Channels): a UART, then named virtio serial
	// ports where Arch.VirtioPorts (else more UARTs).
	Serial []string
	// Accel is "kvm" or "tcg"; empty means Accel() decides.
	Accel string
	// Disk is a raw image the guest sees read-only as its virtio disk
	// (guest.PayloadDevice); none if empty.
	Disk string
	// QMP is a unix socket qemu serves its machine protocol on; none if
	// empty.
	QMP string
	// Incoming restores the guest from a saved state instead of booting
	// it: qemu's -incoming URI, such as "exec:cat state".
	Incoming string
	// AppendSerial opens the serial files for appending: a restored
	// guest's console continues its snapshot's.
	AppendSerial bool
}

// BaseCmdline is every guest's kernel command line. panic=-1 reboots at once
// on a panic, which -no-reboot turns into qemu exiting; oops=panic and
// softlockup_panic=1 turn an oops or a soft lockup into that same quick end
// instead of a guest limping on until the host's timeout. no_timer_check
// skips the boot-time IO-APIC timer test, which emulation on a busy host
// fails ("IO-APIC + timer doesn't work!" panicked a 6.1 boot here).
// rcupdate.rcu_expedited=1 ends each synchronize_rcu() with IPIs instead
// of waiting out scheduler ticks: detaching a program or link, closing a
// namespace wait on one, and under TCG a tick-paced grace period left the
// guest idle (the 7.3 amd64 suite 8.8 s → 7.2 s, arm64 10.7 s → 9.8 s;
// docs/speed.md). It changes when memory is freed, not what the kernel
// supports.
const BaseCmdline = "panic=-1 oops=panic softlockup_panic=1 no_timer_check quiet rcupdate.rcu_expedited=1"

// AccelFor is Accel for a guest of architecture a: KVM runs only guests of
// the host's own architecture, so any other one runs under TCG.
func AccelFor(a arch.Arch) string {
	if a.Name != arch.Running().Name {
		return "tcg"
	}
	return Accel()
}

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

// arch is the machine's architecture.
func (m *Machine) arch() arch.Arch { return m.Arch.OrRunning() }

// Args returns qemu's command line.
func (m *Machine) Args() []string {
	a := m.arch()
	accel := m.Accel
	if accel == "" {
		accel = AccelFor(a)
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
		args = append(append(args, "-accel", "kvm"), a.KVMMachine...)
	} else {
		// Multi-threaded TCG hung or crashed ~6% of boots on these
		// machines, always while a probe was being enabled; single-threaded
		// TCG: 0 of 80 (docs/facts.md#boot-tcg-single-thread).
		args = append(append(args, "-accel", "tcg,thread=single"), a.Machine...)
	}
	for i, s := range m.Serial {
		id := fmt.Sprintf("line%d", i)
		chardev := "file,id=" + id + ",path=" + s
		if m.AppendSerial {
			chardev += ",append=on"
		}
		args = append(args, "-chardev", chardev)
		if i == 0 || !a.VirtioPorts {
			args = append(args, "-serial", "chardev:"+id)
			continue
		}
		if i == 1 {
			// PCI, not MMIO: virtio_mmio is a module on every Debian arm64
			// kernel, virtio_pci is built in from 6.12 on, and where both
			// are modules (5.10, 6.1) the PCI port shows up once
			// virtio_pci and virtio_console load (docs/facts.md#arm64-serial).
			args = append(args, "-device", "virtio-serial-pci")
		}
		args = append(args, "-device", "virtserialport,chardev="+id+",name="+guest.PortName(i))
	}
	if m.Disk != "" {
		// PCI on both machines: virtio_pci is what the guest loads for
		// its serial ports anyway.
		args = append(args, "-drive", "file="+m.Disk+",if=none,id=payload,format=raw,readonly=on", "-device", "virtio-blk-pci,drive=payload")
	}
	if m.QMP != "" {
		args = append(args, "-qmp", "unix:"+m.QMP+",server=on,wait=off")
	}
	if m.Incoming != "" {
		args = append(args, "-incoming", m.Incoming)
	}
	cmdline := "console=" + a.Console + " " + BaseCmdline
	if m.Append != "" {
		cmdline += " " + m.Append
	}
	return append(args, "-kernel", m.Vmlinux, "-initrd", m.Initrd, "-append", cmdline)
}

// ErrNoQemu is the error of an emulator that is not installed; its text
// says in one line what to install.
var ErrNoQemu = errors.New("qemu not found")

// lookQemu finds the emulator; "" means a's.
func lookQemu(qemu string, a arch.Arch) (string, error) {
	if qemu == "" {
		qemu = a.Qemu
	}
	path, err := exec.LookPath(qemu)
	if err != nil {
		return "", fmt.Errorf("%w: %s: install it (apt-get install %s) or run make matrix, which does", ErrNoQemu, qemu, a.QemuPackage)
	}
	return path, nil
}

// Run boots the machine and waits until qemu exits or ctx ends; then it
// kills qemu. It returns qemu's own failure, if any (a guest that powers off
// or panics makes qemu exit 0).
func (m *Machine) Run(ctx context.Context) (time.Duration, error) {
	path, err := lookQemu(m.Qemu, m.arch())
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
	// A qemu given as a wrapper script (time, taskset, a tracer) runs as
	// its child: killing the group ends it too, and WaitDelay bounds the
	// wait for a stderr a straggler still holds.
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", path, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
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
