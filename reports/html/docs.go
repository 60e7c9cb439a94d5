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

// runFile matches a file a report says a run left, relative to the page:
// names in the characters the runner writes, after any number of "../"
// (a page rendered in another directory). Nothing else (no ".." inside,
// no scheme) becomes a link.
var runFile = regexp.MustCompile(`^(\.\./)*([A-Za-z0-9][A-Za-z0-9._-]*/)*[A-Za-z0-9][A-Za-z0-9._-]*$`)

// runLogs returns the directory of the run of key, relative to the page
// (written beside report.json, or elsewhere by `report render`, which
// rebases the paths), and the names of the files the run left there
// (Run.Files). A report that names none (an older one, files that are
// not where the page is) links nothing rather than a guess.
func runLogs(r *reports.Report, key reports.RunKey) (dir string, files []string) {
	for _, run := range r.Runs {
		if run.Key() != key {
			continue
		}
		for _, f := range run.Files {
			d, name := path.Split(f)
			d = strings.TrimSuffix(d, "/")
			if !runFile.MatchString(f) || d == "" || (files != nil && d != dir) {
				continue
			}
			dir, files = d, append(files, name)
		}
		return dir, files
	}
	return "", nil
}
