package inventory

import (
	"os"
	"path/filepath"
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
	syms := filepath.Join(t.TempDir(), "kallsyms")
	if err := os.WriteFile(syms, []byte("0000000000000000 T vfs_read\n0000000000000000 t inlined_helper\n0000000000000000 t mod_fn\t[bpfmatrix]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ok := reports.Count{N: 1}
	refused := reports.Count{Error: "open available_filter_functions: operation not permitted"}
	for _, tc := range []struct {
		name          string
		proto, kprobe string
		btf, ftrace   reports.Count
		kallsyms      string
		want          string
	}{
		{"both", "int f(void)", "yes", ok, ok, syms, reports.TraceTraceable},
		{"btf", "int f(void)", "no", ok, ok, syms, reports.TraceBTFOnly},
		{"kprobe", "", "yes", ok, ok, syms, reports.TraceKprobeOnly},
		{"inlined_helper", "", "no", ok, ok, syms, reports.TraceKallsymsOnly},
		{"mod_fn", "", "no", ok, ok, syms, reports.TraceKallsymsOnly},
		{"gone", "", "no", ok, ok, syms, reports.TraceAbsent},
		{"locked", "int f(void)", "", ok, refused, syms, "unknown: available_filter_functions: open available_filter_functions: operation not permitted"},
		{"nokallsyms", "", "no", ok, ok, filepath.Join(t.TempDir(), "none"), "unknown: in neither kernel BTF nor available_filter_functions, and open "},
	} {
		w := &reports.WatchedPoint{Name: tc.name, Prototype: tc.proto, Kprobe: tc.kprobe}
		if got := traceability(w, tc.btf, tc.ftrace, newKallsyms(tc.kallsyms)); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
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
// events/syscalls, BTF's count is cilium/ebpf's, and each watched tracepoint
// present has the fields of its format file.
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
	if spec, err := btf.LoadKernelSpec(); err == nil {
		n := 0
		for typ := range spec.All() {
			if _, ok := typ.(*btf.Func); ok {
				n++
			}
		}
		// Names are deduplicated; a few static functions share a name.
		if pp.BTFFunctions.N == 0 || pp.BTFFunctions.N > n || pp.BTFFunctions.N < n*9/10 {
			t.Errorf("BTF functions %+v, kernel BTF has %d FUNC entries", pp.BTFFunctions, n)
		}
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
	if w := pp.Watch[2]; pp.BTFFunctions.Error == "" && (!w.Present || !strings.Contains(w.Prototype, "vfs_read(struct file *")) {
		t.Errorf("vfs_read: %+v", w)
	}
	if w := pp.Watch[3]; w.Present || !strings.Contains(w.Error, "not in kernel BTF") {
		t.Errorf("missing function: %+v", w)
	}
	// The category follows from what was read, or says what was not.
	for _, w := range pp.Watch[2:] {
		if pp.KprobeFunctions.Error != "" && !strings.HasPrefix(w.Traceability, "unknown: available_filter_functions: ") {
			t.Errorf("%s: %q, with available_filter_functions unreadable", w.Name, w.Traceability)
		}
	}
	if pp.KprobeFunctions.Error == "" && pp.BTFFunctions.Error == "" && pp.Watch[3].Traceability != reports.TraceAbsent {
		t.Errorf("missing function: %q", pp.Watch[3].Traceability)
	}
}
