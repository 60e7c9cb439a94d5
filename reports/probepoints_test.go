package reports

import (
	"slices"
	"strings"
	"testing"
)

func TestPointsTableFindsMissingPoints(t *testing.T) {
	tp := func(present bool, fields ...TracepointField) WatchedPoint {
		w := WatchedPoint{Kind: PointTracepoint, Name: "skb/kfree_skb", Present: present, Fields: fields}
		if !present {
			w.Error = "no skb/kfree_skb in /sys/kernel/tracing/events"
		}
		return w
	}
	run := func(kernel string, w ...WatchedPoint) Run {
		return Run{Kernel: Kernel{Name: kernel}, Target: "vm", ProbePoints: &ProbePoints{Watch: w}}
	}
	proto := TracepointField{Name: "protocol", Type: "unsigned short", Offset: 24, Size: 2}
	r := &Report{Runs: []Run{
		run("6.1", tp(true, proto)),
		{Kernel: Kernel{Name: "x"}, Target: "vm"}, // no probe points: not a column
		{Kernel: Kernel{Name: "host", Version: "6.18.4"}, Target: "container/default", ProbePoints: &ProbePoints{}}, // not the kernel's own target
		run("5.10", tp(false)),
		run("7.2", tp(true, proto)),
		{Kernel: Kernel{Name: "4.19"}, Target: "vm", ProbePoints: &ProbePoints{Watch: []WatchedPoint{{Kind: PointTracepoint, Name: "skb/kfree_skb", Error: "no tracefs"}}}},
	}}
	pt := NewPointsTable(r)
	if len(pt.Runs) != 4 || pt.Runs[0].Kernel.Name != "4.19" || len(pt.Points) != 1 {
		t.Fatalf("runs %d (first %s) points %d", len(pt.Runs), pt.Runs[0].Kernel.Name, len(pt.Points))
	}
	p := pt.Points[0]
	presence := p.Fields[0]
	// Two reasons for its absence are no change; its coming is.
	if presence.Name != Presence || !slices.Equal(presence.Kinds, []PointChange{PointAdded}) || presence.Cells[1].Change != "" || !slices.Equal(p.Missing, []int{0, 1}) {
		t.Fatalf("presence %+v missing %v", presence, p.Missing)
	}
	var texts []string
	for _, c := range presence.Cells {
		texts = append(texts, c.Text)
	}
	if got := strings.Join(texts, " | "); got != "absent: no tracefs | absent: no skb/kfree_skb in /sys/kernel/tracing/events | present | present" {
		t.Errorf("presence reads %q", got)
	}
	// The field is compared between the runs that have the point only.
	if f := p.Fields[1]; f.Change != "" || f.Cells[1].Has || f.Cells[1].Why != "point absent" {
		t.Errorf("protocol %+v", f)
	}
}

// TestPointsTableUnreadBTF: a run whose kernel BTF could not be read has
// its field and kfunc points "not read", no change, also where a report of
// before held them as absent with the error; its tracepoints compare.
func TestPointsTableUnreadBTF(t *testing.T) {
	pid := WatchedPoint{Kind: PointField, Name: "task_struct.pid", Present: true, Fields: []TracepointField{{Name: "pid", Type: "pid_t", Offset: 2432, Size: 4, Signed: true}}}
	kfunc := WatchedPoint{Kind: PointKfunc, Name: "bpf_task_acquire", Present: true, Prototype: "struct task_struct *bpf_task_acquire(struct task_struct *p)"}
	tp := WatchedPoint{Kind: PointTracepoint, Name: "sched/sched_switch", Present: true}
	run := func(kernel string, btfErr string, w ...WatchedPoint) Run {
		return Run{Kernel: Kernel{Name: kernel, Version: kernel + ".0"}, Target: "vm", ProbePoints: &ProbePoints{Watch: w, HostBTF: &Count{Source: "vmlinux", Error: btfErr}}}
	}
	gone := func(w WatchedPoint) WatchedPoint {
		return WatchedPoint{Kind: w.Kind, Name: w.Name, Error: "kernel BTF: BTF of vmlinux: no .BTF section"}
	}
	r := &Report{Runs: []Run{
		run("6.1", "", tp, pid, kfunc),
		run("6.12", "no .BTF section", tp),                        // as btfwatch writes it now
		run("7.2", "no .BTF section", tp, gone(pid), gone(kfunc)), // as it wrote it before
		run("7.3", "", tp, pid, kfunc),
	}}
	pt := NewPointsTable(r)
	if len(pt.Points) != 3 {
		t.Fatalf("%d points", len(pt.Points))
	}
	for _, p := range pt.Points {
		if p.Change != "" || len(p.Missing) != 0 {
			t.Errorf("%s: change %q, missing %v", p.Name, p.Change, p.Missing)
		}
		for _, f := range p.Fields {
			for ri, c := range f.Cells {
				if want := p.Kind != PointTracepoint && (ri == 1 || ri == 2); want != (!c.Has && c.Why == notRead) {
					t.Errorf("%s %s on %s: %+v", p.Name, f.Name, pt.Runs[ri].Kernel.Name, c)
				}
			}
		}
	}
}

