package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// writeObjectReport writes a report of one cell of the object program
// probe.bpf.o/handle_exec on 6.1 vm.
func writeObjectReport(t *testing.T, dir, name string, status reports.Status, reached reports.ObjectStage, insns int, evidence string) string {
	t.Helper()
	o := &reports.Object{File: "probe.bpf.o", Program: "handle_exec", Section: "tracepoint/sched/sched_process_exec", Type: "TracePoint",
		Asked: reports.ObjectFired, Reached: reached, Claimed: true}
	if insns > 0 {
		o.Verifier = &reports.Verifier{InsnsProcessed: insns}
	}
	rep := reports.Report{Schema: reports.SchemaVersion, Runs: []reports.Run{{
		Kernel: reports.Kernel{Name: "6.1", Release: "6.1.0-56-cloud-amd64"}, Target: "vm", Status: "ok",
		Cells: []reports.Cell{{Feature: reports.ObjectID("probe.bpf.o", "handle_exec"), Area: reports.AreaObjects,
			Status: status, Expected: reports.Supported, Evidence: evidence, Object: o}},
	}}}
	return writeJSON(t, dir, name, rep)
}

// TestReportDiffObjects checks report diff's contract for object programs:
// a lost stage or verifier work beyond --insns-threshold exits 1 with one
// line per regression naming file/program, kernel/target and old → new; a
// bad threshold exits 2 with one line.
func TestReportDiffObjects(t *testing.T) {
	bin := bpfmatrix(t)
	dir := t.TempDir()
	old := writeObjectReport(t, dir, "old.json", reports.Supported, reports.ObjectFired, 12345, "run count rose by 12 after exec /bin/true")
	lost := writeObjectReport(t, dir, "lost.json", reports.Unsupported, "", 0, "load program handle_exec: invalid argument")
	heavier := writeObjectReport(t, dir, "heavier.json", reports.Supported, reports.ObjectFired, 15002, "run count rose by 12 after exec /bin/true")

	const (
		lostLine    = "regression  6.1 vm                 probe.bpf.o/handle_exec          reached fired → none  (load program handle_exec: invalid argument)\n"
		heavierLine = "regression  6.1 vm                 probe.bpf.o/handle_exec          insns 12345 → 15002 (+21.5%, more than 10%)\n"
		badValue    = "for flag -insns-threshold: want a percentage of at least 0, such as 10 or 10%"
	)
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // a substring of stdout
		stderr string // a substring of stderr
	}{
		{[]string{old, old}, 0, "0 regressions, 0 improvements", ""},
		{[]string{old, lost}, 1, lostLine, "1 regression from " + old + " to " + lost},
		{[]string{old, heavier}, 1, heavierLine, "1 regression from"},
		{[]string{old, heavier, "--insns-threshold", "25"}, 0, "0 regressions", ""},
		{[]string{"--insns-threshold=22%", old, heavier}, 0, "0 regressions", ""},
		{[]string{old, heavier, "--insns-threshold", "0"}, 1, "insns 12345 → 15002 (+21.5%, more than 0%)", "1 regression from"},
		{[]string{heavier, old}, 0, "improvement 6.1 vm                 probe.bpf.o/handle_exec          insns 15002 → 12345 (-17.7%)", ""},
		{[]string{old, heavier, "--insns-threshold", "-5"}, 2, "", `invalid value "-5" ` + badValue},
		{[]string{old, heavier, "--insns-threshold", "ten"}, 2, "", `invalid value "ten" ` + badValue},
		{[]string{old, heavier, "--insns-threshold", "NaN"}, 2, "", `invalid value "NaN" ` + badValue},
		{[]string{old, heavier, "--insns-threshold", "Inf%"}, 2, "", `invalid value "Inf%" ` + badValue},
	} {
		args := append([]string{"report", "diff"}, tc.args...)
		stdout, stderr, code := run(t, bin, args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("bpfmatrix %s: exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout with %q, stderr with %q",
				strings.Join(args, " "), code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
		}
		if tc.code == 2 && (strings.Count(strings.TrimSpace(stderr), "\n") != 0 || stdout != "") {
			t.Errorf("bpfmatrix %s: bad input must be one line on stderr, got %q and stdout %q", strings.Join(args, " "), stderr, stdout)
		}
	}
}

// TestReportRenderBaseline checks report render's contract for a CI
// summary: --baseline lists the regressions against it at the top of
// summary.md, --html-url is the link to the HTML report, and a bad
// baseline or URL exits 2 with one line.
func TestReportRenderBaseline(t *testing.T) {
	bin := bpfmatrix(t)
	dir := t.TempDir()
	old := writeReport(t, dir, "old.json", reports.Supported)
	regressed := writeReport(t, dir, "new.json", reports.Unsupported)
	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte("<html>not found</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")

	for _, tc := range []struct {
		args    []string
		code    int
		stderr  string   // a substring of stderr
		summary []string // lines summary.md starts with, in order
	}{
		{[]string{regressed, "--out", out}, 0, "wrote", []string{
			"## ✅ 0 unexpected, no baseline — 1 column × 1 feature",
			"",
			"eBPF compatibility matrix · **[HTML report](index.html)** · generated",
			"",
			"**Unexpected cells:** none.",
			"",
			"**Regressions:** no baseline given (`bpfmatrix report render --baseline OLD.json`).",
		}},
		{[]string{regressed, "--out", out, "--baseline", old, "--html-url", "https://example.org/matrix/"}, 0, "wrote", []string{
			"## ❌ 0 unexpected, 1 regression — 1 column × 1 feature",
			"",
			"eBPF compatibility matrix · **[HTML report](https://example.org/matrix/)** · generated",
			"",
			"**Unexpected cells:** none.",
			"",
			"### Regressions against " + strings.ReplaceAll(old, "_", `\_`) + " (1)",
			"",
			"- **attach/kprobe** on 6.1 vm: ✓ supported → ✗ unsupported",
		}},
		{[]string{old, "--out", out, "--baseline", old}, 0, "wrote", []string{
			"## ✅ 0 unexpected, 0 regressions — 1 column × 1 feature",
		}},
		{[]string{regressed, "--out", out, "--baseline", filepath.Join(dir, "none.json")}, 2, "--baseline: report " + filepath.Join(dir, "none.json") + ": open", nil},
		{[]string{regressed, "--out", out, "--baseline", garbage}, 2, "--baseline: report " + garbage + ": ", nil},
		{[]string{regressed, "--out", out, "--baseline", "https://example.org/report.json"}, 2, "want a file path; download the report first", nil},
		{[]string{regressed, "--out", out, "--html-url", "javascript:alert(1)"}, 2, `--html-url "javascript:alert(1)": scheme javascript: want a relative path`, nil},
		{[]string{regressed, "--out", out, "--html-url", "https:///x"}, 2, "no host", nil},
		{[]string{regressed, "--out", out, "--baseline", old, "--insns-threshold", "x"}, 2, `invalid value "x" for flag -insns-threshold`, nil},
	} {
		os.Remove(filepath.Join(out, "summary.md"))
		args := append([]string{"report", "render"}, tc.args...)
		stdout, stderr, code := run(t, bin, args...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("bpfmatrix %s: exit %d, stderr %q; want exit %d and %q", strings.Join(args, " "), code, stderr, tc.code, tc.stderr)
		}
		if tc.code == 2 && (strings.Count(strings.TrimSpace(stderr), "\n") != 0 || stdout != "") {
			t.Errorf("bpfmatrix %s: bad input must be one line on stderr, got %q and stdout %q", strings.Join(args, " "), stderr, stdout)
		}
		md, err := os.ReadFile(filepath.Join(out, "summary.md"))
		if tc.summary == nil {
			if err == nil {
				t.Errorf("bpfmatrix %s: wrote a summary on bad input", strings.Join(args, " "))
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(md), "\n")
		for i, want := range tc.summary {
			if i >= len(lines) || !strings.HasPrefix(lines[i], want) {
				t.Errorf("bpfmatrix %s: summary.md line %d is %q, want it to start with %q\n%s", strings.Join(args, " "), i+1, lines[min(i, len(lines)-1)], want, md)
				break
			}
		}
	}
}

// TestReportArches checks that the report commands keep the arm64 build of
// a kernel a column of its own: merge keeps both runs without a conflict,
// diff against an amd64 baseline adds the arm64 column, render's summary
// says the difference, and an arch of another naming is bad input.
func TestReportArches(t *testing.T) {
	bin := bpfmatrix(t)
	dir := t.TempDir()
	amd := writeReport(t, dir, "amd64.json", reports.Supported)
	arm := writeJSON(t, dir, "arm64.json", reports.Report{Schema: reports.SchemaVersion, Runs: []reports.Run{{
		Kernel: reports.Kernel{Name: "6.1", Arch: "arm64", Release: "6.1.0-56-cloud-arm64"}, Target: "vm", Status: "ok",
		Cells: []reports.Cell{{Feature: "attach/kprobe", Area: "tracing", Status: reports.Unsupported, Expected: reports.Unsupported,
			Errno: "ENOENT", Reason: "CONFIG_KPROBES is not set", Evidence: "attach kprobe: no such file or directory"}},
	}}})
	stdout, stderr, code := run(t, bin, "report", "merge", amd, arm)
	merged, err := reports.Parse("merged", []byte(stdout))
	if code != 0 || err != nil || len(merged.Runs) != 2 || stderr != "" {
		t.Fatalf("report merge: exit %d, %v, stderr %q; want 2 runs and no conflict:\n%s", code, err, stderr, stdout)
	}
	all := writeJSON(t, dir, "all.json", merged)
	if stdout, _, code := run(t, bin, "report", "diff", amd, all); code != 0 || !strings.Contains(stdout, "added       6.1 arm64 vm           attach/kprobe                    (none) → unsupported  (attach kprobe: no such file or directory)") {
		t.Errorf("report diff amd64 all: exit %d\n%s", code, stdout)
	}
	out := filepath.Join(dir, "out")
	if _, stderr, code := run(t, bin, "report", "render", all, "--out", out); code != 0 {
		t.Fatalf("report render: exit %d: %s", code, stderr)
	}
	md, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil || !strings.Contains(string(md), "**x86/arm64 differences:** 1 feature differs on 1 kernel series built for both: 6.1 (1 of 1).\n") {
		t.Errorf("summary.md (%v):\n%s", err, md)
	}
	bad := writeJSON(t, dir, "bad.json", reports.Report{Schema: reports.SchemaVersion, Runs: []reports.Run{{Kernel: reports.Kernel{Name: "6.1", Arch: "aarch64"}, Target: "vm"}}})
	if stdout, stderr, code := run(t, bin, "report", "check", bad); code != 2 || stdout != "" || strings.Count(strings.TrimSpace(stderr), "\n") != 0 ||
		!strings.Contains(stderr, `report `+bad+`: field runs[0].kernel.arch: "aarch64" is not one of [amd64 arm64]`) {
		t.Errorf("report check of an arch aarch64: exit %d, stdout %q, stderr %q; want exit 2 and one line naming the field", code, stdout, stderr)
	}
}

// TestReportCheckNamesTheUnexpectedCells: the gate's last lines say which
// cells and runs failed it, with what was expected: often all a CI log
// shows of a matrix.
func TestReportCheckNamesTheUnexpectedCells(t *testing.T) {
	bin := bpfmatrix(t)
	rep := reports.Report{Schema: reports.SchemaVersion, Runs: []reports.Run{{
		Kernel: reports.Kernel{Name: "host", Release: "6.18.0"}, Target: "host", Status: "ok",
		Cells: []reports.Cell{{Feature: "struct_ops/tcp_congestion_ops", Area: "networking", Status: reports.Unsupported,
			Errno: "EEXIST", Stage: reports.StageAttach, Expected: reports.Supported, Unexpected: true,
			Evidence: "attach struct_ops: file exists"}},
	}, {
		Kernel: reports.Kernel{Name: "6.1", Arch: "arm64"}, Target: "vm", Status: "crashed", Detail: "kernel panic\nconsole tail",
	}}}
	path := writeJSON(t, t.TempDir(), "report.json", rep)
	_, stderr, code := run(t, bin, "report", "check", path)
	want := []string{
		"host host: unexpected struct_ops/tcp_congestion_ops: unsupported EEXIST at attach, expected supported: attach struct_ops: file exists\n",
		"6.1 arm64 vm: run crashed: kernel panic\n",
		"1 unexpected cells, 1 runs that did not end well\n",
	}
	for _, w := range want {
		if code != 1 || !strings.Contains(stderr, w) {
			t.Errorf("report check: exit %d, stderr %q; want exit 1 and %q", code, stderr, w)
		}
	}
}
