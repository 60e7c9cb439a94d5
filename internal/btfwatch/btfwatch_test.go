package btfwatch

import (
	"encoding/binary"
	"errors"
	"github.com/bpfmatrix/bpfmatrix/internal/inventory"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/vmimages"
)

// cached returns the vmlinux (amd64) or Image (arm64) of a kernel series in
// the kernel cache, skipping the test, naming what is missing, when none is.
func cached(t *testing.T, series, arch string) string {
	t.Helper()
	dir := filepath.Join(vmimages.DefaultCacheDir(), "kernels")
	file := "vmlinux"
	if arch == "arm64" {
		file = "root/boot/vmlinuz-*"
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "linux-image-"+series+".*-cloud-"+arch+"_*", file))
	if len(matches) == 0 {
		t.Skipf("no cached %s %s kernel under %s (bpfmatrix run --kernel %s --arch %s caches it)", series, arch, dir, series, arch)
	}
	return matches[len(matches)-1]
}

func load(t *testing.T, path string) *btf.Spec {
	t.Helper()
	start := time.Now()
	spec, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read the BTF of %s in %v", path, time.Since(start))
	return spec
}

func field(t *testing.T, spec *btf.Spec, path string) (reports.TracepointField, bool) {
	t.Helper()
	f, err := Field(spec, path)
	if err != nil && !strings.Contains(err.Error(), "has no member") {
		t.Fatalf("%s: %v", path, err)
	}
	return f, err == nil
}

// TestRealKernels reads the cached 5.10 and 6.12 kernels' BTF and checks
// what is known of them: task_struct's state became __state in 5.14, and
// the offsets pahole prints for these builds.
func TestRealKernels(t *testing.T) {
	for _, tc := range []struct {
		series, arch string
		present      string // the state field this kernel has
		absent       string
		stateType    string
		// Layouts as `bpftool btf dump file vmlinux format raw` prints
		// them for these builds (bits_offset, bitfield_size).
		known map[string]reports.TracepointField
	}{
		{"5.10", "amd64", "task_struct.state", "task_struct.__state", "volatile long int", map[string]reports.TracepointField{
			// Inside an anonymous union, inside an anonymous struct.
			"sock_common.skc_dport": {Name: "skc_dport", Type: "__be16", Offset: 12, Size: 2, BitOffset: 96},
			"sock_common.skc_num":   {Name: "skc_num", Type: "__u16", Offset: 14, Size: 2, BitOffset: 112},
			// unsigned char skc_reuse:4.
			"sock_common.skc_reuse": {Name: "skc_reuse", Type: "unsigned char", Offset: 19, Size: 1, BitOffset: 152, BitfieldSize: 4},
		}},
		{"6.12", "amd64", "task_struct.__state", "task_struct.state", "unsigned int", map[string]reports.TracepointField{
			"task_struct.pid":            {Name: "pid", Type: "pid_t", Offset: 2432, Size: 4, Signed: true, BitOffset: 19456},
			"task_struct.comm":           {Name: "comm", Type: "char [16]", Offset: 2976, Size: 16, BitOffset: 23808},
			"sock.__sk_common.skc_daddr": {Name: "skc_daddr", Type: "__be32", Offset: 0, Size: 4},
		}},
	} {
		t.Run(tc.series+"-"+tc.arch, func(t *testing.T) {
			spec := load(t, cached(t, tc.series, tc.arch))
			state, ok := field(t, spec, tc.present)
			if !ok {
				t.Fatalf("%s absent", tc.present)
			}
			if state.Type != tc.stateType || state.Size != map[string]int{"volatile long int": 8, "unsigned int": 4}[tc.stateType] {
				t.Errorf("%s: %+v, want type %s", tc.present, state, tc.stateType)
			}
			if _, ok := field(t, spec, tc.absent); ok {
				t.Errorf("%s present", tc.absent)
			}
			for path, want := range tc.known {
				if got, _ := field(t, spec, path); got != want {
					t.Errorf("%s: %+v, want %+v", path, got, want)
				}
			}
		})
	}
}

