package markdown_test

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
	"github.com/bpfmatrix/bpfmatrix/reports/markdown"
)

func summary(t *testing.T, rep *reports.Report, opt markdown.Options) string {
	t.Helper()
	var buf bytes.Buffer
	if err := markdown.Write(&buf, rep, opt); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// hostEnvironments is a real report: `bpfmatrix run --kernel host --target
// host,containers,bpf-token` on the project's machine (Debian 12, kernel
// 6.18, 182 features), the host kernel in its own target, five podman
// profiles and a BPF token's user namespace; its probe point name lists
// left out.
func hostEnvironments(t *testing.T) *reports.Report {
	t.Helper()
	return fixture.Gzipped(t, "testdata/host-environments.json.gz")
}

// fullMatrix is what `bpfmatrix run --kernel all` gives: the real host
// report and five VM kernels (fixture.KernelRun of its host run), 12
// columns × 182 features, every cell as expected.
func fullMatrix(t *testing.T) *reports.Report {
	t.Helper()
	rep := hostEnvironments(t)
	var host reports.Run
	for _, run := range rep.Runs {
		if run.Target == "host" {
			host = run
		}
	}
	var vms []reports.Run
	for ki, k := range fixture.Kernels {
		if k.Name != "6.18" {
			vms = append(vms, fixture.KernelRun(host, ki))
		}
	}
	rep.Runs = append(vms, rep.Runs...)
	if n := rep.Unexpected(); n != 0 {
		t.Fatalf("the full matrix has %d unexpected cells, want none", n)
	}
	return rep
}

// outside returns the lines a reader sees without opening a <details>
// block: its <summary> line is one of them.
func outside(t *testing.T, md string) []string {
	t.Helper()
	var out []string
	depth := 0
	for _, l := range strings.Split(strings.TrimSuffix(md, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "<details>"):
			if depth > 0 {
				t.Errorf("a <details> inside another: %q", l)
			}
			out = append(out, l)
			depth++
		case l == "</details>":
			depth--
		case depth == 0:
			out = append(out, l)
		}
	}
	if depth != 0 {
		t.Errorf("%d <details> blocks left open", depth)
	}
	return out
}

// cell returns the cell of feature on the run of kernel and target.
func cell(t *testing.T, rep *reports.Report, kernel, target, feature string) *reports.Cell {
	t.Helper()
	for ri := range rep.Runs {
		run := &rep.Runs[ri]
		if run.Kernel.Name != kernel || run.Target != target {
			continue
		}
		for ci := range run.Cells {
			if run.Cells[ci].Feature == feature {
				return &run.Cells[ci]
			}
		}
	}
	t.Fatalf("no cell %s on %s %s", feature, kernel, target)
	return nil
}

// statuses maps each feature to its statuses on the runs keep selects.
func statuses(rep *reports.Report, keep func(*reports.Run) bool) map[string][]reports.Status {
	m := map[string][]reports.Status{}
	for ri := range rep.Runs {
		if !keep(&rep.Runs[ri]) {
			continue
		}
		for _, c := range rep.Runs[ri].Cells {
			m[c.Feature] = append(m[c.Feature], c.Status)
		}
	}
	return m
}

