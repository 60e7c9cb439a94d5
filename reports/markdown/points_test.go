package markdown_test

import (
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
	"github.com/bpfmatrix/bpfmatrix/reports/markdown"
)

// TestSummaryProbePointsOfTheRealMatrix writes the probe points of the real
// full matrix the HTML tests use (10 VM kernels and the host): the changes
// grouped most serious first, the changed cells in bold, the trivial ones
// counted and left out.
func TestSummaryProbePointsOfTheRealMatrix(t *testing.T) {
	rep := fixture.Gzipped(t, "../../"+fixture.FullMatrix)
	md := summary(t, rep, markdown.Options{})
	i := strings.Index(md, "<summary>Probe points of 11 kernels</summary>")
	if i < 0 {
		t.Fatal("no probe points of the 11 kernels (VMs and host, no environment)")
	}
	block := md[i : i+strings.Index(md[i:], "</details>")]
	// The changes' rows, by point and field, in the order written.
	var order []string
	rows := map[string]string{}
	for _, l := range strings.Split(block, "\n") {
		if cells := strings.Split(l, " | "); len(cells) > 3 && strings.Contains(l, "**") {
			key := cells[1] + " " + cells[2]
			order = append(order, key)
			rows[key] = l
		}
	}
	// Removed first: fields a kernel renamed (task_struct.state became
	// __state in 5.14, inode's time fields went behind accessors from 6.6 on).
	if got := strings.Join(order[:3], ", "); got != "task\\_struct.state presence, inode.i\\_ctime presence, inode.i\\_mtime presence" {
		t.Errorf("first rows %s, want the three removed fields", got)
	}
	for key, want := range map[string]string{
		"skb/kfree\\_skb protocol": "| moved | skb/kfree\\_skb | protocol | `unsigned short @24/2` | `unsigned short @24/2` | `unsigned short @24/2` | `unsigned short @24/2` | **`unsigned short @32/2`** |" +
			strings.Repeat(" `unsigned short @32/2` |", 6),
		"do\\_sys\\_openat2 return": "| retyped | do\\_sys\\_openat2 | return | `long int` | *no BTF prototype* |" + strings.Repeat(" `long int` |", 4) +
			" **`int`** |" + strings.Repeat(" `int` |", 4),
		// Bold where it moved and where it grew, not where only the signed flag flipped.
		"block/block\\_rq\\_issue rwbs": "| retyped, moved, trivial | block/block\\_rq\\_issue | rwbs | `char[8] @32/8 s` | `char[8] @32/8` | `char[8] @32/8 s` | `char[8] @32/8` |" +
			" **`char[8] @34/8`** | `char[8] @34/8` | **`char[10] @34/10`** |" + strings.Repeat(" `char[10] @34/10` |", 4),
	} {
		if rows[key] != want {
			t.Errorf("row %s\n%s\nwant\n%s", key, rows[key], want)
		}
	}
	if _, listed := rows["sched/sched\\_switch prev\\_comm"]; listed || !strings.Contains(block, "7 trivial changes left out") ||
		!strings.Contains(block, "Watched points, kernels oldest first: 15 of 89 the same on every kernel, 2 changed trivially only.") {
		t.Errorf("trivial changes listed, or not counted:\n%s", block)
	}
}
