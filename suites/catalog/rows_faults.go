package catalog

func init() {
	register(
		Feature{ID: "faults/crash", Area: Faults, Since: "2.6",
			Needs: []Requirement{Config("CONFIG_MAGIC_SYSRQ")},
			Doc:   "crashes the kernel with sysrq 'c' (test-only, labelled crash, VM guests with BPFMATRIX_ALLOW_CRASH=1 only)"},
	)
}
