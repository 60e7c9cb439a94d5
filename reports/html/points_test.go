package html_test

import (
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// TestProbePointsPresenceInWords renders a point that exists on one kernel
// and not on the one before: its presence row says "absent: " and the
// kernel's reason, escaped, then "present", highlighted as added.
func TestProbePointsPresenceInWords(t *testing.T) {
	run := func(kernel string, w reports.WatchedPoint) reports.Run {
		return reports.Run{Kernel: reports.Kernel{Name: kernel}, Target: "vm", ProbePoints: &reports.ProbePoints{Watch: []reports.WatchedPoint{w}}}
	}
	page := render(t, &reports.Report{Schema: reports.SchemaVersion, Runs: []reports.Run{
		run("6.1", reports.WatchedPoint{Kind: reports.PointTracepoint, Name: "skb/kfree_skb", Present: true,
			Fields: []reports.TracepointField{{Name: "protocol", Type: "unsigned short", Offset: 24, Size: 2}}}),
		run("5.10", reports.WatchedPoint{Kind: reports.PointTracepoint, Name: "skb/kfree_skb", Error: "no <b>skb/kfree_skb</b> in /sys/kernel/tracing/events"}),
	}})
	i := strings.Index(page, `<table id="pp-diff"`)
	if i < 0 {
		t.Fatal("no probe point diff table")
	}
	diff := page[i : i+strings.Index(page[i:], "</table>")]
	for _, want := range []string{
		`<tbody class="pp-g pp-g-added">`,
		`<th scope="row" class="pp-field">presence</th><td>absent: no &lt;b&gt;skb/kfree_skb&lt;/b&gt; in /sys/kernel/tracing/events</td><td class="pp-chg pp-added" data-change="added" title="added since 5.10, where it was absent: no &lt;b&gt;skb/kfree_skb&lt;/b&gt; in /sys/kernel/tracing/events">present</td>`,
	} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff table lacks %s\n%s", want, diff)
		}
	}
	if strings.Contains(diff, "✓") || strings.Contains(diff, "protocol") {
		t.Errorf("diff table writes ✓ or a field that did not change:\n%s", diff)
	}
}
