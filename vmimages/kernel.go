package vmimages

// Kernel is a kernel ready to boot: the boundary type between vmimages and
// the VM target. Paths point into the cache; callers must not modify them.
type Kernel struct {
	// Name is the catalog name ("5.10") or the path the user gave.
	Name string
	// Release is the kernel's uname -r ("5.10.0-46-cloud-amd64").
	Release string
	// Package and Version name the Debian package it came from, if any.
	Package string
	Version string
	// Suite is the Debian suite that package came from. Skipped are the
	// catalog entry's suites left out because they could not be read and
	// verified, which only Options.AllowFallback allows: with them the
	// kernel may be older than the newest of its series. Both are empty for
	// custom kernels.
	Suite   string
	Skipped []SkippedSuite
	// Vmlinux is the uncompressed ELF kernel, booted through qemu's PVH entry.
	Vmlinux string
	// Bzimage is the original compressed kernel, kept as a fallback; empty
	// for a custom kernel given as an ELF vmlinux.
	Bzimage string
	// ModulesDir is lib/modules/<release> (may be empty for custom kernels).
	ModulesDir string
	// Config is the kernel's .config (may be empty for custom kernels).
	Config string
}
