package reports_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
)

func TestCompare(t *testing.T) {
	old := fixture.Report(3, 20)
	new := reports.Merge(old) // a deep enough copy: cells are values
	for i := range new.Runs {
		new.Runs[i].Cells = append([]reports.Cell(nil), new.Runs[i].Cells...)
	}
	find := func(r *reports.Report, ki int, status reports.Status) int {
		for i, c := range r.Runs[ki].Cells {
			if c.Status == status {
				return i
			}
		}
		t.Fatalf("fixture has no %s cell on run %d", status, ki)
		return -1
	}
	reg := find(new, 2, reports.Supported)
	new.Runs[2].Cells[reg].Status = reports.Unsupported
	new.Runs[2].Cells[reg].Evidence = "load program: operation not permitted"
	imp := find(new, 0, reports.Unsupported)
	new.Runs[0].Cells[imp].Status = reports.Supported
	removed := new.Runs[1].Cells[0]
	new.Runs[1].Cells = new.Runs[1].Cells[1:]

	d := reports.Compare(old, new, 10)
	if d.Regressions() != 1 {
		t.Fatalf("changes = %+v, want one regression", d.Changes)
	}
	first := d.Changes[0]
	if first.Kind != reports.Regression || first.Feature != new.Runs[2].Cells[reg].Feature || first.Run.Kernel != "6.12" ||
		first.Evidence != "load program: operation not permitted" {
		t.Errorf("first change = %+v, want the regression on 6.12 with its evidence", first)
	}
	kinds := map[reports.ChangeKind]int{}
	for _, c := range d.Changes {
		kinds[c.Kind]++
		if c.Kind == reports.Removed && c.Feature != removed.Feature {
			t.Errorf("removed %s, want %s", c.Feature, removed.Feature)
		}
	}
	if kinds[reports.Improvement] != 1 || kinds[reports.Removed] != 1 || len(d.Changes) != 3 {
		t.Errorf("kinds = %v", kinds)
	}

	var buf bytes.Buffer
	if err := d.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "regression") || !strings.Contains(out, "supported → unsupported") ||
		!strings.Contains(out, "1 regressions, 1 improvements, 0 other changes, 0 added, 1 removed") {
		t.Errorf("text:\n%s", out)
	}

	if d := reports.Compare(old, old, 10); len(d.Changes) != 0 {
		t.Errorf("Compare(r, r) = %+v", d.Changes)
	}
}

func TestCompareCountsAFlakyConflictAsARegression(t *testing.T) {
	old := fixture.Report(1, 4)
	flaky := old.Runs[0].Cells[0]
	if flaky.Status != reports.Supported {
		t.Fatal("fixture: first cell should be supported")
	}
	flaky.Status, flaky.Evidence = reports.Failed, "attached, but observed 0 events"
	shard := &reports.Report{Schema: 1, Runs: []reports.Run{{Kernel: old.Runs[0].Kernel, Target: "vm", Cells: []reports.Cell{flaky}}}}
	d := reports.Compare(old, reports.Merge(old, shard), 10)
	if d.Regressions() != 1 || d.Changes[0].Evidence != "attached, but observed 0 events" {
		t.Errorf("changes = %+v, want a regression with the failing shard's evidence", d.Changes)
	}
}

// objectReport is one column holding one cell per given state of the
// program probe.bpf.o/handle_exec: more than one is a conflict of shards.
func objectReport(states ...objectState) *reports.Report {
	run := reports.Run{Kernel: reports.Kernel{Name: "6.1"}, Target: "vm", Status: "ok"}
	for _, s := range states {
		c := reports.Cell{Feature: reports.ObjectID("probe.bpf.o", "handle_exec"), Area: reports.AreaObjects,
			Status: s.status, Evidence: s.evidence}
		if !s.noObject {
			c.Object = &reports.Object{File: "probe.bpf.o", Program: "handle_exec", Section: "tracepoint/sched/sched_process_exec",
				Type: "TracePoint", Asked: reports.ObjectFired, Reached: s.reached}
			if s.asked != "" {
				c.Object.Asked = s.asked
			}
			if s.insns > 0 {
				c.Object.Verifier = &reports.Verifier{InsnsProcessed: s.insns}
			}
		}
		run.Cells = append(run.Cells, c)
	}
	return &reports.Report{Schema: reports.SchemaVersion, Runs: []reports.Run{run}}
}

