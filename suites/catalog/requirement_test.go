package catalog

import (
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
	"github.com/bpfmatrix/bpfmatrix/reports"
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

func TestModule(t *testing.T) {
	need := Module("nf_conntrack", "CONFIG_NF_CONNTRACK")
	btfModules := map[string]string{"CONFIG_NF_CONNTRACK": "m", "CONFIG_DEBUG_INFO_BTF_MODULES": "y"}
	for _, tc := range []struct {
		name    string
		config  map[string]string
		modules []string
		status  reports.Status // "" when met
		unmet   string
	}{
		{"built in", map[string]string{"CONFIG_NF_CONNTRACK": "y"}, nil, "", ""},
		{"loaded", btfModules, []string{"nf_conntrack", "nf_defrag_ipv4"}, "", ""},
		{"not loaded", btfModules, []string{"veth"}, reports.Skipped, "not loaded: no /sys/kernel/btf/nf_conntrack"},
		{"no module BTF", map[string]string{"CONFIG_NF_CONNTRACK": "m"}, []string{}, reports.Unsupported, "CONFIG_DEBUG_INFO_BTF_MODULES is not set"},
		{"not built", map[string]string{}, []string{}, reports.Unsupported, "CONFIG_NF_CONNTRACK is not set"},
		{"unlisted", btfModules, nil, reports.Unknown, "could not be listed"},
		{"no config, loaded", nil, []string{"nf_conntrack"}, "", ""},
		{"no config, built in or not loaded", nil, []string{"veth"}, reports.Unknown, "config could not be read"},
		{"no config, unlisted", nil, nil, reports.Unknown, "could not be listed"},
	} {
		m := need.Unmet(&Kernel{Config: tc.config, BTFModules: tc.modules})
		switch {
		case tc.status == "" && m != nil:
			t.Errorf("%s: Unmet = %+v, want met", tc.name, m)
		case tc.status != "" && (m == nil || !strings.Contains(m.Reason, tc.unmet)):
			t.Errorf("%s: Unmet = %+v, want %q", tc.name, m, tc.unmet)
		case m != nil && m.Status != tc.status && !(tc.status == reports.Unsupported && m.Status == ""):
			t.Errorf("%s: status %q, want %q", tc.name, m.Status, tc.status)
		}
	}
}
