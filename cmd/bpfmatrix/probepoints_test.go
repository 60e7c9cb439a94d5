package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// TestProbePointsListsWatchedFields: a report's watched fields and kfuncs
// are listed with their layout or why they are absent, -grep matches their
// kind prefix, and -arch picks one of two runs of a kernel, which without it
// is bad input.
func TestProbePointsListsWatchedFields(t *testing.T) {
	bin := bpfmatrix(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "runs", "vm-6.12"), 0o755); err != nil {
		t.Fatal(err)
	}
	lists := writeJSON(t, filepath.Join(dir, "runs", "vm-6.12"), "probepoints.json", reports.ProbeLists{
		Tracepoints: []string{"sched/sched_switch"}, KprobeFunctions: []string{"vfs_read"}, BTFFunctions: []string{"vfs_read", "bpf_task_acquire"}})
	rel, _ := filepath.Rel(dir, lists)
	pp := func(state string) *reports.ProbePoints {
		return &reports.ProbePoints{ListsFile: rel, Watch: []reports.WatchedPoint{
			{Kind: reports.PointFunction, Name: "vfs_read", Present: true, Traceability: reports.TraceTraceable},
			{Kind: reports.PointField, Name: "task_struct.__state", Present: true, Fields: []reports.TracepointField{{Name: "__state", Type: state, Offset: 24, Size: 4, BitOffset: 192}}},
			{Kind: reports.PointField, Name: "task_struct.state", Error: "struct task_struct has no member state"},
			{Kind: reports.PointKfunc, Name: "bpf_task_acquire", Present: true, Prototype: "struct task_struct *bpf_task_acquire(struct task_struct *p)", DeclTags: []string{"bpf_kfunc"}},
		}}
	}
	path := writeJSON(t, dir, "report.json", reports.Report{Schema: reports.SchemaVersion, Runs: []reports.Run{
		{Kernel: reports.Kernel{Name: "6.12", Arch: "amd64"}, Target: "vm", Status: "ok", ProbePoints: pp("unsigned int")},
		{Kernel: reports.Kernel{Name: "6.12", Arch: "arm64"}, Target: "vm", Status: "ok", ProbePoints: pp("arm64's int")},
		{Kernel: reports.Kernel{Name: "7.2"}, Target: "vm", Status: "ok", ProbePoints: pp("unsigned int")},
	}})

	out, stderr, code := run(t, bin, "probepoints", "-report", path, "-kernel", "6.12", "-arch", "amd64", "-grep", `field:task_struct\.`)
	want := "field:task_struct.__state\tunsigned int @24/4\nfield:task_struct.state\tabsent: struct task_struct has no member state\n"
	if code != 0 || out != want || !strings.Contains(stderr, "2 probe points") {
		t.Errorf("field grep: exit %d\n%s\nstderr %s\nwant\n%s", code, out, stderr, want)
	}
	out, _, _ = run(t, bin, "probepoints", "-report", path, "-kernel", "6.12", "-arch", "amd64", "-grep", "kfunc:bpf_task_*")
	if out != "kfunc:bpf_task_acquire\tstruct task_struct *bpf_task_acquire(struct task_struct *p) [bpf_kfunc]\n" {
		t.Errorf("kfunc grep: %q", out)
	}
	out, _, _ = run(t, bin, "probepoints", "-report", path, "-kernel", "6.12", "-arch", "arm64", "-grep", `^field:task_struct\.__state`)
	if out != "field:task_struct.__state\tarm64's int @24/4\n" {
		t.Errorf("-arch arm64: %q", out)
	}
	out, _, _ = run(t, bin, "probepoints", "-report", path, "-kernel", "6.12", "-arch", "amd64", "-grep", "vfs_read")
	if out != "kprobe:vfs_read\nfentry:vfs_read\nfunction:vfs_read\ttraceable\n" {
		t.Errorf("function grep: %q", out)
	}
	for _, tc := range []struct{ args, want string }{
		{"-kernel 6.12", "has kernel 6.12 on amd64, arm64; pick one with -arch"},
		{"-kernel 6.12 -arch riscv64", `-arch "riscv64" is not an architecture; known are amd64, arm64`},
		{"-kernel 6.1", `kernel "6.1" is not in report ` + path + "; it has probe points of 6.12, 7.2 (or use -kernel host)"},
		{"-kernel 7.2 -arch arm64", "has kernel 7.2 on amd64 only, not arm64; pick one with -arch"},
	} {
		_, stderr, code := run(t, bin, append([]string{"probepoints", "-report", path}, strings.Fields(tc.args)...)...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, %q; want exit 2 and one line saying %q", tc.args, code, stderr, tc.want)
		}
	}
}
