package vm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/matrix/guest"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

// BenchResult compares one kernel's full run with what it cannot avoid: a
// bare boot (an /init that powers off at once) plus the guest's own work
// measured inside it, bpftool's probe (for parity) and the suite. Overhead
// is everything else: a bigger initramfs, module loading, serial output.
type BenchResult struct {
	Kernel, Release string
	// Bare is the median qemu start-to-exit time of the bare boot.
	Bare time.Duration
	// Initramfs is the host's time to assemble the full initramfs.
	Initramfs time.Duration
	// Full is qemu start-to-exit with the suite, Bpftool and Suite the
	// probe's and the suite's run times in the guest, Cells the cells
	// streamed.
	Full, Bpftool, Suite time.Duration
	Cells                int
	// Snapshot is how long saving the kernel's snapshot took, when runs
	// restore one, and SnapshotCreated whether this bench saved it (else
	// it was cached). A restored run's bpftool probe ran in the snapshot:
	// Full does not include it.
	Snapshot        time.Duration
	SnapshotCreated bool
}

// Total is the full run as a user waits for it, minus the fetch.
func (r BenchResult) Total() time.Duration { return r.Initramfs + r.Full }

// Ratio is Total / (Bare + Bpftool + Suite): 1.10 is the goal's limit.
func (r BenchResult) Ratio() float64 {
	return r.Total().Seconds() / (r.Bare + r.Bpftool + r.Suite).Seconds()
}

// Bench boots kernel name bare `runs` times and once with suite s, in dir.
func Bench(ctx context.Context, cfg *Config, name string, s *matrix.Suite, dir string, runs int, p *matrix.Progress) (BenchResult, error) {
	res := BenchResult{Kernel: name}
	init, err := cfg.guestInit(ctx, filepath.Dir(s.Binary))
	if err != nil {
		return res, err
	}
	k, err := cfg.Fetch(ctx, name, p)
	if err != nil {
		return res, fmt.Errorf("fetch kernel %s: %w", name, err)
	}
	res.Release = k.Release

	bare := filepath.Join(dir, "bare.cpio")
	if _, err := WriteInitramfs(bare, init, "", nil, k, &guest.Plan{}, cfg.Gzip); err != nil {
		return res, err
	}
	defer removeQuietly(bare)
	var times []time.Duration
	for i := 0; i < runs; i++ {
		files := []string{filepath.Join(dir, "bare-console.log")}
		took, err := cfg.machine(k.Vmlinux, bare, files).Run(ctx)
		if out := judge(files[0], took, err); out.Status != matrix.RunOK {
			return res, fmt.Errorf("bare boot of %s: %s: %s", name, out.Status, out.Detail)
		}
		times = append(times, took)
		p.Printf("bare boot %d/%d: %.2fs", i+1, runs, took.Seconds())
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	res.Bare = times[len(times)/2]

	// Built before the clock starts: the first run of a foreign lane
	// cross-builds the suite.
	binary, err := s.BinaryFor(ctx, cfg.arch().Name)
	if err != nil {
		return res, err
	}
	plan, _, _ := cfg.runPlan(s) // a run's plan, bpftool's probe included when there is one
	if cfg.Snapshots != "" {
		// Saved before the clock starts too: once per kernel, as the
		// kernel's fetch is.
		snap, created, err := cfg.snapshot(ctx, init, k, plan, p)
		if err != nil {
			return res, err
		}
		res.Snapshot, res.SnapshotCreated = snap.meta.Took, created
	}
	files := RunFiles(dir)
	out, prep, took := cfg.launch(ctx, init, k, binary, s, plan, dir, p)
	if out.Status != matrix.RunOK {
		return res, fmt.Errorf("full run of %s: %s: %s", name, out.Status, out.Detail)
	}
	res.Initramfs = prep
	res.Full = took
	c, err := readConsole(files[0])
	if err != nil {
		return res, err
	}
	res.Suite, res.Bpftool = c.suite, c.bpftool
	if _, cells, err := readRecords(files[1]); err == nil {
		res.Cells = len(cells)
	}
	return res, nil
}

func readRecords(path string) (*reports.Kernel, []reports.Cell, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return reports.ReadRecords(path, f)
}
