package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// bpfmatrix builds the command once per test binary run.
func bpfmatrix(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bpfmatrix")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// run returns the command's stdout, stderr and exit code.
func run(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return stdout.String(), stderr.String(), exit.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), 0
}

func writeReport(t *testing.T, dir, name string, status reports.Status) string {
	t.Helper()
	rep := reports.Report{Schema: reports.SchemaVersion, Runs: []reports.Run{{
		Kernel: reports.Kernel{Name: "6.1", Release: "6.1.0-56-cloud-amd64"}, Target: "vm", Status: "ok",
		Cells: []reports.Cell{{Feature: "attach/kprobe", Area: "tracing", Status: status, Expected: reports.Supported}},
	}}}
	return writeJSON(t, dir, name, rep)
}

// writeJSON writes v as JSON to dir/name and returns the path.
func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExitCodes checks the CLI's contract with CI: 0 as expected, 1 for a
// regression, 2 with one line for bad input.
func TestExitCodes(t *testing.T) {
	bin := bpfmatrix(t)
	dir := t.TempDir()
	old := writeReport(t, dir, "old.json", reports.Supported)
	regressed := writeReport(t, dir, "new.json", reports.Unsupported)
	malformed := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(malformed, []byte(`{"schema": 1, "runs": [{"target": 7}]}`), 0o644); err != nil {
		t.Fatal(err)
	}

	object, err := os.ReadFile("../../bpf/counters_bpfel.o")
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.bpf.o")
	if err := os.WriteFile(truncated, object[:len(object)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	badManifest := filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(badManifest, []byte(`{"programs": [{"match": "counters_bpfel.o/*", "kernel": ["6.1"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		args []string
		code int
		line string // a substring of the output; bad input must say it in one line on stderr
	}{
		{[]string{"report", "diff", old, old}, 0, ""},
		{[]string{"report", "diff", old, regressed}, 1, "1 regression from"},
		{[]string{"run", "--kernel", "9.99", "--check"}, 2, `unknown kernel "9.99": known kernels are host, 5.10`},
		{[]string{"run", "--kernel", "5.10,6.1,5.10", "--check"}, 2, "vm 5.10 and vm 5.10 are the same target"},
		{[]string{"run", "--kernel", "5.10", "--jobs", "0", "--check"}, 2, "--jobs 0: want at least 1"},
		{[]string{"run", "--kernel", "5.10", "--jobs", "-3", "--check"}, 2, "--jobs -3: want at least 1"},
		{[]string{"run", "--kernel", "5.10", "--jobs", "two", "--check"}, 2, `invalid value "two" for flag -jobs`},
		{[]string{"run", "--kernel", "5.10", "--timeout", "0", "--check"}, 2, "--timeout 0s: want a positive time limit"},
		{[]string{"run", "--kernel", "5.10", "--timeout", "-1s", "--check"}, 2, "--timeout -1s: want a positive time limit"},
		{[]string{"run", "--kernel", "5.10", "--target", "vms", "--check"}, 2, `unknown target "vms"`},
		{[]string{"run", "--kernel", "5.10", "--target", "bpf-token", "--check"}, 2, "bpf-token shares the host's kernel: run it with -kernel host"},
		{[]string{"run", "--kernel", "5.10", "--label-filter", "tracing && (kprobe", "--check"}, 2, `--label-filter "tracing && (kprobe": Mismatched '(' - could not find matching ')'. (at character 12)`},
		{[]string{"run", "--kernel", "5.10", "--label-filter", "tracing ||", "--check"}, 2, "Unexpected EOF."},
		{[]string{"run", "--kernel", "5.10", "--seed", "0", "--check"}, 2, "--seed 0: want a positive number"},
		{[]string{"run", "--kernel", "5.10", "--seed", "-5", "--check"}, 2, "--seed -5: want a positive number"},
		{[]string{"run", "--kernel", "5.10", "--seed", "1e3", "--check"}, 2, `invalid value "1e3" for flag -seed`},
		{[]string{"run", "--kernel", "5.10", "--memory", "100", "--check"}, 2, "--cpus 2 --memory 100: want at least 1 CPU and 256 MiB"},
		{[]string{"run", "--kernel", "5.10", "--object", truncated}, 2, "object " + truncated + ": truncated: its section headers end at byte"},
		{[]string{"run", "--kernel", "5.10", "--object", bin, "--check"}, 2, "not an eBPF object: ELF machine EM_X86_64; want EM_BPF"},
		{[]string{"run", "--kernel", "5.10", "--object", malformed, "--check"}, 2, "bad.json: not an ELF file"},
		{[]string{"run", "--kernel", "5.10", "--object", filepath.Join(dir, "none.o"), "--check"}, 2, "none.o: no such file or directory"},
		{[]string{"run", "--kernel", "5.10", "--object", "../../bpf/counters_bpfel.o", "--manifest", badManifest, "--check"}, 2, `json: unknown field "kernel"; want the JSON of docs/objects.md`},
		{[]string{"run", "--kernel", "5.10", "--object", "../../bpf/counters_bpfel.o", "--stages", "run", "--check"}, 2, `--stages "run": want one of [load attach fired]`},
		{[]string{"run", "--kernel", "5.10", "--trigger", "true", "--check"}, 2, "give at least one --object FILE.o"},
		{[]string{"report", "render", malformed, "--out", dir}, 2, "bad.json"},
		{[]string{"nonsense"}, 2, `unknown command "nonsense"`},
		{[]string{"help"}, 0, "usage: bpfmatrix"},
	} {
		stdout, stderr, code := run(t, bin, tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.line) {
			t.Errorf("bpfmatrix %s: exit %d, output %q; want exit %d and %q", strings.Join(tc.args, " "), code, stdout+stderr, tc.code, tc.line)
		}
		if tc.code == 1 && !strings.Contains(stdout, "attach/kprobe") {
			t.Errorf("bpfmatrix %s: the regression's feature is not on stdout: %q", strings.Join(tc.args, " "), stdout)
		}
		if tc.code == 2 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("bpfmatrix %s: bad input must be one line, got %q", strings.Join(tc.args, " "), stderr)
		}
	}
}

// TestInterruptedNamesTheSignal: an interrupt is a cancellation to the
// targets (a VM's judge takes it for one) and names the signal.
func TestInterruptedNamesTheSignal(t *testing.T) {
	for sig, want := range map[syscall.Signal]string{syscall.SIGINT: "interrupted by SIGINT", syscall.SIGTERM: "interrupted by SIGTERM"} {
		err := fmt.Errorf("boot: %w", interrupted{sig})
		if !errors.Is(err, context.Canceled) || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%v: %q, canceled %v; want %q and a cancellation", sig, err, errors.Is(err, context.Canceled), want)
		}
	}
}
