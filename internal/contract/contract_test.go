package contract

import (
	"slices"
	"testing"
)

func TestLabelsRoundTrip(t *testing.T) {
	for _, tc := range []struct{ area, id string }{
		{"tracing", "attach/kprobe.multi"},
		{"features", "helper/xdp/bpf_redirect"},
		{"probepoints", "probepoints/inventory"},
	} {
		labels := Labels(tc.area, tc.id)
		if got := Area(labels); got != tc.area {
			t.Errorf("Area(Labels(%q, %q)) = %q", tc.area, tc.id, got)
		}
		for _, l := range labels {
			if slices.Contains([]rune(l), '/') {
				t.Errorf("label %q of %s holds '/', which Ginkgo refuses", l, tc.id)
			}
		}
		if got := Feature([]string{tc.id}, "a sentence"); got != tc.id {
			t.Errorf("Feature = %q, want %q", got, tc.id)
		}
	}
}