func TestClassifyPointChanges(t *testing.T) {
	field := func(typ string, offset, size int, signed bool) part {
		return fieldPart(TracepointField{Name: "f", Type: typ, Offset: offset, Size: size, Signed: signed})
	}
	param := func(p string) part { return protoPart(p, paramType(p)) }
	// A struct field from BTF, its offset in bits too; a bitfield of width
	// bits at bit into its byte.
	bits := func(typ string, offset, size, bit, width int) part {
		return fieldPart(TracepointField{Name: "f", Type: typ, Offset: offset, Size: size, BitOffset: offset*8 + bit, BitfieldSize: width})
	}
	for _, tc := range []struct {
		name string
		a, b part
		want PointChange
	}{
		{"f", field("unsigned short", 24, 2, false), field("unsigned short", 32, 2, false), PointMoved},
		{"f", bits("pid_t", 2432, 4, 0, 0), bits("pid_t", 2440, 4, 0, 0), PointMoved},
		{"f", bits("unsigned int", 2, 4, 1, 1), bits("unsigned int", 2, 4, 3, 1), PointMoved},
		{"f", bits("unsigned int", 2, 4, 1, 1), bits("unsigned int", 2, 4, 1, 2), PointRetyped},
		{"f", bits("unsigned int", 2, 4, 1, 1), bits("unsigned int", 2, 4, 1, 1), ""},
		{"f", field("int", 24, 4, true), field("long", 24, 8, true), PointRetyped},
		{"f", field("int", 24, 4, true), field("unsigned int", 24, 4, false), PointRetyped},
		{"f", field("pid_t", 24, 4, true), field("int", 24, 4, true), PointRetyped},
		{"f", field("unsigned int", 24, 4, false), field("u32", 24, 4, false), PointTrivial},
		{"f", field("unsigned int", 24, 4, false), field("__u32", 28, 4, false), PointMoved},
		{"f", field("void *", 24, 8, false), field("const void *", 24, 8, false), PointTrivial},
		{"f", field("char[16]", 8, 16, true), field("char[16]", 8, 16, false), PointTrivial},
		{"f", field("__data_loc char[]", 8, 4, true), field("__data_loc char[]", 8, 4, false), PointTrivial},
		{"f", field("char[8]", 32, 8, false), field("char[10]", 34, 10, false), PointRetyped},
		{"common_flags", field("unsigned char", 2, 1, false), field("unsigned char", 3, 1, false), PointTrivial},
		{"f", field("unsigned char", 2, 1, false), field("unsigned char", 3, 1, false), PointMoved},
		{"f", part{}, field("u64", 24, 8, false), PointAdded},
		{"f", field("u64", 24, 8, false), part{}, PointRemoved},
		{"arg 2", param("struct sockaddr *uaddr"), param("struct sockaddr_unsized *uaddr"), PointRetyped},
		{"arg 2", param("struct sockaddr *uaddr"), param("struct sockaddr *addr"), PointTrivial},
		{"arg 1", param("unsigned int flags"), param("u32 flags"), PointTrivial},
		{"return", param("long int"), param("int"), PointRetyped},
		{"return", param("long int"), param("long"), PointTrivial},
		{"arg 3", param("void (*cb)(int)"), param("void (*fn)(int)"), PointRetyped},
	} {
		if tc.want == "" {
			if tc.a.key != tc.b.key {
				t.Errorf("%s: %q and %q differ", tc.name, tc.a.text, tc.b.text)
			}
			continue
		}
		if got := classify(strings.HasPrefix(tc.name, "common_"), tc.a, tc.b); got != tc.want {
			t.Errorf("%s: %q → %q: %q, want %q", tc.name, tc.a.text, tc.b.text, got, tc.want)
		}
	}
}

func TestSplitPrototype(t *testing.T) {
	for _, tc := range []struct {
		proto, name, ret string
		params           []string
		ok               bool
	}{
		{"long int do_sys_openat2(int dfd, const char *filename, struct open_how *how)", "do_sys_openat2", "long int", []string{"int dfd", "const char *filename", "struct open_how *how"}, true},
		{"void f(void)", "f", "void", nil, true},
		{"int g(void (*cb)(int, char *), int n)", "g", "int", []string{"void (*cb)(int, char *)", "int n"}, true},
		{"int printk(const char *fmt, ...)", "printk", "int", []string{"const char *fmt", "..."}, true},
		{"f(?)", "g", "", nil, false},
	} {
		ret, params, ok := splitPrototype(tc.proto, tc.name)
		if ret != tc.ret || !slices.Equal(params, tc.params) || ok != tc.ok {
			t.Errorf("%q: %q %q %v, want %q %q %v", tc.proto, ret, params, ok, tc.ret, tc.params, tc.ok)
		}
	}
	for in, want := range map[string]string{"struct sock *sk": "struct sock *", "unsigned int": "unsigned int", "char *const *argv": "char *const *", "...": "...", "int n": "int"} {
		if got := paramType(in); got != want {
			t.Errorf("paramType(%q) = %q, want %q", in, got, want)
		}
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
