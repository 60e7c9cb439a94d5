package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
	"github.com/bpfmatrix/bpfmatrix/suites/internal/suitebin"
)

// TestSuiteDryRunMatchesCatalog builds the suite binary and lists its specs
// with a Ginkgo dry run, reading the report the way the runner does
// (internal/contract): every catalog row must have exactly one spec and
// every spec a row, of the same area; each spec must be placed in its own
// suite file, not in the harness; and only the faults rows carry the crash
// label, which the default plan leaves out.
func TestSuiteDryRunMatchesCatalog(t *testing.T) {
	bin := suitebin.Build(t)
	rows := catalog.All()
	for _, problem := range compareSpecs(rows, suitebin.DryRun(t, bin)) {
		t.Error(problem)
	}

	plan := suitebin.DryRun(t, bin, "-ginkgo.label-filter=!"+contract.CrashLabel)
	want := 0
	for _, f := range rows {
		if f.Area != catalog.Faults {
			want++
		}
	}
	if len(plan) != want {
		t.Errorf("the default plan (label filter !%s) lists %d specs, want the %d rows outside area %s", contract.CrashLabel, len(plan), want, catalog.Faults)
	}
}

// TestDryRunTouchesNothing: the runner's plan is a dry run in the
// machine's own mount namespace, beside targets that share the host's
// kernel filesystems; it must mount nothing and read no fact, which the
// record stream shows: a run records the kernel's facts first, a dry run
// records nothing.
func TestDryRunTouchesNothing(t *testing.T) {
	bin := suitebin.Build(t)
	cells := filepath.Join(t.TempDir(), "cells.jsonl")
	cmd := suitebin.Command(bin, "-ginkgo.dry-run", "-ginkgo.no-color")
	cmd.Env = append(os.Environ(), contract.CellsEnv+"="+cells)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if data, err := os.ReadFile(cells); err == nil && len(data) > 0 {
		t.Errorf("the dry run recorded %q: it read the kernel's facts (and mounted what they need)", firstLine(string(data)))
	}
}

func firstLine(s string) string { line, _, _ := strings.Cut(s, "\n"); return line }

// compareSpecs returns one line for each disagreement between the catalog
// rows and the specs of a dry run.
func compareSpecs(rows []*catalog.Feature, specs []types.SpecReport) []string {
	byID := map[string]*catalog.Feature{}
	for _, f := range rows {
		byID[f.ID] = f
	}
	var problems []string
	seen := map[string]string{}
	for _, sr := range specs {
		id := contract.Feature(sr.ContainerHierarchyTexts, sr.LeafNodeText)
		loc := sr.LeafNodeLocation
		where := fmt.Sprintf("%s:%d", suitesPath(loc.FileName), loc.LineNumber)
		if dir := filepath.Dir(suitesPath(loc.FileName)); dir == "suites/harness" || strings.HasPrefix(dir, "suites/harness/") || !strings.HasPrefix(dir, "suites/") {
			problems = append(problems, fmt.Sprintf("spec %s is placed at %s, not in its suite's file: a harness function on the way lacks ginkgo.GinkgoHelper", id, where))
		}
		f, ok := byID[id]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: spec %s has no catalog row: add one to suites/catalog/rows/<area>.go", where, id))
			continue
		}
		if first, dup := seen[id]; dup {
			problems = append(problems, fmt.Sprintf("%s: a second spec of %s (the first is at %s)", where, id, first))
		}
		seen[id] = where
		labels := sr.Labels()
		if area := contract.Area(labels); area != string(f.Area) {
			problems = append(problems, fmt.Sprintf("%s: spec %s has area label %q, its row area %q", where, id, area, f.Area))
		}
		if crash := slices.Contains(labels, contract.CrashLabel); crash != (f.Area == catalog.Faults) {
			problems = append(problems, fmt.Sprintf("%s: spec %s of area %s has crash label %v: only area %s crashes", where, id, f.Area, crash, catalog.Faults))
		}
	}
	for _, f := range rows {
		if _, ok := seen[f.ID]; !ok {
			problems = append(problems, fmt.Sprintf("catalog row %s (area %s) has no spec: add a harness.Spec for it to its area's package under suites/", f.ID, f.Area))
		}
	}
	return problems
}

// suitesPath is path from its suites/ directory on ("suites/tracing/kernel.go").
func suitesPath(path string) string {
	if i := strings.LastIndex(path, "/suites/"); i >= 0 {
		return path[i+1:]
	}
	return path
}

func TestCompareSpecs(t *testing.T) {
	rows := []*catalog.Feature{
		{ID: "attach/kprobe", Area: catalog.Tracing},
		{ID: "faults/crash", Area: catalog.Faults},
	}
	spec := func(id, file string, labels ...string) types.SpecReport {
		return types.SpecReport{
			ContainerHierarchyTexts:  []string{id},
			ContainerHierarchyLabels: [][]string{labels},
			LeafNodeType:             types.NodeTypeIt,
			LeafNodeLocation:         types.CodeLocation{FileName: "/src/bpfmatrix/" + file, LineNumber: 7},
		}
	}
	kprobe := spec("attach/kprobe", "suites/tracing/kernel.go", "tracing", "attach", "attach.kprobe")
	crash := spec("faults/crash", "suites/faults/crash.go", "faults", "faults", "faults.crash", "crash")
	for _, tc := range []struct {
		name  string
		specs []types.SpecReport
		want  []string // one substring per problem, in order
	}{
		{"all agree", []types.SpecReport{kprobe, crash}, nil},
		{"row without spec", []types.SpecReport{kprobe}, []string{"catalog row faults/crash (area faults) has no spec"}},
		{"spec without row", []types.SpecReport{kprobe, crash, spec("attach/kprobe.session", "suites/tracing/kernel.go", "uncatalogued")},
			[]string{"suites/tracing/kernel.go:7: spec attach/kprobe.session has no catalog row"}},
		{"placed in the harness", []types.SpecReport{spec("attach/kprobe", "suites/harness/cell.go", "tracing"), crash},
			[]string{"spec attach/kprobe is placed at suites/harness/cell.go:7"}},
		{"placed in a fixture", []types.SpecReport{spec("attach/kprobe", "suites/harness/netns/netns.go", "tracing"), crash},
			[]string{"placed at suites/harness/netns/netns.go:7"}},
		{"two specs", []types.SpecReport{kprobe, kprobe, crash}, []string{"a second spec of attach/kprobe"}},
		{"wrong area", []types.SpecReport{spec("attach/kprobe", "suites/tracing/kernel.go", "networking"), crash},
			[]string{`area label "networking", its row area "tracing"`}},
		{"crash label missing", []types.SpecReport{kprobe, spec("faults/crash", "suites/faults/crash.go", "faults")},
			[]string{"spec faults/crash of area faults has crash label false"}},
	} {
		got := compareSpecs(rows, tc.specs)
		if len(got) != len(tc.want) {
			t.Errorf("%s: compareSpecs = %q, want %d problems", tc.name, got, len(tc.want))
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], tc.want[i]) {
				t.Errorf("%s: problem %d = %q, want it to contain %q", tc.name, i, got[i], tc.want[i])
			}
		}
	}
}
