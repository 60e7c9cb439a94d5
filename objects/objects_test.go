package objects

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

// counters is a real object of the project's own (bpf/counters.c).
const counters = "../bpf/counters_bpfel.o"

func TestClaims(t *testing.T) {
	v := func(s string) kversion.Version { k, _ := kversion.Parse(s); return k }
	for _, tc := range []struct {
		claims []string
		kernel string
		want   bool
	}{
		{[]string{"6.1"}, "6.1.140", true},
		{[]string{"6.1"}, "6.12.3", false},
		{[]string{"5.15+"}, "6.12.3", true},
		{[]string{"5.15+"}, "5.10.0", false},
		{[]string{"5.10", "6.12"}, "6.12.0", true},
		{[]string{"*"}, "5.4.0", true},
		{nil, "6.1.0", false},
	} {
		if got := Claims(tc.claims, v(tc.kernel)); got != tc.want {
			t.Errorf("Claims(%q, %s) = %v, want %v", tc.claims, tc.kernel, got, tc.want)
		}
	}
}

func TestReadManifestRefuses(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"unknown field", `{"programs": [{"match": "*", "kernel": ["6.1"]}]}`, `unknown field "kernel"`},
		{"no match", `{"programs": [{"attach": "x"}]}`, "programs[0].match: empty"},
		{"bad pattern", `{"programs": [{"match": "a/[x"}]}`, `programs[0].match "a/[x": syntax error in pattern`},
		{"bad stage", `{"programs": [{"match": "*", "stage": "run"}]}`, `programs[0].stage "run": want one of [load attach fired]`},
		{"bad claim", `{"kernels": ["six"]}`, `kernels: "six": want a kernel as major.minor`},
		{"patch level", `{"programs": [{"match": "*", "kernels": ["6.1.2"]}]}`, `programs[0].kernels: "6.1.2"`},
		{"two values", `{} {}`, "more than one JSON value"},
		{"not json", `kernels: 6.1`, "want the JSON of docs/objects.md"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.json")
			if err := os.WriteFile(path, []byte(tc.json), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadManifest(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("ReadManifest(%s) = %v; want one line with %q", tc.json, err, tc.want)
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(counters)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	notBPF, _ := os.Executable()
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.o"), "no such file or directory"},
		{dir, "not a regular file"},
		{write("text.o", []byte("SEC(\"xdp\")\n")), "not an ELF file"},
		{write("short.o", data[:40]), "shorter than an ELF header"},
		{write("half.o", data[:len(data)/2]), "truncated: its section headers end at byte"},
		{notBPF, "not an eBPF object: ELF machine EM_X86_64"},
		{write("bad name.o", data), `file name "bad name.o" has ' '`},
	} {
		_, err := Open(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("Open(%s) = %v; want an error naming it with %q", tc.path, err, tc.want)
		}
	}
}

func TestNewPlan(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(counters)
	if err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(dir, "probe.bpf.o")
	if err := os.WriteFile(obj, data, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := `{"kernels": ["6.1+"], "programs": [
		{"match": "probe.bpf.o/kprobe_count", "attach": "do_unlinkat", "kernels": ["5.10"], "stage": "attach"},
		{"match": "probe.bpf.o/*probe*", "trigger": "ls"}]}`
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan([]string{obj}, "", Defaults{Trigger: "true", Stage: reports.ObjectLoaded})
	if err != nil {
		t.Fatal(err)
	}
	entry := func(prog string) Entry {
		for _, e := range p.Entries {
			if e.Program == prog {
				return e
			}
		}
		t.Fatalf("no entry for %s in %v", prog, p.names())
		return Entry{}
	}
	// The first rule that matches wins; what it leaves out comes from the
	// manifest's kernels and the command line.
	if e := entry("kprobe_count"); e.Attach != "do_unlinkat" || e.Stage != reports.ObjectAttached || !slices.Equal(e.Kernels, []string{"5.10"}) || e.Trigger != "true" {
		t.Errorf("kprobe_count: %+v", e)
	}
	if e := entry("uprobe_count"); e.Trigger != "ls" || e.Stage != reports.ObjectLoaded || !slices.Equal(e.Kernels, []string{"6.1+"}) {
		t.Errorf("uprobe_count: %+v", e)
	}
	if e := entry("tracepoint_count"); e.Trigger != "true" || e.ID() != "object/probe.bpf.o/tracepoint_count" {
		t.Errorf("tracepoint_count: %+v", e)
	}

	staged := filepath.Join(dir, "staged")
	if err := p.Stage(staged); err != nil {
		t.Fatal(err)
	}
	back, specs, err := Staged(staged)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.names(), p.names()) || specs["probe.bpf.o"] == nil {
		t.Errorf("Staged read %v, specs %v; want %v", back.names(), specs, p.names())
	}
	if !slices.Equal(p.Files(), []string{"plan.json", "probe.bpf.o"}) {
		t.Errorf("Files() = %v", p.Files())
	}

	// Refusals.
	if _, err := NewPlan([]string{obj, counters}, "", Defaults{}); err != nil {
		t.Errorf("two objects of different names: %v", err)
	}
	other := filepath.Join(t.TempDir(), "probe.bpf.o")
	if err := os.WriteFile(other, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewPlan([]string{obj, other}, "", Defaults{}); err == nil || !strings.Contains(err.Error(), "has the base name of "+obj) {
		t.Errorf("two objects of one base name: %v", err)
	}
	typo := filepath.Join(dir, "typo.json")
	if err := os.WriteFile(typo, []byte(`{"programs": [{"match": "probe.bpf.o/kprobe_cuont"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewPlan([]string{obj}, typo, Defaults{}); err == nil || !strings.Contains(err.Error(), `programs[0].match "probe.bpf.o/kprobe_cuont": names no program`) {
		t.Errorf("a rule naming no program: %v", err)
	}
}
