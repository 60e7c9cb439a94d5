package parity

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// probe is a bpftool answer of the shape bpftool 7.1 writes, cut down to
// what the cases below ask.
const probe = `{
	"system_config": {"unprivileged_bpf_disabled": 2},
	"program_types": {"have_xdp_prog_type": true, "have_lirc_mode2_prog_type": false, "have_tracing_prog_type": false},
	"map_types": {"have_hash_map_type": true, "have_ringbuf_map_type": true},
	"helpers": {"kprobe_available_helpers": ["bpf_map_lookup_elem", "bpf_override_return"], "lirc_mode2_available_helpers": []},
	"misc": {"have_bounded_loops": true, "have_v3_isa_extension": false, "have_some_future_probe": true}
}`

func TestCompare(t *testing.T) {
	p, err := Parse([]byte(probe))
	if err != nil {
		t.Fatal(err)
	}
	cell := func(id string, s reports.Status, evidence string) reports.Cell {
		return reports.Cell{Feature: id, Status: s, Evidence: evidence}
	}
	const cannotUse = "load kprobe program calling bpf_override_return (#58): verifier: program of this type cannot use helper bpf_override_return#58"
	for _, tc := range []struct {
		name  string
		cells []reports.Cell
		// agreed, allowed, disagree and undecided are the features in each
		// outcome; a feature in none is not compared.
		agreed, allowed, disagree, undecided []string
	}{
		{name: "supported agrees with available, unsupported with not available",
			cells: []reports.Cell{
				cell("prog/xdp", reports.Supported, "loaded"),
				cell("prog/lirc_mode2", reports.Unsupported, "EINVAL"),
				cell("map/hash", reports.Supported, "created"),
				cell("misc/bounded_loops", reports.Supported, "loaded"),
				cell("misc/isa_v3", reports.Unsupported, "EINVAL"),
				cell("helper/kprobe/bpf_map_lookup_elem", reports.Supported, "loaded"),
			},
			agreed: []string{"helper/kprobe/bpf_map_lookup_elem", "map/hash", "misc/bounded_loops", "misc/isa_v3", "prog/lirc_mode2", "prog/xdp"}},
		{name: "each way of disagreeing",
			cells: []reports.Cell{
				cell("prog/xdp", reports.Unsupported, "EINVAL"),
				cell("prog/lirc_mode2", reports.Supported, "loaded"),
				cell("helper/kprobe/bpf_map_lookup_elem", reports.Unsupported, "unknown func bpf_map_lookup_elem#1"),
			},
			disagree: []string{"helper/kprobe/bpf_map_lookup_elem", "prog/lirc_mode2", "prog/xdp"}},
		{name: "a cell that broke or was skipped agrees with nothing",
			cells: []reports.Cell{
				cell("prog/xdp", reports.Error, "the suite wrote no cell for this feature"),
				cell("prog/lirc_mode2", reports.Failed, "attached, 0 events"),
				cell("map/hash", reports.Crashed, "Kernel panic"),
				cell("map/ringbuf", reports.Timeout, "no answer"),
				cell("misc/bounded_loops", reports.Skipped, "no cgroup2"),
				cell("misc/isa_v3", reports.Blocked, "seccomp"),
			},
			disagree: []string{"map/hash", "map/ringbuf", "misc/bounded_loops", "misc/isa_v3", "prog/lirc_mode2", "prog/xdp"}},
		{name: "a type bpftool probes without a BTF target, proven by an attach cell",
			cells: []reports.Cell{
				cell("prog/tracing", reports.Supported, "loaded"),
				cell("attach/fentry", reports.Unsupported, "EPERM"),
				cell("attach/tp_btf", reports.Supported, "attached and observed 10 events"),
			},
			allowed: []string{"prog/tracing"}},
		{name: "a type bpftool probes without a BTF target, no attach cell working",
			cells: []reports.Cell{
				cell("prog/tracing", reports.Supported, "loaded"),
				cell("attach/fentry", reports.Unsupported, "EPERM"),
			},
			disagree: []string{"prog/tracing"}},
		{name: "a type bpftool probes without a BTF target, no attach cell in the run",
			cells:     []reports.Cell{cell("prog/tracing", reports.Supported, "loaded")},
			undecided: []string{"prog/tracing"}},
		{name: "a type bpftool probes without a BTF target, unsupported: plain agreement",
			cells:  []reports.Cell{cell("prog/tracing", reports.Unsupported, "EINVAL")},
			agreed: []string{"prog/tracing"}},
		{name: "a refusal libbpf 1.1 does not recognise",
			cells:   []reports.Cell{cell("helper/kprobe/bpf_override_return", reports.Unsupported, cannotUse)},
			allowed: []string{"helper/kprobe/bpf_override_return"}},
		{name: "the same refusal in the verifier log only",
			cells: []reports.Cell{{Feature: "helper/kprobe/bpf_override_return", Status: reports.Unsupported, Evidence: "EINVAL",
				VerifierLog: "0: R1=ctx() R10=fp0\nprogram of this type cannot use helper bpf_override_return#58"}},
			allowed: []string{"helper/kprobe/bpf_override_return"}},
		{name: "7.3's structured refusal (measured on 7.3-rc7)",
			cells: []reports.Cell{{Feature: "helper/kprobe/bpf_override_return", Status: reports.Unsupported, Evidence: "EINVAL",
				VerifierLog: "Verification failed: Policy: Operation is not allowed\n\nReason:\n  The helper bpf_override_return#58 is not allowed: this program type does not allow the helper.\n\nSuggestion:\n  Use a helper allowed for this program type"}},
			allowed: []string{"helper/kprobe/bpf_override_return"}},
		{name: "the refusal does not excuse a broken cell",
			cells:    []reports.Cell{cell("helper/kprobe/bpf_override_return", reports.Error, cannotUse)},
			disagree: []string{"helper/kprobe/bpf_override_return"}},
		{name: "not compared: helpers bpftool probes only with full, types it lists no helpers for, misc without a cell, cells not in the run",
			cells: []reports.Cell{
				cell("helper/kprobe/bpf_trace_printk", reports.Supported, "loaded"),
				cell("helper/xdp/bpf_redirect", reports.Supported, "loaded"),
				cell("misc/kprobe_multi", reports.Unsupported, "ENOTSUPP"),
				cell("attach/kprobe", reports.Supported, "fired"),
			}},
		{name: "a helper bpftool does not list for a type it probed",
			cells:  []reports.Cell{cell("helper/lirc_mode2/bpf_map_lookup_elem", reports.Unsupported, "EINVAL")},
			agreed: []string{"helper/lirc_mode2/bpf_map_lookup_elem"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Compare(p, tc.cells)
			features := func(ds []reports.ParityDiff) []string {
				var ids []string
				for _, d := range ds {
					ids = append(ids, d.Feature)
				}
				return ids
			}
			if want := len(tc.agreed) + len(tc.allowed) + len(tc.disagree); got.Compared != want || got.Agreed != len(tc.agreed) {
				t.Errorf("compared %d, agreed %d; want %d, %d", got.Compared, got.Agreed, want, len(tc.agreed))
			}
			for _, c := range []struct {
				what      string
				got, want []string
			}{{"allowed", features(got.Allowed), tc.allowed}, {"disagreements", features(got.Disagreements), tc.disagree}, {"undecided", features(got.Undecided), tc.undecided}} {
				if !slices.Equal(c.got, c.want) {
					t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
				}
			}
			for _, d := range slices.Concat(got.Allowed, got.Undecided) {
				if d.Reason == "" {
					t.Errorf("%s: %+v has no reason", d.Feature, d)
				}
			}
			for _, d := range got.Disagreements {
				if d.Reason != "" || d.Bpftool == "" || d.Cell == "" {
					t.Errorf("disagreement %+v: want both answers and no reason", d)
				}
			}
		})
	}
}

