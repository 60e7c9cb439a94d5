//go:build linux

package guest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/internal/inventory"
	"github.com/bpfmatrix/bpfmatrix/internal/netnspool"
)

const tracefsDir = "/sys/kernel/tracing"

// mounts are the filesystems the suite needs, in order: devtmpfs for the
// serial ports, the rest for eBPF (bpffs for pinning, tracefs and debugfs for
// probes, cgroup2 for cgroup programs, securityfs for the LSM list).
var mounts = []struct{ fstype, dir string }{
	{"proc", "/proc"},
	{"sysfs", "/sys"},
	{"devtmpfs", "/dev"},
	{"tmpfs", "/tmp"},
	{"bpf", "/sys/fs/bpf"},
	{"tracefs", tracefsDir},
	{"debugfs", "/sys/kernel/debug"},
	{"cgroup2", "/sys/fs/cgroup"},
	{"securityfs", "/sys/kernel/security"},
}

// Main is the guest's /init: mount, raise RLIMIT_MEMLOCK, load modules, run
// the suite with its records going to the records port, print the exit
// marker, power off. It never returns: PID 1 exiting would panic the kernel.
func Main() {
	code, suite, err := run()
	if err != nil {
		fmt.Printf("%s %v\n", ErrorMarker, err)
		code = 125
	}
	fmt.Println(ExitLine(code, suite))
	// tcdrain: what /init printed waits in the console's tty until the
	// UART sends it, and powering off drops it. A bench's bare boot, which
	// powers off at once, lost every line of its console so, the exit
	// marker too, and ended as a panic.
	_ = unix.IoctlSetInt(int(os.Stdout.Fd()), unix.TCSBRK, 1)
	unix.Sync()
	for {
		// POWER_OFF ends qemu (run with -no-reboot). If it fails there is
		// nothing left to do but wait for the host's timeout.
		err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
		fmt.Printf("%s reboot(POWER_OFF): %v\n", ErrorMarker, err)
		time.Sleep(time.Second)
	}
}

func run() (code int, suite time.Duration, err error) {
	for _, m := range mounts {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return 0, 0, err
		}
		if err := unix.Mount(m.fstype, m.dir, m.fstype, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			// Not fatal: a kernel without debugfs still runs the suite, and
			// the cells that need it say so.
			fmt.Printf("%s mount %s on %s: %v\n", ErrorMarker, m.fstype, m.dir, err)
		}
		if m.fstype == "devtmpfs" {
			attachConsole()
		}
	}
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. cilium/ebpf's
	// rlimit package must not be used in PID 1: it probes at init, before
	// /proc exists, and caches the failure (docs/facts.md#guest-rlimit).
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}); err != nil {
		return 0, 0, fmt.Errorf("raise RLIMIT_MEMLOCK: %w", err)
	}

	plan, err := readPlan()
	if err != nil {
		return 0, 0, err
	}
	if plan.NoSuite {
		return 0, 0, nil
	}
	fmt.Printf("%s %s\n", InitMarker, uptime())
	for _, name := range plan.Modules {
		fmt.Printf("%s %s %s\n", ModuleMarker, name, loadModule(filepath.Join(ModuleDir, name+".ko")))
	}
	lines := plan.Channels
	if lines == (Channels{}) {
		lines = SerialChannels
	}
	if len(plan.Bpftool) > 0 {
		// A failed probe fails the run's parity, which the host judges;
		// the suite runs all the same.
		fmt.Println(probeBpftool(plan.Bpftool, lines.Bpftool))
	}
	var env []string
	if plan.Snapshot {
		if saveInventory() {
			env = append(env, contract.InventoryEnv+"="+InventoryCopy)
		}
		// A pool cut short by an error still serves what it has; the
		// suite creates the rest.
		if err := netnspool.Fill(NetnsPool, NetnsPoolSize); err != nil {
			fmt.Printf("%s %v\n", ErrorMarker, err)
		}
		env = append(env, contract.NetnsPoolEnv+"="+NetnsPool)
		// The host saves the guest now; each restore resumes here with
		// its own payload, whose plan replaces this one.
		fmt.Println(SnapshotMarker)
		took, err := awaitPayload()
		if err != nil {
			return 0, 0, err
		}
		if plan, err = readPlan(); err != nil {
			return 0, 0, err
		}
		fmt.Println(RestoredLine(took, time.Now()))
	}

	cells, err := rawSerial(lines.Cells)
	if err != nil {
		return 0, 0, err
	}
	defer cells.Close()
	// The suite writes its records into a pipe that /init copies to the
	// records port, counting them. The host compares the count with the
	// lines that reached its file: records it could not store (on a full
	// disk qemu drops them) make the run an error, not an empty success.
	r, w, err := os.Pipe()
	if err != nil {
		return 0, 0, fmt.Errorf("record pipe: %w", err)
	}
	var sent int
	relayed := make(chan error, 1)
	go func() {
		var err error
		sent, err = relay(cells, r)
		relayed <- err
	}()

	cmd := exec.Command(SuitePath, plan.Args...)
	cmd.Dir = "/tmp"
	cmd.Env = append(append([]string{"PATH=/bin", "HOME=/tmp", "TMPDIR=/tmp", contract.CellsEnv + "=/proc/self/fd/3"}, env...), plan.Env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{w} // fd 3
	fmt.Printf("%s %s\n", ReadyMarker, uptime())
	start := time.Now()
	err = cmd.Run()
	suite = time.Since(start)
	w.Close()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		return 0, suite, fmt.Errorf("run %s: %w", SuitePath, err)
	}
	// What the suite wrote is in the pipe now; only a process it left
	// behind, holding the pipe open, could keep the relay from its end.
	_ = r.SetReadDeadline(time.Now().Add(10 * time.Second))
	err = <-relayed
	fmt.Println(RecordsLine(sent))
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		fmt.Printf("%s a process the suite started still holds the record pipe open\n", ErrorMarker)
	case err != nil:
		return code, suite, err
	}
	// tcdrain: every record must have left the port before power-off.
	_ = unix.IoctlSetInt(int(cells.Fd()), unix.TCSBRK, 1)
	if code != 0 {
		// The host reads the report only to explain cells a broken spec
		// never wrote; it is large (~0.5 MB), so the suite writes it only
		// when a spec failed, and a clean run sends none.
		copyReport(lines.Ginkgo)
	}
	return code, suite, nil
}

