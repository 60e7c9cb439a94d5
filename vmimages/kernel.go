package vmimages

// Kernel is a kernel ready to boot: the boundary type between vmimages and
// the VM target. Paths point into the cache; callers must not modify them.
type Kernel struct {
	// Name is the catalog name ("5.10") or the path the user gave.
	Name string
	// Release is the kernel's uname -r ("5.10.0-46-cloud-amd64").
	Release string
	// Arch is the Debian architecture it runs on: "amd64" or "arm64".
	Arch string
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
	// Vmlinux is the file qemu's -kernel boots: on amd64 the uncompressed
	// ELF vmlinux, entered through its PVH note; on arm64 the uncompressed
	// Image.
	Vmlinux string
	// Bzimage is the kernel as packaged when Vmlinux was decompressed from
	// it (a bzImage, an arm64 Image.gz), kept as a fallback; empty when the
	// kernel boots as packaged (Debian's arm64 vmlinuz, an ELF vmlinux).
	Bzimage string
	// ModulesDir is lib/modules/<release> (may be empty for custom kernels).
	ModulesDir string
	// Config is the kernel's .config (may be empty for custom kernels).
	Config string
}
