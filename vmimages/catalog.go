// Package vmimages turns a catalog name such as "5.10" into a bootable
// Debian kernel for amd64 or arm64 (Options.Arch): it resolves the newest
// matching package the mirror apt is configured with serves, fetches and
// verifies it, caches it, and extracts what a VM needs (the kernel file
// qemu boots, modules, config). It knows nothing of suites.
//
// Trust follows apt: a suite's InRelease must be signed by a key of the
// Debian archive keyring (checked with gpgv), the Packages index must have
// the SHA256 InRelease lists, and each .deb the SHA256 of its Packages
// entry — checked again every time a cached .deb is used. A catalog name
// resolves only when every suite of its entry was read and verified: one
// that was not (a bad signature, a hash mismatch, an unreachable mirror, a
// suite the mirror lacks) might hold the newest build, so resolution fails
// naming it, unless the caller allows the fallback (Options.AllowFallback,
// AllowFallbackEnv), and then the skipped suites are recorded.
//
// The cache (DefaultCacheDir) holds:
//
//	indexes/<mirror>/<suite>/InRelease    last InRelease that verified, per suite
//	indexes/linux-<sha256>.json           linux-* entries of a Packages index
//	debs/<pkg>_<version>_<sha256[:12]>.deb
//	kernels/<image>_<version>_<sha256[:12]>/  kernel.json, vmlinux, root/…
//	custom/<sha256[:16]>/                 kernel.json, vmlinux of a user's bzImage
//	                                      (Image of an Image.gz)
//
// An InRelease covers every architecture; everything else is of one: each
// architecture has its own Packages index (so its own hash), and Debian's
// kernel package names end in the architecture (…-cloud-arm64), so an
// amd64 and an arm64 kernel of one version are two entries. An arm64
// entry has no vmlinux: Debian's arm64 vmlinuz is the Image qemu boots.
//
// kernel.json lists every file of its entry with the size and SHA256 it
// had when extracted, and each use checks the entry against it, extracting
// it again when it no longer matches. Every entry is written under a
// flock(2) lock and renamed into place complete, kernel.json last, so
// concurrent runs share one cache and a killed run leaves no half entry
// that looks valid. A check or download that is interrupted (the context
// is cancelled) says so and deletes nothing but its own temporary files;
// only a check that ran to its end and failed removes what it checked.
//
// What it reads is plumbing of its own packages: Debian's archive formats
// (internal/debian), kernel images (internal/kernelimage) and compressed
// streams (internal/decompress). The programs they run (gpgv, xz, zstd)
// and the archive keyring come from internal/tools, which installs them
// when missing as root on Debian.
package vmimages

import (
	"fmt"
	"strings"
)

// Entry is one row of the kernel catalog: what KERNEL=<Name> means.
type Entry struct {
	// Name is what users type: "5.10".
	Name string
	// Suites are the Debian suites searched, newest first; security suites
	// hold newer builds than the main suite (bullseye stops at 5.10.0-32).
	Suites []string
	// Series is the upstream major.minor the package must carry.
	Series string
	// RC marks a release-candidate kernel from experimental.
	RC bool
}

// Catalog lists the kernels bpfmatrix knows, oldest first.
var Catalog = []Entry{
	{Name: "5.10", Suites: []string{"bullseye-security", "bullseye"}, Series: "5.10"},
	{Name: "6.1", Suites: []string{"bookworm-security", "bookworm"}, Series: "6.1"},
	{Name: "6.12", Suites: []string{"trixie-security", "trixie", "bookworm-backports"}, Series: "6.12"},
	{Name: "7.2", Suites: []string{"sid"}, Series: "7.2"},
	{Name: "7.3", Suites: []string{"experimental"}, Series: "7.3", RC: true},
}

// Host is the catalog name of the machine's own kernel.
const Host = "host"

// Lookup returns the catalog entry called name.
func Lookup(name string) (Entry, bool) {
	for _, e := range Catalog {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// Names lists every name KERNEL accepts, host first.
func Names() []string {
	names := []string{Host}
	for _, e := range Catalog {
		names = append(names, e.Name)
	}
	return names
}

// UnknownError is returned for a KERNEL that is neither a catalog name nor a
// path; its message is the one line a user needs.
type UnknownError struct{ Name string }

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown kernel %q: known kernels are %s, or a path to a bzImage", e.Name, strings.Join(Names(), ", "))
}
