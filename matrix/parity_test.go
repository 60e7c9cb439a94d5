package matrix

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// TestRunIsComparedWithBpftool: the runner compares every run that left a
// bpftool answer with its cells, and a disagreement or a missing answer
// turns an ok run into an error whose detail and summary show both answers.
func TestRunIsComparedWithBpftool(t *testing.T) {
	const answer = `{"program_types":{"have_xdp_prog_type":true},"map_types":{"have_ringbuf_map_type":true}}`
	suite := &Suite{Features: []string{"map/ringbuf", "prog/xdp"}}
	stream := []string{`{"kernel":{"release":"6.1.0-50-cloud-amd64"}}`,
		`{"cell":{"feature":"prog/xdp","status":"supported","expected":"supported","evidence":"loaded"}}`}
	for _, tc := range []struct {
		name     string
		lines    []string
		answer   *string // nil: the target leaves no bpftool file
		probeErr string
		status   string
		// detail and log must hold these.
		detail, log []string
		compared    int
	}{
		{name: "agreement", lines: append(stream, `{"cell":{"feature":"map/ringbuf","status":"supported","expected":"supported","evidence":"created"}}`),
			answer: ptr(answer), status: RunOK, compared: 2,
			log: []string{"parity with bpftool: 0 disagreements in 2 compared cells (2 agreed, 0 allowed)"}},
		{name: "disagreement", lines: append(stream, `{"cell":{"feature":"map/ringbuf","status":"unsupported","expected":"unsupported","errno":"EINVAL","evidence":"create ringbuf map: invalid argument"}}`),
			answer: ptr(answer), status: RunError, compared: 2,
			detail: []string{"parity with bpftool: 1 disagreements in 2 compared cells",
				"map/ringbuf: bpftool says available (have_ringbuf_map_type); the cell says unsupported (EINVAL): create ringbuf map: invalid argument"}},
		// The suite wrote no map/ringbuf cell: the runner's error cell
		// agrees with nothing.
		{name: "a cell the suite never wrote", lines: stream, answer: ptr(answer), status: RunError, compared: 2,
			detail: []string{"map/ringbuf: bpftool says available (have_ringbuf_map_type); the cell says error: the suite wrote no cell for this feature"}},
		{name: "the probe failed", lines: stream, answer: ptr(""), probeErr: "bpftool feature probe kernel -j: exit status 255", status: RunError,
			detail: []string{"parity with bpftool: bpftool feature probe kernel -j: exit status 255"}},
		{name: "the answer never arrived", lines: stream, answer: ptr(""), status: RunError,
			detail: []string{"parity with bpftool: the target wrote no bpftool answer"}},
		{name: "the answer was cut", lines: stream, answer: ptr(answer[:40]), status: RunError,
			detail: []string{"bpftool's answer is not the JSON"}},
		{name: "a target that runs no probe", lines: stream, status: RunOK,
			detail: []string{"parity with bpftool not checked: this target runs no bpftool probe"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := fakeTarget{name: "vm", kernel: "6.1", fn: func(_ context.Context, dir string) Outcome {
				writeStream(t, dir, tc.lines...)
				if tc.answer != nil {
					if err := os.WriteFile(BpftoolFile(dir), []byte(*tc.answer), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return Outcome{Status: RunOK, BpftoolErr: tc.probeErr}
			}}
			var log strings.Builder
			out := t.TempDir()
			rep, err := Run(context.Background(), suite, []Target{target}, Options{Out: out, Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			run := rep.Runs[0]
			if run.Status != tc.status || run.Parity == nil || run.Parity.Compared != tc.compared {
				t.Fatalf("run %s, parity %+v; want %s with %d compared\n%s", run.Status, run.Parity, tc.status, tc.compared, run.Detail)
			}
			for _, want := range tc.detail {
				if !strings.Contains(run.Detail, want) {
					t.Errorf("detail lacks %q:\n%s", want, run.Detail)
				}
			}
			// What the detail says of parity, the summary prints line by
			// line; an ok run's counts too.
			for _, want := range append(tc.log, tc.detail...) {
				if !strings.Contains(log.String(), want) {
					t.Errorf("progress lacks %q:\n%s", want, log.String())
				}
			}
			// The report on disk keeps the comparison and validates.
			saved, err := reports.Load(filepath.Join(out, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			if got := saved.Runs[0].Parity; got == nil || got.Compared != run.Parity.Compared || len(got.Disagreements) != len(run.Parity.Disagreements) {
				t.Errorf("report.json parity %+v, want %+v", got, run.Parity)
			}
		})
	}
}

func ptr(s string) *string { return &s }
