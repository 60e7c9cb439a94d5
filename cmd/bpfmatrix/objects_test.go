package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// TestObjectsOnRealKernels runs the project's own test objects
// (objects/testdata) as a user would, on the host and in a real 5.10 VM,
// with their manifest: every claimed program must reach fired, the 5.10
// verifier must refuse bpf_strncmp with its own words, the programs whose
// sections name no target must say what they need, and every loaded
// program must carry the verifier's figures.
func TestObjectsOnRealKernels(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: loads eBPF programs on the host and boots a VM")
	}
	bin := bpfmatrix(t)
	out := filepath.Join(t.TempDir(), "out")
	testdata := "../../objects/testdata/"
	objs := testdata + "multi.bpf.o," + testdata + "newer.bpf.o," + testdata + "needs-target.bpf.o"
	stdout, stderr, code := run(t, bin, "run", "--kernel", "host,5.10", "--module", "../..", "--object", objs, "--out", out)
	if code != 0 {
		t.Fatalf("bpfmatrix run: exit %d; want 0 (every claimed program as expected)\n%s%s", code, stdout, stderr)
	}
	rep, err := reports.Load(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string]reports.Cell{}
	for _, r := range rep.Runs {
		for _, c := range r.Cells {
			if c.Object == nil || c.Area != reports.AreaObjects {
				t.Errorf("%s %s: area %q, object %v; want an object cell", r.Kernel.Name, c.Feature, c.Area, c.Object)
				continue
			}
			cells[r.Kernel.Name+" "+strings.TrimPrefix(c.Feature, "object/")] = c
			if o := c.Object; o.Reached.Rank() >= reports.ObjectLoaded.Rank() && (o.Verifier == nil || o.Verifier.InsnsProcessed == 0) {
				t.Errorf("%s %s: loaded without the verifier's instructions processed: %+v", r.Kernel.Name, c.Feature, o.Verifier)
			}
		}
	}
	if len(cells) != 2*19 {
		t.Errorf("%d object cells; want 19 programs on 2 kernels", len(cells))
	}
	fired := []string{"cgskb_egress", "connect4_allow", "iter_task", "rawtp_sys_enter", "socket_keep", "tc_pass", "tp_getpgid", "tpbtf_sys_enter", "xdp_pass"}
	for _, kernel := range []string{"host", "5.10"} {
		for _, prog := range fired {
			c := cells[kernel+" multi.bpf.o/"+prog]
			if c.Status != reports.Supported || c.Object.Reached != reports.ObjectFired || c.Object.RunCount < c.Triggered || c.Object.RunCount == 0 {
				t.Errorf("%s multi.bpf.o/%s: %s, reached %q, run count %d after %d triggered; want fired", kernel, prog, c.Status, c.Object.Reached, c.Object.RunCount, c.Triggered)
			}
		}
		if c := cells[kernel+" needs-target.bpf.o/fentry_any"]; c.Status != reports.Skipped || !strings.Contains(c.Object.Needs, "BTF target") || c.Object.Reached != "" {
			t.Errorf("%s fentry_any: %s, needs %q, reached %q; want skipped before loading, saying it needs a BTF target", kernel, c.Status, c.Object.Needs, c.Object.Reached)
		}
		if c := cells[kernel+" needs-target.bpf.o/uprobe_any"]; c.Status != reports.Skipped || !strings.Contains(c.Object.Needs, "PATH:SYMBOL") || c.Object.Reached != reports.ObjectLoaded {
			t.Errorf("%s uprobe_any: %s, needs %q, reached %q; want loaded, then skipped saying it needs a binary and symbol", kernel, c.Status, c.Object.Needs, c.Object.Reached)
		}
	}
	// 5.10 predates bpf_strncmp (5.17): its verifier names the call.
	if c := cells["5.10 newer.bpf.o/strncmp_getpgid"]; c.Status != reports.Unsupported || c.Stage != reports.StageLoad || c.Errno != "EINVAL" || !strings.Contains(c.Evidence, "invalid func unknown#182") {
		t.Errorf("5.10 strncmp_getpgid: %s at %s (%s): %s; want refused at load with EINVAL, invalid func unknown#182", c.Status, c.Stage, c.Errno, c.Evidence)
	}
	if c := cells["host newer.bpf.o/strncmp_getpgid"]; c.Object.Reached != reports.ObjectFired {
		t.Errorf("host strncmp_getpgid: reached %q; want fired", c.Object.Reached)
	}
	// A CO-RE relocation resolved against each kernel's BTF.
	for _, kernel := range []string{"host", "5.10"} {
		if c := cells[kernel+" newer.bpf.o/core_tgid"]; c.Object.Reached != reports.ObjectFired {
			t.Errorf("%s core_tgid: reached %q (%s); want fired", kernel, c.Object.Reached, c.Evidence)
		}
	}
}
