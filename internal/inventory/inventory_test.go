package inventory

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

func TestPrototype(t *testing.T) {
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Signed}
	integer := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	sock := &btf.Struct{Name: "sock"}
	fn := func(name string, ret btf.Type, params ...btf.FuncParam) *btf.Func {
		return &btf.Func{Name: name, Type: &btf.FuncProto{Return: ret, Params: params}}
	}
	for _, tc := range []struct {
		fn   *btf.Func
		want string
	}{
		{fn("do_sys_openat2", &btf.Typedef{Name: "long", Type: integer},
			btf.FuncParam{Name: "dfd", Type: integer},
			btf.FuncParam{Name: "filename", Type: &btf.Pointer{Target: &btf.Const{Type: char}}},
			btf.FuncParam{Name: "how", Type: &btf.Pointer{Target: &btf.Struct{Name: "open_how"}}}),
			"long do_sys_openat2(int dfd, const char *filename, struct open_how *how)"},
		{fn("f", &btf.Void{}), "void f(void)"},
		{fn("printk", integer, btf.FuncParam{Name: "fmt", Type: &btf.Pointer{Target: &btf.Const{Type: char}}}, btf.FuncParam{Type: &btf.Void{}}),
			"int printk(const char *fmt, ...)"},
		{fn("g", &btf.Pointer{Target: sock}, btf.FuncParam{Name: "cb", Type: &btf.Pointer{Target: &btf.FuncProto{Return: integer, Params: []btf.FuncParam{{Type: &btf.Pointer{Target: sock}}}}}},
			btf.FuncParam{Name: "p", Type: &btf.Const{Type: &btf.Pointer{Target: char}}},
			btf.FuncParam{Name: "a", Type: &btf.Pointer{Target: &btf.Array{Type: integer, Nelems: 4}}},
			btf.FuncParam{Name: "u", Type: &btf.Pointer{Target: &btf.TypeTag{Value: "user", Type: char}}}),
			"struct sock *g(int (*cb)(struct sock *), char *const p, int (*a)[4], char *u)"},
	} {
		if got := Prototype(tc.fn); got != tc.want {
			t.Errorf("Prototype(%s) = %q, want %q", tc.fn.Name, got, tc.want)
		}
	}
}

// TestWatchList: the project's list parses and watches every kind.
func TestWatchList(t *testing.T) {
	kinds := map[string]int{}
	for _, p := range Watch {
		kinds[p.Kind]++
	}
	if kinds[reports.PointTracepoint] == 0 || kinds[reports.PointFunction] == 0 || kinds[reports.PointField] < 30 || kinds[reports.PointKfunc] == 0 {
		t.Errorf("watch list kinds %v", kinds)
	}
}

