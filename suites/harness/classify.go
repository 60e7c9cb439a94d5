package harness

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
)

// ENOTSUPP is the kernel-internal errno 524 that leaks out of bpf(2); it has
// no name in the C library, so unix.ErrnoName does not know it.
const ENOTSUPP = unix.Errno(524)

// Verdict is what an error from the kernel means for a cell.
type Verdict struct {
	Status reports.Status
	// Errno is the errno name, such as "EPERM", or "" when there was none.
	Errno string
	// Evidence is the error in the kernel's (and cilium/ebpf's) own words.
	Evidence string
	// VerifierLog is the tail of the verifier's log when it refused a load.
	VerifierLog string
}

// memlockHint is what cilium/ebpf appends to every EPERM. It misleads: since
// 5.11 BPF memory is charged to the memory cgroup, not RLIMIT_MEMLOCK, and
// the suite runs with RLIMIT_MEMLOCK raised on older kernels anyway.
const memlockHint = " (MEMLOCK may be too low, consider rlimit.RemoveMemlock)"

// Classify turns an error from loading, creating or attaching into a
// verdict. The kernel refusing (any errno, ErrNotSupported) is unsupported;
// anything else means the harness broke.
func Classify(err error) Verdict {
	if err == nil {
		return Verdict{Status: reports.Supported}
	}
	v := Verdict{Status: reports.Error, Evidence: strings.Replace(err.Error(), memlockHint, "", 1)}

	var verr *ebpf.VerifierError
	if errors.As(err, &verr) {
		v.Evidence = verifierEvidence(verr)
		v.VerifierLog = verifierTail(verr, 20)
	}

	var errno unix.Errno
	switch {
	case errors.As(err, &errno):
		v.Status = reports.Unsupported
		v.Errno = ErrnoName(errno)
		if errno == unix.EPERM {
			// Say which layer refused: seccomp's EPERM looks like the kernel's.
			v.Evidence += " " + Running().Layer()
		}
	case errors.Is(err, ebpf.ErrNotSupported):
		// cilium/ebpf's own probe said the kernel lacks it, and kept no
		// errno: the evidence says which probe.
		v.Status = reports.Unsupported
		v.Errno = catalog.ErrNotSupported
	case errors.Is(err, os.ErrNotExist):
		// A missing tracefs event or PMU: the kernel lacks the mechanism.
		v.Status = reports.Unsupported
		v.Errno = "ENOENT"
	case errors.Is(err, os.ErrPermission):
		v.Status = reports.Unsupported
		v.Errno = "EPERM"
	}
	return v
}

// ErrnoName returns the symbolic name of e ("EPERM"), including the
// kernel-internal ones bpf(2) can return.
func ErrnoName(e unix.Errno) string {
	if e == ENOTSUPP {
		return "ENOTSUPP"
	}
	if name := unix.ErrnoName(e); name != "" {
		return name
	}
	return fmt.Sprintf("errno %d", int(e))
}

// verifierTail returns the last n lines of the verifier's log.
func verifierTail(verr *ebpf.VerifierError, n int) string {
	log := verr.Log
	if len(log) > n {
		log = log[len(log)-n:]
	}
	return strings.Join(log, "\n")
}

// verifierEvidence keeps the error line and the last lines of the verifier
// log before its advice: that is where the verifier says why it refused.
// Since 7.3 a "Suggestion:" block follows the reason (measured on 7.3-rc);
// an empty log (a refusal before the verifier ran) adds nothing.
func verifierEvidence(verr *ebpf.VerifierError) string {
	const tail = 4
	var log []string
	for i, line := range verr.Log {
		if strings.HasPrefix(line, "Suggestion") {
			break
		}
		// 7.3's structured log states the cause under "Reason:", ahead
		// of the instruction context: that line is the evidence.
		if strings.TrimSpace(line) == "Reason:" && i+1 < len(verr.Log) {
			log = []string{strings.TrimSpace(verr.Log[i+1])}
			break
		}
		if strings.TrimSpace(line) != "" {
			log = append(log, line)
		}
	}
	if len(log) > tail {
		log = log[len(log)-tail:]
	}
	head, _, _ := strings.Cut(verr.Error(), ":")
	evidence := head + ": " + verr.Cause.Error()
	if len(log) > 0 {
		evidence += "; verifier log: " + strings.Join(log, " | ")
	}
	return evidence
}