// TestSummaryOfTheFullMatrixIsAGate: the whole matrix, every cell as
// expected, reads in a screen: at most 80 lines outside <details>, with
// or without a baseline that differs; every table is folded; the counts
// it states are the report's.
func TestSummaryOfTheFullMatrixIsAGate(t *testing.T) {
	rep := fullMatrix(t)

	// The baseline lacks 7.3, and 6.12 gained a feature since.
	old := fullMatrix(t)
	var kept []reports.Run
	for _, run := range old.Runs {
		if run.Kernel.Name != "7.3" {
			kept = append(kept, run)
		}
	}
	old.Runs = kept
	c := cell(t, old, "6.12", "vm", "attach/tcx.ingress")
	c.Status, c.Expected, c.Evidence = reports.Unsupported, reports.Unsupported, "create tcx link: invalid argument"

	for _, tc := range []struct {
		name, verdict string
		opt           markdown.Options
	}{
		{"no baseline", "## ✅ 0 unexpected, no baseline — 12 columns × 182 features\n", markdown.Options{}},
		{"baseline", "## ✅ 0 unexpected, 0 regressions — 12 columns × 182 features\n",
			markdown.Options{Diff: reports.Compare(old, rep, 10), Baseline: "https://example.org/matrix/report.json", HTMLURL: "https://example.org/matrix/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := summary(t, rep, tc.opt)
			seen := outside(t, md)
			t.Logf("%s: %d bytes, %d lines, %d outside <details>", tc.name, len(md), strings.Count(md, "\n"), len(seen))
			if len(seen) > 80 {
				t.Errorf("%d lines outside <details>, want at most 80:\n%s", len(seen), strings.Join(seen, "\n"))
			}
			if !strings.HasPrefix(md, tc.verdict) {
				t.Errorf("verdict:\n%s\nwant %q", strings.SplitN(md, "\n", 2)[0], tc.verdict)
			}
			for _, l := range seen {
				if strings.HasPrefix(l, "|") {
					t.Errorf("a table row outside <details>: %q", l)
				}
			}
			if strings.Contains(md, "### Unexpected") || strings.Contains(md, "### Regressions") || !strings.Contains(md, "**Unexpected cells:** none.\n") {
				t.Errorf("a clean summary lists problems:\n%s", strings.Join(seen, "\n"))
			}
			link := "**[HTML report](index.html)**"
			if tc.opt.HTMLURL != "" {
				link = "**[HTML report](" + tc.opt.HTMLURL + ")**"
			}
			if lines := strings.SplitN(md, "\n", 4); !strings.Contains(lines[2], link) {
				t.Errorf("the third line does not link the HTML report as %s: %q", link, lines[2])
			}
		})
	}

	md := summary(t, rep, markdown.Options{Diff: reports.Compare(old, rep, 10), Baseline: "old.json"})
	for _, want := range []string{
		"**Regressions** against old.json: none.\n",
		"### Changes since the baseline (1 cell)\n\nColumns added: 7.3 vm.\n\n- **attach/tcx.ingress** on 6.12 vm: ✗ unsupported → ✓ supported (improvement)\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary against a baseline lacks %q:\n%s", want, md)
		}
	}
	if none := summary(t, rep, markdown.Options{}); !strings.Contains(none, "**Regressions:** no baseline given") || strings.Contains(none, "Changes since") {
		t.Errorf("a summary without a baseline does not say so:\n%s", none)
	}

	// Differences are among the kernels of one kind: the vm kernels with
	// each other, the host alone; what the environments lose is counted
	// against container/privileged (the containers) or the host (the BPF
	// token).
	vm := statuses(rep, func(r *reports.Run) bool { return r.Target == "vm" })
	differ := 0
	for _, ss := range vm {
		for _, s := range ss {
			if s != ss[0] {
				differ++
				break
			}
		}
	}
	if differ == 0 || differ == len(vm) {
		t.Fatalf("%d of %d features differ among the fixture's vm kernels; the test needs some, not all", differ, len(vm))
	}
	loses := func(env, ref string) (lost, supported int) {
		for f, ss := range statuses(rep, func(r *reports.Run) bool { return r.Kernel.Name == "host" && r.Target == ref }) {
			if ss[0] != reports.Supported {
				continue
			}
			supported++
			if cell(t, rep, "host", env, f).Status != reports.Supported {
				lost++
			}
		}
		return lost, supported
	}
	wants := []string{
		fmt.Sprintf("- **vm** 5.10, 6.1, 6.12, 7.2, 7.3: %d of 182 features differ\n", differ),
		"- **host** 6.18.44-fc-v1045: 182 features, compared with no other kernel\n",
		fmt.Sprintf("<details><summary>The %d features that differ among the vm kernels</summary>\n", differ),
	}
	for _, env := range []struct{ target, ref, label string }{
		{"container/bpf-caps", "container/privileged", "host container/privileged"},
		{"container/bpf-caps-seccomp", "container/privileged", "host container/privileged"},
		{"container/default", "container/privileged", "host container/privileged"},
		{"container/userns", "container/privileged", "host container/privileged"},
		{"bpf-token", "host", "host"},
	} {
		lost, supported := loses(env.target, env.ref)
		if lost == 0 {
			t.Fatalf("%s loses nothing against %s in the real report", env.target, env.ref)
		}
		wants = append(wants, fmt.Sprintf("- **host %s**: loses %d of the %d features %s supports: ", env.target, lost, supported, env.label))
	}
	wants = append(wants, "- **host container/privileged**: loses none of the 167 features host supports\n",
		"- **host container/bpf-caps**: loses 166 of the 167 features host container/privileged supports: 166 blocked by seccomp\n")
	for _, want := range wants {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	// A container profile is no kernel: no difference among kernels shows
	// one of its columns.
	_, vmTable, _ := strings.Cut(md, "among the vm kernels</summary>")
	vmTable, _, _ = strings.Cut(vmTable, "</details>")
	if head := regexp.MustCompile(`(?m)^\| feature \|.*$`).FindString(vmTable); head != "| feature | upstream | works from | 5.10 | 6.1 | 6.12 | 7.2 | 7.3 |" {
		t.Errorf("the vm kernels' table heading is %q", head)
	}
	if rows := strings.Count(vmTable, "\n| ") - 1; rows != differ {
		t.Errorf("the vm kernels' table has %d rows, want %d", rows, differ)
	}
}

