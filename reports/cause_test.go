package reports_test

import (
	"slices"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
)

// TestCauseClassOfRealCells classifies real records of the full matrix the
// HTML tests open (2026-12-02, 17 columns × 182 features): each class from
// the fields a record really carries.
func TestCauseClassOfRealCells(t *testing.T) {
	rep := fixture.Gzipped(t, "html/testdata/full-matrix.json.gz")
	find := func(kernel, arch, target, feature string) *reports.Cell {
		t.Helper()
		for ri := range rep.Runs {
			run := &rep.Runs[ri]
			if run.Kernel.Name != kernel || run.Kernel.Arch != arch || run.Target != target {
				continue
			}
			for ci := range run.Cells {
				if run.Cells[ci].Feature == feature {
					return &run.Cells[ci]
				}
			}
		}
		t.Fatalf("no cell %s on %s %s %s in the full matrix", feature, kernel, arch, target)
		return nil
	}
	for _, tc := range []struct {
		kernel, arch, target, feature string
		class                         reports.CauseClass
		note                          string
	}{
		{"host", "amd64", "host", "attach/iter.task", reports.CauseFired, ""},
		{"5.10", "amd64", "vm", "map/hash", reports.CauseLoaded, ""},
		{"5.10", "amd64", "vm", "map/user_ringbuf", reports.CauseVersion, "needs Linux >= 6.1"},
		// Too old to have the option at all: the version decides.
		{"5.10", "amd64", "vm", "prog/netfilter", reports.CauseVersion, "needs Linux >= 6.4; CONFIG_NETFILTER_BPF_LINK is not set"},
		{"5.10", "arm64", "vm", "attach/freplace", reports.CauseVersion, "on arm64 it needs Linux >= 6.0 (bpf_arch_text_poke came to arm64 in 6.0)"},
		{"6.1", "amd64", "vm", "attach/kprobe.multi", reports.CauseConfig, "CONFIG_FPROBE is not set"},
		{"host", "amd64", "host", "attach/kretprobe", reports.CauseConfig, "CONFIG_KPROBES is not set"},
		{"5.10", "arm64", "vm", "attach/fexit", reports.CauseConfig, "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS is not set"},
		{"host", "amd64", "host", "helper/kprobe/bpf_probe_write_user", reports.CausePolicy,
			`lockdown is "integrity", and from 5.14 on the verifier refuses this helper from lockdown integrity up`},
		{"5.10", "amd64", "vm", "attach/lsm", reports.CausePolicy,
			`"bpf" is not in the active LSM list (lockdown,capability,yama,apparmor,tomoyo); boot with lsm=...,bpf`},
		{"host", "amd64", "host", "attach/fentry", reports.CausePrivilege,
			"an fentry program without a target gets EPERM with an empty verifier log, where a tp_btf one reaches the verifier; kernel.init_private=1: this kernel restricts trampoline programs and dynamic ftrace to init (tgid 1)"},
		{"host", "amd64", "container/bpf-caps", "helper/socket_filter/bpf_get_prandom_u32", reports.CausePrivilege,
			"the seccomp filter refuses bpf(2) (Seccomp=2; a probe call got EPERM before the kernel read its arguments)"},
	} {
		c := find(tc.kernel, tc.arch, tc.target, tc.feature)
		if got := c.CauseClass(); got != tc.class {
			t.Errorf("%s on %s %s %s (%s, reason %q): class %s, want %s", tc.feature, tc.kernel, tc.arch, tc.target, c.Status, c.Reason, got, tc.class)
		}
		if got := c.Note(); got != tc.note {
			t.Errorf("%s on %s %s %s: note %q, want %q", tc.feature, tc.kernel, tc.arch, tc.target, got, tc.note)
		}
	}

	// Every class but "other" holds real cells, and the fired ones are
	// the supported cells that counted events.
	count := map[reports.CauseClass]int{}
	fired := 0
	for _, run := range rep.Runs {
		for i := range run.Cells {
			c := &run.Cells[i]
			count[c.CauseClass()]++
			if c.Status == reports.Supported && c.Triggered > 0 {
				fired++
			}
		}
	}
	for _, k := range reports.CauseClasses {
		if k != reports.CauseOther && count[k] == 0 {
			t.Errorf("no cell of class %s in the full matrix: %v", k, count)
		}
	}
	if count[reports.CauseFired] != fired {
		t.Errorf("%d cells seen firing, want the %d supported cells with a trigger", count[reports.CauseFired], fired)
	}
	t.Logf("classes of the full matrix's cells: %v", count)
}

