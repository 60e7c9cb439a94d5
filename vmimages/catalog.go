// Package vmimages turns a catalog name such as "5.10" into a bootable
// Debian kernel: it resolves the newest matching package from the mirror
// apt is configured with, fetches and verifies it, caches it, and extracts
// what a VM needs (vmlinux, modules, config). It knows nothing of suites.
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
