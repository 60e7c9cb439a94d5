package reports_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
)

// TestPointsTableOfTheRealMatrix classifies the changes the real matrix's
// kernels made to the watch list, each checked against the tracefs formats
// and BTF prototypes in the report.
func TestPointsTableOfTheRealMatrix(t *testing.T) {
	pt := reports.NewPointsTable(fixture.Gzipped(t, "../"+fixture.FullMatrix))
	var labels []string
	for _, run := range pt.Runs {
		labels = append(labels, run.Label())
	}
	// The kernels' own targets only, oldest series first, the host (6.18)
	// among the VMs by its version.
	want := "5.10, 5.10 arm64, 6.1, 6.1 arm64, 6.12, 6.12 arm64, 6.18 host, 7.2, 7.2 arm64, 7.3, 7.3 arm64"
	if got := strings.Join(labels, ", "); got != want {
		t.Fatalf("columns\n%s\nwant\n%s", got, want)
	}
	rows := map[string]reports.FieldRow{}
	points := map[string]reports.PointRow{}
	for _, p := range pt.Points {
		points[p.Name] = p
		for _, f := range p.Fields {
			rows[p.Name+" "+f.Name] = f
		}
	}
	for _, tc := range []struct {
		row    string
		change reports.PointChange
		kinds  []reports.PointChange
		// at is the column of the first cell that changed, and what it says.
		at, text string
	}{
		{"skb/kfree_skb protocol", reports.PointMoved, []reports.PointChange{reports.PointMoved}, "6.12", "unsigned short @32/2"},
		{"skb/kfree_skb reason", reports.PointMoved, []reports.PointChange{reports.PointMoved, reports.PointAdded}, "6.1", "enum skb_drop_reason @28/4"},
		// void * became const void * on 7.2: a qualifier, after it was added.
		{"skb/kfree_skb rx_sk", reports.PointAdded, []reports.PointChange{reports.PointAdded, reports.PointTrivial}, "6.12", "void * @24/8"},
		{"tcp/tcp_retransmit_skb family", reports.PointAdded, []reports.PointChange{reports.PointAdded}, "6.1", "__u16 @32/2"},
		{"tcp/tcp_retransmit_skb saddr", reports.PointMoved, []reports.PointChange{reports.PointMoved}, "6.1", "__u8[4] @34/4"},
		{"tcp/tcp_retransmit_skb err", reports.PointAdded, []reports.PointChange{reports.PointAdded}, "6.18 host", "int @76/4 s"},
		// char[8] signed on amd64, not on arm64; moved on 6.12; char[10] on the host's 6.18.
		{"block/block_rq_issue rwbs", reports.PointRetyped, []reports.PointChange{reports.PointRetyped, reports.PointMoved, reports.PointTrivial}, "5.10 arm64", "char[8] @32/8"},
		{"block/block_rq_issue comm", reports.PointMoved, []reports.PointChange{reports.PointMoved, reports.PointTrivial}, "5.10 arm64", "char[16] @40/16"},
		{"block/block_rq_issue ioprio", reports.PointAdded, []reports.PointChange{reports.PointAdded}, "6.12", "unsigned short @32/2"},
		{"sched/sched_switch prev_comm", reports.PointTrivial, []reports.PointChange{reports.PointTrivial}, "5.10 arm64", "char[16] @8/16"},
		{"sched/sched_process_exec filename", reports.PointTrivial, []reports.PointChange{reports.PointTrivial}, "5.10 arm64", "__data_loc char[] @8/4"},
		{"sched/sched_process_exit group_dead", reports.PointAdded, []reports.PointChange{reports.PointAdded}, "6.18 host", "bool @32/1"},
		{"net/netif_receive_skb net_cookie", reports.PointAdded, []reports.PointChange{reports.PointAdded}, "7.2", "u64 @24/8"},
		{"syscalls/sys_enter_openat __filename_val", reports.PointAdded, []reports.PointChange{reports.PointAdded}, "7.2", "__data_loc char[] @48/4"},
		// long int → int: the return narrowed (5.10 arm64 has no BTF prototype).
		{"do_sys_openat2 return", reports.PointRetyped, []reports.PointChange{reports.PointRetyped}, "6.18 host", "int"},
		{"tcp_v4_connect arg 2", reports.PointRetyped, []reports.PointChange{reports.PointRetyped}, "7.2", "struct sockaddr_unsized *uaddr"},
		{"tcp_v4_connect arg 1", "", nil, "", ""},
		{"vfs_read arg 4", "", nil, "", ""},
		{"sock/inet_sock_set_state sport", "", nil, "", ""},
		{"syscalls/sys_enter_openat common_pid", "", nil, "", ""},
		{"skb/kfree_skb presence", "", nil, "", ""},
	} {
		f, ok := rows[tc.row]
		if !ok {
			t.Errorf("%s: no such row", tc.row)
			continue
		}
		if f.Change != tc.change || !slices.Equal(f.Kinds, tc.kinds) {
			t.Errorf("%s: change %q kinds %q, want %q %q", tc.row, f.Change, f.Kinds, tc.change, tc.kinds)
		}
		at, text := "", ""
		for ri, c := range f.Cells {
			if c.Change != "" {
				at, text = labels[ri], c.Text
				break
			}
		}
		if at != tc.at || text != tc.text {
			t.Errorf("%s: first change on %q: %q, want on %q: %q", tc.row, at, text, tc.at, tc.text)
		}
	}
	if c := rows["do_sys_openat2 arg 1"].Cells[1]; c.Has || c.Why != "no BTF prototype" {
		t.Errorf("do_sys_openat2 on 5.10 arm64: %+v, want no BTF prototype", c)
	}
	for name, want := range map[string]reports.PointChange{"vfs_read": "", "sched/sched_switch": reports.PointTrivial, "skb/kfree_skb": reports.PointMoved, "block/block_rq_issue": reports.PointRetyped} {
		if got := points[name].Change; got != want {
			t.Errorf("point %s: change %q, want %q", name, got, want)
		}
	}
}