// TestDisagreementShowsBothAnswers: a disagreement prints what bpftool said
// and the cell's status, stage, errno and first evidence line.
func TestDisagreementShowsBothAnswers(t *testing.T) {
	p, err := Parse([]byte(probe))
	if err != nil {
		t.Fatal(err)
	}
	got := Compare(p, []reports.Cell{
		{Feature: "map/ringbuf", Status: reports.Unsupported, Stage: reports.StageCreate, Errno: "EINVAL", Evidence: "create ringbuf map: invalid argument\nsecond line"},
		{Feature: "helper/kprobe/bpf_map_lookup_elem", Status: reports.Unsupported, Evidence: "verifier: unknown func bpf_map_lookup_elem#1"},
	})
	want := "parity with bpftool: 2 disagreements in 2 compared cells (0 agreed, 0 allowed)\n" +
		"helper/kprobe/bpf_map_lookup_elem: bpftool says available (in kprobe_available_helpers); the cell says unsupported: verifier: unknown func bpf_map_lookup_elem#1\n" +
		"map/ringbuf: bpftool says available (have_ringbuf_map_type); the cell says unsupported at create (EINVAL): create ringbuf map: invalid argument"
	if s := Summary(&got); s != want {
		t.Errorf("Summary:\n%s\nwant:\n%s", s, want)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, bad := range []string{"", `{"program_types":{"have_xdp_prog_type":true}`, `{"map_types":{"have_hash_map_type":true}}`, `{"program_types":{}, "map_types":{}}`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted an answer with nothing to compare", bad)
		}
	}
}

