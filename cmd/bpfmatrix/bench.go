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
	commands["bench"] = command{"time each kernel's bare boot against its full suite run", bench}
}

// bench answers "what does a run cost beyond booting and the suite itself?"
// per kernel: the goal is a full run within 10% of bare boot + suite time.
func bench(args []string) error {
	fs, verbose := newFlags("bench")
	kernels := fs.String("kernel", "all", "comma-separated catalog kernels ("+fmt.Sprint(vmimages.Names()[1:])+") or all")
	out := fs.String("out", "reports/bench", "output directory")
	runs := fs.Int("runs", 3, "bare boots per kernel (the median counts)")
	labels := fs.String("label-filter", "", "Ginkgo label filter for the suites")
	module := fs.String("module", ".", "bpfmatrix source tree the suite binary is built from")
	vmf := addVMFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	setupLog(*verbose)
	if *runs < 1 {
		return badInput("--runs %d: want at least 1", *runs)
	}
	if err := checkLabelFilter(*labels); err != nil {
		return err
	}
	names := splitList(*kernels)
	if len(names) == 1 && names[0] == "all" {
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
	fmt.Fprintln(tw, "kernel\tarch\trelease\tbare boot\tsuite\tinitramfs\tfull run\tcells\ttotal/(bare+suite)\t")
	failed := 0
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
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2fs\t%.2fs\t%.2fs\t%.2fs\t%d\t%.2f\t\n", name, lane.Name, r.Release,
				r.Bare.Seconds(), r.Suite.Seconds(), r.Initramfs.Seconds(), r.Full.Seconds(), r.Cells, r.Ratio())
		}
	}
	tw.Flush()
	fmt.Printf("accelerator %s (other architectures: tcg); goal: total/(bare+suite) <= 1.10\n", vm.Accel())
	if ctx.Err() == nil {
		if err := rerunRatio(ctx, *module, vmf.labelFilter(*labels), names[0], *out, vmf); err != nil {
			fmt.Fprintf(os.Stderr, "rerun-ratio: %v\n", err)
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

// rerunRatio answers "what does an unchanged rerun cost?": it runs the host
// (as root) and kernel in each lane twice, as `bpfmatrix run` does (the
// suite built first, the report written), with the run cache of a user:
// once with --no-cache, the cold run, then again. Its line gives the
// rerun's wall time over the cold one's; the goal is a rerun within 5 s.
func rerunRatio(ctx context.Context, module, labels, kernel, out string, vmf *vmFlags) error {
	timeout := 30 * time.Minute
	targets, err := vmf.targets(kernel, timeout)
	if err != nil {
		return err
	}
	if (matrix.Host{}).CheckRoot() == nil {
		targets = append([]matrix.Target{matrix.Host{Timeout: timeout}}, targets...)
	}
	out = filepath.Join(out, "rerun")
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
		rep, err := matrix.Run(ctx, suite, targets, matrix.Options{Out: out, Jobs: runtime.NumCPU(), Tool: version,
			Cache: &runcache.Cache{Dir: runcache.DefaultDir()}, NoCache: noCache, AnySeed: true})
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
	var names []string
	for _, t := range targets {
		names = append(names, matrix.RunName(t))
	}
	fmt.Printf("rerun-ratio %.3f: unchanged rerun %.2fs / cold run (--no-cache) %.2fs; %d of %d runs reused (%s); goal: rerun <= 5s\n",
		walls[1].Seconds()/walls[0].Seconds(), walls[1].Seconds(), walls[0].Seconds(), reused, len(targets), strings.Join(names, ", "))
	return nil
}