// NetnsPoolSize is how many network namespaces a snapshot's /init makes:
// a full run of the suite took 47 on a 6.18 kernel (the networking specs
// one or two each, the XDP metadata kfunc cells two). Each is ~280 KB of
// the saved state, which every restore loads; past the pool, specs make
// their own.
const NetnsPoolSize = 48

// saveInventory takes the probe points' inventory and saves it at
// InventoryCopy for every run this snapshot's boot resumes into
// (contract.InventoryEnv): the runs see the same kernel with the same
// modules loaded, so the same probe points. Without tracefs there is
// nothing saved: each run's suite then looks for it itself, and what it
// finds is the evidence.
func saveInventory() bool {
	pp, lists := inventory.Take(inventory.FindTracefs(), inventory.Watch)
	if pp.Tracefs == "" {
		return false
	}
	if err := inventory.Save(InventoryCopy, pp, lists); err != nil {
		fmt.Printf("%s %v\n", ErrorMarker, err)
		return false
	}
	return true
}

func readPlan() (Plan, error) {
	var plan Plan
	data, err := os.ReadFile(PlanPath)
	if err != nil {
		return plan, err
	}
	if err := json.Unmarshal(data, &plan); err != nil {
		return plan, fmt.Errorf("%s: %w", PlanPath, err)
	}
	return plan, nil
}

// relay copies the record stream from r to the records port and counts its
// lines. It closes r when it stops: if the port fails, the suite's next
// record fails too, and the suite stops with contract.ExitRecordWrite.
func relay(port io.Writer, r *os.File) (lines int, err error) {
	defer r.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			lines += bytes.Count(buf[:n], []byte{'\n'})
			if _, err := port.Write(buf[:n]); err != nil {
				return lines, fmt.Errorf("copy records to the records port: %w", err)
			}
		}
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
	}
}

// attachConsole makes /dev/console the standard streams: the initramfs has
// no device nodes, so the kernel could not open one for PID 1.
func attachConsole() {
	fd, err := unix.Open("/dev/console", unix.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return
	}
	for _, std := range []int{0, 1, 2} {
		_ = unix.Dup3(fd, std, 0)
	}
	if fd > 2 {
		unix.Close(fd)
	}
}

