package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// actionsEnv is a simulated GitHub Actions runner: the files a step writes
// its outputs and job summary to, and its temporary directory.
type actionsEnv struct {
	dir, output, summary string
}

func newActionsEnv(t *testing.T) *actionsEnv {
	t.Helper()
	dir := t.TempDir()
	a := &actionsEnv{dir: dir, output: filepath.Join(dir, "github_output"), summary: filepath.Join(dir, "step_summary")}
	for _, f := range []string{a.output, a.summary} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// step runs script as a workflow step would, with env besides the
// runner's variables; it returns the exit code, the step's outputs and
// the job summary it wrote.
func (a *actionsEnv) step(t *testing.T, script string, env []string, args ...string) (int, map[string]string, string) {
	t.Helper()
	cmd := exec.Command(script, args...)
	cmd.Dir = a.dir
	cmd.Env = append(os.Environ(), append([]string{"GITHUB_OUTPUT=" + a.output, "GITHUB_STEP_SUMMARY=" + a.summary, "RUNNER_TEMP=" + a.dir, "RUNNER_OS=Linux"}, env...)...)
	log, err := cmd.CombinedOutput()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	t.Logf("%s %v: exit %d\n%s", filepath.Base(script), args, code, log)
	outputs := map[string]string{}
	data, _ := os.ReadFile(a.output)
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			outputs[k] = v
		}
	}
	summary, _ := os.ReadFile(a.summary)
	// A later step of the same job starts with fresh files.
	os.WriteFile(a.output, nil, 0o644)
	os.WriteFile(a.summary, nil, 0o644)
	return code, outputs, string(summary)
}

// TestActionOnTheHost runs the action's step (scripts/ci/action.sh) on the
// project's own objects on the host kernel, as a workflow using the action
// would: once clean, once against a baseline in which a program got
// further than it does now. Then the matrix workflow's merge step on the
// clean report.
func TestActionOnTheHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs the suite on the host")
	}
	bin := bpfmatrix(t)
	objects, _ := filepath.Abs("../../objects/testdata")
	action, _ := filepath.Abs("../../scripts/ci/action.sh")
	a := newActionsEnv(t)
	inputs := []string{"BPFMATRIX_BIN=" + bin, "INPUT_KERNELS=host", "INPUT_OBJECTS=" + objects + "/*.bpf.o"}

	code, out, summary := a.step(t, action, inputs)
	if code != 0 || out["verdict"] != "pass" {
		t.Fatalf("clean run: exit %d, verdict %q; want 0 and pass", code, out["verdict"])
	}
	report := out["report"]
	rep, err := reports.Load(report)
	if err != nil {
		t.Fatalf("output report %q: %v", report, err)
	}
	if !strings.Contains(summary, "Objects") || !strings.HasPrefix(out["summary"], a.dir) {
		t.Errorf("clean run: job summary without the Objects view (%d bytes), summary output %q", len(summary), out["summary"])
	}

	// The baseline: the same report, with multi.bpf.o/ksyscall_getpgid (which
	// the host's kernel, without CONFIG_KPROBES, only loads) fired.
	baseline := filepath.Join(t.TempDir(), "baseline.json")
	regressed := false
	for i := range rep.Runs[0].Cells {
		c := &rep.Runs[0].Cells[i]
		if c.Feature == reports.ObjectID("multi.bpf.o", "ksyscall_getpgid") {
			c.Status, c.Object.Reached, regressed = reports.Supported, reports.ObjectFired, true
		}
	}
	if !regressed {
		t.Fatal("no multi.bpf.o/ksyscall_getpgid cell in the host's report")
	}
	data, _ := json.Marshal(rep)
	if err := os.WriteFile(baseline, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, summary = a.step(t, action, append(inputs, "INPUT_BASELINE="+baseline))
	if code == 0 || out["verdict"] != "regression" {
		t.Errorf("against a better baseline: exit %d, verdict %q; want a failure and regression", code, out["verdict"])
	}
	// Markdown escapes the underscores of names.
	if plain := strings.ReplaceAll(summary, `\_`, "_"); !strings.Contains(plain, "1 regression") || !strings.Contains(plain, "multi.bpf.o/ksyscall_getpgid** on host: reached fired → load") {
		t.Errorf("against a better baseline: the job summary does not name the regression:\n%s", head(summary, 30))
	}

	// The matrix workflow's merge step, on one job's report, with no
	// published report to diff against.
	in := filepath.Join(t.TempDir(), "reports-in", "report-host")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	clean, _ := os.ReadFile(report)
	if err := os.WriteFile(filepath.Join(in, "report.json"), clean, 0o644); err != nil {
		t.Fatal(err)
	}
	merge, _ := filepath.Abs("../../scripts/ci/merge.sh")
	site := filepath.Join(a.dir, "site")
	code, out, summary = a.step(t, merge, []string{"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH")}, filepath.Dir(in), site)
	if code != 0 || out["verdict"] != "pass" || out["rendered"] != "true" || summary == "" {
		t.Errorf("merge: exit %d, outputs %v, %d bytes of summary; want 0, rendered, pass", code, out, len(summary))
	}
	for _, f := range []string{"index.html", "summary.md", "report.json"} {
		if _, err := os.Stat(filepath.Join(site, f)); err != nil {
			t.Errorf("merge: the site lacks %s", f)
		}
	}
}

