package rows

import (
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"

	"os"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

func init() {
	catalog.Register(
		catalog.Feature{ID: "faults/crash", Area: catalog.Faults, Since: "2.6", At: reports.StageTrigger,
			Needs: []catalog.Requirement{CrashAllowed(), catalog.Config("CONFIG_MAGIC_SYSRQ")},
			Doc:   "crashes the kernel with sysrq 'c' (test-only, labelled crash, VM guests with BPFMATRIX_ALLOW_CRASH=1 only)"},
	)
}

// CrashAllowed requires that the run asked for the crash test and that it
// runs in a bpfmatrix VM guest. Elsewhere the spec refuses to act, and its
// cell is expected Skipped.
func CrashAllowed() catalog.Requirement { return crashNeed{} }

type crashNeed struct{}

func (crashNeed) Unmet(*catalog.Kernel) *catalog.Miss {
	if why := CrashRefused(); why != "" {
		return &catalog.Miss{Reason: "refusing to crash the kernel: " + why, Status: reports.Skipped, Stage: reports.StageSetup, Errnos: []string{}}
	}
	return nil
}

// CrashRefused says why crashing is not allowed here, or "" when it is: the
// environment must ask for it and the kernel must be a bpfmatrix guest's,
// whose command line holds contract.GuestCmdlineFlag (a host's never does).
func CrashRefused() string {
	if os.Getenv(contract.AllowCrashEnv) != "1" {
		return contract.AllowCrashEnv + "=1 is not set"
	}
	cmdline, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return "cannot read /proc/cmdline: " + err.Error()
	}
	for _, arg := range strings.Fields(string(cmdline)) {
		if arg == contract.GuestCmdlineFlag {
			return ""
		}
	}
	return "/proc/cmdline lacks " + contract.GuestCmdlineFlag + ": this is not a bpfmatrix VM guest"
}
