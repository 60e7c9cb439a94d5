// Package matrix runs the suite binary on targets (the host, VMs, containers),
// collects the cells they stream, and assembles the report. It knows how to
// start and watch a target, not what a feature is.
package matrix

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/objects"
)

// Suite is the compiled suite binary and the features its specs will prove,
// so that a target that dies mid-run can still account for every cell.
type Suite struct {
	// Binary is the static test binary built from ./suites.
	Binary string
	// LabelFilter is passed to every run as --ginkgo.label-filter.
	LabelFilter string
	// Seed is passed to every run as --ginkgo.seed, which orders the specs
	// at random: the same seed, the same order. 0 lets Ginkgo pick one.
	Seed int64
	// Shard is "i/n": the suite registers only the i-th of n disjoint
	// parts of its specs (contract.InShard); "" for all of them.
	Shard string
	// Features are the catalog IDs of the specs that will run, in order.
	Features []string
	// Areas maps each feature to its area, for cells the suite never wrote.
	Areas map[string]string
	// Objects is the directory of the users' objects staged for the run,
	// with their plan (objects.Plan.Stage); "" for none. Targets make it
	// reachable from the suite and name it in contract.ObjectsEnv.
	Objects string
	// ObjectFiles are the files of Objects, and ObjectTriggers is set when
	// a program has a trigger command, which needs /bin/sh in the target.
	ObjectFiles    []string
	ObjectTriggers bool

	moduleDir string
	cross     sync.Map // GOARCH → *crossBuild
}

// crossBuild is the suite binary of another architecture, built once.
type crossBuild struct {
	once sync.Once
	bin  string
	err  error
}

// BinaryFor returns the suite binary for GOARCH goarch: Binary for the
// host's, else one cross-built beside it the first time a target asks.
// The same source lists the same specs, so the plan holds for both.
func (s *Suite) BinaryFor(ctx context.Context, goarch string) (string, error) {
	if goarch == "" || goarch == runtime.GOARCH {
		return s.Binary, nil
	}
	v, _ := s.cross.LoadOrStore(goarch, &crossBuild{})
	b := v.(*crossBuild)
	b.once.Do(func() {
		dir := filepath.Dir(s.Binary)
		b.bin = filepath.Join(dir, "suites-"+goarch+".test")
		env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + goarch}
		if err := GoBuild(ctx, s.moduleDir, dir, env, append(suiteBuild, "-o", b.bin, "./suites")...); err != nil {
			b.err = fmt.Errorf("build the %s suite binary: %w", goarch, err)
		}
	})
	return b.bin, b.err
}

// StageObjects stages the objects of p in dir/objects for every target:
// the suite then proves a cell for each of their programs, once Replan
// has listed them.
func (s *Suite) StageObjects(p *objects.Plan, dir string) error {
	staged := filepath.Join(dir, "objects")
	if err := os.RemoveAll(staged); err != nil {
		return err
	}
	if err := p.Stage(staged); err != nil {
		return fmt.Errorf("stage the objects: %w", err)
	}
	s.Objects, s.ObjectFiles = staged, p.Files()
	for _, e := range p.Entries {
		s.ObjectTriggers = s.ObjectTriggers || e.Trigger != ""
	}
	return nil
}

// Replan lists the specs again after Shard or the objects changed.
func (s *Suite) Replan(ctx context.Context, dir string) error { return s.plan(ctx, dir) }

// Env is the suite's environment beside its arguments: its shard, and its
// objects where they are at the path objects in the target ("" for
// s.Objects itself, on the host kernel).
func (s *Suite) Env(objects string) []string {
	var env []string
	if s.Shard != "" {
		env = append(env, contract.ShardEnv+"="+s.Shard)
	}
	if s.Objects != "" {
		if objects == "" {
			objects = s.Objects
		}
		env = append(env, contract.ObjectsEnv+"="+objects)
	}
	return env
}

// suiteBuild builds the suite binary without DWARF (-w): a quarter smaller
// (19.3 → 14.9 MB), which every VM run copies into its payload and its
// guest reads and unpacks under emulation. Panics and CPU profiles name
// functions all the same (they use the binary's own tables, not DWARF).
var suiteBuild = []string{"test", "-c", "-ldflags=-w"}

// BuildSuite compiles ./suites of the module in moduleDir into dir, static,
// so the same binary runs on the host, in a scratch container and as a VM
// guest's payload; then lists the specs it will run by a Ginkgo dry run.
func BuildSuite(ctx context.Context, moduleDir, dir, labelFilter string) (*Suite, error) {
	bin := filepath.Join(dir, "suites.test")
	if err := GoBuild(ctx, moduleDir, dir, []string{"CGO_ENABLED=0"}, append(suiteBuild, "-o", bin, "./suites")...); err != nil {
		return nil, fmt.Errorf("build suite binary: %w", err)
	}
	s := &Suite{Binary: bin, LabelFilter: labelFilter, moduleDir: moduleDir}
	if err := s.plan(ctx, dir); err != nil {
		return nil, err
	}
	return s, nil
}

