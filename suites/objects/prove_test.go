package objects

import (
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
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
