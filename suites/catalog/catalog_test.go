package catalog

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

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
		{Feature{Since: "6.1"}, reports.Supported, ""},
		{Feature{Since: "5.7", Needs: []Requirement{Config("CONFIG_BPF_LSM"), ActiveLSM("bpf")}}, reports.Unsupported, `"bpf" is not in the active LSM list`},
		{Feature{Since: "5.5", Needs: []Requirement{AnyConfig("CONFIG_X", "CONFIG_DEBUG_INFO_BTF")}}, reports.Supported, ""},
		{Feature{Since: "5.5", Needs: []Requirement{AnyConfig("CONFIG_X", "CONFIG_Y")}}, reports.Unsupported, "none of CONFIG_X, CONFIG_Y is set"},
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

func TestRowsAreWellFormed(t *testing.T) {
	all := All()
	if len(all) < 150 {
		t.Fatalf("All() has %d rows; the rows_*.go files register more than 150", len(all))
	}
	for _, f := range all {
		if v, ok := parseVersion(f.Since); !ok || fmt.Sprintf("%d.%d", v.major, v.minor) != f.Since {
			t.Errorf("%s: Since %q is not major.minor", f.ID, f.Since)
		}
		if f.Area == "" || f.Doc == "" {
			t.Errorf("%s: Area and Doc are required", f.ID)
		}
		if !strings.Contains(f.ID, "/") {
			t.Errorf("%s: IDs are kind/name", f.ID)
		}
		if got, ok := Lookup(f.ID); !ok || got != f {
			t.Errorf("Lookup(%q) does not return the row All() lists", f.ID)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"6.18.44-fc-v657", "6.18.44", true},
		{"5.10.0-46-cloud-amd64", "5.10.0", true},
		{"7.3.0-rc7-cloud-amd64", "7.3.0", true},
		{"6.12.117+deb13-cloud-amd64", "6.12.117", true},
		{"6.1.72", "6.1.72", true},
		{"4.10", "4.10.0", true},
		{"6", "6.0.0", false},
		{"", "0.0.0", false},
	} {
		v, ok := parseVersion(tc.in)
		if v.String() != tc.want || ok != tc.ok {
			t.Errorf("parseVersion(%q) = %s, %v; want %s, %v", tc.in, v, ok, tc.want, tc.ok)
		}
	}
	if v, ok := debianVersion("#1 SMP PREEMPT_DYNAMIC Debian 5.10.262-1 (2026-10-01)"); !ok || v.String() != "5.10.262" {
		t.Errorf("debianVersion = %s, %v; want 5.10.262", v, ok)
	}
	if _, ok := debianVersion("#1 SMP PREEMPT_DYNAMIC Thu Jan 1"); ok {
		t.Error("debianVersion found a Debian version in a uname -v without one")
	}
	for _, tc := range []struct {
		a, b string
		less bool
	}{{"4.9", "4.10", true}, {"4.10", "4.9", false}, {"6.1.71", "6.1.72", true}, {"6.1.72", "6.1.72", false}, {"5.18", "6.0", true}} {
		va, _ := parseVersion(tc.a)
		vb, _ := parseVersion(tc.b)
		if va.less(vb) != tc.less {
			t.Errorf("%s < %s = %v, want %v", tc.a, tc.b, va.less(vb), tc.less)
		}
	}
}
