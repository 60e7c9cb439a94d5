package reports

import "testing"

func TestPointsTableFindsMissingPointsAndMovedFields(t *testing.T) {
	tp := func(present bool, fields ...TracepointField) WatchedPoint {
		return WatchedPoint{Kind: PointTracepoint, Name: "skb/kfree_skb", Present: present, Fields: fields}
	}
	common := TracepointField{Name: "common_type", Type: "unsigned short", Size: 2}
	proto := func(p string) WatchedPoint {
		return WatchedPoint{Kind: PointFunction, Name: "tcp_v4_connect", Present: true, Prototype: p}
	}
	run := func(kernel string, w ...WatchedPoint) Run {
		return Run{Kernel: Kernel{Name: kernel}, Target: "vm", ProbePoints: &ProbePoints{Watch: w}}
	}
	r := &Report{Runs: []Run{
		run("5.10", tp(true, common, TracepointField{Name: "protocol", Type: "unsigned short", Offset: 24, Size: 2}), proto("int f(struct sockaddr *)")),
		{Kernel: Kernel{Name: "x"}, Target: "vm"}, // no probe points: not a column
		run("6.12", tp(true, common, TracepointField{Name: "protocol", Type: "unsigned short", Offset: 32, Size: 2}, TracepointField{Name: "reason", Type: "int", Offset: 36, Size: 4, Signed: true}), proto("int f(struct sockaddr *)")),
		run("7.2", tp(false), proto("int f(struct sockaddr_unsized *)")),
	}}
	pt := NewPointsTable(r)
	if len(pt.Runs) != 3 || len(pt.Points) != 2 {
		t.Fatalf("runs %d points %d", len(pt.Runs), len(pt.Points))
	}
	skb := pt.Points[0]
	if len(skb.Missing) != 1 || skb.Missing[0] != 2 || !skb.Differs {
		t.Errorf("kfree_skb missing %v differs %v", skb.Missing, skb.Differs)
	}
	changed := skb.Changed()
	if len(changed) != 2 || changed[0].Name != "protocol" || changed[1].Name != "reason" {
		t.Fatalf("changed %+v", changed)
	}
	if got := changed[0].Layouts; got[0] != "unsigned short @24/2" || got[1] != "unsigned short @32/2" || got[2] != "" {
		t.Errorf("protocol layouts %q", got)
	}
	if got := changed[1].Layouts; got[0] != "" || got[1] != "int @36/4 s" {
		t.Errorf("reason layouts %q", got)
	}
	if fn := pt.Points[1]; !fn.Differs || len(fn.Missing) != 0 {
		t.Errorf("tcp_v4_connect: %+v", fn)
	}

	// The same layout everywhere is no difference.
	same := NewPointsTable(&Report{Runs: []Run{run("a", proto("int f(void)")), run("b", proto("int f(void)"))}})
	if same.Points[0].Differs {
		t.Error("identical prototypes differ")
	}
}

func TestProbeListsPackRoundTrip(t *testing.T) {
	pp := &ProbePoints{}
	in := &ProbeLists{Tracepoints: []string{"syscalls/sys_enter_openat"}, BTFFunctions: []string{"vfs_read", "do_sys_openat2"}}
	if err := pp.PackLists(in); err != nil {
		t.Fatal(err)
	}
	out, err := pp.UnpackLists()
	if err != nil || len(out.BTFFunctions) != 2 || out.Tracepoints[0] != "syscalls/sys_enter_openat" {
		t.Fatalf("%+v %v", out, err)
	}
	pp.ListsGzip = []byte("not gzip")
	if _, err := pp.UnpackLists(); err == nil {
		t.Error("garbage unpacked")
	}
}