// TestSummaryGatesARegressedRun: unexpected cells and regressions come
// first, before any <details>, each on a line with its feature, columns,
// what was observed against what was expected and the kernel's words;
// the verdict counts them.
func TestSummaryGatesARegressedRun(t *testing.T) {
	old := fullMatrix(t)
	rep := fullMatrix(t)
	c := cell(t, rep, "6.12", "vm", "attach/tracepoint")
	c.Status, c.Unexpected, c.Events = reports.Failed, true, 0
	c.Evidence = "attached, but observed 0 events after 10 getpgid(2) calls\nsecond line"
	c = cell(t, rep, "host", "container/bpf-caps-seccomp", "map/ringbuf")
	c.Status, c.Unexpected, c.Errno, c.Stage = reports.Unsupported, true, "EPERM", reports.StageCreate
	c.Evidence = "create ringbuf map: operation not permitted"
	// A regression the catalog expected (it moved the feature's version).
	c = cell(t, rep, "7.2", "vm", "map/array")
	c.Status, c.Expected, c.Errno, c.Evidence = reports.Unsupported, reports.Unsupported, "EINVAL", "create array map: invalid argument"

	md := summary(t, rep, markdown.Options{Diff: reports.Compare(old, rep, 10), Baseline: "old.json"})
	if want := "## ❌ 2 unexpected cells, 3 regressions — 12 columns × 182 features\n"; !strings.HasPrefix(md, want) {
		t.Errorf("verdict:\n%s\nwant %q", strings.SplitN(md, "\n", 2)[0], want)
	}
	wants := []string{
		"### Unexpected cells (2)\n\n",
		"- **map/ringbuf** on host container/bpf-caps-seccomp: ✗ unsupported EPERM at create, expected ✓ supported — create ringbuf map: operation not permitted\n",
		"- **attach/tracepoint** on 6.12 vm: \\! failed, expected ✓ supported — attached, but observed 0 events after 10 getpgid(2) calls\n",
		"### Regressions against old.json (3)\n\n",
		"- **attach/tracepoint** on 6.12 vm: ✓ supported → \\! failed — attached, but observed 0 events",
		"- **map/array** on 7.2 vm: ✓ supported → ✗ unsupported — create array map: invalid argument\n",
		"- **map/ringbuf** on host container/bpf-caps-seccomp: ✓ supported → ✗ unsupported — create ringbuf map",
		"**Changes since the baseline:** none.\n",
	}
	at := 0
	for _, want := range wants {
		i := strings.Index(md[at:], want)
		if i < 0 {
			t.Errorf("summary lacks, after byte %d, %q:\n%s", at, want, md)
			continue
		}
		at += i + len(want)
	}
	if first := strings.Index(md, "<details>"); first < at {
		t.Errorf("a <details> block (at byte %d) comes before the last problem listed (byte %d)", first, at)
	}
	if strings.Contains(md, "second line") {
		t.Error("evidence beyond its first line is in the summary")
	}
	if seen := len(outside(t, md)); seen > 80 {
		t.Errorf("%d lines outside <details>", seen)
	}
}