// TestARM64Image finds the BTF inside a cached arm64 Image, which has no ELF
// headers, and reads the same task_struct change from it.
func TestARM64Image(t *testing.T) {
	spec := load(t, cached(t, "6.12", "arm64"))
	if f, ok := field(t, spec, "task_struct.__state"); !ok || f.Type != "unsigned int" {
		t.Errorf("task_struct.__state: %+v, %v", f, ok)
	}
}

// TestAddLiveKernel adds the kernel's BTF functions and the watch list's
// BTF points from the running kernel's BTF, settles the functions a target
// recorded, and each error names what is missing.
func TestAddLiveKernel(t *testing.T) {
	if _, err := os.Stat(inventory.BTFSource); err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	watch := append(slices.Clone(inventory.Watch),
		inventory.Point{Kind: reports.PointField, Name: "task_struct.bpfmatrix_no_such"},
		inventory.Point{Kind: reports.PointField, Name: "bpfmatrix_no_such.x"},
		inventory.Point{Kind: reports.PointField, Name: "task_struct.pid.x"},
		inventory.Point{Kind: reports.PointKfunc, Name: "bpfmatrix_no_such_kfunc"})
	// As a target with ftrace recorded them (inventory.Take).
	pp := &reports.ProbePoints{KprobeFunctions: reports.Count{N: 1}, Watch: []reports.WatchedPoint{
		{Kind: reports.PointFunction, Name: "vfs_read", Present: true, Kprobe: "yes"},
		{Kind: reports.PointFunction, Name: "bpfmatrix_no_such_function", Kprobe: "no", Kallsyms: "no", Error: "not in available_filter_functions"},
	}}
	lists := &reports.ProbeLists{}
	took := Add(pp, lists, inventory.BTFSource, watch)
	t.Logf("read %s (%d types) and looked up %d points in %v", inventory.BTFSource, pp.HostBTF.N, len(pp.Watch), took)
	if pp.HostBTF.Error != "" || pp.HostBTF.N < 10000 {
		t.Fatalf("host BTF %+v", pp.HostBTF)
	}
	if pp.BTFFunctions.Error != "" || pp.BTFFunctions.Source != inventory.BTFSource || pp.BTFFunctions.N < 10000 ||
		len(lists.BTFFunctions) != pp.BTFFunctions.N || !slices.IsSorted(lists.BTFFunctions) || !slices.Contains(lists.BTFFunctions, "vfs_read") {
		t.Errorf("BTF functions %+v, %d listed", pp.BTFFunctions, len(lists.BTFFunctions))
	}
	if w := pp.Watch[0]; !w.Present || !strings.Contains(w.Prototype, "vfs_read(struct file *") || w.Traceability != reports.TraceTraceable || w.Error != "" {
		t.Errorf("vfs_read: %+v", w)
	}
	if w := pp.Watch[1]; w.Present || w.Prototype != "" || w.Traceability != reports.TraceAbsent || w.Error != "not in kernel BTF; not in available_filter_functions" {
		t.Errorf("missing function: %+v", w)
	}
	byName := map[string]reports.WatchedPoint{}
	for _, w := range pp.Watch[2:] {
		if w.Kind != reports.PointField && w.Kind != reports.PointKfunc {
			t.Errorf("%s %s added from BTF", w.Kind, w.Name)
		}
		byName[w.Name] = w
	}
	for name, want := range map[string]string{
		"task_struct.bpfmatrix_no_such": "struct task_struct has no member bpfmatrix_no_such",
		"bpfmatrix_no_such.x":           "no struct or union bpfmatrix_no_such in kernel BTF",
		"task_struct.pid.x":             "task_struct.pid is pid_t, which has no members",
		"bpfmatrix_no_such_kfunc":       "no function bpfmatrix_no_such_kfunc in kernel BTF",
	} {
		if w := byName[name]; w.Present || !strings.Contains(w.Error, want) {
			t.Errorf("%s: %+v, want error %q", name, w, want)
		}
	}
	if w := byName["task_struct.pid"]; !w.Present || len(w.Fields) != 1 || w.Fields[0].Type != "pid_t" || w.Fields[0].Size != 4 {
		t.Errorf("task_struct.pid: %+v", w)
	}
	if w := byName["bpf_task_acquire"]; !w.Present || !strings.Contains(w.Prototype, "bpf_task_acquire(struct task_struct *") {
		t.Errorf("bpf_task_acquire: %+v", w)
	}

	if pp.HostBTF.Source != inventory.BTFSource {
		t.Errorf("source %q, want %s", pp.HostBTF.Source, inventory.BTFSource)
	}
}