// TestTraceability puts functions in each category from what the sources
// say, and never guesses when one could not be read.
func TestTraceability(t *testing.T) {
	ok := reports.Count{N: 1}
	refused := reports.Count{Error: "open available_filter_functions: operation not permitted"}
	unreadable := &reports.Count{Source: Kallsyms, Error: "open /proc/kallsyms: permission denied"}
	for _, tc := range []struct {
		name          string
		proto, kprobe string
		kallsyms      string
		btf, ftrace   reports.Count
		symbols       *reports.Count
		want          string
	}{
		{"both", "int f(void)", "yes", "", ok, ok, nil, reports.TraceTraceable},
		{"btf", "int f(void)", "no", "yes", ok, ok, &ok, reports.TraceBTFOnly},
		{"btf, kallsyms unread", "int f(void)", "no", "", ok, ok, unreadable, reports.TraceBTFOnly},
		{"kprobe", "", "yes", "", ok, ok, nil, reports.TraceKprobeOnly},
		{"inlined_helper", "", "no", "yes", ok, ok, &ok, reports.TraceKallsymsOnly},
		{"gone", "", "no", "no", ok, ok, &ok, reports.TraceAbsent},
		{"locked", "int f(void)", "", "", ok, refused, nil, "unknown: available_filter_functions: open available_filter_functions: operation not permitted"},
		{"no BTF", "", "no", "no", reports.Count{Error: "open vmlinux: no such file"}, ok, &ok, "unknown: kernel BTF: open vmlinux: no such file"},
		{"no BTF, locked", "", "", "", reports.Count{Error: "x"}, refused, nil, "unknown: kernel BTF: x; available_filter_functions: open"},
		{"nokallsyms", "", "no", "", ok, ok, unreadable, "unknown: in neither kernel BTF nor available_filter_functions, and open /proc/kallsyms: permission denied"},
		{"kallsyms never read", "", "no", "", ok, ok, nil, "unknown: in neither kernel BTF nor available_filter_functions, and /proc/kallsyms was not read"},
	} {
		pp := &reports.ProbePoints{BTFFunctions: tc.btf, KprobeFunctions: tc.ftrace, Kallsyms: tc.symbols}
		w := &reports.WatchedPoint{Name: tc.name, Prototype: tc.proto, Kprobe: tc.kprobe, Kallsyms: tc.kallsyms}
		if got := Traceability(pp, w); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestWatchFunction records what a target alone knows of a function:
// kprobe-able, and only when not, whether its kallsyms has it, read once.
func TestWatchFunction(t *testing.T) {
	syms := filepath.Join(t.TempDir(), "kallsyms")
	if err := os.WriteFile(syms, []byte("0000000000000000 T vfs_read\n0000000000000000 t inlined_helper\n0000000000000000 t mod_fn\t[bpfmatrix]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	kprobeable := map[string]bool{"vfs_read": true}
	ok := reports.Count{N: 1}
	for _, tc := range []struct {
		name    string
		ftrace  reports.Count
		path    string
		want    reports.WatchedPoint
		symbols *reports.Count
	}{
		{"vfs_read", ok, syms, reports.WatchedPoint{Present: true, Kprobe: "yes"}, nil},
		{"inlined_helper", ok, syms, reports.WatchedPoint{Kprobe: "no", Kallsyms: "yes", Error: "not in available_filter_functions"}, &reports.Count{Source: syms, N: 3}},
		{"mod_fn", ok, syms, reports.WatchedPoint{Kprobe: "no", Kallsyms: "yes", Error: "not in available_filter_functions"}, &reports.Count{Source: syms, N: 3}},
		{"gone", ok, syms, reports.WatchedPoint{Kprobe: "no", Kallsyms: "no", Error: "not in available_filter_functions"}, &reports.Count{Source: syms, N: 3}},
		{"gone", ok, "/nonexistent/kallsyms", reports.WatchedPoint{Kprobe: "no", Error: "not in available_filter_functions"},
			&reports.Count{Source: "/nonexistent/kallsyms", Error: "open /nonexistent/kallsyms: no such file or directory"}},
		{"gone", reports.Count{Error: "no tracefs"}, syms, reports.WatchedPoint{Error: "available_filter_functions: no tracefs"}, nil},
	} {
		symbols := newKallsyms(tc.path)
		w := reports.WatchedPoint{Name: tc.name}
		watchFunction(&w, kprobeable, tc.ftrace, symbols)
		tc.want.Name = tc.name
		if !reflect.DeepEqual(w, tc.want) {
			t.Errorf("%s (%s): %+v, want %+v", tc.name, tc.path, w, tc.want)
		}
		if got := symbols.count(); !reflect.DeepEqual(got, tc.symbols) {
			t.Errorf("%s (%s): kallsyms read %+v, want %+v", tc.name, tc.path, got, tc.symbols)
		}
	}
}

// TestSettleFunction completes what the target saw of a function with
// kernel BTF: a BTF entry makes it present with its prototype, none makes
// it absent only when BTF was read.
func TestSettleFunction(t *testing.T) {
	integer := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	fn := &btf.Func{Name: "f", Type: &btf.FuncProto{Return: integer}}
	read, unread := reports.Count{N: 1}, reports.Count{Error: "BTF of vmlinux: no .BTF section"}
	ftrace, noFtrace := reports.Count{N: 1}, reports.Count{Error: "no tracefs"}
	for _, tc := range []struct {
		name         string
		target       reports.WatchedPoint
		fn           *btf.Func
		btf, kprobes reports.Count
		want         reports.WatchedPoint
	}{
		{"traceable", reports.WatchedPoint{Present: true, Kprobe: "yes"}, fn, read, ftrace,
			reports.WatchedPoint{Present: true, Kprobe: "yes", Prototype: "int f(void)", Traceability: reports.TraceTraceable}},
		{"btf-only", reports.WatchedPoint{Kprobe: "no", Kallsyms: "yes", Error: "not in available_filter_functions"}, fn, read, ftrace,
			reports.WatchedPoint{Present: true, Kprobe: "no", Kallsyms: "yes", Prototype: "int f(void)", Traceability: reports.TraceBTFOnly}},
		{"absent", reports.WatchedPoint{Kprobe: "no", Kallsyms: "no", Error: "not in available_filter_functions"}, nil, read, ftrace,
			reports.WatchedPoint{Kprobe: "no", Kallsyms: "no", Error: "not in kernel BTF; not in available_filter_functions", Traceability: reports.TraceAbsent}},
		{"kprobe-only", reports.WatchedPoint{Present: true, Kprobe: "yes"}, nil, read, ftrace,
			reports.WatchedPoint{Present: true, Kprobe: "yes", Traceability: reports.TraceKprobeOnly}},
		{"BTF unread", reports.WatchedPoint{Kprobe: "no", Kallsyms: "no", Error: "not in available_filter_functions"}, nil, unread, ftrace,
			reports.WatchedPoint{Kprobe: "no", Kallsyms: "no", Error: "kernel BTF: BTF of vmlinux: no .BTF section; not in available_filter_functions",
				Traceability: "unknown: kernel BTF: BTF of vmlinux: no .BTF section"}},
		{"ftrace unread", reports.WatchedPoint{Error: "available_filter_functions: no tracefs"}, fn, read, noFtrace,
			reports.WatchedPoint{Present: true, Prototype: "int f(void)", Traceability: "unknown: available_filter_functions: no tracefs"}},
		{"neither read", reports.WatchedPoint{Error: "available_filter_functions: no tracefs"}, nil, unread, noFtrace,
			reports.WatchedPoint{Error: "kernel BTF: BTF of vmlinux: no .BTF section; available_filter_functions: no tracefs",
				Traceability: "unknown: kernel BTF: BTF of vmlinux: no .BTF section; available_filter_functions: no tracefs"}},
	} {
		pp := &reports.ProbePoints{BTFFunctions: tc.btf, KprobeFunctions: tc.kprobes}
		w := tc.target
		w.Name, tc.want.Name = "f", "f"
		SettleFunction(pp, &w, tc.fn)
		if !reflect.DeepEqual(w, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, w, tc.want)
		}
	}
}

func TestParseWatchList(t *testing.T) {
	points, err := parseWatchList("w", strings.NewReader("# c\n\ntracepoint syscalls/sys_enter_openat  # opensnoop\nfunction vfs_read\nfield sock.__sk_common.skc_daddr\nkfunc bpf_task_acquire\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Point{{reports.PointTracepoint, "syscalls/sys_enter_openat"}, {reports.PointFunction, "vfs_read"},
		{reports.PointField, "sock.__sk_common.skc_daddr"}, {reports.PointKfunc, "bpf_task_acquire"}}
	if !slices.Equal(points, want) {
		t.Fatalf("points %+v", points)
	}
	if points[1].InBTF() || !points[2].InBTF() || !points[3].InBTF() {
		t.Errorf("InBTF wrong: %+v", points)
	}
	for in, msg := range map[string]string{
		"kprobe vfs_read\n":                      `line 1: kind "kprobe"`,
		"tracepoint sys_enter_openat\n":          "want system/event",
		"function vfs_read\nfunction vfs_read\n": "line 2: function vfs_read is listed twice",
		"function a b\n":                         `want "tracepoint system/event", "function name", "field struct.member" or "kfunc name"`,
		"function sched/x\n":                     "want a kernel symbol",
		"kfunc bpf.x\n":                          `kfunc "bpf.x": want a kernel symbol`,
		"field task_struct\n":                    `field "task_struct": want struct.member`,
		"field task_struct..pid\n":               "want struct.member",
		"field task_struct.pid[0]\n":             "want struct.member",
	} {
		if _, err := parseWatchList("w", strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), msg) || !strings.HasPrefix(err.Error(), "watch list w") {
			t.Errorf("parseWatchList(%q) = %v, want %q", in, err, msg)
		}
	}
}

// TestTakeLiveKernel takes the running kernel's inventory and checks it
// against independent reads: the syscall tracepoints are the entries of
// events/syscalls, each watched tracepoint present has the fields of its
// format file, and a watched function is looked up in ftrace's list and
// kallsyms only: kernel BTF is read on the host.
func TestTakeLiveKernel(t *testing.T) {
	tracefs := liveTracefs(t)
	watch := []Point{{reports.PointTracepoint, "syscalls/sys_enter_openat"}, {reports.PointTracepoint, "nosuch/event"},
		{reports.PointFunction, "vfs_read"}, {reports.PointFunction, "bpfmatrix_no_such_function"}}
	pp, lists := Take(tracefs, watch)
	if pp.Tracepoints.Error != "" || pp.Tracepoints.N != len(lists.Tracepoints) || pp.Tracepoints.N < 100 {
		t.Fatalf("tracepoints %+v (%d listed)", pp.Tracepoints, len(lists.Tracepoints))
	}
	entries, err := os.ReadDir(tracefs + "/events/syscalls")
	if err == nil {
		dirs := 0
		for _, e := range entries {
			if e.IsDir() {
				dirs++
			}
		}
		if pp.SyscallTracepoints.N != dirs {
			t.Errorf("syscall tracepoints %d, events/syscalls has %d", pp.SyscallTracepoints.N, dirs)
		}
	}
	// A refused read is recorded as the kernel's error, never as zero.
	if _, err := os.ReadFile(tracefs + "/available_filter_functions"); err != nil {
		if pp.KprobeFunctions.Error == "" {
			t.Errorf("available_filter_functions is unreadable (%v) but the count says %d", err, pp.KprobeFunctions.N)
		}
	} else if pp.KprobeFunctions.N == 0 || pp.KprobeFunctions.Error != "" {
		t.Errorf("available_filter_functions is readable but the count is %+v", pp.KprobeFunctions)
	}
	// Kernel BTF is the runner's: the target reads none of it.
	if pp.BTFFunctions != (reports.Count{}) || lists.BTFFunctions != nil {
		t.Errorf("Take read BTF functions: %+v, %d names", pp.BTFFunctions, len(lists.BTFFunctions))
	}
	if len(pp.Watch) != 4 {
		t.Fatalf("watch %+v", pp.Watch)
	}
	if w := pp.Watch[0]; !w.Present || len(w.Fields) < 5 {
		t.Errorf("sys_enter_openat: %+v", w)
	}
	if w := pp.Watch[1]; w.Present || !strings.Contains(w.Error, "no nosuch/event") {
		t.Errorf("nosuch/event: %+v", w)
	}
	// What the target knows of a function: kprobe-able, and when not,
	// whether kallsyms has it; the rest is SettleFunction's, on the host.
	for _, w := range pp.Watch[2:] {
		if w.Prototype != "" || w.Traceability != "" {
			t.Errorf("%s: settled in the target: %+v", w.Name, w)
		}
	}
	if pp.KprobeFunctions.Error != "" {
		for _, w := range pp.Watch[2:] {
			if w.Kprobe != "" || w.Kallsyms != "" || !strings.HasPrefix(w.Error, "available_filter_functions: ") {
				t.Errorf("%s: %+v, with available_filter_functions unreadable", w.Name, w)
			}
		}
		return
	}
	if w := pp.Watch[2]; !w.Present || w.Kprobe != "yes" || w.Kallsyms != "" {
		t.Errorf("vfs_read: %+v", w)
	}
	missing := pp.Watch[3]
	if missing.Present || missing.Kprobe != "no" {
		t.Errorf("missing function: %+v", missing)
	}
	if _, err := os.ReadFile(Kallsyms); err == nil && (missing.Kallsyms != "no" || pp.Kallsyms == nil || pp.Kallsyms.N < 1000) {
		t.Errorf("missing function: %+v, kallsyms %+v", missing, pp.Kallsyms)
	}
}

// An inventory saved and loaded is the one taken, its lists packed, and
// each count's source says when it was read.
func TestSavedInventorySaysWhenItWasRead(t *testing.T) {
	tracefs := t.TempDir()
	if err := os.MkdirAll(filepath.Join(tracefs, "events", "sched", "sched_switch"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tracefs, "available_filter_functions"), []byte("vfs_read\nveth_xmit [veth]\nvfs_read\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	watch := []Point{{reports.PointFunction, "vfs_read"}, {reports.PointFunction, "tcp_v4_connect"}}
	pp, lists := Take(tracefs, watch)
	path := filepath.Join(t.TempDir(), "run", "probepoints.json")
	if err := Save(path, pp, lists); err != nil {
		t.Fatal(err)
	}
	got, perf, err := Load(path, "earlier")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(tracefs, "available_filter_functions") + " (read earlier)"
	if got.KprobeFunctions != (reports.Count{N: 2, Source: want}) || got.Tracepoints.N != 1 || !strings.HasSuffix(got.Tracepoints.Source, " (read earlier)") {
		t.Errorf("loaded counts %+v, %+v; want 2 kprobe functions from %s and 1 tracepoint", got.KprobeFunctions, got.Tracepoints, want)
	}
	if got.Watch[0].Kprobe != "yes" || got.Watch[1].Kprobe != "no" || !slices.Equal(perf, lists.PerfEventSources) {
		t.Errorf("loaded watch %+v, perf sources %v", got.Watch, perf)
	}
	unpacked, err := got.UnpackLists()
	if err != nil || unpacked == nil || !slices.Equal(unpacked.KprobeFunctions, []string{"veth_xmit", "vfs_read"}) {
		t.Errorf("loaded lists %+v, %v", unpacked, err)
	}
	if err := os.WriteFile(path, []byte("{}"), 0o644); err == nil {
		if _, _, err := Load(path, "earlier"); err == nil {
			t.Error("Load took {} for an inventory")
		}
	}
}