// TestProbeThisKernelNeedsRoot runs the machine's bpftool as the runner
// does and reads its answer: the JSON this package parses is bpftool's own.
func TestProbeThisKernelNeedsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: bpftool's probes load programs")
	}
	bpftool, err := Find()
	if err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bpftool, Args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", bpftool, strings.Join(Args, " "), err)
	}
	p, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	// Every kernel bpfmatrix runs on has socket filters, hash maps and the
	// ISA v2 jumps (4.14); bpftool must say so, or the keys moved.
	if !p.ProgramTypes["have_socket_filter_prog_type"] || !p.MapTypes["have_hash_map_type"] || !p.Misc["have_v2_isa_extension"] {
		t.Errorf("bpftool's answer lacks what every kernel has: %d program types, %d map types, misc %v", len(p.ProgramTypes), len(p.MapTypes), p.Misc)
	}
	if _, ok := p.Helpers["kprobe_available_helpers"]; !ok {
		t.Errorf("no kprobe_available_helpers in bpftool's helpers: %v", slices.Sorted(maps.Keys(p.Helpers)))
	}
}

func TestAsksEveryFeatureCompareCompares(t *testing.T) {
	p, err := Parse([]byte(probe))
	if err != nil {
		t.Fatal(err)
	}
	var cells []reports.Cell
	for _, id := range []string{"prog/xdp", "prog/lirc_mode2", "prog/tracing", "map/hash", "map/ringbuf",
		"misc/bounded_loops", "misc/isa_v3", "helper/kprobe/bpf_map_lookup_elem", "helper/kprobe/bpf_override_return",
		"helper/lirc_mode2/bpf_map_lookup_elem"} {
		cells = append(cells, reports.Cell{Feature: id, Status: reports.Supported, Evidence: "loaded"})
	}
	got := Compare(p, cells)
	if asked := got.Compared + len(got.Undecided); asked != len(cells) {
		t.Fatalf("Compare asked bpftool about %d of the %d cells: %+v", asked, len(cells), got)
	}
	for _, c := range cells {
		if !Asks(c.Feature) {
			t.Errorf("Asks(%q) = false, yet Compare compares it: a run of it alone would skip the probe", c.Feature)
		}
	}
	for _, id := range []string{"attach/kprobe", "kfunc/xdp/bpf_xdp_metadata_rx_hash", "helper/kprobe/bpf_trace_printk",
		"probepoints/inventory", "object/a.o/prog", "misc/kprobe_multi"} {
		if Asks(id) {
			t.Errorf("Asks(%q) = true: bpftool's probe has no answer for it", id)
		}
	}
}
