package catalog

import (
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

func TestExpect(t *testing.T) {
	k := &Kernel{Version: kversion.Version{Major: 6, Minor: 1}, Config: map[string]string{"CONFIG_BPF_LSM": "y", "CONFIG_DEBUG_INFO_BTF": "y"},
		LSMs: []string{"lockdown", "capability"}, Lockdown: "none"}
	absent := strings.Join(Absent, "|")
	for _, tc := range []struct {
		f    Feature
		want string // Expectation.String()
	}{
		{Feature{ID: "attach/kprobe.multi", Since: "5.18", Needs: []Requirement{Config("CONFIG_FPROBE")}},
			"unsupported at attach (" + absent + "): CONFIG_FPROBE is not set"},
		{Feature{ID: "attach/tcx", Since: "6.6"}, "unsupported at attach (" + absent + "): needs Linux >= 6.6 (running 6.1.0)"},
		{Feature{ID: "map/arena", Since: "6.9"}, "unsupported at create (" + absent + "): needs Linux >= 6.9 (running 6.1.0)"},
		{Feature{ID: "prog/netfilter", Since: "6.4"}, "unsupported at load (" + absent + "): needs Linux >= 6.4 (running 6.1.0)"},
		{Feature{ID: "attach/netkit", Since: "6.7", At: reports.StageSetup}, "unsupported at setup (" + absent + "): needs Linux >= 6.7 (running 6.1.0)"},
		{Feature{ID: "prog/xdp", Since: "6.1"}, "supported"},
		// Attaches, never runs: the counter says so at observe, with no errno.
		{Feature{ID: "attach/lsm", Since: "5.7", Needs: []Requirement{Config("CONFIG_BPF_LSM"), ActiveLSM("bpf")}},
			`unsupported at observe: "bpf" is not in the active LSM list (lockdown,capability); boot with lsm=...,bpf`},
		{Feature{ID: "a/b", Since: "5.5", Needs: []Requirement{AnyConfig("CONFIG_X", "CONFIG_DEBUG_INFO_BTF")}}, "supported"},
		{Feature{ID: "a/b", Since: "5.5", Needs: []Requirement{AnyConfig("CONFIG_X", "CONFIG_Y")}}, "unsupported at setup (" + absent + "): none of CONFIG_X, CONFIG_Y is set"},
		{Feature{ID: "attach/fentry", Since: "5.5", Needs: []Requirement{Trampolines()}}, "supported"},
		// The environment's refusal comes first and is not the kernel's.
		{Feature{ID: "probepoints/inventory", Since: "4.7", Needs: []Requirement{TracefsMounted(), Config("CONFIG_X")}},
			"blocked at setup: tracefs is mounted neither at /sys/kernel/tracing nor under debugfs, and the suite could not mount it"},
		// Two misses at different stages: the earlier stage, both reasons.
		{Feature{ID: "attach/x", Since: "6.6", Needs: []Requirement{Config("CONFIG_X")}, At: reports.StageLoad},
			"unsupported at load (" + absent + "): needs Linux >= 6.6 (running 6.1.0); CONFIG_X is not set"},
	} {
		if got := tc.f.Expect(k).String(); got != tc.want {
			t.Errorf("%s: Expect = %q\n                want %q", tc.f.ID, got, tc.want)
		}
	}

	// An unknown fact never predicts a refusal: it predicts unknown.
	bare := &Kernel{Version: kversion.Version{Major: 6, Minor: 1}}
	for _, need := range []Requirement{Config("CONFIG_FPROBE"), ActiveLSM("bpf"), LockdownBelow("integrity", "5.14")} {
		if e := (&Feature{ID: "attach/x", Since: "5.18", Needs: []Requirement{need}}).Expect(bare); e.Status != reports.Unknown {
			t.Errorf("%T on a kernel without the fact: %s, want unknown", need, e)
		}
	}
	// The version still rules a feature out when other facts are unknown.
	if e := (&Feature{ID: "attach/x", Since: "6.6", Needs: []Requirement{Config("CONFIG_FPROBE")}}).Expect(bare); e.Status != reports.Unsupported {
		t.Errorf("version miss with an unknown config: %s, want unsupported", e)
	}

	gated := &Kernel{Version: kversion.Version{Major: 6, Minor: 18}, Trampolines: "an fentry program without a target gets EPERM", InitPrivate: "1"}
	e := (&Feature{ID: "attach/fentry", Since: "5.5", Needs: []Requirement{Trampolines()}}).Expect(gated)
	if e.Status != reports.Unsupported || e.Stage != reports.StageLoad || strings.Join(e.Errnos, "|") != "EPERM" || !strings.Contains(e.Reason, "kernel.init_private=1") {
		t.Errorf("trampoline gate: %s; want unsupported at load (EPERM) naming kernel.init_private", e)
	}
}

func TestMatches(t *testing.T) {
	unsupported := Expectation{Status: reports.Unsupported, Stage: reports.StageAttach, Errnos: []string{"EINVAL", "EOPNOTSUPP"}}
	for _, tc := range []struct {
		e      Expectation
		status reports.Status
		stage  reports.Stage
		errno  string
		want   bool
	}{
		{unsupported, reports.Unsupported, reports.StageAttach, "EINVAL", true},
		{unsupported, reports.Unsupported, reports.StageAttach, "EBADF", false}, // another reason
		{unsupported, reports.Unsupported, reports.StageLoad, "EINVAL", false},  // another stage
		{unsupported, reports.Supported, "", "", false},
		{Expectation{Status: reports.Supported}, reports.Supported, "", "", true},
		{Expectation{Status: reports.Unknown}, reports.Supported, "", "", false},
		{Expectation{Status: reports.Blocked, Stage: reports.StageLoad}, reports.Blocked, reports.StageLoad, "EPERM", true},
	} {
		if got := tc.e.Matches(tc.status, tc.stage, tc.errno); got != tc.want {
			t.Errorf("%s matches %s at %s (%s) = %v, want %v", tc.e, tc.status, tc.stage, tc.errno, got, tc.want)
		}
	}
}
