// Package guest is the VM guest's side of a run: the plan the host writes
// into the initramfs, the markers the guest prints on the console, and Main,
// the body of the guest's /init (see ./init). The host side (matrix/vm)
// imports it for the plan and the markers; only ./init runs it.
package guest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Paths inside the guest, shared by the initramfs builder and /init.
const (
	// PlanPath is the JSON-encoded Plan.
	PlanPath = "/etc/bpfmatrix/plan.json"
	// ModuleDir holds the uncompressed modules as <name>.ko.
	ModuleDir = "/lib/modules/bpfmatrix"
	// SuitePath is the suite binary.
	SuitePath = "/bin/suites.test"
	// ObjectsDir holds the users' staged objects and their plan.
	ObjectsDir = "/objects"
	// ShellPath is the host's /bin/sh, packed with its libraries when a
	// user's trigger command needs it.
	ShellPath = "/bin/sh"
	// GinkgoReport is where the suite writes its Ginkgo JSON report when
	// a spec failed (contract.FailureReportEnv).
	GinkgoReport = "/tmp/ginkgo.json"
	// InventoryCopy is where a snapshot's /init saves the probe points'
	// inventory (contract.InventoryEnv).
	InventoryCopy = "/run/bpfmatrix/probepoints.json"
	// NetnsPool is where a snapshot's /init makes NetnsPoolSize network
	// namespaces for the suite (contract.NetnsPoolEnv).
	NetnsPool = "/run/bpfmatrix/netns"
)

// Channels are the guest's devices of its three lines to the host besides
// the console: the suite's record stream, which /init relays unchanged; the
// suite's Ginkgo JSON report, copied after the run for the failures of
// specs that broke; bpftool's feature probe of the guest's kernel, its JSON
// answer as written, before the suite.
type Channels struct {
	Cells, Ginkgo, Bpftool string
}

// SerialChannels are a guest's second to fourth UARTs, for a machine
// without virtio serial ports (no lane of bpfmatrix's since amd64 moved to
// ports: arch.Arch.VirtioPorts). VirtioChannels are three virtio serial
// ports the host names PortName(1..3) and points at files; /init finds
// each one's device by its name (VirtioPortPrefix).
var (
	SerialChannels = Channels{Cells: "/dev/ttyS1", Ginkgo: "/dev/ttyS2", Bpftool: "/dev/ttyS3"}
	VirtioChannels = Channels{Cells: VirtioPortPrefix + PortName(1), Ginkgo: VirtioPortPrefix + PortName(2), Bpftool: VirtioPortPrefix + PortName(3)}
)

// VirtioPortPrefix marks a channel that is the virtio serial port of the
// name that follows, whose /dev/vportNpM the guest looks up in sysfs (it
// has no udev to make /dev/virtio-ports/<name> links).
const VirtioPortPrefix = "virtio-port:"

// PortName is the name of the guest's i-th line after the console.
func PortName(i int) string { return fmt.Sprintf("bpfmatrix.%d", i) }

// Plan is what /init does after mounting the kernel filesystems.
type Plan struct {
	// Channels are the lines to the host; the zero value is SerialChannels.
	Channels Channels `json:"channels,omitzero"`
	// Modules are loaded in order from ModuleDir; dependencies come first.
	Modules []string `json:"modules,omitempty"`
	// Args and Env are the suite binary's arguments and extra environment.
	// No suite (Args nil and NoSuite set) means power off at once: the
	// bench's bare boot.
	Args    []string `json:"args,omitempty"`
	Env     []string `json:"env,omitempty"`
	NoSuite bool     `json:"no_suite,omitempty"`
	// Bpftool is the command line of bpftool's feature probe, run before
	// the suite with its answer sent to BpftoolDevice; none if empty.
	Bpftool []string `json:"bpftool,omitempty"`
	// Snapshot makes the guest a snapshot's: after the modules and
	// bpftool's probe it prints SnapshotMarker and waits for its payload,
	// which brings the run's own plan (payload.go).
	Snapshot bool `json:"snapshot,omitempty"`
}

