package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/matrix/runcache"
	"github.com/bpfmatrix/bpfmatrix/objects"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/markdown"
	"github.com/bpfmatrix/bpfmatrix/vmimages"
)

func init() {
	commands["run"] = command{"run the suites on kernels and targets, write the report", runMatrix}
}

func runMatrix(args []string) error {
	fs, verbose := newFlags("run")
	kernels := fs.String("kernel", "all", "comma-separated kernels: host, a catalog name ("+fmt.Sprint(vmimages.Names()[1:])+"), a bzImage path, or all")
	kinds := fs.String("target", "", targetFlagDoc)
	out := fs.String("out", "reports/out", "output directory")
	jobs := fs.Int("jobs", runtime.NumCPU(), "VMs to run at once; the targets on the host's kernel run one at a time beside them")
	resume := fs.Bool("resume", false, "reuse the runs that ended ok in -out and run the others again")
	noCache := fs.Bool("no-cache", false, "run every target again, even one whose inputs did not change since a run kept in the run cache ("+runcache.DefaultDir()+", docs/caching.md); the runs that end well are still kept")
	labels := fs.String("label-filter", "", "Ginkgo label filter for the suites, e.g. tracing")
	timeout := fs.Duration("timeout", 10*time.Minute, "time limit of each target's run")
	seed := fs.Int64("seed", 0, "Ginkgo's random seed of the suites' spec order, the same for every target (default: a random one, printed in each run's summary)")
	module := fs.String("module", ".", "bpfmatrix source tree the suite binary is built from")
	check := fs.Bool("check", false, "only check the kernels and targets named, then exit: make runs it before installing anything")
	var objectPaths []string
	fs.Func("object", "a user's eBPF ELF object: one cell per program (repeat the flag, or separate with commas); the run then proves only the objects unless -label-filter says otherwise", func(v string) error {
		objectPaths = append(objectPaths, splitList(v)...)
		return nil
	})
	manifest := fs.String("manifest", "", "the objects' manifest (docs/objects.md); default: "+objects.ManifestName+" beside the first -object, if there is one")
	trigger := fs.String("trigger", "", "shell command run in the target after attaching each object program, instead of the built-in trigger of its kind")
	stages := fs.String("stages", "", "how far object programs must get: load, attach or fired (default: fired; a manifest rule may say otherwise)")
	shard := fs.String("shard", "", "run only shard i of n of each target's specs (i/n, such as 1/2): for slow CI runners; `report merge` of all n shards is one run")
	vmf := addVMFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *shard != "" {
		if _, _, err := contract.ParseShard(*shard); err != nil {
			return badInput("--%v", err)
		}
	}
	setupLog(*verbose)
	if *jobs < 1 {
		return badInput("--jobs %d: want at least 1 target at a time", *jobs)
	}
	if *timeout <= 0 {
		return badInput("--timeout %s: want a positive time limit such as 10m", *timeout)
	}
	if err := checkLabelFilter(*labels); err != nil {
		return err
	}
	if *seed < 0 || *seed == 0 && isSet(fs, "seed") {
		return badInput("--seed %d: want a positive number, such as the seed a run's summary printed", *seed)
	}
	anySeed := *seed == 0
	if anySeed {
		*seed = 1 + rand.Int64N(math.MaxInt32)
	}
	var objectPlan *objects.Plan
	if len(objectPaths) > 0 || *manifest != "" || *trigger != "" || *stages != "" {
		if len(objectPaths) == 0 {
			return badInput("--manifest, --trigger and --stages apply to objects: give at least one --object FILE.o")
		}
		p, err := objects.NewPlan(objectPaths, *manifest, objects.Defaults{Trigger: *trigger, Stage: reports.ObjectStage(*stages)})
		if err != nil {
			return badInput("%v", err)
		}
		objectPlan = p
		if *labels == "" {
			*labels = reports.AreaObjects
		}
	}

	targets, err := selectTargets(splitList(*kernels), splitList(*kinds), *out, *timeout, *check, vmf)
	if err != nil {
		return err
	}
	if err := matrix.CheckTargets(targets); err != nil {
		return badInput("%v", err)
	}
	if *check {
		return nil
	}
	ctx, stop := notifyInterrupt()
	defer stop()

	start := time.Now()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	buildDir, err := filepath.Abs(filepath.Join(*out, "build"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(buildDir, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "building the suite binary\n")
	suite, err := matrix.BuildSuite(ctx, *module, buildDir, vmf.labelFilter(*labels))
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if err != nil {
		return err
	}
	suite.Seed, suite.Shard = *seed, *shard
	if objectPlan != nil {
		if err := suite.StageObjects(objectPlan, buildDir); err != nil {
			return err
		}
	}
	if objectPlan != nil || *shard != "" {
		if err := suite.Replan(ctx, buildDir); err != nil {
			return err
		}
	}
	rep, err := matrix.Run(ctx, suite, targets, matrix.Options{Out: *out, Jobs: *jobs, Resume: *resume, Tool: version,
		Cache: &runcache.Cache{Dir: runcache.DefaultDir()}, NoCache: *noCache, AnySeed: anySeed, Durations: matrix.DefaultDurationsFile()})
	if rep == nil {
		return err
	}
	if err == nil {
		err = writeRendered(rep, *out, markdown.Options{})
	}
	fmt.Fprintf(os.Stderr, "wall time %.1fs; report in %s\n", time.Since(start).Seconds(), filepath.Join(*out, "report.json"))
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if err != nil {
		// The runs ended, their results are not all on disk: a broken run.
		return unexpectedError{"results not saved: " + strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	return verdict(rep)
}

// targetsFor turns -kernel values into targets, rejecting unknown names
// before anything slow starts.
func targetsFor(names []string, timeout time.Duration, vmf *vmFlags) ([]matrix.Target, error) {
	if len(names) == 1 && names[0] == "all" {
		names = vmimages.Names()
	}
	var targets []matrix.Target
	for _, name := range names {
		if name == vmimages.Host {
			if err := (matrix.Host{}).CheckRoot(); err != nil {
				return nil, err
			}
			targets = append(targets, matrix.Host{Timeout: timeout})
			continue
		}
		lanes, err := vmf.targets(name, timeout)
		if err != nil {
			return nil, err
		}
		targets = append(targets, lanes...)
	}
	return targets, nil
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// checkLabelFilter refuses a --label-filter that Ginkgo could not parse, in
// one line, before the suite is built: Ginkgo's own report of it is a
// coloured block printed by every target's run.
func checkLabelFilter(filter string) error {
	_, err := types.ParseLabelFilter(filter)
	if err == nil {
		return nil
	}
	why := err.Error()
	var gerr types.GinkgoError
	if errors.As(err, &gerr) {
		// The message is the filter, the offending character marked up,
		// then a line that says what is wrong with it.
		marked, reason, _ := strings.Cut(gerr.Message, "\n")
		why = reason
		if at := strings.Index(marked, "{{red}}"); at >= 0 {
			why = fmt.Sprintf("%s (at character %d)", reason, at+1)
		}
	}
	return badInput("--label-filter %q: %s; see https://onsi.github.io/ginkgo/#spec-labels", filter, why)
}

// verdict turns unexpected cells and broken runs into exit code 1. It names
// them first, on stderr, each on its line: a CI log is often cut to its
// last lines, and the runs' own summaries are far above.
func verdict(rep *reports.Report) error {
	broken, named, more := 0, 0, 0
	for _, run := range rep.Runs {
		col := run.Key().String()
		if run.Status != matrix.RunOK {
			broken++
			detail, _, _ := strings.Cut(strings.TrimSpace(run.Detail), "\n")
			fmt.Fprintf(os.Stderr, "%s: run %s: %s\n", col, run.Status, detail)
			continue // its cells all say so
		}
		lines, rest := run.Deviations(maxNamed - named)
		for _, line := range lines {
			fmt.Fprintf(os.Stderr, "%s: unexpected %s\n", col, line)
		}
		named, more = named+len(lines), more+rest
	}
	if more > 0 {
		fmt.Fprintf(os.Stderr, "and %d more unexpected cells, in the report\n", more)
	}
	if n := rep.Unexpected(); n > 0 || broken > 0 {
		return unexpectedError{fmt.Sprintf("%d unexpected cells, %d runs that did not end well", n, broken)}
	}
	return nil
}

// maxNamed caps the unexpected cells verdict names: a kernel that breaks
// every cell would push the rest of the log away.
const maxNamed = 20
