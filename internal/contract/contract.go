// Package contract is what the runner and the suite binary agree on, kept in
// one place: the environment and kernel command line a target hands the
// suite, the kernel filesystems both sides mount, the suite's exit statuses,
// and how a Ginkgo spec names the feature it proves. It imports nothing, so
// the runner, the VM guest's /init and the suites all depend on it and no
// name is ever copied.
package contract

import "strings"

// Environment of the suite binary.
const (
	// CellsEnv names the file (inside a VM, the serial device) the suite
	// appends its record stream to, one JSON line per record.
	CellsEnv = "BPFMATRIX_CELLS"
	// ConfigEnv names a kernel config file to read instead of
	// /proc/config.gz or /boot/config-$(uname -r); a VM guest ships its
	// kernel's config and points here.
	ConfigEnv = "BPFMATRIX_KERNEL_CONFIG"
	// AllowCrashEnv=1 lets the specs labelled CrashLabel act.
	AllowCrashEnv = "BPFMATRIX_ALLOW_CRASH"
	// ObjectsEnv names the directory of the users' objects staged for the
	// run (objects.Plan.Stage); the suite proves one cell per program.
	ObjectsEnv = "BPFMATRIX_OBJECTS"
)

// GuestCmdlineFlag is on the kernel command line of every bpfmatrix VM
// guest. Specs that must only ever run in a throwaway VM (the crash test)
// look for it in /proc/cmdline, which a host's own boot never has.
const GuestCmdlineFlag = "bpfmatrix.guest=1"

// CrashLabel marks the specs that crash the kernel on purpose: the runner
// leaves them out of every plan unless asked for.
const CrashLabel = "crash"

// Exit statuses of the suite binary.
const (
	// ExitSpecsFailed is Go's test failure: some cell was unexpected, and
	// the cells say which. The run itself is sound.
	ExitSpecsFailed = 1
	// ExitFactsChanged: the kernel facts the predictions rest on changed
	// while the suite ran (say, tracefs was unmounted under it), so its
	// verdicts are in doubt; stderr says what changed.
	ExitFactsChanged = 3
	// ExitRecordWrite: the suite could not write a record (sysexits'
	// EX_IOERR). It stops at the first such record: the rest would be lost
	// too, and on a full disk the exit code is the one thing that still
	// reaches the runner.
	ExitRecordWrite = 74
)

// KernelFS are the pseudo filesystems eBPF features need, where the suite
// (and, for containers, the runner on the host) mounts them when missing.
// Magic is statfs(2)'s f_type of a mounted one.
var KernelFS = []struct {
	FSType, Dir string
	Magic       int64
}{
	{"tracefs", "/sys/kernel/tracing", 0x74726163},
	{"securityfs", "/sys/kernel/security", 0x73636673},
	{"bpf", "/sys/fs/bpf", 0xcafe4a11},
}

// Labels are the Ginkgo labels of the spec proving feature id of area: the
// area first, then the kind (the ID's first part), then the ID with "/"
// written as "." (Ginkgo labels cannot hold "/"), so that
// --label-filter=attach.kprobe selects one feature and =tracing an area.
func Labels(area, id string) []string {
	kind, _, _ := strings.Cut(id, "/")
	return []string{area, kind, strings.ReplaceAll(id, "/", ".")}
}

// Feature is the feature ID of a spec from its Ginkgo report: the spec's
// outermost container is named after the ID.
func Feature(containerTexts []string, leafText string) string {
	if len(containerTexts) > 0 {
		return containerTexts[0]
	}
	return leafText
}

// Area is the area of a spec from its Ginkgo labels: the first one.
func Area(labels []string) string {
	if len(labels) > 0 {
		return labels[0]
	}
	return ""
}