// TestCauseClassFromEvidence covers the cells whose expectation does not
// explain them, classified by the kernel's words, and the statuses that
// have no cause class.
func TestCauseClassFromEvidence(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cell  reports.Cell
		class reports.CauseClass
		note  string
	}{
		{"unexpected, a CONFIG line in the evidence", reports.Cell{Status: reports.Unsupported, Expected: reports.Supported,
			Evidence: "create netkit pair (CONFIG_NETKIT is not set): operation not supported"}, reports.CauseConfig,
			"create netkit pair (CONFIG_NETKIT is not set): operation not supported"},
		{"unexpected EPERM", reports.Cell{Status: reports.Unsupported, Expected: reports.Supported, Errno: "EPERM",
			Evidence: "load program: operation not permitted"}, reports.CausePrivilege, "load program: operation not permitted"},
		{"cilium/ebpf's version is no cause", reports.Cell{Status: reports.Unsupported, Expected: reports.Supported, Errno: "ENOTSUP",
			Evidence: "attach: kprobe_multi not supported (requires >= v5.18)"}, reports.CauseOther, "attach: kprobe_multi not supported (requires >= v5.18)"},
		{"a reason for another status does not explain", reports.Cell{Status: reports.Unsupported, Expected: reports.Blocked,
			Reason: "needs Linux >= 6.6 (running 6.1.192)", Evidence: "verifier: invalid argument"}, reports.CauseOther, "verifier: invalid argument"},
		{"a kfunc a later kernel registers for the type", reports.Cell{Status: reports.Unsupported, Expected: reports.Unsupported, Errno: "EACCES",
			Reason:      "bpf_task_from_pid is registered for xdp programs from Linux 6.8 (running 6.1.192)",
			VerifierLog: "calling kernel function bpf_task_from_pid is not allowed"}, reports.CauseVersion,
			"bpf_task_from_pid is registered for xdp programs from Linux 6.8"},
		{"a kfunc no kernel registers for the type: the verifier's EACCES is no privilege", reports.Cell{Status: reports.Unsupported,
			Expected: reports.Unsupported, Errno: "EACCES", Reason: "no kernel registers bpf_dynptr_from_xdp for sched_cls programs",
			Evidence:    "load: calling kernel function bpf_dynptr_from_xdp is not allowed: permission denied",
			VerifierLog: "calling kernel function bpf_dynptr_from_xdp is not allowed"}, reports.CauseOther,
			"no kernel registers bpf_dynptr_from_xdp for sched_cls programs"},
		{"EACCES without a verifier log", reports.Cell{Status: reports.Unsupported, Expected: reports.Supported, Errno: "EACCES",
			Evidence: "create map: permission denied"}, reports.CausePrivilege, "create map: permission denied"},
		{"supported with too few events is not fired", reports.Cell{Status: reports.Supported, Triggered: 10, Events: 9}, reports.CauseLoaded, ""},
		{"failed", reports.Cell{Status: reports.Failed, Evidence: "attached, observed 0 events"}, reports.CauseOther, ""},
	} {
		if got := tc.cell.CauseClass(); got != tc.class {
			t.Errorf("%s: class %s, want %s", tc.name, got, tc.class)
		}
		if got := tc.cell.Note(); got != tc.note {
			t.Errorf("%s: note %q, want %q", tc.name, got, tc.note)
		}
	}
}

func TestNotesNumberEachNoteOnce(t *testing.T) {
	var n reports.Notes
	got := []int{n.Number("CONFIG_FPROBE is not set"), n.Number(""), n.Number("needs Linux >= 5.18"), n.Number("CONFIG_FPROBE is not set")}
	if want := []int{1, 0, 2, 1}; !slices.Equal(got, want) || len(n.List) != 2 {
		t.Errorf("numbers %v, list %q; want %v and two notes", got, n.List, want)
	}
}
