package catalog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Expectation is the catalog's prediction for one cell: a status, why, and,
// for a cell that must not work, where and how it must fail. A prediction
// can be wrong in more ways than its status: an expected unsupported cell
// that fails at another stage, or with another errno, failed for another
// reason than the one predicted, and is unexpected too.
type Expectation struct {
	// Status is Supported, Unsupported, Blocked, Skipped, or Unknown where
	// a fact the prediction needs could not be read.
	Status reports.Status
	// Reason says why, in terms of the kernel's version, config and facts.
	Reason string
	// Stage is where an Unsupported, Blocked or Skipped cell must end.
	Stage reports.Stage
	// Errnos are the errno names it may end with there; any when empty.
	Errnos []string
}

// A Miss is one unmet requirement: why, and how the cell then ends. The
// zero Status is Unsupported, the zero Stage the feature's own (FailStage),
// and no Errnos the errnos of a kernel that lacks the feature (Absent).
type Miss struct {
	Reason string
	Status reports.Status
	Stage  reports.Stage
	Errnos []string
}

// Absent are the errnos a kernel answers with for a program type, map
// type, helper, attach type, link or device kind it does not have: EINVAL
// (an unknown type or flag, "unknown func"), EOPNOTSUPP and the internal
// ENOTSUPP (known but not built or not for this type), E2BIG (a newer
// attribute struct than the kernel knows) and ENOENT (a missing tracefs
// event, PMU or BTF target); ENOTSUP is EOPNOTSUPP's other name. EPERM and EACCES are not among them: those are
// policy, a missing privilege or a rule, never an absence.
var Absent = []string{"EINVAL", "EOPNOTSUPP", "ENOTSUP", "ENOTSUPP", "E2BIG", "ENOENT", ErrNotSupported}

// ErrNotSupported stands for the errno of a refusal that cilium/ebpf
// reported as its ErrNotSupported and kept no errno of: its own feature
// probe found the kernel without it, which the evidence names.
const ErrNotSupported = "ErrNotSupported"

// FailStage is the stage where a kernel that lacks the feature first says
// so: the row's own At, else by kind of feature — a program type, helper or
// misc probe at load (misc probes that create no program set At), a map type
// at create, an attach mechanism at attach, the others when they set up.
func (f *Feature) FailStage() reports.Stage {
	if f.At != "" {
		return f.At
	}
	switch kind, _, _ := strings.Cut(f.ID, "/"); kind {
	case "prog", "helper", "misc":
		return reports.StageLoad
	case "map":
		return reports.StageCreate
	case "attach":
		return reports.StageAttach
	}
	return reports.StageSetup
}

// Expect predicts the feature's cell on k. The environment comes first: a
// requirement it refuses makes the cell Blocked, whatever the kernel has,
// because the kernel is never asked. Then what the kernel lacks makes it
// Unsupported at the earliest stage any miss reaches, with the errnos of
// the misses at that stage. A fact that could not be read makes it Unknown,
// never a refusal.
func (f *Feature) Expect(k *Kernel) Expectation {
	var misses []*Miss
	if before(k, f.Since) {
		misses = append(misses, &Miss{Reason: fmt.Sprintf("needs Linux >= %s (running %s)", f.Since, k.Version.Full())})
	}
	// In a user namespace holding a BPF token, the token decides what the
	// initial namespace's capabilities would.
	privileged := Privileged(f)
	if k.Token.Held() {
		privileged = k.Token.Admits(f)
	}
	for _, need := range append([]Requirement{privileged}, f.Needs...) {
		if m := need.Unmet(k); m != nil {
			misses = append(misses, m)
		}
	}
	for _, m := range misses {
		if m.Status == "" {
			m.Status = reports.Unsupported
		}
		if m.Stage == "" {
			m.Stage = f.FailStage()
		}
		if m.Errnos == nil && m.Status == reports.Unsupported {
			m.Errnos = Absent
		}
	}
	e := Expectation{Status: reports.Supported}
	for _, status := range []reports.Status{reports.Blocked, reports.Skipped, reports.Unsupported, reports.Unknown} {
		if c, ok := combine(misses, status); ok {
			e = c
			break
		}
	}
	if f.Judge != nil {
		return f.Judge(k, e)
	}
	return e
}

// combine is the expectation of the misses of one status, if there are
// any: at the earliest of their stages, with every errno a miss at that
// stage allows, and every reason.
func combine(misses []*Miss, status reports.Status) (Expectation, bool) {
	var of []*Miss
	for _, m := range misses {
		if m.Status == status {
			of = append(of, m)
		}
	}
	if len(of) == 0 {
		return Expectation{}, false
	}
	e := Expectation{Status: status, Stage: of[0].Stage}
	for _, m := range of {
		if slices.Index(reports.Stages, m.Stage) < slices.Index(reports.Stages, e.Stage) {
			e.Stage = m.Stage
		}
	}
	var reasons []string
	for _, m := range of {
		reasons = append(reasons, m.Reason)
		if m.Stage != e.Stage {
			continue
		}
		for _, errno := range m.Errnos {
			if !slices.Contains(e.Errnos, errno) {
				e.Errnos = append(e.Errnos, errno)
			}
		}
	}
	e.Reason = strings.Join(reasons, "; ")
	return e, true
}

// Matches reports whether an observed cell is what e predicted: the same
// status and, for a cell that must fail, the same stage and one of the
// predicted errnos. A blocked cell ends at whichever refused privilege the
// spec reaches first, so its stage is not compared: the environment refused
// either way. An Unknown expectation matches nothing: its cells are shown,
// never counted as expected.
func (e Expectation) Matches(status reports.Status, stage reports.Stage, errno string) bool {
	switch {
	case e.Status == reports.Unknown || status != e.Status:
		return false
	case status == reports.Supported:
		return true
	case stage != e.Stage && status != reports.Blocked:
		return false
	}
	return len(e.Errnos) == 0 || slices.Contains(e.Errnos, errno)
}

// String says the expectation in a line: "unsupported at attach (EINVAL|
// EOPNOTSUPP): CONFIG_FPROBE is not set".
func (e Expectation) String() string {
	s := string(e.Status)
	if e.Stage != "" {
		s += " at " + string(e.Stage)
	}
	if len(e.Errnos) > 0 {
		s += " (" + strings.Join(e.Errnos, "|") + ")"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}
