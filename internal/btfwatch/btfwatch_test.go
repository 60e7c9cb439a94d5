package btfwatch

import (
	"github.com/bpfmatrix/bpfmatrix/internal/inventory"
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

// TestAddLiveKernel adds the watch list's BTF points from the running
// kernel's BTF, and each error names what is missing.
func TestAddLiveKernel(t *testing.T) {
	if _, err := os.Stat(inventory.BTFSource); err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	watch := append(slices.Clone(inventory.Watch),
		inventory.Point{Kind: reports.PointField, Name: "task_struct.bpfmatrix_no_such"},
		inventory.Point{Kind: reports.PointField, Name: "bpfmatrix_no_such.x"},
		inventory.Point{Kind: reports.PointField, Name: "task_struct.pid.x"},
		inventory.Point{Kind: reports.PointKfunc, Name: "bpfmatrix_no_such_kfunc"})
	pp := &reports.ProbePoints{}
	took := Add(pp, inventory.BTFSource, watch)
	t.Logf("read %s (%d types) and looked up %d points in %v", inventory.BTFSource, pp.HostBTF.N, len(pp.Watch), took)
	if pp.HostBTF.Error != "" || pp.HostBTF.N < 10000 {
		t.Fatalf("host BTF %+v", pp.HostBTF)
	}
	byName := map[string]reports.WatchedPoint{}
	for _, w := range pp.Watch {
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
		pp := &reports.ProbePoints{Watch: []reports.WatchedPoint{{Kind: reports.PointTracepoint, Name: "sched/sched_switch", Present: true}}}
		Add(pp, path, watch)
		if pp.HostBTF == nil || pp.HostBTF.Source != filepath.Base(path) || !strings.HasPrefix(pp.HostBTF.Error, want) || strings.Contains(pp.HostBTF.Error, dir) {
			t.Errorf("%s: host BTF %+v, want source %s and an error starting %q", path, pp.HostBTF, filepath.Base(path), want)
		}
		if len(pp.Watch) != 1 {
			t.Errorf("%s: unreadable BTF added points %+v", path, pp.Watch[1:])
		}
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
