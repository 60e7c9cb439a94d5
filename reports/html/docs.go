package html

import (
	"path"
	"regexp"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Upstream documentation a feature's view links to: whole pages whose
// names were checked against docs.kernel.org and man7.org, never anchors
// inside them that could not be.
const (
	docHelpers  = "https://man7.org/linux/man-pages/man7/bpf-helpers.7.html"
	docMaps     = "https://docs.kernel.org/bpf/maps.html"
	docProgs    = "https://docs.kernel.org/bpf/libbpf/program_types.html"
	docLSM      = "https://docs.kernel.org/bpf/prog_lsm.html"
	docISA      = "https://docs.kernel.org/bpf/standardization/instruction-set.html"
	docVerifier = "https://docs.kernel.org/bpf/verifier.html"
)

// docURL is the upstream page that documents feature, by its catalog ID's
// kind ("helper/…", "map/…", "prog/…", "attach/…", "misc/…"); "" for the
// harness's own rows (probepoints, suite).
func docURL(feature string) string {
	kind, rest, _ := strings.Cut(feature, "/")
	switch {
	case kind == "helper":
		return docHelpers
	case kind == "map":
		return docMaps
	case rest == "lsm" && (kind == "prog" || kind == "attach"):
		return docLSM
	case kind == "misc" && strings.HasPrefix(rest, "isa_"):
		return docISA
	case kind == "misc" && (rest == "bounded_loops" || rest == "large_insn_limit"):
		return docVerifier
	case kind == "prog" || kind == "attach" || kind == "misc":
		return docProgs
	}
	return ""
}

// runDir matches the one place a report says where a run's files are: its
// probe points lists, "runs/<run>/probepoints.json" beside report.json,
// in the characters the runner names run directories with.
var runDir = regexp.MustCompile(`^runs/[A-Za-z0-9][A-Za-z0-9._-]*/probepoints\.json$`)

// runLogs returns the directory of the runs of key, relative to the page
// (written beside report.json), and the files there a reader may open. A
// report names a run's directory only through its probe points lists
// file; where it does, the runner also wrote run.json there once the run
// ended, and a VM's serial console went to console.log from its boot on.
// A report that names no such file (an older one, a filtered run without
// the probepoints suite, a merge from elsewhere) links nothing rather
// than a guess.
func runLogs(r *reports.Report, key reports.RunKey) (dir string, files []string) {
	for _, run := range r.Runs {
		if run.Key() != key || run.ProbePoints == nil || !runDir.MatchString(run.ProbePoints.ListsFile) {
			continue
		}
		d, lists := path.Split(run.ProbePoints.ListsFile)
		if run.Target == "vm" {
			files = append(files, "console.log")
		}
		return strings.TrimSuffix(d, "/"), append(files, "run.json", lists)
	}
	return "", nil
}
