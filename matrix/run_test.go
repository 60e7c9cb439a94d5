package matrix

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// dyingTarget streams some cells and then ends the way a panicking kernel
// does. It stands in for a VM in this unit test of the collector only.
type dyingTarget struct {
	streamed []reports.Cell
	outcome  Outcome
}

func (dyingTarget) Name() string   { return "vm" }
func (dyingTarget) Kernel() string { return "6.1" }
func (d dyingTarget) Run(_ context.Context, _ *Suite, dir string, _ *Progress) Outcome {
	if !filepath.IsAbs(dir) {
		return Outcome{Status: RunError, Detail: "relative run dir " + dir}
	}
	f, _ := os.Create(RecordsFile(dir))
	defer f.Close()
	enc := json.NewEncoder(f)
	enc.Encode(reports.Record{Kernel: &reports.Kernel{Release: "6.1.0-50-cloud-amd64"}})
	for i := range d.streamed {
		enc.Encode(reports.Record{Cell: &d.streamed[i]})
	}
	f.WriteString(`{"cell":{"feature":"attach/fe`) // torn by the crash
	return d.outcome
}

func TestRunKeepsStreamedCellsAndMarksTheRestCrashed(t *testing.T) {
	// A relative -out, as `make test` passes: targets get absolute paths.
	t.Chdir(t.TempDir())
	out := "reports/out"
	suite := &Suite{Features: []string{"attach/kprobe", "attach/fentry", "attach/lsm"},
		Areas: map[string]string{"attach/kprobe": "tracing", "attach/fentry": "tracing", "attach/lsm": "security"}}
	target := dyingTarget{
		streamed: []reports.Cell{{Feature: "attach/kprobe", Status: reports.Supported, Expected: reports.Supported}},
		outcome:  Outcome{Status: RunPanic, Detail: "Kernel panic - not syncing: sysrq triggered crash"},
	}
	rep, err := Run(context.Background(), suite, []Target{target}, Options{Out: out, Log: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	run := rep.Runs[0]
	if run.Status != RunPanic || run.Kernel.Release != "6.1.0-50-cloud-amd64" || run.Kernel.Name != "6.1" {
		t.Fatalf("run = %+v", run)
	}
	got := map[string]reports.Cell{}
	for _, c := range run.Cells {
		got[c.Feature] = c
	}
	if got["attach/kprobe"].Status != reports.Supported {
		t.Errorf("streamed cell lost: %+v", got["attach/kprobe"])
	}
	for _, id := range []string{"attach/fentry", "attach/lsm"} {
		c := got[id]
		if c.Status != reports.Crashed || !c.Unexpected || !strings.Contains(c.Evidence, "sysrq triggered crash") {
			t.Errorf("%s = %+v, want crashed with the console tail", id, c)
		}
	}
	if got["attach/lsm"].Area != "security" {
		t.Errorf("a crashed cell must keep its area: %+v", got["attach/lsm"])
	}

	// The report on disk is what Run returned, and a resumed run reuses it.
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reports.Parse("report.json", data); err != nil {
		t.Fatal(err)
	}
	target.outcome = Outcome{Status: RunOK}
	rep2, err := Run(context.Background(), suite, []Target{target}, Options{Out: out, Resume: true, Log: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Runs[0].Status != RunPanic {
		t.Errorf("resume redid a finished run: status %s", rep2.Runs[0].Status)
	}
}
