package harness

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		release             string
		major, minor, patch int
	}{
		{"6.18.44-fc-v657", 6, 18, 44},
		{"5.10.0-46-cloud-amd64", 5, 10, 0},
		{"7.3.0-rc7-cloud-amd64", 7, 3, 0},
		{"6.12.117+deb13-cloud-amd64", 6, 12, 117},
	} {
		ma, mi, pa := parseVersion(tc.release)
		if ma != tc.major || mi != tc.minor || pa != tc.patch {
			t.Errorf("parseVersion(%q) = %d.%d.%d, want %d.%d.%d", tc.release, ma, mi, pa, tc.major, tc.minor, tc.patch)
		}
	}
	ma, mi, pa := parseDebianVersion("#1 SMP PREEMPT_DYNAMIC Debian 5.10.262-1 (2026-10-01)")
	if ma != 5 || mi != 10 || pa != 262 {
		t.Errorf("parseDebianVersion = %d.%d.%d, want 5.10.262", ma, mi, pa)
	}
}

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader("# comment\nCONFIG_BPF=y\nCONFIG_VETH=m\n# CONFIG_KPROBES is not set\nCONFIG_LSM=\"lockdown,bpf\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"CONFIG_BPF": "y", "CONFIG_VETH": "m", "CONFIG_LSM": "lockdown,bpf"}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("%s = %q, want %q", k, cfg[k], v)
		}
	}
	if _, ok := cfg["CONFIG_KPROBES"]; ok {
		t.Error("an unset option must be absent")
	}
	if _, err := ParseConfig(strings.NewReader("not a config\n")); err == nil {
		t.Error("a file without CONFIG_ lines must be refused")
	}
}

func TestExpect(t *testing.T) {
	k := &Kernel{Major: 6, Minor: 1, Config: map[string]string{"CONFIG_BPF_LSM": "y", "CONFIG_DEBUG_INFO_BTF": "y"},
		LSMs: []string{"lockdown", "capability"}}
	for _, tc := range []struct {
		f      Feature
		status reports.Status
		reason string
	}{
		{Feature{Since: "5.18", Needs: []Requirement{Config("CONFIG_FPROBE")}}, reports.Unsupported, "CONFIG_FPROBE is not set"},
		{Feature{Since: "6.6"}, reports.Unsupported, "needs Linux >= 6.6"},
		{Feature{Since: "5.7", Needs: []Requirement{Config("CONFIG_BPF_LSM"), ActiveLSM("bpf")}}, reports.Unsupported, `"bpf" is not in the active LSM list`},
		{Feature{Since: "5.5", Needs: []Requirement{AnyConfig("CONFIG_X", "CONFIG_DEBUG_INFO_BTF")}}, reports.Supported, ""},
		{Feature{Since: "5.5", Needs: []Requirement{FunctionTracer()}}, reports.Supported, ""},
		{Feature{Since: "4.7", Needs: []Requirement{TracefsMounted()}}, reports.Unsupported, "tracefs is mounted neither"},
	} {
		status, reason := tc.f.Expect(k)
		if status != tc.status || !strings.Contains(reason, tc.reason) {
			t.Errorf("Expect(%+v) = %s %q, want %s containing %q", tc.f, status, reason, tc.status, tc.reason)
		}
	}

	// An unknown config cannot rule a feature out: only the version can.
	unknown := &Kernel{Major: 6, Minor: 1}
	if s, _ := (&Feature{Since: "5.18", Needs: []Requirement{Config("CONFIG_FPROBE")}}).Expect(unknown); s != reports.Supported {
		t.Errorf("unknown config: got %s, want supported", s)
	}

	refused := &Kernel{Major: 6, Minor: 18, FunctionTracer: "open available_filter_functions: operation not permitted", Lockdown: "integrity"}
	if _, reason := (&Feature{Since: "5.5", Needs: []Requirement{FunctionTracer()}}).Expect(refused); !strings.Contains(reason, "lockdown=integrity") {
		t.Errorf("function tracer reason %q does not name the lockdown state", reason)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err      error
		status   reports.Status
		errno    string
		evidence string
	}{
		{fmt.Errorf("load program: %w", unix.EPERM), reports.Unsupported, "EPERM", "operation not permitted"},
		{fmt.Errorf("attach: %w", ENOTSUPP), reports.Unsupported, "ENOTSUPP", ""},
		{fmt.Errorf("probe: %w", ebpf.ErrNotSupported), reports.Unsupported, "", "not supported"},
		{fmt.Errorf("load: %w (MEMLOCK may be too low, consider rlimit.RemoveMemlock)", unix.EPERM), reports.Unsupported, "EPERM", "load: operation not permitted"},
		{errors.New("harness bug"), reports.Error, "", "harness bug"},
	} {
		v := Classify(tc.err)
		if v.Status != tc.status || v.Errno != tc.errno || !strings.Contains(v.Evidence, tc.evidence) {
			t.Errorf("Classify(%v) = %+v, want %s %q containing %q", tc.err, v, tc.status, tc.errno, tc.evidence)
		}
		if strings.Contains(v.Evidence, "MEMLOCK") {
			t.Errorf("Classify(%v) kept cilium/ebpf's misleading MEMLOCK hint", tc.err)
		}
	}
}

func TestCatalogRowsAreWellFormed(t *testing.T) {
	for _, f := range Catalog() {
		if _, _, ok := splitVersion(f.Since); !ok {
			t.Errorf("%s: Since %q is not major.minor", f.ID, f.Since)
		}
		if f.Area == "" || f.Doc == "" {
			t.Errorf("%s: Area and Doc are required", f.ID)
		}
		if !strings.Contains(f.ID, "/") {
			t.Errorf("%s: IDs are kind/name", f.ID)
		}
	}
}

func TestProbeBTFLoad(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("needs root: BPF_BTF_LOAD needs CAP_BPF")
	}
	if err := ProbeBTFLoad(); err != nil {
		t.Fatalf("a minimal BTF blob was refused: %v", err)
	}
}
