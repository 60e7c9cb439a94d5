package debian

import "testing"

func TestCompareVersions(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"5.10.262-1", "5.10.262-1", 0},
		{"5.10.262-1", "5.10.226-1", 1},
		{"6.1.176-1", "6.1.99-1", 1},
		{"7.3~rc7-1~exp1", "7.3-1", -1},
		{"7.3~rc7-1~exp1", "7.3~rc6-1~exp1", 1},
		{"7.3~rc7-1~exp1", "7.3~rc7-1", -1},
		{"1:1.0-1", "2.0-1", 1},
		{"1.0", "1.0-0", 0},
		{"1.0a", "1.0", 1},
		{"1.0+deb13u1", "1.0", 1},
		{"1.0~", "1.0", -1},
		{"6.12.117-1", "6.12.117-1+deb13u1", -1},
		{"0010", "10", 0},
		{"1.0-1.1", "1.0-1", 1},
	} {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := CompareVersions(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}
