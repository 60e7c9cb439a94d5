package rows

import (
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
)

func TestRowsAreWellFormed(t *testing.T) {
	all := catalog.All()
	if len(all) < 150 {
		t.Fatalf("All() has %d rows; package rows registers more than 150", len(all))
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
		if got, ok := catalog.Lookup(f.ID); !ok || got != f {
			t.Errorf("Lookup(%q) does not return the row All() lists", f.ID)
		}
	}
}

// TestTrampolineAttachesFollowTheConfig predicts the rows that attach a
// BPF trampoline to a kernel function from the kernel's config alone:
// Debian's arm64 6.1 kernel has everything else they need but not
// DYNAMIC_FTRACE_WITH_DIRECT_CALLS, so each is expected unsupported at
// attach; with it, as on every Debian amd64 kernel, supported.
func TestTrampolineAttachesFollowTheConfig(t *testing.T) {
	cfg := map[string]string{"CONFIG_BPF_LSM": "y", "CONFIG_DEBUG_INFO_BTF": "y", "CONFIG_BPF_JIT": "y"}
	k := &catalog.Kernel{Version: kversion.Version{Major: 6, Minor: 1, Patch: 192}, Config: cfg,
		LSMs: []string{"landlock", "lockdown", "bpf"}, Lockdown: "none"}
	for _, id := range []string{"attach/fentry", "attach/fexit", "attach/fmod_ret", "attach/lsm"} {
		f, ok := catalog.Lookup(id)
		if !ok {
			t.Fatalf("no row %s", id)
		}
		cfg["CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS"] = ""
		if e := f.Expect(k); e.Status != reports.Unsupported || e.Stage != reports.StageAttach || !strings.Contains(e.Reason, "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS is not set") {
			t.Errorf("%s without direct calls: %s, want unsupported at attach naming the option", id, e)
		}
		cfg["CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS"] = "y"
		if e := f.Expect(k); e.Status != reports.Supported {
			t.Errorf("%s with direct calls: %s, want supported", id, e)
		}
	}
}
