package initramfs

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// readNewc parses a newc archive back into name → (mode, data), the way the
// kernel's init/initramfs.c does, to check the writer against the format.
func readNewc(t *testing.T, b []byte) map[string]struct {
	mode uint32
	data []byte
} {
	t.Helper()
	out := map[string]struct {
		mode uint32
		data []byte
	}{}
	align := func(n int) int { return (n + 3) &^ 3 }
	for off := 0; ; {
		if len(b)-off < 110 || string(b[off:off+6]) != "070701" {
			t.Fatalf("offset %d: no newc header", off)
		}
		field := func(i int) int {
			v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("offset %d field %d: %v", off, i, err)
			}
			return int(v)
		}
		mode, size, namesize := uint32(field(1)), field(6), field(11)
		name := string(b[off+110 : off+110+namesize-1])
		dataOff := align(off + 110 + namesize)
		if name == "TRAILER!!!" {
			return out
		}
		out[name] = struct {
			mode uint32
			data []byte
		}{mode, b[dataOff : dataOff+size]}
		off = align(dataOff + size)
	}
}

func TestArchiveIsNewc(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "init")
	if err := os.WriteFile(src, []byte("#!init"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := New()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.AddFile("init", src))
	must(a.AddData("/etc/bpfmatrix/plan.json", 0o644, []byte(`{"x":1}`)))
	must(a.AddDir("proc"))
	if err := a.AddData("init", 0o644, nil); err == nil {
		t.Error("adding init twice: no error")
	}

	for _, gz := range []bool{false, true} {
		path := filepath.Join(dir, "out")
		must(a.WriteFile(path, gz))
		b, err := os.ReadFile(path)
		must(err)
		if gz {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			must(err)
			b, err = io.ReadAll(zr)
			must(err)
		}
		if len(b)%4 != 0 {
			t.Errorf("gz=%v: archive length %d is not 4-aligned", gz, len(b))
		}
		files := readNewc(t, b)
		if f := files["init"]; string(f.data) != "#!init" || f.mode != modeFile|0o755 {
			t.Errorf("gz=%v: init = %o %q", gz, f.mode, f.data)
		}
		if f := files["etc/bpfmatrix/plan.json"]; string(f.data) != `{"x":1}` {
			t.Errorf("gz=%v: plan = %q", gz, f.data)
		}
		for _, d := range []string{"etc", "etc/bpfmatrix", "proc"} {
			if files[d].mode != modeDir|0o755 {
				t.Errorf("gz=%v: %s mode %o, want a directory", gz, d, files[d].mode)
			}
		}
	}
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{"sch_ingress.ko": "sch_ingress", "nf-conntrack.ko.xz": "nf_conntrack", "veth.ko.zst": "veth"} {
		if got, ok := moduleName(in); !ok || got != want {
			t.Errorf("moduleName(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := moduleName("modules.dep"); ok {
		t.Error("modules.dep taken for a module")
	}
}

// TestReadModule reads a module file in each compression a Debian kernel
// ships them in (xz and zstd where their programs are installed).
func TestReadModule(t *testing.T) {
	ko := append([]byte("\x7fELF"), bytes.Repeat([]byte("module "), 1000)...)
	dir := t.TempDir()
	files := map[string][]byte{"plain.ko": ko}
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write(ko)
	z.Close()
	files["gz.ko.gz"] = gz.Bytes()
	for suffix, program := range map[string]string{".ko.xz": "xz", ".ko.zst": "zstd"} {
		cmd := exec.Command(program, "-c")
		cmd.Stdin = bytes.NewReader(ko)
		out, err := cmd.Output()
		if err != nil {
			t.Logf("%s: %v: its case is skipped", program, err)
			continue
		}
		files[program+suffix] = out
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		if got, err := readModule(p); err != nil || !bytes.Equal(got, ko) {
			t.Errorf("%s: %d bytes, %v; want the %d bytes of the module", name, len(got), err, len(ko))
		}
	}
	if _, err := readModule(filepath.Join(dir, "modules.dep")); err == nil || !strings.Contains(err.Error(), "not a kernel module file") {
		t.Errorf("modules.dep: error %v", err)
	}
}

// TestResolveDebianModules resolves the VM's modules in a real Debian
// kernel's tree (BPFMATRIX_TEST_MODULES=<lib/modules/release>, which
// `bpfmatrix kernels fetch` leaves in the cache).
func TestResolveDebianModules(t *testing.T) {
	dir := os.Getenv("BPFMATRIX_TEST_MODULES")
	if dir == "" {
		matches, _ := filepath.Glob(filepath.Join(os.Getenv("HOME"), ".cache/bpfmatrix/kernels/*/root/lib/modules/*"))
		// A *.tmp entry is one being extracted right now (by a test of
		// another package, say): only complete entries hold every module.
		matches = slices.DeleteFunc(matches, func(m string) bool { return strings.Contains(m, ".tmp/") })
		if len(matches) == 0 {
			t.Skip("no Debian kernel module tree: set BPFMATRIX_TEST_MODULES or run bpfmatrix kernels fetch 6.1")
		}
		dir = matches[0]
	}
	m, err := OpenModules(dir)
	if err != nil {
		t.Fatal(err)
	}
	mods, err := m.Resolve("cls_bpf", "sch_ingress", "act_bpf", "veth")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i, mod := range mods {
		if _, dup := seen[mod.Name]; dup {
			t.Errorf("%s listed twice", mod.Name)
		}
		seen[mod.Name] = i
		deps, err := dependencies(mod.Data)
		if err != nil {
			t.Fatalf("%s: %v", mod.Name, err)
		}
		for _, d := range deps {
			if j, ok := seen[normalize(d)]; (!ok || j > i) && !m.Builtin(d) {
				t.Errorf("%s comes before its dependency %s", mod.Name, d)
			}
		}
		if !bytes.HasPrefix(mod.Data, []byte("\x7fELF")) {
			t.Errorf("%s is not an uncompressed ELF", mod.Name)
		}
	}
	for _, want := range []string{"cls_bpf", "sch_ingress", "act_bpf", "veth"} {
		if _, ok := seen[want]; !ok && !m.Builtin(want) {
			t.Errorf("%s missing from %v", want, seen)
		}
	}
	if _, err := m.Resolve("no_such_module"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown module: err = %v, want ErrNotFound", err)
	}
}
