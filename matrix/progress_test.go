package matrix

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// A CI log may show only a run's last lines, so the summary names every
// unexpected cell with what was expected and why, up to a cap.
func TestSummaryNamesTheUnexpectedCells(t *testing.T) {
	run := reports.Run{Status: RunOK, Kernel: reports.Kernel{Release: "6.1.0"}}
	run.Cells = append(run.Cells,
		reports.Cell{Feature: "attach/fentry", Status: reports.Supported, Expected: reports.Supported},
		reports.Cell{Feature: "attach/kprobe", Status: reports.Unsupported, Errno: "EINVAL", Stage: reports.StageLoad,
			Expected: reports.Supported, Unexpected: true, Evidence: "load program: invalid argument\nverifier log"},
		reports.Cell{Feature: "map/arena", Status: reports.Supported, Expected: reports.Unsupported,
			ExpectedErrno: "EINVAL", ExpectedStage: reports.StageCreate, Unexpected: true})
	var out strings.Builder
	NewProgress(&out, "vm 6.1", len(run.Cells)).Summary(run)
	for _, want := range []string{
		"[vm 6.1] unexpected: attach/kprobe: unsupported EINVAL at load, expected supported: load program: invalid argument\n",
		"[vm 6.1] unexpected: map/arena: supported, expected unsupported EINVAL at create\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}

	run.Cells = nil
	for i := range maxUnexpectedShown + 3 {
		run.Cells = append(run.Cells, reports.Cell{Feature: fmt.Sprintf("f%d", i), Status: reports.Error,
			Expected: reports.Supported, Unexpected: true})
	}
	out.Reset()
	NewProgress(&out, "host", len(run.Cells)).Summary(run)
	if n := strings.Count(out.String(), "] unexpected: f"); n != maxUnexpectedShown {
		t.Errorf("summary names %d cells, want %d:\n%s", n, maxUnexpectedShown, out.String())
	}
	if !strings.Contains(out.String(), "unexpected: 3 more, in the report") {
		t.Errorf("summary does not count the rest:\n%s", out.String())
	}

	// A broken run's cells all say how it broke: its line says it once.
	run.Status, run.Detail = RunPanic, "Kernel panic - not syncing"
	out.Reset()
	NewProgress(&out, "host", len(run.Cells)).Summary(run)
	if strings.Contains(out.String(), "unexpected: ") || !strings.Contains(out.String(), "Kernel panic") {
		t.Errorf("a broken run's summary:\n%s", out.String())
	}
}
