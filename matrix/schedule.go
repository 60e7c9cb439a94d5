package matrix

import (
	"cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/arch"
	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
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
// LPT rule): when the slowest VM starts last, one core idles until it ends.
// A target's expected time is its last run's (last, by durationKey), or a
// guess by kind; ties between guesses go to slowerGuess, other ties keep
// the order given.
func startOrder(s *Suite, targets []Target, jobs int, last map[string]time.Duration) []int {
	order := make([]int, len(targets))
	for i := range order {
		order[i] = i
	}
	if jobs <= 1 {
		return order
	}
	expect := make([]time.Duration, len(targets))
	guessed := make([]bool, len(targets))
	for i, t := range targets {
		d, ok := last[durationKey(s, t)]
		switch {
		case ok:
		case t.Kernel() == vmimages.Host:
			d = guessHost
		default:
			d = guessBooted
		}
		expect[i], guessed[i] = d, !ok
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cmp.Compare(expect[b], expect[a]); c != 0 || !guessed[a] || !guessed[b] {
			return c
		}
		return slowerGuess(targets[a], targets[b])
	})
	return order
}

// slowerGuess orders two targets that never ran here, slower first: an
// emulated lane's VM before a native one, and a newer kernel (more of
// the catalog supported, so more cells that attach, trigger and observe)
// before an older one. In the bench of 2026-12-03 evening each kernel's
// arm64 run took 6.7–9.5 s, its amd64 one 4.7–7.0 s, and both grew from
// 5.10 to 7.x. A kernel given as a file counts as the oldest.
func slowerGuess(a, b Target) int {
	native := arch.Running().Name
	emulated := func(t Target) bool { return ArchOf(t) != "" && ArchOf(t) != native }
	if ea, eb := emulated(a), emulated(b); ea != eb {
		if ea {
			return -1
		}
		return 1
	}
	va, _ := kversion.Parse(a.Kernel())
	vb, _ := kversion.Parse(b.Kernel())
	return vb.Compare(va)
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

// noteDurations adds to the durations file the time of every run that ran
// here (took[i], its Outcome.Setup left out: a snapshot saved once would
// start its kernel first ever after) and ended ok, by durationKey: not one
// reused from the run cache or --resume (took[i] is 0), whose time is a
// copy's, nor one that broke, whose time says nothing of a whole run (a
// boot that fails in 2 s would start a 50 s kernel last next time).
func noteDurations(path string, s *Suite, targets []Target, runs []reports.Run, took []float64) error {
	if path == "" {
		return nil
	}
	seconds := map[string]float64{}
	for name, d := range readDurations(path) {
		seconds[name] = d.Seconds()
	}
	changed := false
	for i, run := range runs {
		if took[i] > 0 && run.Status == RunOK {
			seconds[durationKey(s, targets[i])] = took[i]
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return writeJSON(path, seconds)
}

// A pool is targets that share slots, started in start order.
type pool struct {
	targets []int
	slots   int
}

// pools splits a start order into pools. With one job there is one: one
// target at a time, in the order given. With more, the booted kernels are
// a pool of jobs slots, and the targets on the host's kernel a pool of one
// beside it. One, since they share that kernel and its global names: two
// at once collided, the second's tcp_congestion_ops refused with EEXIST
// as it registered the same name. Beside, since a run on the host's
// kernel mostly waits on it (the host target's suite: 1.9 s of wall time
// for 0.37 s of CPU), so run after the VMs it left the cores idle at the
// end of every matrix (docs/speed.md).
func pools(order []int, targets []Target, jobs int) []pool {
	if jobs <= 1 {
		return []pool{{order, 1}}
	}
	booted, host := pool{slots: jobs}, pool{slots: 1}
	for _, i := range order {
		if targets[i].Kernel() == vmimages.Host {
			host.targets = append(host.targets, i)
		} else {
			booted.targets = append(booted.targets, i)
		}
	}
	return slices.DeleteFunc([]pool{booted, host}, func(pl pool) bool { return len(pl.targets) == 0 })
}