// TestSummaryCapsItsLists: the lists before the <details> stop at 20
// lines and say how many they left out; the same cause on several
// columns is one line.
func TestSummaryCapsItsLists(t *testing.T) {
	old := fixture.Report(6, 150)
	rep := fixture.Report(6, 150)
	for ki := range rep.Runs {
		for i := range rep.Runs[ki].Cells {
			// 30 features that worked everywhere break everywhere.
			o, c := &old.Runs[ki].Cells[i], &rep.Runs[ki].Cells[i]
			o.Unexpected, c.Unexpected = false, false
			if i < 30 {
				o.Status, o.Expected = reports.Supported, reports.Supported
				c.Status, c.Expected, c.Unexpected, c.Evidence, c.Errno = reports.Error, reports.Supported, true, "the harness broke", ""
			}
		}
	}
	md := summary(t, rep, markdown.Options{Diff: reports.Compare(old, rep, 10), Baseline: "old.json", HTMLURL: "https://example.org/m (1)/"})
	seen := outside(t, md)
	const maxListed = 20
	more := "- … and 10 more: see the [HTML report](https://example.org/m%20%281%29/) or report.json."
	if n := strings.Count(md, more); n != 2 {
		t.Errorf("%d lists end with %q, want 2 (unexpected, regressions):\n%s", n, more, md)
	}
	if !strings.Contains(md, "- **prog/type\\_000** on 5.10 vm, 6.1 vm, 6.12 vm, 6.18 vm, 7.2 vm, 7.3 vm: E error, expected ✓ supported — the harness broke\n") {
		t.Errorf("one cause on six columns is not one line:\n%s", md)
	}
	if strings.Contains(md, "### Changes") || len(seen) > 3*(maxListed+4)+10 {
		t.Errorf("%d lines outside <details>:\n%s", len(seen), strings.Join(seen, "\n"))
	}
}