// TestAddUnreadable: a kernel file whose BTF cannot be read adds no field
// or kfunc points, since an error says nothing of what the kernel has, and
// records the file by its base name, not a path into this machine's cache.
func TestAddUnreadable(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "Image")
	if err := os.WriteFile(garbage, []byte("not a kernel"), 0o644); err != nil {
		t.Fatal(err)
	}
	watch := []inventory.Point{{Kind: reports.PointField, Name: "task_struct.pid"}, {Kind: reports.PointKfunc, Name: "bpf_task_acquire"}}
	for path, want := range map[string]string{
		filepath.Join(dir, "vmlinux"): "open vmlinux: no such file or directory",
		garbage:                       "BTF of Image: neither an ELF file nor raw BTF",
	} {
		pp := &reports.ProbePoints{KprobeFunctions: reports.Count{N: 1}, Watch: []reports.WatchedPoint{
			{Kind: reports.PointTracepoint, Name: "sched/sched_switch", Present: true},
			{Kind: reports.PointFunction, Name: "inlined_helper", Kprobe: "no", Kallsyms: "no", Error: "not in available_filter_functions"},
		}}
		lists := &reports.ProbeLists{}
		Add(pp, lists, path, watch)
		if pp.HostBTF == nil || pp.HostBTF.Source != filepath.Base(path) || !strings.HasPrefix(pp.HostBTF.Error, want) || strings.Contains(pp.HostBTF.Error, dir) {
			t.Errorf("%s: host BTF %+v, want source %s and an error starting %q", path, pp.HostBTF, filepath.Base(path), want)
		}
		if pp.BTFFunctions != *pp.HostBTF || lists.BTFFunctions != nil {
			t.Errorf("%s: BTF functions %+v, %d listed; want host BTF's error %+v", path, pp.BTFFunctions, len(lists.BTFFunctions), pp.HostBTF)
		}
		if len(pp.Watch) != 2 {
			t.Errorf("%s: unreadable BTF added points %+v", path, pp.Watch[2:])
		}
		// In neither ftrace nor kallsyms, but whether it is in BTF is not
		// known: never absent.
		if w := pp.Watch[1]; w.Present || w.Traceability != "unknown: kernel BTF: "+pp.HostBTF.Error || !strings.HasPrefix(w.Error, "kernel BTF: ") {
			t.Errorf("%s: function %+v, want its traceability unknown for want of kernel BTF", path, w)
		}
	}
}

// TestAddRealKernelFunctions reads the BTF functions of cached kernels on
// the host, as the runner does, and finds what their guests read of their
// own /sys/kernel/btf/vmlinux in the 2026-12-02 matrix: the same count of
// names, the same prototypes, and 5.10 arm64's do_sys_openat2 missing from
// BTF (kprobe-only).
func TestAddRealKernelFunctions(t *testing.T) {
	for _, tc := range []struct {
		series, arch string
		functions    int
		protos       map[string]string // "" where BTF has no entry
	}{
		{"7.2", "amd64", 51797, map[string]string{
			"do_sys_openat2": "int do_sys_openat2(int dfd, const char *filename, struct open_how *how)",
			"tcp_v4_connect": "int tcp_v4_connect(struct sock *sk, struct sockaddr_unsized *uaddr, int addr_len)",
			"vfs_read":       "ssize_t vfs_read(struct file *file, char *buf, size_t count, loff_t *pos)",
		}},
		{"5.10", "arm64", 19175, map[string]string{
			"do_sys_openat2": "",
			"tcp_v4_connect": "int tcp_v4_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len)",
		}},
	} {
		t.Run(tc.series+"-"+tc.arch, func(t *testing.T) {
			path := cached(t, tc.series, tc.arch)
			pp := &reports.ProbePoints{KprobeFunctions: reports.Count{N: 1}}
			for name := range tc.protos {
				pp.Watch = append(pp.Watch, reports.WatchedPoint{Kind: reports.PointFunction, Name: name, Present: true, Kprobe: "yes"})
			}
			lists := &reports.ProbeLists{}
			took := Add(pp, lists, path, nil)
			t.Logf("read %d BTF functions of %s in %v", pp.BTFFunctions.N, path, took)
			if pp.BTFFunctions != (reports.Count{Source: filepath.Base(path), N: tc.functions}) || len(lists.BTFFunctions) != tc.functions {
				t.Errorf("BTF functions %+v (%d listed), want %d from %s", pp.BTFFunctions, len(lists.BTFFunctions), tc.functions, filepath.Base(path))
			}
			for _, w := range pp.Watch {
				want, traceability := tc.protos[w.Name], reports.TraceTraceable
				if want == "" {
					traceability = reports.TraceKprobeOnly
				}
				if w.Prototype != want || w.Traceability != traceability || !w.Present {
					t.Errorf("%s: %+v, want prototype %q, %s", w.Name, w, want, traceability)
				}
			}
		})
	}
}

