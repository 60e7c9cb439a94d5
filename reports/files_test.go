package reports

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestRebaseFilesKeepsWhatExistsRelativeToTheOutput: a report's run files,
// relative to its own directory, become relative to where the output goes;
// one that is not there is dropped, never linked.
func TestRebaseFilesKeepsWhatExistsRelativeToTheOutput(t *testing.T) {
	root := t.TempDir()
	in := filepath.Join(root, "job", "out")
	if err := os.MkdirAll(filepath.Join(in, "runs", "vm-6.1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "runs", "vm-6.1", "console.log"), []byte("boot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Report{Runs: []Run{{Target: "vm", Files: []string{"runs/vm-6.1/console.log", "runs/vm-6.1/run.json", "/etc/passwd"}}}}
	r.RebaseFiles(in, filepath.Join(root, "pages"))
	if want := []string{"../job/out/runs/vm-6.1/console.log"}; !slices.Equal(r.Runs[0].Files, want) {
		t.Errorf("rebased to another directory: %q, want %q", r.Runs[0].Files, want)
	}

	r = &Report{Runs: []Run{{Target: "vm", Files: []string{"runs/vm-6.1/console.log"}}}}
	r.RebaseFiles(in, in)
	if want := []string{"runs/vm-6.1/console.log"}; !slices.Equal(r.Runs[0].Files, want) {
		t.Errorf("rebased to its own directory: %q, want %q", r.Runs[0].Files, want)
	}
}

// TestMergeKeepsEveryShardsFiles: the shards of one run each left files;
// the merged run names them all, once.
func TestMergeKeepsEveryShardsFiles(t *testing.T) {
	a := &Report{Runs: []Run{{Target: "host", Kernel: Kernel{Name: "host"}, Files: []string{"s1/runs/host-host/run.json"}}}}
	b := &Report{Runs: []Run{{Target: "host", Kernel: Kernel{Name: "host"}, Files: []string{"s2/runs/host-host/run.json", "s1/runs/host-host/run.json"}}}}
	m := Merge(a, b)
	if len(m.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(m.Runs))
	}
	if want := []string{"s1/runs/host-host/run.json", "s2/runs/host-host/run.json"}; !slices.Equal(m.Runs[0].Files, want) {
		t.Errorf("merged files %q, want %q", m.Runs[0].Files, want)
	}
	if len(a.Runs[0].Files) != 1 {
		t.Errorf("the merge changed its input: %q", a.Runs[0].Files)
	}
}