func TestSummarySaysBrokenRuns(t *testing.T) {
	rep := fixture.Report(3, 6)
	rep.Runs[2].Status, rep.Runs[2].Detail = "panic", "[   12.3] BUG: kernel NULL pointer dereference, address: 0000000000000010\n[   12.3] RIP: 0010:bpf_prog_run+0x1c/0x40"
	md := summary(t, rep, markdown.Options{})
	for _, want := range []string{
		"## ❌ 0 unexpected, no baseline, 1 run not ok — 3 columns × 6 features\n",
		"### Runs not ok (1)\n\n- **6.12 vm**: panic — \\[   12.3\\] BUG: kernel NULL pointer dereference, address: 0000000000000010\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
}

func TestSummaryEscapesReportText(t *testing.T) {
	rep := fixture.Report(2, 4)
	c := &rep.Runs[1].Cells[1]
	c.Unexpected, c.Status = true, reports.Failed
	c.Feature = "attach/a|b"
	c.Evidence = "<script>alert(1)</script> | [link](javascript:x) **bold**\nsecond line"
	md := summary(t, rep, markdown.Options{HTMLURL: "x)<script>"})
	for _, bad := range []string{"<script>", "[link](", "**bold**", "second line", "(x)"} {
		if strings.Contains(md, bad) {
			t.Errorf("summary contains raw %q:\n%s", bad, md)
		}
	}
	if !strings.Contains(md, `attach/a\|b`) || !strings.Contains(md, "&lt;script&gt;") || !strings.Contains(md, "(x%29%3Cscript%3E)") {
		t.Errorf("summary lacks the escaped forms:\n%s", md)
	}
}

// TestSummaryStaysSmall: a summary past its budget is cut, says what it
// left out, and closes what it opened.
func TestSummaryStaysSmall(t *testing.T) {
	// 6 kernels × 3000 features with IDs of 2 kB, every one unexpected
	// on 5.10 and differing among the kernels.
	rep := fixture.Report(6, 3000)
	for ki := range rep.Runs {
		for i := range rep.Runs[ki].Cells {
			c := &rep.Runs[ki].Cells[i]
			c.Feature = "prog/" + strings.Repeat("long_", 400) + c.Feature
			if ki == 0 {
				c.Unexpected, c.Evidence = true, strings.Repeat("verifier says no. ", 40)
			}
			if ki == 1 {
				c.Status = reports.Supported
			}
		}
	}
	md := summary(t, rep, markdown.Options{})
	if len(md) > markdown.MaxBytes {
		t.Errorf("summary is %d bytes, over its %d budget", len(md), markdown.MaxBytes)
	}
	if !strings.Contains(md, "\n\n… and ") || !strings.Contains(md, " more rows: see the [HTML report]") || !regexp.MustCompile(`\n- … and \d+ more: see the \[HTML report\]`).MatchString(md) {
		t.Errorf("a cut summary does not say what it left out:\n%s", md[len(md)-2000:])
	}
	if !strings.HasSuffix(md, "</details>\n\n") {
		t.Errorf("a cut summary does not end with its last block closed:\n%s", md[len(md)-500:])
	}
	outside(t, md) // every <details> closed
}

func TestSummaryOfAnAgreeingReport(t *testing.T) {
	md := summary(t, fixture.Report(1, 10), markdown.Options{})
	if !strings.HasPrefix(md, "## ✅ 0 unexpected, no baseline — 1 column × 10 features\n") || strings.Contains(md, "### Unexpected") {
		t.Errorf("summary of one clean column:\n%s", md)
	}
}

// TestSummaryComparesEnvironmentsWithTheirKernel: a container profile is
// compared with container/privileged of its kernel, or with the kernel's
// own target when there is none; a BPF token with the kernel's own target;
// the blocks of each column are said once, by layer, folded.
func TestSummaryComparesEnvironmentsWithTheirKernel(t *testing.T) {
	cells := func(status reports.Status, expected reports.Status, layer string, n int) []reports.Cell {
		var cs []reports.Cell
		for i := range n {
			cs = append(cs, reports.Cell{Feature: fmt.Sprintf("prog/t%d", i), Area: "features", Status: status, Expected: expected, Layer: layer})
		}
		return cs
	}
	host := reports.Kernel{Name: "host", Release: "6.18.44-fc-v1045", Version: "6.18.44"}
	rep := &reports.Report{Schema: reports.SchemaVersion, Runs: []reports.Run{
		{Kernel: host, Target: "container/bpf-caps", Status: "ok",
			Cells: append(cells(reports.Blocked, reports.Blocked, "seccomp", 3), cells(reports.Blocked, reports.Blocked, "network namespace", 4)[3:]...)},
		{Kernel: host, Target: "bpf-token", Status: "ok",
			Cells: append(cells(reports.Unsupported, reports.Unknown, "", 2), cells(reports.Supported, reports.Supported, "", 4)[2:]...)},
		{Kernel: host, Target: "host", Status: "ok", Cells: cells(reports.Supported, reports.Supported, "", 4)},
	}}
	md := summary(t, rep, markdown.Options{})
	for _, want := range []string{
		"- **host bpf-token**: loses 2 of the 4 features host supports: 2 unsupported\n",
		"- **host container/bpf-caps**: loses 4 of the 4 features host supports: 3 blocked by seccomp, 1 blocked by network namespace\n",
		"| prog/t0 | ✗ | ⊘ seccomp |\n",
		"| prog/t3 |  | ⊘ network namespace |\n",
		"- host container/bpf-caps: 1 cell blocked by network namespace; 3 cells blocked by seccomp\n",
		"- host bpf-token: 2 cells the catalog could not predict (unknown)\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "- host host:") {
		t.Errorf("a column with nothing blocked or unknown is listed:\n%s", md)
	}

	rep.Runs = append(rep.Runs, reports.Run{Kernel: host, Target: "container/privileged", Status: "ok", Cells: cells(reports.Supported, reports.Supported, "", 3)})
	if md := summary(t, rep, markdown.Options{}); !strings.Contains(md, "- **host container/bpf-caps**: loses 3 of the 3 features host container/privileged supports: 3 blocked by seccomp\n") {
		t.Errorf("a container profile is not compared with container/privileged:\n%s", md)
	}

	// The host of an arm64 machine is another kernel: its container
	// profile is compared with none of the amd64 host's columns.
	armHost := host
	armHost.Arch = "arm64"
	rep.Runs = append(rep.Runs, reports.Run{Kernel: armHost, Target: "container/default", Status: "ok", Cells: cells(reports.Blocked, reports.Blocked, "seccomp", 3)})
	if md := summary(t, rep, markdown.Options{}); !strings.Contains(md, "- **host arm64 container/default**: no column of its kernel to compare it with\n") {
		t.Errorf("an arm64 host's container profile is compared with an amd64 column:\n%s", md)
	}
}

// TestSummaryObjects: the programs of users' objects get a line of their
// own and a folded table, with their stages, figures and the evidence of
// those that did not reach their stage; an unexpected one is at the top.
// The catalog's part stays as it was.
func TestSummaryObjects(t *testing.T) {
	plain := summary(t, fixture.Report(3, 20), markdown.Options{})
	rep := fixture.Objects(fixture.Report(3, 20))
	md := summary(t, rep, markdown.Options{})
	for _, want := range []string{
		"## ❌ 3 unexpected cells (1 in objects), no baseline — 3 columns × 20 features + 5 object programs\n",
		"- **net.bpf.o/connect4** on 6.1 vm: fired \\! 0 runs, asked fired, expected supported — attached to /sys/fs/cgroup/bpfmatrix",
		"### Objects: 5 programs, 10 of 15 cells reached their stage\n\n<details><summary>",
		"| program | section | type | 5.10 vm | 6.1 vm | 6.12 vm |\n",
		"| probe.bpf.o/handle\\_exec | tracepoint/sched/sched\\_process\\_exec | TracePoint | fired ✓<br>12,345 insns (98.8% headroom)<br>10 runs | fired ✓<br>12,962 insns (98.7% headroom)<br>11 runs |",
		"| probe.bpf.o/count\\_loop | fentry/do\\_nanosleep | Tracing (TraceFEntry) | load ✗ EINVAL | fired ✓<br>196,772 insns (80.3% headroom)<br>11 runs |",
		"| net.bpf.o/connect4 | cgroup/connect4 | CGroupSockAddr (CGroupInet4Connect) | fired ✓<br>311 insns (100.0% headroom)<br>10 runs | **fired \\! 0 runs\\***<br>326 insns (100.0% headroom) |",
		"| net.bpf.o/xdp\\_drop | xdp | XDP | attach: needs a target<br>96 insns (100.0% headroom) |",
		"| **reached** | | | 3/5 | 3/5 · **1\\*** | 4/5 |\n",
		"- **probe.bpf.o/count\\_loop** on 5.10 vm: load ✗ EINVAL, asked fired, expected unknown — load program count\\_loop: invalid argument: unknown func bpf\\_loop\\#181\n",
		"- **net.bpf.o/xdp\\_drop** on 5.10 vm, 6.1 vm, 6.12 vm: attach: needs a target, asked attach, expected unknown — loaded;",
		"- **net.bpf.o/connect4** on 6.1 vm: fired \\! 0 runs, asked fired, expected supported — attached to /sys/fs/cgroup/bpfmatrix, but its run count stayed 0 after 3 connect(2) calls to 127.0.0.1 (**unexpected**)\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	section := func(md, from, to string) string {
		_, after, _ := strings.Cut(md, from)
		before, _, _ := strings.Cut(after, to)
		return before
	}
	for _, part := range []struct{ from, to string }{{"| kernel |", "\n\n"}, {"### Kernels", "\n\n<"}, {"among the 5.10", "</details>"}} {
		if got, want := section(md, part.from, part.to), section(plain, part.from, part.to); got != want {
			t.Errorf("object cells changed the section %q:\n%s\nwant:\n%s", part.from, got, want)
		}
	}
	if strings.Contains(md, "could not predict") || strings.Contains(md, "object/") {
		t.Errorf("object cells leak into the catalog's lines:\n%s", md)
	}
	if strings.Contains(plain, "Objects") {
		t.Error("a report without object cells has an Objects section")
	}
}

func TestSummaryEscapesObjectText(t *testing.T) {
	rep := fixture.Objects(fixture.Report(1, 0))
	o := rep.Runs[0].Cells[0].Object
	o.Program, o.Section = "x|<script>", "kprobe/*a*|[b](c)"
	md := summary(t, rep, markdown.Options{})
	for _, bad := range []string{"<script>", "x|<", "*a*", "[b](c)"} {
		if strings.Contains(md, bad) {
			t.Errorf("summary contains raw %q:\n%s", bad, md)
		}
	}
}

// archMatrix is fullMatrix with its VM kernels running BPF trampolines, as
// Debian's amd64 kernels do (the host refuses them), and 5.10, 6.1 and
// 6.12 built for arm64 too: 5.10 arm64 has no trampolines, and 6.12 arm64
// leaves uprobe.multi out (a config of the fixture's own). 15 columns,
// every cell as expected.
func archMatrix(t *testing.T) *reports.Report {
	t.Helper()
	rep := fullMatrix(t)
	var arm []reports.Run
	for ri := range rep.Runs {
		run := &rep.Runs[ri]
		if run.Target != "vm" {
			continue
		}
		for ci := range run.Cells {
			c := &run.Cells[ci]
			if slices.Contains(fixture.Trampolines, c.Feature) && c.Status == reports.Unsupported && c.Errno == "EPERM" {
				c.Status, c.Expected, c.Errno, c.Stage, c.Reason = reports.Supported, reports.Supported, "", "", ""
				c.Evidence = "attached and observed 10 events after 10 getpgid(2) calls"
			}
		}
		if k := run.Kernel.Name; k == "5.10" || k == "6.1" || k == "6.12" {
			arm = append(arm, fixture.ARM64(*run))
		}
	}
	for ci := range arm[2].Cells {
		if c := &arm[2].Cells[ci]; c.Feature == "attach/uprobe.multi" {
			c.Status, c.Expected, c.Errno, c.Stage = reports.Unsupported, reports.Unsupported, "EOPNOTSUPP", reports.StageAttach
			c.Reason, c.Evidence = "CONFIG_UPROBES is not set", "create uprobe multi link: operation not supported\nsecond line"
		}
	}
	rep.Runs = append(rep.Runs, arm...)
	if n := rep.Unexpected(); n != 0 {
		t.Fatalf("the arch matrix has %d unexpected cells, want none", n)
	}
	return rep
}

// TestSummaryComparesArches: the kernels of one architecture are compared
// among themselves; the two builds of a kernel series in a view of their
// own, one line outside <details> and a table inside, each row with both
// statuses and the arm64 cell's cause; the rest of the summary stays a
// screen.
func TestSummaryComparesArches(t *testing.T) {
	rep := archMatrix(t)
	md := summary(t, rep, markdown.Options{})
	seen := outside(t, md)
	if len(seen) > 80 {
		t.Errorf("%d lines outside <details>, want at most 80:\n%s", len(seen), strings.Join(seen, "\n"))
	}
	differ := func(keep func(*reports.Run) bool) int {
		n := 0
		for _, ss := range statuses(rep, keep) {
			if slices.ContainsFunc(ss, func(s reports.Status) bool { return s != ss[0] }) {
				n++
			}
		}
		return n
	}
	amd := differ(func(r *reports.Run) bool { return r.Target == "vm" && r.Arch() == "amd64" })
	arm := differ(func(r *reports.Run) bool { return r.Target == "vm" && r.Arch() == "arm64" })
	trampolines := 0
	for _, f := range fixture.Trampolines {
		if cell(t, rep, "5.10", "vm", f).Status == reports.Supported {
			trampolines++
		}
	}
	if trampolines != 5 {
		t.Fatalf("%d trampoline features supported on 5.10 amd64, want 5", trampolines)
	}
	want := []string{
		"## ✅ 0 unexpected, no baseline — 15 columns × 182 features\n",
		fmt.Sprintf("- **vm** 5.10, 6.1, 6.12, 7.2, 7.3: %d of 182 features differ\n", amd),
		fmt.Sprintf("- **arm64 vm** 5.10, 6.1, 6.12: %d of 182 features differ\n", arm),
		"- **host** 6.18.44-fc-v1045: 182 features, compared with no other kernel\n",
		fmt.Sprintf("<details><summary>The %d features that differ among the arm64 vm kernels</summary>\n", arm),
		"**x86/arm64 differences:** 6 features differ on 3 kernel series built for both: 5.10 (5 of 182), 6.1 (0 of 182), 6.12 (1 of 182).\n\n" +
			"<details><summary>The 6 features whose status differs between amd64 and arm64</summary>\n",
		"| kernel | feature | amd64 | arm64 | arm64: why |\n",
		"| 5.10 | attach/fentry | ✓ supported | ✗ unsupported ENOTSUPP | BPF trampolines on arm64 need Linux &gt;= 6.0 (running 5.10.262) — attach tracing link: not supported (ENOTSUPP) |\n",
		"| 6.12 | attach/uprobe.multi | ✓ supported | ✗ unsupported EOPNOTSUPP | CONFIG\\_UPROBES is not set — create uprobe multi link: operation not supported |\n",
		"| 6.12 | arm64 | vm | 6.12.117+deb13-cloud-arm64 | ok |",
	}
	for _, w := range want {
		if !strings.Contains(md, w) {
			t.Errorf("summary lacks %q:\n%s", w, md)
		}
	}
	_, table, _ := strings.Cut(md, "between amd64 and arm64</summary>")
	table, _, _ = strings.Cut(table, "</details>")
	if rows := strings.Count(table, "\n| ") - 1; rows != 6 {
		t.Errorf("the arch table has %d rows, want 6:\n%s", rows, table)
	}
	if strings.Contains(md, "second line") {
		t.Error("evidence beyond its first line is in the summary")
	}
	// The amd64 kernels' table holds no arm64 column.
	_, vmTable, _ := strings.Cut(md, "among the vm kernels</summary>")
	vmTable, _, _ = strings.Cut(vmTable, "</details>")
	if head := regexp.MustCompile(`(?m)^\| feature \|.*$`).FindString(vmTable); head != "| feature | upstream | works from | 5.10 | 6.1 | 6.12 | 7.2 | 7.3 |" {
		t.Errorf("the vm kernels' table heading is %q", head)
	}

	// Builds that agree: one line, no table; no arm64 build: no view.
	for ri := range rep.Runs {
		if run := &rep.Runs[ri]; run.Arch() == "arm64" {
			for ci := range run.Cells {
				c := &run.Cells[ci]
				*c = *cell(t, rep, run.Kernel.Name, "vm", c.Feature)
			}
		}
	}
	md = summary(t, rep, markdown.Options{})
	if !strings.Contains(md, "**x86/arm64 differences:** none: 3 kernel series built for both (5.10, 6.1, 6.12), the same status for all 546 features that ran on both.\n") ||
		strings.Contains(md, "between amd64 and arm64") {
		t.Errorf("agreeing builds:\n%s", md)
	}
	if md := summary(t, fullMatrix(t), markdown.Options{}); strings.Contains(md, "arm64") {
		t.Errorf("a report without arm64 runs mentions arm64:\n%s", md)
	}
}

// TestSummaryCauseMarksAndNotes renders the real full matrix: the table of
// the VM kernels' differences marks each cell with its cause, numbers its
// notes, and lists each note once under the table, by the number its
// cells cite.
func TestSummaryCauseMarksAndNotes(t *testing.T) {
	out := summary(t, fixture.Gzipped(t, "../html/testdata/full-matrix.json.gz"), markdown.Options{})
	loc := regexp.MustCompile(`<details><summary>The \d+ features that differ among the vm kernels</summary>`).FindStringIndex(out)
	if loc == nil {
		t.Fatalf("no table of the vm kernels' differences:\n%s", out)
	}
	start := loc[0]
	table := out[start : start+strings.Index(out[start:], "</details>")]
	// The notes under the table, by their superscript number.
	notes := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^([⁰¹²³⁴⁵⁶⁷⁸⁹]+) (.+?)  $`).FindAllStringSubmatch(table, -1) {
		if _, dup := notes[m[1]]; dup {
			t.Errorf("note %s listed twice", m[1])
		}
		notes[m[1]] = m[2]
	}
	cells := func(feature string) []string {
		t.Helper()
		for _, l := range strings.Split(table, "\n") {
			if strings.HasPrefix(l, "| "+feature+" |") {
				return strings.Split(strings.Trim(l, "| "), " | ")[3:]
			}
		}
		t.Fatalf("no row %s in:\n%s", feature, table)
		return nil
	}
	for _, tc := range []struct {
		feature string
		col     int
		tag     string
		note    string
	}{
		{"map/arena", 0, "✗ old", `needs Linux &gt;= 6.9`},
		{"attach/kprobe.multi", 1, "✗ cfg", `CONFIG\_FPROBE is not set`},
		{"attach/lsm", 0, "✗ lsm", `"bpf" is not in the active LSM list (lockdown,capability,yama,apparmor,tomoyo); boot with lsm=...,bpf`},
	} {
		cell := cells(tc.feature)[tc.col]
		n, ok := strings.CutPrefix(cell, tc.tag)
		if !ok || n == "" || notes[n] != tc.note {
			t.Errorf("%s on column %d: %q, note %q; want %s and a note %q", tc.feature, tc.col, cell, notes[n], tc.tag, tc.note)
		}
	}
	if got := cells("attach/kprobe.multi")[2]; got != "✓•" {
		t.Errorf("attach/kprobe.multi on 6.12: %q, want ✓• (seen firing)", got)
	}
	if got := cells("map/arena")[2]; got != "✓" {
		t.Errorf("map/arena on 6.12: %q, want ✓ (created, nothing to fire)", got)
	}
}

func TestSummarySaysWhichRunsWereReused(t *testing.T) {
	rep := fixture.Report(3, 6)
	// Two runs came from the run cache: they ran a day before this report.
	for _, i := range []int{0, 1} {
		ran := rep.Runs[i].Start.Add(-24 * time.Hour)
		rep.Runs[i].Start, rep.Runs[i].End = ran, ran.Add(31*time.Second)
		rep.Runs[i].CachedFrom = &reports.Cached{Key: "ab12", Entry: "/cache/runs/ab12", RanAt: ran}
	}
	md := summary(t, rep, markdown.Options{})
	if want := " · 2 of 3 runs reused from the run cache"; !strings.Contains(md, want) {
		t.Errorf("summary lacks %q:\n%s", want, md)
	}
	// The time taken is the run that ran's: not the day since the reused ones.
	if !strings.Contains(md, " · took 31s") {
		t.Errorf("summary does not say the report took its one run's 31s:\n%s", md)
	}
}
