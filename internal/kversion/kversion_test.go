package kversion

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
		ok   bool
	}{
		{"5.5", Version{5, 5, 0}, true},
		{"6.1.176", Version{6, 1, 176}, true},
		{"6.1.0-50-cloud-amd64", Version{6, 1, 0}, true},
		{"6.12.117+deb13-cloud-amd64", Version{6, 12, 117}, true},
		{"7.3.0-rc7-cloud-amd64", Version{7, 3, 0}, true},
		{"6.18.44-fc-v857", Version{6, 18, 44}, true},
		{"host", Version{}, false},
		{"6", Version{}, false},
		{"1.2.3.4", Version{}, false},
		{"", Version{}, false},
	} {
		got, ok := Parse(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Parse(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRunning(t *testing.T) {
	for _, tc := range []struct{ release, version, want string }{
		{"5.10.0-46-cloud-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 5.10.262-1 (2026-10-01)", "5.10.262"},
		{"6.18.44-fc-v857", "#1 SMP", "6.18.44"},
		// A Debian string for another series is not this kernel's patch level.
		{"6.1.0-57-cloud-amd64", "#1 SMP Debian 5.10.262-1", "6.1.0"},
	} {
		if got := Running(tc.release, tc.version).Full(); got != tc.want {
			t.Errorf("Running(%q, %q) = %s, want %s", tc.release, tc.version, got, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	v := func(s string) Version { x, _ := Parse(s); return x }
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"5.10", "5.9", 1}, {"5.9", "5.10", -1}, {"6.1", "6.1.0", 0}, {"6.1.176", "6.1.180", -1}, {"7.0", "6.18", 1},
	} {
		if got := v(tc.a).Compare(v(tc.b)); got != tc.want {
			t.Errorf("%s vs %s = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if !v("6.12").AtLeast(v("5.18")) || v("5.10").AtLeast(v("5.18")) {
		t.Error("AtLeast is wrong")
	}
	if v("6.1").String() != "6.1" || v("6.1.57").String() != "6.1.57" || v("6.1").Full() != "6.1.0" {
		t.Error("String/Full are wrong")
	}
}
