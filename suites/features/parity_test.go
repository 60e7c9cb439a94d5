package features

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/internal/suitebin"
)

// bpftoolPath is where Debian's bpftool package installs it.
const bpftoolPath = "/usr/sbin/bpftool"

// parityFilter selects the cells the parity test compares, plus the attach
// cells that may prove a program type works where bpftool's probe says it
// does not.
const parityFilter = "prog || map || helper || misc || attach.tp_btf || attach.fentry || attach.fexit || attach.iter.task || attach.lsm || attach.freplace"

// proofs are the attach cells any one of which, supported, proves a program
// type works: bpftool probes tracing, ext and lsm without a BTF target, so
// the kernel refuses its probe program even where the type works.
var proofs = map[string][]string{
	"tracing": {"attach/tp_btf", "attach/fentry", "attach/fexit", "attach/iter.task"},
	"ext":     {"attach/freplace"},
	"lsm":     {"attach/lsm"},
}

// bpftoolMisc maps bpftool's misc probes to the cells that answer the same
// question.
var bpftoolMisc = map[string]string{
	"have_large_insn_limit":  "misc/large_insn_limit",
	"have_bounded_loops":     "misc/bounded_loops",
	"have_v2_isa_extension":  "misc/isa_v2",
	"have_v3_isa_extension":  "misc/isa_v3",
	"have_v4_isa_extension":  "misc/isa_v4",
	"have_bpf_link_creation": "misc/bpf_link",
}

// bpftoolSkipsHelpers are helpers `bpftool feature probe` leaves out of its
// list unless run with "full", because probing them writes to dmesg.
var bpftoolSkipsHelpers = map[string]bool{"bpf_trace_printk": true, "bpf_probe_write_user": true, "bpf_trace_vprintk": true}

// helperRefusalBpftoolMisses is the verifier's refusal of a helper withheld
// from a program type (by type, CONFIG option or lockdown). libbpf 1.1's
// helper probe, which bpftool 7.1 uses, treats only "invalid func" and
// "unknown func" as refusals, so it lists such helpers as available.
const helperRefusalBpftoolMisses = "program of this type cannot use helper"

type bpftoolProbe struct {
	ProgramTypes map[string]bool     `json:"program_types"`
	MapTypes     map[string]bool     `json:"map_types"`
	Helpers      map[string][]string `json:"helpers"`
	Misc         map[string]bool     `json:"misc"`
}

// TestBpftoolParityNeedsRoot compares every program type, map type, helper
// and misc probe that both `bpftool feature probe kernel` and the features
// suite answer on the running kernel. It needs root and bpftool, and runs
// the real suite binary.
func TestBpftoolParityNeedsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: bpftool feature probe and the suite's bpf(2) calls need CAP_SYS_ADMIN")
	}
	if testing.Short() {
		t.Skip("builds and runs the suite binary; not in -short mode")
	}
	start := time.Now()
	probe := runBpftool(t)
	tBpftool := time.Since(start)

	start = time.Now()
	bin := suitebin.Build(t)
	tBuild := time.Since(start)

	start = time.Now()
	cells := runSuite(t, bin)
	tSuite := time.Since(start)
	t.Logf("timing: bpftool probe %v, suite build %v, suite run %v (%d cells)",
		tBpftool.Round(time.Millisecond), tBuild.Round(time.Millisecond), tSuite.Round(time.Millisecond), len(cells))

	byID := map[string]reports.Cell{}
	for _, c := range cells {
		byID[c.Feature] = c
	}
	compared := 0
	compare := func(what, id string, bpftoolSays bool, allowed func(c reports.Cell) string) {
		c, ok := byID[id]
		if !ok {
			t.Errorf("%s: bpftool probes it (available=%v), but the suite wrote no cell %s", what, bpftoolSays, id)
			return
		}
		compared++
		ours := c.Status == reports.Supported
		if ours == bpftoolSays {
			return
		}
		if why := allowed(c); why != "" {
			t.Logf("allowed disagreement on %s: bpftool says available=%v, bpfmatrix says %s; %s", id, bpftoolSays, c.Status, why)
			return
		}
		t.Errorf("%s disagrees: bpftool says available=%v; bpfmatrix says %s (%s)", id, bpftoolSays, c.Status, c.Evidence)
	}

	for _, key := range slices.Sorted(maps.Keys(probe.ProgramTypes)) {
		name := strings.TrimSuffix(strings.TrimPrefix(key, "have_"), "_prog_type")
		compare("program type "+name, "prog/"+name, probe.ProgramTypes[key], func(c reports.Cell) string {
			if probe.ProgramTypes[key] || c.Status != reports.Supported {
				return ""
			}
			for _, proof := range proofs[name] {
				if p, ok := byID[proof]; ok && p.Status == reports.Supported {
					return fmt.Sprintf("bpftool probes %s without a BTF target, and %s is supported here (%s)", name, proof, p.Evidence)
				}
			}
			return ""
		})
	}
	for _, key := range slices.Sorted(maps.Keys(probe.MapTypes)) {
		name := strings.TrimSuffix(strings.TrimPrefix(key, "have_"), "_map_type")
		compare("map type "+name, "map/"+name, probe.MapTypes[key], func(reports.Cell) string { return "" })
	}
	for _, key := range slices.Sorted(maps.Keys(probe.Misc)) {
		if id, ok := bpftoolMisc[key]; ok {
			compare("misc probe "+key, id, probe.Misc[key], func(reports.Cell) string { return "" })
		} else {
			t.Logf("bpftool's misc probe %s has no counterpart in the suite", key)
		}
	}
	// Helpers the other way round: for each helper cell, whether bpftool
	// lists the helper for that program type.
	for _, c := range cells {
		progName, helper, ok := strings.Cut(strings.TrimPrefix(c.Feature, "helper/"), "/")
		if !ok || !strings.HasPrefix(c.Feature, "helper/") {
			continue
		}
		list, probed := probe.Helpers[progName+"_available_helpers"]
		if !probed || bpftoolSkipsHelpers[helper] {
			t.Logf("%s: bpftool does not probe it", c.Feature)
			continue
		}
		bpftoolSays := false
		for _, h := range list {
			bpftoolSays = bpftoolSays || h == helper
		}
		compare("helper "+helper+" for "+progName, c.Feature, bpftoolSays, func(c reports.Cell) string {
			if bpftoolSays && c.Status == reports.Unsupported && strings.Contains(c.Evidence, helperRefusalBpftoolMisses) {
				return "the verifier said \"" + helperRefusalBpftoolMisses + "\", a refusal libbpf 1.1's probe does not recognise"
			}
			return ""
		})
	}
	t.Logf("compared %d cells with bpftool", compared)
	if compared < 60 {
		t.Errorf("compared only %d cells; expected every program and map type bpftool probes", compared)
	}
}