// TestEmbedded finds raw BTF after other bytes, as in an arm64 Image, and
// says what it found in a file that holds none.
func TestEmbedded(t *testing.T) {
	raw, err := os.ReadFile(inventory.BTFSource)
	if err != nil {
		t.Skipf("no kernel BTF to embed: %v", err)
	}
	image := append(append([]byte("ARM\x64 image text, and a stray header: "), btfMagic...), raw...)
	path := filepath.Join(t.TempDir(), "Image")
	if err := os.WriteFile(path, image, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := load(t, path)
	if _, ok := field(t, spec, "task_struct.pid"); !ok {
		t.Error("task_struct.pid absent from embedded BTF")
	}
	if err := os.WriteFile(path, []byte("not a kernel"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "no BTF header") {
		t.Errorf("Load(text) = %v", err)
	}
}

// TestFunctionsAgreeWithSpec scans the BTF of the running kernel and of
// each cached one for its functions and its count of types, and finds
// what decoding every type with cilium/ebpf finds.
func TestFunctionsAgreeWithSpec(t *testing.T) {
	paths := []string{inventory.BTFSource}
	for _, pattern := range []string{"*-amd64_*/vmlinux", "*-arm64_*/root/boot/vmlinuz-*"} {
		matches, _ := filepath.Glob(filepath.Join(vmimages.DefaultCacheDir(), "kernels", pattern))
		paths = append(paths, matches...)
	}
	for _, path := range paths {
		k, err := read(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		names, types, err := functions(k.raw)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		scanned := time.Since(start)
		start = time.Now()
		want, wantTypes := map[string]struct{}{}, 0
		for typ, err := range k.spec.All() {
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			wantTypes++
			if fn, ok := typ.(*btf.Func); ok {
				want[fn.Name] = struct{}{}
			}
		}
		t.Logf("%s: %d types, %d functions; scanned in %v, decoded in %v", path, types, len(names), scanned, time.Since(start))
		if types != wantTypes || !maps.Equal(names, want) {
			t.Errorf("%s: scan found %d types and %d functions, decoding %d and %d", path, types, len(names), wantTypes, len(want))
		}
	}
}

// TestFunctionsRefusesGarbledBTF finds no functions in BTF whose types
// run past its end or whose kind no kernel defines, rather than those
// before the fault.
func TestFunctionsRefusesGarbledBTF(t *testing.T) {
	raw, err := os.ReadFile(inventory.BTFSource)
	if err != nil {
		t.Skipf("no kernel BTF to garble: %v", err)
	}
	typeOff := 24 + int(binary.LittleEndian.Uint32(raw[8:]))
	for name, garble := range map[string]func([]byte) []byte{
		"truncated":    func(b []byte) []byte { return b[:len(b)/2] },
		"unknown kind": func(b []byte) []byte { b[typeOff+7] = 0x1f; return b },
		"name past the strings": func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[typeOff:], 0xffffffff)
			binary.LittleEndian.PutUint32(b[typeOff+4:], kindFunc<<24)
			return b
		},
	} {
		if names, _, err := functions(garble(slices.Clone(raw))); err == nil {
			t.Errorf("%s: %d functions and no error", name, len(names))
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
