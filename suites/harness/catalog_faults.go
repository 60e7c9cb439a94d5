package harness

// Faults is the area of specs that break the kernel on purpose, to prove the
// runner keeps every cell streamed before a crash. They run only in a VM
// guest and only when asked (see AllowCrash).
const Faults Area = "faults"

func init() {
	register(
		Feature{ID: "faults/crash", Area: Faults, Since: "2.6",
			Needs: []Requirement{Config("CONFIG_MAGIC_SYSRQ")},
			Doc:   "crashes the kernel with sysrq 'c' (test-only, labelled crash, VM guests with BPFMATRIX_ALLOW_CRASH=1 only)"},
	)
}