func runBpftool(t *testing.T) bpftoolProbe {
	t.Helper()
	bpftool := bpftoolPath
	if _, err := os.Stat(bpftool); errors.Is(err, os.ErrNotExist) {
		out, err := exec.Command("apt-get", "install", "-y", "bpftool").CombinedOutput()
		if err != nil {
			t.Skipf("needs %s (Debian package bpftool); `apt-get install -y bpftool` failed: %v\n%s", bpftool, err, tail(out, 5))
		}
	}
	out, err := exec.Command(bpftool, "feature", "probe", "kernel", "-j").Output()
	if err != nil {
		t.Fatalf("%s feature probe kernel -j: %v", bpftool, err)
	}
	var probe bpftoolProbe
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatalf("%s feature probe kernel -j: output is not the expected JSON: %v", bpftool, err)
	}
	if len(probe.ProgramTypes) == 0 || len(probe.MapTypes) == 0 {
		t.Fatalf("%s feature probe kernel -j: no program_types or map_types in its output", bpftool)
	}
	return probe
}

// runSuite runs the suite binary on this kernel and reads the cells it
// streamed. Unexpected cells make the binary exit non-zero; that is the
// suite's own verdict, not parity's, so only a run without cells fails here.
func runSuite(t *testing.T, bin string) []reports.Cell {
	t.Helper()
	stream := filepath.Join(t.TempDir(), "cells.jsonl")
	cmd := suitebin.Command(bin, "-ginkgo.no-color", "-ginkgo.label-filter="+parityFilter)
	cmd.Env = append(os.Environ(), contract.CellsEnv+"="+stream)
	out, runErr := cmd.CombinedOutput()
	f, err := os.Open(stream)
	if err != nil {
		t.Fatalf("suite run wrote no records (%v): %v\n%s", runErr, err, tail(out, 20))
	}
	defer f.Close()
	_, cells, err := reports.ReadRecords(stream, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) == 0 {
		t.Fatalf("suite run wrote no cells (%v)\n%s", runErr, tail(out, 20))
	}
	if runErr != nil {
		t.Logf("suite binary: %v (unexpected cells are the suite's verdict, reported by bpfmatrix run)", runErr)
	}
	return cells
}

func tail(out []byte, lines int) string {
	parts := bytes.Split(bytes.TrimRight(out, "\n"), []byte("\n"))
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return string(bytes.Join(parts, []byte("\n")))
}