// GoBuild runs the go command with args in moduleDir, extra env added, for
// a build into dir. The go command and the compilers it starts run in a
// process group of their own, killed whole when ctx ends, and keep their
// temporary files (GOTMPDIR) in a directory under dir that is removed when
// they are gone: an interrupted build leaves no process and no go-build*
// directory behind. When ctx ended, the error is its cause.
func GoBuild(ctx context.Context, moduleDir, dir string, env []string, args ...string) error {
	tmp, err := os.MkdirTemp(dir, "gotmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	cmd.Env = append(append(os.Environ(), env...), "GOTMPDIR="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		if cmd.Process != nil {
			waitGroupGone(cmd.Process.Pid)
		}
		return context.Cause(ctx)
	}
	if err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// waitGroupGone waits, a few seconds at most, until no process of group
// pgid is left: the compilers die of the SIGKILL a moment after the go
// command, and may write into GOTMPDIR until then.
func waitGroupGone(pgid int) {
	for range 500 {
		if syscall.Kill(-pgid, 0) != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Args are the suite binary's arguments for one run; jsonReport names the
// file for Ginkgo's own JSON report, none if "".
func (s *Suite) Args(jsonReport string) []string {
	args := []string{"-test.v", "-ginkgo.no-color"}
	if jsonReport != "" {
		args = append(args, "-ginkgo.json-report="+jsonReport)
	}
	if s.LabelFilter != "" {
		args = append(args, "-ginkgo.label-filter="+s.LabelFilter)
	}
	if s.Seed != 0 {
		args = append(args, fmt.Sprintf("-ginkgo.seed=%d", s.Seed))
	}
	return args
}

// plan dry-runs the suite to learn which features its specs cover.
func (s *Suite) plan(ctx context.Context, dir string) error {
	planFile := filepath.Join(dir, "plan.json")
	args := append(s.Args(planFile), "-ginkgo.dry-run")
	cmd := exec.CommandContext(ctx, s.Binary, args...)
	cmd.Env = append(os.Environ(), s.Env("")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("list specs (dry run): %v\n%s", err, tail(string(out), 20))
	}
	specs, err := readGinkgoReport(planFile)
	if err != nil {
		return err
	}
	s.Features, s.Areas = nil, map[string]string{}
	for _, sr := range specs {
		if sr.State == types.SpecStateSkipped || sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		id := featureOf(sr)
		s.Features = append(s.Features, id)
		s.Areas[id] = areaOf(sr)
	}
	sort.Strings(s.Features)
	return nil
}

// readGinkgoReport returns the spec reports of a --ginkgo.json-report file.
func readGinkgoReport(path string) ([]types.SpecReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var suites []types.Report
	if err := json.Unmarshal(data, &suites); err != nil {
		return nil, fmt.Errorf("ginkgo report %s: %w", path, err)
	}
	var specs []types.SpecReport
	for _, r := range suites {
		specs = append(specs, r.SpecReports...)
	}
	return specs, nil
}

// featureOf is the catalog ID of a spec: harness.Spec names its Describe
// container after it.
func featureOf(sr types.SpecReport) string {
	if len(sr.ContainerHierarchyTexts) > 0 {
		return sr.ContainerHierarchyTexts[0]
	}
	return sr.LeafNodeText
}

// areaOf is a spec's first label: harness.Spec puts the area there.
func areaOf(sr types.SpecReport) string {
	if labels := sr.Labels(); len(labels) > 0 {
		return labels[0]
	}
	return ""
}

// SuiteExit is how a run ended whose suite binary exited with code (not
// killed): every target judges the exit code here. where points at the
// suite's output: its log's last line and path, or a VM's console tail.
func SuiteExit(code int, where string) Outcome {
	switch code {
	case 0, 1:
		// 1: specs failed, which the cells record as unexpected. The run
		// itself worked.
		return Outcome{Status: RunOK}
	case contract.ExitFactsChanged:
		return Outcome{Status: RunError, Detail: fmt.Sprintf("the kernel facts the predictions rest on changed while the suite ran (exit %d); %s", code, where)}
	case contract.ExitRecordWrite:
		return Outcome{Status: RunError, Detail: fmt.Sprintf("the suite could not write a record and stopped (exit %d); %s", code, where)}
	default:
		return Outcome{Status: RunError, Detail: fmt.Sprintf("the suite exited %d; %s", code, where)}
	}
}

// LastLine is the last non-empty line of the file at path, or "" if it
// cannot be read: the line a failing tool's log usually explains itself in.
func LastLine(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return lines[len(lines)-1]
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
