package catalog

import (
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
)

func TestBackported(t *testing.T) {
	need := Backported("6.6", "6.1.72")
	for _, tc := range []struct {
		major, minor, patch int
		unmet               string // substring of the reason, "" when met
	}{
		{6, 6, 0, ""},
		{6, 12, 1, ""},
		{6, 1, 192, ""},
		{6, 1, 72, ""},
		{6, 1, 71, "or 6.1.72 where it was backported"},
		{6, 4, 16, "backported only to 6.1.72"},
		{5, 10, 262, "needs Linux >= 6.6"},
	} {
		k := &Kernel{Version: kversion.Version{Major: tc.major, Minor: tc.minor, Patch: tc.patch}}
		m := need.Unmet(k)
		if (tc.unmet == "") != (m == nil) || (m != nil && !strings.Contains(m.Reason, tc.unmet)) {
			t.Errorf("%s: Unmet = %+v, want %q", k.Version.Full(), m, tc.unmet)
		}
	}
}

func TestLockdownBelow(t *testing.T) {
	for _, tc := range []struct {
		level, since, lockdown string
		major, minor           int
		unmet                  bool
	}{
		{"integrity", "5.14", "integrity", 6, 18, true},
		{"integrity", "5.14", "integrity", 5, 10, false}, // the helper joined the integrity level in 5.14
		{"integrity", "5.14", "none", 6, 18, false},
		{"confidentiality", "5.5", "integrity", 6, 18, false},
		{"confidentiality", "5.5", "confidentiality", 6, 18, true},
	} {
		k := &Kernel{Version: kversion.Version{Major: tc.major, Minor: tc.minor}, Lockdown: tc.lockdown}
		if m := LockdownBelow(tc.level, tc.since).Unmet(k); (m != nil) != tc.unmet {
			t.Errorf("LockdownBelow(%s, %s) on %s with lockdown %q: Unmet = %+v", tc.level, tc.since, k.Version.Full(), tc.lockdown, m)
		}
	}
}

func TestLaterVersion(t *testing.T) {
	for _, tc := range [][3]string{{"4.1", "5.8", "5.8"}, {"4.10", "4.9", "4.10"}, {"5.5", "5.5", "5.5"}} {
		if got := Later(tc[0], tc[1]); got != tc[2] {
			t.Errorf("Later(%s, %s) = %s, want %s", tc[0], tc[1], got, tc[2])
		}
	}
}