type objectState struct {
	reached  reports.ObjectStage
	asked    reports.ObjectStage // default fired
	insns    int
	status   reports.Status
	evidence string
	noObject bool
}

func TestCompareObjects(t *testing.T) {
	fired := objectState{reached: reports.ObjectFired, insns: 12345, status: reports.Supported, evidence: "run count rose by 12"}
	with := func(s objectState, change func(*objectState)) objectState { change(&s); return s }
	attached := with(fired, func(s *objectState) {
		s.reached, s.status, s.evidence = reports.ObjectAttached, reports.Failed, "attached, but its run count stayed 0"
	})
	rejected := objectState{status: reports.Unsupported, evidence: "load program handle_exec: invalid argument"}
	insns := func(n int) objectState { return with(fired, func(s *objectState) { s.insns = n }) }
	for _, tc := range []struct {
		name      string
		old, new  []objectState
		threshold float64
		want      []string // kind and what of each change, in order
	}{
		{"the same", []objectState{fired}, []objectState{fired}, 10, nil},
		{"fired to attach", []objectState{fired}, []objectState{attached}, 10, []string{"regression reached fired → attach"}},
		{"fired to none", []objectState{fired}, []objectState{rejected}, 10, []string{"regression reached fired → none"}},
		{"asked for less", []objectState{fired}, []objectState{with(fired, func(s *objectState) { s.reached, s.asked = reports.ObjectLoaded, reports.ObjectLoaded })}, 10,
			[]string{"changed reached fired → load"}},
		{"none to fired", []objectState{rejected}, []objectState{fired}, 10, []string{"improvement reached none → fired"}},
		{"attached to fired, insns the same", []objectState{attached}, []objectState{fired}, 10, []string{"improvement reached attach → fired"}},
		{"insns up 9.99%", []objectState{insns(10000)}, []objectState{insns(10999)}, 10, nil},
		{"insns up 10.01%", []objectState{insns(10000)}, []objectState{insns(11001)}, 10, []string{"regression insns 10000 → 11001 (+10.0%, more than 10%)"}},
		{"insns up 50%, threshold 60", []objectState{insns(10000)}, []objectState{insns(15000)}, 60, nil},
		{"insns up 1, threshold 0", []objectState{insns(10000)}, []objectState{insns(10001)}, 0, []string{"regression insns 10000 → 10001 (+0.0%, more than 0%)"}},
		{"insns down 20%", []objectState{insns(10000)}, []objectState{insns(8000)}, 10, []string{"improvement insns 10000 → 8000 (-20.0%)"}},
		{"stage lost and insns up", []objectState{fired}, []objectState{with(attached, func(s *objectState) { s.insns = 20000 })}, 10,
			[]string{"regression reached fired → attach", "regression insns 12345 → 20000 (+62.0%, more than 10%)"}},
		{"fired only sometimes", []objectState{fired}, []objectState{fired, attached}, 10, []string{"regression reached fired → attach|fired"}},
		{"a conflict compared with itself", []objectState{fired, attached}, []objectState{fired, attached}, 10, nil},
		{"another refusal, no stage lost", []objectState{rejected}, []objectState{with(rejected, func(s *objectState) { s.status = reports.Blocked })}, 10,
			[]string{"changed unsupported → blocked"}},
		{"a new cell without its object compares by status", []objectState{fired}, []objectState{{status: reports.Error, evidence: "the suite wrote no cell", noObject: true}}, 10,
			[]string{"regression supported → error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := reports.Compare(objectReport(tc.old...), objectReport(tc.new...), tc.threshold)
			var got []string
			for _, c := range d.Changes {
				what := c.What
				if what == "" {
					what = string(c.Old[0]) + " → " + string(c.New[0])
				}
				got = append(got, string(c.Kind)+" "+what)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestCompareObjectsText pins the lines `bpfmatrix report diff` prints for
// object regressions: file/program, kernel and target, old → new, and the
// new cell's evidence.
func TestCompareObjectsText(t *testing.T) {
	old := objectReport(objectState{reached: reports.ObjectFired, insns: 12345, status: reports.Supported})
	stage := objectReport(objectState{status: reports.Unsupported, evidence: "load program handle_exec: invalid argument\nunknown func bpf_loop#181"})
	insns := objectReport(objectState{reached: reports.ObjectFired, insns: 15002, status: reports.Supported})
	for _, tc := range []struct {
		new  *reports.Report
		want string
	}{
		{stage, "regression  6.1 vm                 probe.bpf.o/handle_exec          reached fired → none  (load program handle_exec: invalid argument)\n" +
			"1 regressions, 0 improvements, 0 other changes, 0 added, 0 removed\n"},
		{insns, "regression  6.1 vm                 probe.bpf.o/handle_exec          insns 12345 → 15002 (+21.5%, more than 10%)\n" +
			"1 regressions, 0 improvements, 0 other changes, 0 added, 0 removed\n"},
	} {
		var buf bytes.Buffer
		if err := reports.Compare(old, tc.new, 10).WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		if buf.String() != tc.want {
			t.Errorf("text:\n%q\nwant:\n%q", buf.String(), tc.want)
		}
	}
}

// TestCompareNamesColumnsOnlyOneSideHas: a kernel added to the matrix or
// dropped from it is said once, as a column, beside its cells' changes.
func TestCompareNamesColumnsOnlyOneSideHas(t *testing.T) {
	// 5.10, 6.1 and 6.12 before; 6.1, 6.12 and two shards of 6.18 now.
	old := fixture.Report(3, 4)
	new := &reports.Report{Schema: reports.SchemaVersion, Runs: fixture.Report(4, 4).Runs[1:]}
	new.Runs = append(new.Runs, fixture.Run(3, 2))
	d := reports.Compare(old, new, 10)
	if len(d.AddedRuns) != 1 || d.AddedRuns[0] != (reports.RunKey{Kernel: "6.18", Arch: "amd64", Target: "vm"}) ||
		len(d.RemovedRuns) != 1 || d.RemovedRuns[0] != (reports.RunKey{Kernel: "5.10", Arch: "amd64", Target: "vm"}) {
		t.Errorf("added %v, removed %v; want 6.18 vm once and 5.10 vm", d.AddedRuns, d.RemovedRuns)
	}
	if same := reports.Compare(old, old, 10); same.AddedRuns != nil || same.RemovedRuns != nil {
		t.Errorf("a report against itself: added %v, removed %v", same.AddedRuns, same.RemovedRuns)
	}
}

// TestCompareDrift: the same run of two reports, its watched points changed
// the ways a kernel update changes them; each is one drift line, classified
// as the probe points table does, and a trivial change, a point only one
// report watched, or one whose kernel BTF could not be read is none.
func TestCompareDrift(t *testing.T) {
	field := func(name, typ string, offset, size int) reports.TracepointField {
		return reports.TracepointField{Name: name, Type: typ, Offset: offset, Size: size, BitOffset: offset * 8}
	}
	point := func(kind, name string, present bool, fields ...reports.TracepointField) reports.WatchedPoint {
		w := reports.WatchedPoint{Kind: kind, Name: name, Present: present, Fields: fields}
		if !present {
			w.Error = "struct task_struct has no member " + name
		}
		return w
	}
	fn := func(kind, name, proto string) reports.WatchedPoint {
		return reports.WatchedPoint{Kind: kind, Name: name, Present: true, Prototype: proto, Traceability: reports.TraceTraceable}
	}
	// Each point as the old report and the new one saw it.
	changes := [][2]reports.WatchedPoint{
		{point(reports.PointField, "task_struct.state", true, field("state", "volatile long int", 16, 8)), point(reports.PointField, "task_struct.state", false)},
		{point(reports.PointField, "task_struct.__state", false), point(reports.PointField, "task_struct.__state", true, field("__state", "unsigned int", 24, 4))},
		{point(reports.PointField, "task_struct.pid", true, field("pid", "pid_t", 2432, 4)), point(reports.PointField, "task_struct.pid", true, field("pid", "pid_t", 2440, 4))},
		{point(reports.PointField, "inode.i_ctime", true, field("i_ctime", "struct timespec64", 88, 16)), point(reports.PointField, "inode.i_ctime", true, field("i_ctime", "time64_t", 88, 8))},
		{point(reports.PointField, "inode.i_ino", true, field("i_ino", "long unsigned int", 64, 8)), point(reports.PointField, "inode.i_ino", true, field("i_ino", "long unsigned int", 64, 8))},
		{point(reports.PointTracepoint, "skb/kfree_skb", true, field("skbaddr", "void *", 8, 8), field("location", "void *", 16, 8)),
			point(reports.PointTracepoint, "skb/kfree_skb", true, field("skbaddr", "void *", 8, 8), field("reason", "int", 24, 4))},
		{fn(reports.PointFunction, "tcp_v4_connect", "int tcp_v4_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len)"),
			fn(reports.PointFunction, "tcp_v4_connect", "int tcp_v4_connect(struct sock *sk, struct sockaddr_unsized *uaddr, int addr_len)")},
		// Trivial: another spelling of the same type, a parameter renamed.
		{point(reports.PointField, "task_struct.flags", true, field("flags", "unsigned int", 44, 4)), point(reports.PointField, "task_struct.flags", true, field("flags", "const u32", 44, 4))},
		{fn(reports.PointKfunc, "bpf_task_acquire", "struct task_struct *bpf_task_acquire(struct task_struct *p)"),
			fn(reports.PointKfunc, "bpf_task_acquire", "struct task_struct *bpf_task_acquire(struct task_struct *task)")},
		// Watched by one report only: an edited list, not drift.
		{point(reports.PointField, "only.old", true, field("old", "int", 0, 4)), point(reports.PointField, "only.new", true, field("new", "int", 0, 4))},
	}
	old, new := &reports.Report{}, &reports.Report{}
	for i, r := range []*reports.Report{old, new} {
		pp := &reports.ProbePoints{}
		for _, c := range changes {
			pp.Watch = append(pp.Watch, c[i])
		}
		r.Runs = []reports.Run{{Kernel: reports.Kernel{Name: "6.12", Arch: "amd64"}, Target: "vm", ProbePoints: pp}}
		// A second run whose new kernel BTF could not be read: no drift,
		// also where a report of before held its points as absent.
		unread := &reports.ProbePoints{Watch: []reports.WatchedPoint{point(reports.PointField, "task_struct.pid", true, field("pid", "pid_t", 2432, 4))}}
		if r == new {
			unread.HostBTF = &reports.Count{Source: "vmlinux", Error: "no .BTF section"}
			unread.Watch[0] = reports.WatchedPoint{Kind: reports.PointField, Name: "task_struct.pid", Error: "kernel BTF: no .BTF section"}
		}
		r.Runs = append(r.Runs, reports.Run{Kernel: reports.Kernel{Name: "6.1", Arch: "amd64"}, Target: "vm", ProbePoints: unread})
	}
	d := reports.Compare(old, new, 10)
	var got []string
	for _, p := range d.Drift {
		got = append(got, string(p.Change)+" "+p.Name+" "+p.Field+": "+p.Old+" → "+p.New)
	}
	want := []string{
		"removed task_struct.state : volatile long int @16/8 → absent: struct task_struct has no member task_struct.state",
		"added task_struct.__state : absent: struct task_struct has no member task_struct.__state → unsigned int @24/4",
		"moved task_struct.pid : pid_t @2432/4 → pid_t @2440/4",
		"retyped inode.i_ctime : struct timespec64 @88/16 → time64_t @88/8",
		"removed skb/kfree_skb location: void * @16/8 → ",
		"added skb/kfree_skb reason:  → int @24/4",
		"retyped tcp_v4_connect arg 2: struct sockaddr *uaddr → struct sockaddr_unsized *uaddr",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("drift:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d.Regressions() != 0 || len(d.Changes) != 0 {
		t.Errorf("drift made cell changes: %+v", d.Changes)
	}
	var buf bytes.Buffer
	if err := d.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, line := range []string{
		"drift       6.12 vm                field task_struct.pid            pid_t @2432/4 → pid_t @2440/4\n",
		"drift       6.12 vm                tracepoint skb/kfree_skb .location void * @16/8 → absent\n",
		"drift       6.12 vm                function tcp_v4_connect .arg 2   struct sockaddr *uaddr → struct sockaddr_unsized *uaddr\n",
		"7 probe point changes (2 removed, 2 retyped, 1 moved, 2 added; 2 trivial not shown)\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("text lacks %q:\n%s", line, out)
		}
	}
}
