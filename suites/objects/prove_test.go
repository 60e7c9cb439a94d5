package objects

import (
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

func TestVerifierStats(t *testing.T) {
	for _, tc := range []struct {
		log  string
		want *reports.Verifier
	}{
		// 6.1's log at level 4 for a program it accepted.
		{"func#0 @0\nverification time 1324 usec\nstack depth 8\nprocessed 16 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1\n",
			&reports.Verifier{InsnsProcessed: 16, TotalStates: 1, PeakStates: 1, TimeUS: 1324}},
		{"processed 812345 insns (limit 1000000) max_states_per_insn 12 total_states 40213 peak_states 9012 mark_read 211\n",
			&reports.Verifier{InsnsProcessed: 812345, MaxStatesPerInsn: 12, TotalStates: 40213, PeakStates: 9012}},
		{"", nil},
		{"0: R1=ctx() R10=fp0\n", nil},
	} {
		got := verifierStats(tc.log)
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("verifierStats(%q) = %+v, want %+v", tc.log, got, tc.want)
		}
	}
}

// TestRunsSinceSeesLateRuns counts a real program's runs with bpf_stats on:
// runs that land while the count is awaited (as a packet's softirq may,
// after its trigger returned) are counted, not only those before.
func TestRunsSinceSeesLateRuns(t *testing.T) {
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		t.Skipf("bpf_stats: %v (needs root)", err)
	}
	defer stats.Close()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	s, err := prog.Stats()
	if err != nil {
		t.Fatal(err)
	}
	runs := runsSince{prog, s.RunCount}
	go func() {
		time.Sleep(100 * time.Millisecond)
		prog.Run(&ebpf.RunOptions{Data: make([]byte, 64), Repeat: 3})
	}()
	if n := harness.AwaitEvents(runs, 3); n != 3 {
		t.Errorf("awaited 3 runs that came 100 ms late, counted %d", n)
	}
}