// TestWorkflowStepsOnTheHost runs the matrix workflow's other steps as its
// jobs do: KVM set-up, the plan (the catalog resolved, one line of JSON and
// a cache key), and one job's run of the host target.
func TestWorkflowStepsOnTheHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs the suite on the host")
	}
	a := newActionsEnv(t)
	script := func(name string) string { p, _ := filepath.Abs("../../scripts/ci/" + name); return p }
	if code, _, _ := a.step(t, script("kvm.sh"), nil); code != 0 {
		t.Errorf("kvm.sh: exit %d", code)
	}
	code, out, _ := a.step(t, script("plan.sh"), nil)
	var kernels []listedKernel
	if err := json.Unmarshal([]byte(out["kernels"]), &kernels); code != 0 || err != nil || len(kernels) == 0 {
		t.Fatalf("plan.sh: exit %d, kernels %q (%v); want the catalog as JSON", code, out["kernels"], err)
	}
	for _, k := range kernels {
		if k.Kernel == "" || k.Arch == "" || k.Package == "" || k.Version == "" {
			t.Errorf("plan.sh: kernel %+v lacks what a job and its cache key need", k)
		}
	}
	if !strings.HasPrefix(out["cache-key"], "bpfmatrix-kernels-Linux-") {
		t.Errorf("plan.sh: cache key %q", out["cache-key"])
	}
	if code, _, _ := a.step(t, script("run.sh"), nil, "host", "host", "report-host"); code != 0 {
		t.Errorf("run.sh host host: exit %d; want 0", code)
	}
	if _, err := reports.Load(filepath.Join(a.dir, "report-host", "report.json")); err != nil {
		t.Errorf("run.sh host host left no report: %v", err)
	}
}

// TestWorkflowsRunOnlyScripts keeps the workflows' and the action's logic in
// scripts/ci, where TestActionOnTheHost runs it: every script a step names
// exists and is executable, and every input of the action reaches its
// step's environment.
func TestWorkflowsRunOnlyScripts(t *testing.T) {
	files, _ := filepath.Glob("../../.github/workflows/*.yml")
	files = append(files, "../../action.yml")
	script := regexp.MustCompile(`scripts/ci/[a-z-]+\.sh`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range script.FindAllString(string(data), -1) {
			if st, err := os.Stat("../../" + s); err != nil || st.Mode()&0o111 == 0 {
				t.Errorf("%s runs %s, which is missing or not executable", f, s)
			}
		}
	}
	action, _ := os.ReadFile("../../action.yml")
	_, block, _ := strings.Cut(string(action), "\ninputs:\n")
	block, _, _ = strings.Cut(block, "\noutputs:\n")
	inputs := regexp.MustCompile(`(?m)^  ([a-z-]+):$`).FindAllStringSubmatch(block, -1)
	if len(inputs) < 5 {
		t.Fatalf("found %d inputs in action.yml", len(inputs))
	}
	for _, in := range inputs {
		if !strings.Contains(string(action), "${{ inputs."+in[1]+" }}") {
			t.Errorf("action.yml: input %s reaches no step", in[1])
		}
	}
}

func head(s string, lines int) string {
	parts := strings.SplitN(s, "\n", lines+1)
	if len(parts) > lines {
		parts = parts[:lines]
	}
	return strings.Join(parts, "\n")
}
