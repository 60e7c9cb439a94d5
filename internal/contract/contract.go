// Package contract is what the runner and the suite binary agree on, kept in
// one place: the environment and kernel command line a target hands the
// suite, the kernel filesystems both sides mount, the suite's exit statuses,
// and how a Ginkgo spec names the feature it proves. It imports only the
// standard library, so the runner, the VM guest's /init and the suites all
// depend on it and no name is ever copied.
package contract

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

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
	// ShardEnv is "i/n": the suite registers only the specs of shard i of
	// n (InShard), so that n runs of one target, merged, are one run.
	ShardEnv = "BPFMATRIX_SHARD"
	// InventoryEnv names the probe points' inventory (inventory.Save) that a
	// VM guest's /init took before its snapshot was saved, in the boot the
	// run resumes: the suite's probepoints/inventory reads it instead of
	// taking its own, which under TCG cost 0.4–0.6 s of every run (tracefs
	// formats available_filter_functions anew on each read, a symbol
	// lookup per line).
	InventoryEnv = "BPFMATRIX_INVENTORY"
	// NetnsPoolEnv names a directory of network namespaces (netnspool)
	// that a VM guest's /init made before its snapshot was saved: the
	// suite's specs take theirs from it, each one once, while it lasts.
	NetnsPoolEnv = "BPFMATRIX_NETNS_POOL"
	// FailureReportEnv names where the suite writes Ginkgo's JSON report
	// when a spec failed, and only then: a VM guest's, which sends it to
	// the host only to explain cells a broken spec never wrote. Written
	// every run, it cost 0.16 s of each guest's suite under TCG.
	FailureReportEnv = "BPFMATRIX_FAILURE_REPORT"
)

// ParseShard reads "i/n", 1 <= i <= n.
func ParseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, erri := strconv.Atoi(a)
	n, errn := strconv.Atoi(b)
	if !ok || erri != nil || errn != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("shard %q: want i/n with 1 <= i <= n, such as 2/3", s)
	}
	return i, n, nil
}

// InShard reports whether the spec of feature id is in shard (ParseShard's
// form; "" is every spec): the specs are split by a hash of their ID, so a
// shard never depends on which other specs exist or in what order they
// register.
func InShard(shard, id string) bool {
	i, n, err := ParseShard(shard)
	if shard == "" || err != nil {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32()%uint32(n)) == i-1
}

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
