package harness

// Faults is the area of specs that break the kernel on purpose, to prove the
// runner keeps every cell streamed before a crash. They run only in a VM
// guest and only when asked (see AllowCrash).
const Faults Area = "faults"

// CrashLabel marks specs that crash the kernel. The CLI excludes it from
// every run's label filter unless --crash-test is given, so such a spec is
// never planned, never run and never reported by default.
const CrashLabel = "crash"

// AllowCrashEnv must be "1" for a crash spec to act.
const AllowCrashEnv = "BPFMATRIX_ALLOW_CRASH"

// GuestCmdlineFlag is on the kernel command line of every bpfmatrix VM guest
// (matrix/guest.CmdlineFlag): a host's own boot never has it, so a crash
// spec that finds it cannot take down a real machine.
const GuestCmdlineFlag = "bpfmatrix.guest=1"

func init() {
	register(
		Feature{ID: "faults/crash", Area: Faults, Since: "2.6",
			Needs: []Requirement{Config("CONFIG_MAGIC_SYSRQ")},
			Doc:   "crashes the kernel with sysrq 'c' (test-only, labelled crash, VM guests with BPFMATRIX_ALLOW_CRASH=1 only)"},
	)
}
