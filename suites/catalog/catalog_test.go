package catalog

import (
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

func TestExpect(t *testing.T) {
	k := &Kernel{Version: kversion.Version{Major: 6, Minor: 1}, Config: map[string]string{"CONFIG_BPF_LSM": "y", "CONFIG_DEBUG_INFO_BTF": "y"},
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
	unknown := &Kernel{Version: kversion.Version{Major: 6, Minor: 1}}
	if s, _ := (&Feature{Since: "5.18", Needs: []Requirement{Config("CONFIG_FPROBE")}}).Expect(unknown); s != reports.Supported {
		t.Errorf("unknown config: got %s, want supported", s)
	}

	refused := &Kernel{Version: kversion.Version{Major: 6, Minor: 18}, FunctionTracer: "open available_filter_functions: operation not permitted", Lockdown: "integrity"}
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
		if v, ok := kversion.Parse(f.Since); !ok || v.String() != f.Since {
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
