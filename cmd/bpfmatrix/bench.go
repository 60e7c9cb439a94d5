package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/matrix/runcache"
	"github.com/bpfmatrix/bpfmatrix/matrix/vm"
	"github.com/bpfmatrix/bpfmatrix/reports/markdown"
	"github.com/bpfmatrix/bpfmatrix/vmimages"
)

func init() {
	commands["bench"] = command{"time each kernel's bare boot against its full suite run, then the whole matrix cold and rerun", bench}
}

// bench answers "what does a run cost beyond booting and the suite itself?"
// per kernel (the goal: a full run within 10% of bare boot + the guest's
// own work, bpftool's probe and the suite),
// then "what does the whole matrix cost against booting its kernels bare,
// cold and rerun unchanged?" (matrixRatios).
func bench(args []string) error {
	fs, verbose := newFlags("bench")
	kernels := fs.String("kernel", "all", "comma-separated catalog kernels ("+fmt.Sprint(vmimages.Names()[1:])+") or all")
	out := fs.String("out", "reports/bench", "output directory")
	runs := fs.Int("runs", 3, "bare boots per kernel (the median counts)")
	labels := fs.String("label-filter", "", "Ginkgo label filter for the suites")
	jobs := fs.Int("jobs", runtime.NumCPU(), "VMs the matrix runs at once, the targets on the host's kernel one at a time beside them (matrix-ratio divides the bare boots by it)")
	module := fs.String("module", ".", "bpfmatrix source tree the suite binary is built from")
	vmf := addVMFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	setupLog(*verbose)
	if *jobs < 1 {
		return badInput("--jobs %d: want at least 1 target at a time", *jobs)
	}
	if *runs < 1 {
		return badInput("--runs %d: want at least 1", *runs)
	}
	if err := checkLabelFilter(*labels); err != nil {
		return err
	}
	names := splitList(*kernels)
	all := len(names) == 1 && names[0] == "all"
	if all {
		names = vmimages.Names()[1:]
	}
	for _, name := range names {
		if _, err := vmf.targets(name, 0); err != nil {
			return err
		}
	}
	ctx, stop := notifyInterrupt()
	defer stop()

	buildDir, err := filepath.Abs(filepath.Join(*out, "build"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(buildDir, 0o755); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "building the suite binary")
	suite, err := matrix.BuildSuite(ctx, *module, buildDir, vmf.labelFilter(*labels))
	if err != nil {
		return stoppedBy(ctx, err)
	}
	lanes, err := vmf.archList()
	if err != nil {
		return err
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kernel\tarch\trelease\tbare boot\tsnapshot\tbpftool\tsuite\tinitramfs\tfull run\tcells\ttotal/(bare+bpftool+suite)\t")
	failed := 0
	var bare time.Duration // Σ bare boots, every lane's kernels
	for _, lane := range lanes {
		cfg := vmf.config(30*time.Minute, lane)
		for _, name := range names {
			dir := filepath.Join(*out, lane.Name, name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			p := matrix.NewProgress(os.Stderr, "bench "+name+" "+lane.Name, len(suite.Features))
			r, err := vm.Bench(ctx, cfg, name, suite, dir, *runs, p)
			if err != nil {
				p.Printf("%v", err)
				failed++
				continue
			}
			bare += r.Bare
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2fs\t%s\t%.2fs\t%.2fs\t%.2fs\t%.2fs\t%d\t%.2f\t\n", name, lane.Name, r.Release,
				r.Bare.Seconds(), snapshotColumn(r), r.Bpftool.Seconds(), r.Suite.Seconds(), r.Initramfs.Seconds(), r.Full.Seconds(), r.Cells, r.Ratio())
		}
	}
	tw.Flush()
	fmt.Printf("accelerator %s (other architectures: tcg); goal: total/(bare+bpftool+suite) <= 1.10\n", vm.Accel())
	if !*vmf.noSnap {
		fmt.Println("snapshot: the booted kernel saved once (or cached); a restored full run's bpftool probe ran in the snapshot")
	}
	switch {
	case ctx.Err() != nil:
	case failed > 0:
		fmt.Fprintf(os.Stderr, "matrix-ratio, rerun-ratio: not measured: %d kernels have no bare boot time\n", failed)
	default:
		if err := matrixRatios(ctx, *module, vmf.labelFilter(*labels), names, all, *jobs, bare, *out, vmf); err != nil {
			fmt.Fprintf(os.Stderr, "matrix-ratio, rerun-ratio: %v\n", err)
			failed++
		}
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if failed > 0 {
		return unexpectedError{fmt.Sprintf("%d kernels could not be benchmarked", failed)}
	}
	return nil
}

// snapshotColumn says what the kernel's snapshot cost: saved by this bench
// (how long), cached from an earlier run, or none (--no-snapshot).
func snapshotColumn(r vm.BenchResult) string {
	switch {
	case r.Snapshot == 0:
		return "-"
	case r.SnapshotCreated:
		return fmt.Sprintf("%.2fs", r.Snapshot.Seconds())
	default:
		return "cached"
	}
}

// matrixRatios answers "how long does the whole matrix take, cold and
// unchanged?": it runs the matrix `bpfmatrix run` runs for these kernels
// (for all of them: every lane's VMs, the host, the container profiles and
// the token target; else their VMs and the host) twice, as `run` does (the
// suite built, the report written) with a user's run cache: once with
// --no-cache, the cold run, then again. matrix-ratio is the cold run's wall
// time over what booting its kernels bare costs at `jobs` at a time,
// Σ bare ÷ jobs (goal 3.5); rerun-ratio the rerun's over the cold run's
// (goal 0.1, and the rerun within 5 s).
func matrixRatios(ctx context.Context, module, labels string, kernels []string, all bool, jobs int, bare time.Duration, out string, vmf *vmFlags) error {
	timeout := 30 * time.Minute
	names := kernels
	if all {
		names = []string{"all"}
	} else if (matrix.Host{}).CheckRoot() == nil {
		names = append([]string{vmimages.Host}, kernels...)
	}
	out = filepath.Join(out, "matrix")
	targets, err := selectTargets(names, nil, out, timeout, false, vmf)
	if err != nil {
		return err
	}
	buildDir, err := filepath.Abs(filepath.Join(out, "build"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(buildDir, 0o755); err != nil {
		return err
	}
	var walls [2]time.Duration
	reused := 0
	for i, noCache := range []bool{true, false} {
		start := time.Now()
		suite, err := matrix.BuildSuite(ctx, module, buildDir, labels)
		if err != nil {
			return stoppedBy(ctx, err)
		}
		suite.Seed = 1 + rand.Int64N(math.MaxInt32)
		rep, err := matrix.Run(ctx, suite, targets, matrix.Options{Out: out, Jobs: jobs, Tool: version,
			Cache: &runcache.Cache{Dir: runcache.DefaultDir()}, NoCache: noCache, AnySeed: true, Durations: matrix.DefaultDurationsFile()})
		if err == nil {
			err = writeRendered(rep, out, markdown.Options{})
		}
		if err != nil {
			return stoppedBy(ctx, err)
		}
		walls[i] = time.Since(start)
		for _, run := range rep.Runs {
			if run.Status != matrix.RunOK {
				cause, _, _ := strings.Cut(run.Detail, "\n")
				return fmt.Errorf("%s %s ended %s: %s", run.Target, run.Kernel.Name, run.Status, cause)
			}
			if !noCache && run.CachedFrom != nil {
				reused++
			}
		}
	}
	perJob := bare.Seconds() / float64(jobs)
	fmt.Printf("matrix-ratio %.2f: matrix of %d targets, --jobs %d, cold (--no-cache) %.1fs / (Σ bare boots %.1fs ÷ %d = %.1fs); goal: <= 3.50\n",
		walls[0].Seconds()/perJob, len(targets), jobs, walls[0].Seconds(), bare.Seconds(), jobs, perJob)
	fmt.Printf("rerun-ratio %.3f: unchanged rerun %.2fs / cold %.1fs; %d of %d runs reused; goal: <= 0.100, rerun <= 5s\n",
		walls[1].Seconds()/walls[0].Seconds(), walls[1].Seconds(), walls[0].Seconds(), reused, len(targets))
	return nil
}
