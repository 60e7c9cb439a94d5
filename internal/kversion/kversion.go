// Package kversion is bpfmatrix's one kernel version type: read from a
// catalog's "Since" ("5.5"), a release string ("6.12.117+deb13-cloud-amd64",
// "7.3.0-rc7-cloud-amd64") or Debian's uname -v, compared numerically
// (5.10 > 5.9) and printed. Debian package versions are another thing and
// live with the package index code.
package kversion

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is an upstream kernel version. The zero Patch of "6.1" and of
// "6.1.0" are the same: Debian names every 6.1 release 6.1.0.
type Version struct{ Major, Minor, Patch int }

// Parse reads the leading "major.minor[.patch]" of s, so that "6.1",
// "6.1.176", "6.1.0-50-cloud-amd64" and "6.12.117+deb13-cloud-amd64" all
// parse; ok is false when s does not start with at least major.minor.
func Parse(s string) (v Version, ok bool) {
	if end := strings.IndexFunc(s, func(r rune) bool { return r != '.' && (r < '0' || r > '9') }); end >= 0 {
		s = s[:end]
	}
	parts := strings.Split(strings.TrimSuffix(s, "."), ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, false
	}
	nums := [3]int{}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return Version{}, false
		}
		nums[i] = n
	}
	return Version{nums[0], nums[1], nums[2]}, true
}

// Running is the version of a running kernel from uname's release and
// version strings. Debian's release says 5.10.0 for every 5.10 build; the
// real patch level is in the version ("#1 SMP Debian 5.10.262-1 (...)"), and
// is taken from there when it agrees on major.minor.
func Running(release, unameVersion string) Version {
	v, _ := Parse(release)
	if i := strings.Index(unameVersion, "Debian "); i >= 0 {
		if fields := strings.Fields(unameVersion[i+len("Debian "):]); len(fields) > 0 {
			if d, ok := Parse(fields[0]); ok && d.Major == v.Major && d.Minor == v.Minor {
				v.Patch = d.Patch
			}
		}
	}
	return v
}

// Compare returns -1, 0 or +1 as v is lower than, equal to or higher than w.
func (v Version) Compare(w Version) int {
	for _, d := range [3]int{v.Major - w.Major, v.Minor - w.Minor, v.Patch - w.Patch} {
		switch {
		case d < 0:
			return -1
		case d > 0:
			return 1
		}
	}
	return 0
}

// AtLeast reports whether v is w or newer.
func (v Version) AtLeast(w Version) bool { return v.Compare(w) >= 0 }

// String is "major.minor", with ".patch" when the patch level is known.
func (v Version) String() string {
	if v.Patch == 0 {
		return fmt.Sprintf("%d.%d", v.Major, v.Minor)
	}
	return v.Full()
}

// Full is always "major.minor.patch".
func (v Version) Full() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }
