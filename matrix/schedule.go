package matrix

import (
	"cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/vmimages"
)

// DefaultDurationsFile is where a matrix keeps how long each target's last
// run took, beside the kernel and run caches: the next matrix starts its
// longest targets first.
func DefaultDurationsFile() string {
	return filepath.Join(vmimages.DefaultCacheDir(), "durations.json")
}

// Targets that never ran here are expected to take about as long as their
// kind does on this project's machine kind (2 cores, TCG): a booted kernel
// 30–50 s, a target on the host's own kernel 2–8 s. Only their order
// matters.
const (
	guessBooted = 60 * time.Second
	guessHost   = 10 * time.Second
)

// durationKey names a target's runs of suite s in the durations file: its
// RunName, and the label filter and shard that select which specs run (a
// run of the networking specs alone says little about a full one).
func durationKey(s *Suite, t Target) string {
	key := RunName(t)
	if s.LabelFilter != "" {
		key += " label-filter=" + s.LabelFilter
	}
	if s.Shard != "" {
		key += " shard=" + s.Shard
	}
	return key
}

// startOrder is the order in which the targets start. With one job it is
// the order given: the user's. With more it is longest expected first (the
// LPT rule): when the slowest VM starts last, one core idles until it ends,
// when the short host and container runs start last they fill the gaps.
// A target's expected time is its last run's (last, by durationKey), or a
// guess by kind; ties keep the order given.
func startOrder(s *Suite, targets []Target, jobs int, last map[string]time.Duration) []int {
	order := make([]int, len(targets))
	for i := range order {
		order[i] = i
	}
	if jobs <= 1 {
		return order
	}
	expect := make([]time.Duration, len(targets))
	for i, t := range targets {
		d, ok := last[durationKey(s, t)]
		switch {
		case ok:
		case t.Kernel() == vmimages.Host:
			d = guessHost
		default:
			d = guessBooted
		}
		expect[i] = d
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(expect[b], expect[a]) })
	return order
}

// readDurations reads a durations file. A missing or unreadable one is no
// history: the order is an optimisation, never a reason to fail.
func readDurations(path string) map[string]time.Duration {
	last := map[string]time.Duration{}
	if path == "" {
		return last
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return last
	}
	var seconds map[string]float64
	if json.Unmarshal(data, &seconds) != nil {
		return last
	}
	for name, s := range seconds {
		if s > 0 {
			last[name] = time.Duration(s * float64(time.Second))
		}
	}
	return last
}

// noteDurations adds to the durations file the wall time of every run that
// ran here (fresh[i]) and ended ok, by durationKey: not one reused from the
// run cache or --resume, whose time is a copy's, nor one that broke, whose
// time says nothing of a whole run (a boot that fails in 2 s would start
// a 50 s kernel last next time).
func noteDurations(path string, s *Suite, targets []Target, runs []reports.Run, fresh []bool) error {
	if path == "" {
		return nil
	}
	seconds := map[string]float64{}
	for name, d := range readDurations(path) {
		seconds[name] = d.Seconds()
	}
	changed := false
	for i, run := range runs {
		if fresh[i] && run.Status == RunOK && run.WallTime > 0 {
			seconds[durationKey(s, targets[i])] = run.WallTime
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return writeJSON(path, seconds)
}