// loadModule loads one module and says how it went, in the kernel's words.
func loadModule(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	switch err := unix.FinitModule(int(f.Fd()), "", 0); {
	case err == nil:
		return "loaded"
	case errors.Is(err, unix.EEXIST):
		return "already loaded"
	default:
		return fmt.Sprintf("finit_module: %s (%v)", unix.ErrnoName(err.(unix.Errno)), err)
	}
}

// rawSerial opens a serial port with output processing off, so the record
// stream reaches the host byte for byte (no "\n" → "\r\n"). The port stays
// open until power-off so the setting holds for the suite's own open.
func rawSerial(dev string) (*os.File, error) {
	if name, ok := strings.CutPrefix(dev, VirtioPortPrefix); ok {
		// A virtio port is no tty: nothing to set.
		path, err := virtioPort(name)
		if err != nil {
			return nil, err
		}
		return os.OpenFile(path, os.O_WRONLY, 0)
	}
	f, err := os.OpenFile(dev, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s (the host must give qemu a -serial for it): %w", dev, err)
	}
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: TCGETS: %w", dev, err)
	}
	// cfmakeraw(3)
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	if err := unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: TCSETS: %w", dev, err)
	}
	return f, nil
}

// virtioPort finds the device of the virtio serial port called name, by
// the name sysfs gives each port; a port whose driver was just loaded may
// take a moment to appear.
func virtioPort(name string) (string, error) {
	const ports = "/sys/class/virtio-ports"
	// Ports appear when the device's control queue adds them, after the
	// driver loads: seconds on a busy single-threaded TCG host. 30 s is
	// well inside the host's idle limit.
	var readErr error
	for range 300 {
		entries, err := os.ReadDir(ports)
		readErr = err
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(ports, e.Name(), "name")); err == nil && strings.TrimSpace(string(b)) == name {
				return "/dev/" + e.Name(), nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if readErr != nil {
		return "", fmt.Errorf("no virtio serial port named %s: %w (the host must give qemu a virtserialport for it, and the kernel virtio_console)", name, readErr)
	}
	return "", fmt.Errorf("no virtio serial port named %s in %s (the host must give qemu a virtserialport for it, and the kernel virtio_console)", name, ports)
}

// copyReport sends the suite's Ginkgo JSON report to the host over the
// third serial port; without it the host still has every streamed cell.
func copyReport(dev string) {
	src, err := os.Open(GinkgoReport)
	if err != nil {
		return
	}
	defer src.Close()
	if err := send(dev, src); err != nil {
		fmt.Printf("%s copy %s: %v\n", ErrorMarker, GinkgoReport, err)
	}
}

// bpftoolTimeout bounds bpftool's probe, well inside the host's idle limit,
// so that a probe that hangs still leaves the suite its run. It takes a few
// seconds under TCG.
const bpftoolTimeout = 2 * time.Minute

// probeBpftool runs bpftool's feature probe (argv) and sends its JSON
// answer to dev; the line it returns says how that went. bpftool
// is dynamically linked: the host packed its libraries and loader at their
// own paths, so it runs as on the host.
func probeBpftool(argv []string, dev string) string {
	ctx, cancel := context.WithTimeout(context.Background(), bpftoolTimeout)
	defer cancel()
	var answer bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = "/tmp"
	cmd.Env = []string{"PATH=/bin", "HOME=/tmp"}
	cmd.Stdout, cmd.Stderr = &answer, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return BpftoolLine(0, 0, fmt.Errorf("%s: %w", strings.Join(argv, " "), err))
	}
	took, n := time.Since(start), answer.Len()
	if err := send(dev, &answer); err != nil {
		return BpftoolLine(0, 0, err)
	}
	return BpftoolLine(n, took, nil)
}

// send copies r to the serial port dev and waits until the UART has sent
// it all: the guest may power off next.
func send(dev string, r io.Reader) error {
	dst, err := rawSerial(dev)
	if err != nil {
		return err
	}
	defer dst.Close()
	if _, err := io.Copy(dst, r); err != nil {
		return fmt.Errorf("copy to %s: %w", dev, err)
	}
	// tcdrain on a UART; a virtio port is no tty, and a write to it
	// returns once the host has taken the buffer.
	_ = unix.IoctlSetInt(int(dst.Fd()), unix.TCSBRK, 1)
	return nil
}

func uptime() string {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return "uptime=" + f[0] + "s"
}