// Console markers: whole lines /init prints on ttyS0 so the host can tell a
// clean end from a crash without any driver in the guest.
const (
	// ExitMarker precedes the suite's exit status: "BPFMATRIX-EXIT 0".
	ExitMarker = "BPFMATRIX-EXIT"
	// ErrorMarker precedes a failure of /init itself.
	ErrorMarker = "BPFMATRIX-INIT-ERROR"
	// ModuleMarker precedes one module's load result.
	ModuleMarker = "BPFMATRIX-MODULE"
	// InitMarker says /init has mounted everything, with the guest's uptime.
	InitMarker = "BPFMATRIX-INIT"
	// ReadyMarker says the suite is about to start, with the guest's uptime.
	ReadyMarker = "BPFMATRIX-READY"
	// RecordsMarker precedes how many records /init passed from the suite
	// to the records port: "BPFMATRIX-RECORDS 184". The host compares it
	// with the lines that reached its file.
	RecordsMarker = "BPFMATRIX-RECORDS"
	// BpftoolMarker says how bpftool's probe went: "BPFMATRIX-BPFTOOL ok
	// 121630 bytes in 2.1s", or "BPFMATRIX-BPFTOOL failed: " and why.
	BpftoolMarker = "BPFMATRIX-BPFTOOL"
	// SnapshotMarker says a snapshot's guest is ready to be saved: it
	// waits for its payload (payload.go).
	SnapshotMarker = "BPFMATRIX-SNAPSHOT"
	// RestoredMarker says a restored guest has its payload (RestoredLine).
	RestoredMarker = "BPFMATRIX-RESTORED"
)

// BpftoolLine is the line /init prints after bpftool's probe, which sent n
// bytes after running for took, or failed with err.
func BpftoolLine(n int, took time.Duration, err error) string {
	if err != nil {
		return fmt.Sprintf("%s failed: %v", BpftoolMarker, err)
	}
	return fmt.Sprintf("%s ok %d bytes in %.1fs", BpftoolMarker, n, took.Seconds())
}

// ParseBpftoolFailure returns why bpftool's probe failed if line says it
// did.
func ParseBpftoolFailure(line string) (string, bool) {
	i := strings.Index(line, BpftoolMarker+" failed: ")
	if i < 0 {
		return "", false
	}
	return strings.TrimSpace(line[i+len(BpftoolMarker+" failed: "):]), true
}

// ParseBpftoolTime returns how long bpftool's probe took if line says it
// succeeded (BpftoolLine), for the bench.
func ParseBpftoolTime(line string) (time.Duration, bool) {
	i := strings.Index(line, BpftoolMarker+" ok ")
	if i < 0 {
		return 0, false
	}
	_, took, ok := strings.Cut(line[i:], " bytes in ")
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(strings.TrimSpace(took))
	return d, err == nil
}

// RestoredLine is the line a restored guest prints once it has its payload,
// which took to read and unpack, and set its clock to the host's: now.
func RestoredLine(took time.Duration, now time.Time) string {
	return fmt.Sprintf("%s in %s, clock %s", RestoredMarker, took.Round(time.Millisecond), now.UTC().Format(time.RFC3339))
}

// ParseRestoredClock returns the clock of a restored guest's line.
func ParseRestoredClock(line string) (time.Time, bool) {
	i := strings.Index(line, RestoredMarker+" ")
	if i < 0 {
		return time.Time{}, false
	}
	_, clock, ok := strings.Cut(line[i:], ", clock ")
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(clock))
	return t, err == nil
}

// RecordsLine is the line /init prints after the suite's last record.
func RecordsLine(n int) string { return fmt.Sprintf("%s %d", RecordsMarker, n) }

// ParseRecords returns the count of a records marker line.
func ParseRecords(line string) (n int, ok bool) { return parseMarker(line, RecordsMarker) }

// ExitLine is the line /init prints when the suite ended with code after
// running for suite (measured in the guest, for the bench).
func ExitLine(code int, suite time.Duration) string {
	return fmt.Sprintf("%s %d suite=%.3fs", ExitMarker, code, suite.Seconds())
}

// ParseSuiteTime returns the suite's run time from an exit marker line.
func ParseSuiteTime(line string) (time.Duration, bool) {
	i := strings.Index(line, ExitMarker+" ")
	if i < 0 {
		return 0, false
	}
	for _, f := range strings.Fields(line[i:]) {
		if v, ok := strings.CutPrefix(f, "suite="); ok {
			d, err := time.ParseDuration(v)
			return d, err == nil
		}
	}
	return 0, false
}

// ParseExit returns the suite's exit code if line is an exit marker line.
func ParseExit(line string) (code int, ok bool) { return parseMarker(line, ExitMarker) }

// parseMarker returns the number after marker in line. Console lines may
// carry a carriage return and kernel messages may be interleaved before the
// marker, so the marker is searched, not anchored.
func parseMarker(line, marker string) (int, bool) {
	i := strings.Index(line, marker+" ")
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(line[i+len(marker):])
	if len(f) == 0 {
		return 0, false
	}
	n, err := strconv.Atoi(f[0])
	return n, err == nil
}
