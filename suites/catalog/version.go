package catalog

import (
	"fmt"
	"strconv"
	"strings"
)

// version is an upstream kernel version. Rows give major.minor (Since) or
// major.minor.patch (a stable backport); a missing patch level is 0.
type version struct{ major, minor, patch int }

// parseVersion reads the leading numbers of s, whatever separates them:
// "5.10", "6.1.72", "6.18.44-fc-v657", "6.12.117+deb13-cloud-amd64". It
// needs at least major and minor.
func parseVersion(s string) (version, bool) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	var nums [3]int
	for i := 0; i < len(fields) && i < 3; i++ {
		nums[i], _ = strconv.Atoi(fields[i])
	}
	return version{nums[0], nums[1], nums[2]}, len(fields) >= 2
}

// debianVersion reads the Debian package version out of a kernel's uname -v
// ("#1 SMP PREEMPT_DYNAMIC Debian 5.10.262-1 (2026-10-01)"): Debian's
// release string keeps 5.10.0 while the patch level moves.
func debianVersion(unameV string) (version, bool) {
	_, rest, found := strings.Cut(unameV, "Debian ")
	if !found {
		return version{}, false
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return version{}, false
	}
	return parseVersion(fields[0])
}

func (v version) less(w version) bool {
	if v.major != w.major {
		return v.major < w.major
	}
	if v.minor != w.minor {
		return v.minor < w.minor
	}
	return v.patch < w.patch
}

func (v version) String() string { return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.patch) }

// later returns the later of two row versions ("4.10", "5.8").
func later(a, b string) string {
	va, _ := parseVersion(a)
	vb, _ := parseVersion(b)
	if va.less(vb) {
		return b
	}
	return a
}
