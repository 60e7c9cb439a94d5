// Package parity compares a run's cells with Debian's bpftool, run in the
// same kernel and target: `bpftool feature probe kernel -j` answers for every
// program type, map type, helper per program type and a few misc features
// whether the kernel has it, and so do the features suite's cells. The two
// must agree except where bpftool 7.1's probe is known to be wrong, and each
// such case is named here with its reason (docs/facts.md#host-bpftool).
package parity

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Args are bpftool's arguments for the probe, after the binary.
var Args = []string{"feature", "probe", "kernel", "-j"}

// debianPath is where Debian's bpftool package installs it, outside a
// non-root user's PATH.
const debianPath = "/usr/sbin/bpftool"

// Find returns the host's bpftool: the one on PATH, else Debian's.
func Find() (string, error) {
	if path, err := exec.LookPath("bpftool"); err == nil {
		return path, nil
	}
	if _, err := os.Stat(debianPath); err != nil {
		return "", fmt.Errorf("bpftool not found on PATH or at %s: install Debian's bpftool (apt-get install bpftool, or scripts/deps.sh parity), which parity with the cells needs", debianPath)
	}
	return debianPath, nil
}

// Probe is the part of bpftool's JSON answer the cells can be compared with.
type Probe struct {
	// ProgramTypes and MapTypes are keyed have_<name>_prog_type and
	// have_<name>_map_type, where <name> is the catalog's.
	ProgramTypes map[string]bool `json:"program_types"`
	MapTypes     map[string]bool `json:"map_types"`
	// Helpers lists, under <program type>_available_helpers, the helpers
	// bpftool found that type may call.
	Helpers map[string][]string `json:"helpers"`
	Misc    map[string]bool     `json:"misc"`
}

// Parse reads bpftool's answer. One without program or map types is an
// error: nothing could be compared, and bpftool said nothing useful.
func Parse(data []byte) (*Probe, error) {
	var p Probe
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("bpftool's answer is not the JSON of `bpftool %s` (cut short?): %w", strings.Join(Args, " "), err)
	}
	if len(p.ProgramTypes) == 0 || len(p.MapTypes) == 0 {
		return nil, errors.New("bpftool's answer has no program_types or map_types")
	}
	return &p, nil
}

// misc maps bpftool's misc probes to the cells that ask the same question.
// bpftool's others (have_v4_isa_extension before 7.3, say) have no cell.
var misc = map[string]string{
	"have_large_insn_limit":  "misc/large_insn_limit",
	"have_bounded_loops":     "misc/bounded_loops",
	"have_v2_isa_extension":  "misc/isa_v2",
	"have_v3_isa_extension":  "misc/isa_v3",
	"have_v4_isa_extension":  "misc/isa_v4",
	"have_bpf_link_creation": "misc/bpf_link",
}

// probedOnlyWithFull are the helpers bpftool leaves out of its lists unless
// run with "full", because probing them writes to the kernel log: their
// absence says nothing, so their cells are not compared.
var probedOnlyWithFull = map[string]bool{"bpf_trace_printk": true, "bpf_probe_write_user": true, "bpf_trace_vprintk": true}

// Asks says whether bpftool's probe answers for feature: a program or
// map type, a helper it lists without "full", or one of its misc flags. A
// run with no such cell (a label filter left them out) needs no probe,
// which takes 3–8 s of a VM under TCG.
func Asks(feature string) bool {
	if helper, ok := strings.CutPrefix(feature, "helper/"); ok {
		_, name, ok := strings.Cut(helper, "/")
		return ok && !probedOnlyWithFull[name]
	}
	for _, id := range misc {
		if feature == id {
			return true
		}
	}
	return strings.HasPrefix(feature, "prog/") || strings.HasPrefix(feature, "map/")
}

// question is one thing both bpftool and a cell answer.
type question struct {
	feature   string
	available bool
	// said is bpftool's answer in its own terms.
	said string
}

// flag is the question of a feature that bpftool answers with a flag.
func flag(feature, key string, available bool) question {
	if available {
		return question{feature, true, "available (" + key + ")"}
	}
	return question{feature, false, "not available (" + key + ")"}
}

// questions are bpftool's answers that cells of the run can be compared
// with, in feature order. A helper is asked only of the cells the run has:
// bpftool's lists hold hundreds of helpers the catalog does not probe.
func questions(p *Probe, cells map[string]reports.Cell) []question {
	var qs []question
	for key, ok := range p.ProgramTypes {
		name := strings.TrimSuffix(strings.TrimPrefix(key, "have_"), "_prog_type")
		qs = append(qs, flag("prog/"+name, key, ok))
	}
	for key, ok := range p.MapTypes {
		name := strings.TrimSuffix(strings.TrimPrefix(key, "have_"), "_map_type")
		qs = append(qs, flag("map/"+name, key, ok))
	}
	for key, ok := range p.Misc {
		if id, known := misc[key]; known {
			qs = append(qs, flag(id, key, ok))
		}
	}
	for id := range cells {
		progName, helper, ok := strings.Cut(strings.TrimPrefix(id, "helper/"), "/")
		if !ok || !strings.HasPrefix(id, "helper/") || probedOnlyWithFull[helper] {
			continue
		}
		key := progName + "_available_helpers"
		list, probed := p.Helpers[key]
		switch {
		case !probed:
		case slices.Contains(list, helper):
			qs = append(qs, question{id, true, "available (in " + key + ")"})
		default:
			qs = append(qs, question{id, false, "not available (not in " + key + ")"})
		}
	}
	slices.SortFunc(qs, func(a, b question) int { return strings.Compare(a.feature, b.feature) })
	return qs
}

// Compare compares bpftool's answers with the cells of one run. Only
// supported agrees with available and only unsupported with not available:
// a cell that broke (error, failed, crashed, timeout), was skipped or
// blocked says nothing about the kernel, so it agrees with nothing. A
// question the run has no cell for (a label filter left it out) is not
// compared.
func Compare(p *Probe, cells []reports.Cell) reports.Parity {
	byID := make(map[string]reports.Cell, len(cells))
	for _, c := range cells {
		byID[c.Feature] = c
	}
	var res reports.Parity
	for _, q := range questions(p, byID) {
		c, ok := byID[q.feature]
		if !ok {
			continue
		}
		if agrees(q, c) {
			res.Compared++
			res.Agreed++
			continue
		}
		d := reports.ParityDiff{Feature: q.feature, Bpftool: q.said, Cell: describe(c)}
		reason, decided := allowed(q, c, byID)
		switch {
		case !decided:
			d.Reason = reason
			res.Undecided = append(res.Undecided, d)
		case reason != "":
			res.Compared++
			d.Reason = reason
			res.Allowed = append(res.Allowed, d)
		default:
			res.Compared++
			res.Disagreements = append(res.Disagreements, d)
		}
	}
	return res
}

func agrees(q question, c reports.Cell) bool {
	return q.available && c.Status == reports.Supported || !q.available && c.Status == reports.Unsupported
}

// describe is a cell in one line: status, stage, errno, evidence's first
// line.
func describe(c reports.Cell) string {
	s := string(c.Status)
	if c.Stage != "" {
		s += " at " + string(c.Stage)
	}
	if c.Errno != "" {
		s += " (" + c.Errno + ")"
	}
	if ev, _, _ := strings.Cut(strings.TrimSpace(c.Evidence), "\n"); ev != "" {
		s += ": " + ev
	}
	return s
}

// trampolineProbes are the program types bpftool 7.1 (libbpf 1.1) probes
// as trampoline programs on BTF ID 1 (tracing as fentry, lsm as fmod_ret,
// ext as freplace), counting as support only the verifier's refusal of that
// target. A kernel that refuses such a load before the verifier (the host's
// EPERM for trampolines, docs/facts.md#host-ftrace) reads as not available
// although the type loads; each type is proven to work by any one of its
// attach cells being supported.
var trampolineProbes = map[string][]string{
	"prog/tracing": {"attach/tp_btf", "attach/fentry", "attach/fexit", "attach/iter.task"},
	"prog/ext":     {"attach/freplace"},
	"prog/lsm":     {"attach/lsm"},
}

// helperRefusalsBpftoolMisses are the verifier's refusals of a helper
// withheld from a program type (by type, CONFIG option or lockdown): up to
// 7.2 "program of this type cannot use helper", from 7.3 its structured
// "this program type does not allow the helper". libbpf 1.1's helper probe,
// which bpftool 7.1 uses, takes only "invalid func" and "unknown func" for
// refusals, so it lists such a helper as available.
var helperRefusalsBpftoolMisses = []string{"program of this type cannot use helper", "this program type does not allow the helper"}

// allowed says whether a disagreement has a known cause in bpftool's probe,
// and which. decided is false when only a cell the run does not have could
// show that cause.
func allowed(q question, c reports.Cell, cells map[string]reports.Cell) (reason string, decided bool) {
	if proofs, ok := trampolineProbes[q.feature]; ok && !q.available && c.Status == reports.Supported {
		const probe = "bpftool 7.1 counts %s available only when the verifier refuses its probe's target, BTF ID 1, by name, and a kernel that refuses the load earlier reads as not available"
		name := strings.TrimPrefix(q.feature, "prog/")
		ran := false
		for _, id := range proofs {
			p, ok := cells[id]
			ran = ran || ok
			if ok && p.Status == reports.Supported {
				return fmt.Sprintf(probe+"; %s is supported here (%s)", name, id, describe(p)), true
			}
		}
		if !ran {
			return fmt.Sprintf(probe+", and none of %s, which would show the type works, is in this run", name, strings.Join(proofs, ", ")), false
		}
	}
	if strings.HasPrefix(q.feature, "helper/") && q.available && c.Status == reports.Unsupported {
		for _, refusal := range helperRefusalsBpftoolMisses {
			if strings.Contains(c.Evidence, refusal) || strings.Contains(c.VerifierLog, refusal) {
				return "the verifier said \"" + refusal + "\", a refusal libbpf 1.1's helper probe (bpftool 7.1) does not recognise", true
			}
		}
	}
	return "", true
}

// Summary is a run's parity in one line, then one line per disagreement
// with both answers: the detail of a run that parity failed.
func Summary(p *reports.Parity) string {
	switch {
	case p.Skipped != "":
		return "parity with bpftool not checked: " + p.Skipped
	case p.Error != "":
		return "parity with bpftool: " + p.Error
	case p.Compared == 0 && len(p.Undecided) == 0:
		return "parity with bpftool: no cell of the run is one bpftool probes"
	}
	lines := []string{fmt.Sprintf("parity with bpftool: %d disagreements in %d compared cells (%d agreed, %d allowed)",
		len(p.Disagreements), p.Compared, p.Agreed, len(p.Allowed))}
	for _, d := range p.Disagreements {
		lines = append(lines, fmt.Sprintf("%s: bpftool says %s; the cell says %s", d.Feature, d.Bpftool, d.Cell))
	}
	return strings.Join(lines, "\n")
}
