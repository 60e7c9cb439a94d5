package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog/detect"
)

var (
	running     *catalog.Kernel
	runningOnce sync.Once

	sink     *os.File
	sinkOnce sync.Once
)

// Running returns the facts of the kernel the suite runs on, read once.
func Running() *catalog.Kernel {
	runningOnce.Do(func() {
		k, err := detect.Kernel()
		if err != nil {
			ginkgo.Fail("detect kernel: " + err.Error())
		}
		running = k
	})
	return running
}

// Record appends one record to the stream named by contract.CellsEnv; when
// it is unset, records go nowhere and the suite is an ordinary Ginkgo run.
// Each line is a single write(2), so a reader never sees half of one unless
// the target dies mid-write.
func Record(rec reports.Record) {
	sinkOnce.Do(func() {
		path := os.Getenv(contract.CellsEnv)
		if path == "" {
			return
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bpfmatrix: open %s=%s: %v\n", contract.CellsEnv, path, err)
			os.Exit(contract.ExitRecordWrite)
		}
		sink = f
	})
	if sink == nil {
		return
	}
	line, err := json.Marshal(rec)
	if err != nil {
		panic(err)
	}
	if _, err := sink.Write(append(line, '\n')); err != nil {
		// Every later record would be lost as well: stop, and say so by
		// the exit code, which reaches the runner even on a full disk. A
		// cell is recorded after its spec's cleanup, so no spec is left
		// half done.
		fmt.Fprintf(os.Stderr, "bpfmatrix: write %s=%s: %v\n", contract.CellsEnv, sink.Name(), err)
		os.Exit(contract.ExitRecordWrite)
	}
}

// RunSuite is the body of the suite binary's only Test: it mounts the kernel
// filesystems eBPF needs, records the kernel's facts first, so even a run
// that dies at once says where it ran, then runs every registered spec.
//
// Predictions rest on those facts, so they must hold until the last spec:
// if the filesystems they came from changed under the suite (something
// outside unmounted tracefs, say), every verdict after the change is in
// doubt, and the suite exits with contract.ExitFactsChanged and a line
// saying what changed instead of passing or failing on cells it could not
// judge.
func RunSuite(t *testing.T, description string) {
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. Raise it
	// directly: cilium/ebpf's rlimit package probes at init, and where that
	// runs before /proc is mounted (a VM guest's first process) it caches
	// the failure and every later map creation fails (docs/facts.md#guest-rlimit).
	_ = unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY})
	if suite, _ := ginkgo.GinkgoConfiguration(); suite.DryRun {
		// The runner's plan: it lists the specs and runs none, so it needs
		// no kernel filesystem and judges no fact. It runs in the machine's
		// own mount namespace, where mounting tracefs and unmounting it
		// again raced with the container targets sharing the host's mounts
		// (a dry run that found tracefs mounted by a container run saw it
		// vanish when that run ended, and exited 3).
		ginkgo.RunSpecs(t, description)
		return
	}
	unmount, errs := MountKernelFS()
	for _, err := range errs {
		fmt.Fprintln(os.Stderr, "bpfmatrix:", err)
	}
	facts := Running().Facts()
	Record(reports.Record{Kernel: &facts})
	if path := os.Getenv(contract.FailureReportEnv); path != "" {
		ginkgo.ReportAfterSuite("the failure report", func(r ginkgo.Report) {
			if !r.SuiteSucceeded {
				if err := reporters.GenerateJSONReport(r, path); err != nil {
					fmt.Fprintln(os.Stderr, "bpfmatrix: the failure report:", err)
				}
			}
		})
	}
	ginkgo.RunSpecs(t, description)

	var now catalog.Kernel
	detect.Mounted(&now)
	changed := fsFactsChanged(Running(), &now)
	unmount()
	if changed != "" {
		fmt.Fprintf(os.Stderr, "bpfmatrix: kernel facts changed while the suite ran, verdicts are in doubt: %s\n", changed)
		os.Exit(contract.ExitFactsChanged)
	}
}

// fsFactsChanged says which facts read from tracefs and securityfs differ
// between before and after, or "" when none does.
func fsFactsChanged(before, after *catalog.Kernel) string {
	var diffs []string
	for _, f := range []struct{ name, a, b string }{
		{"tracefs", before.Tracefs, after.Tracefs},
		{"function tracer", before.FunctionTracer, after.FunctionTracer},
		{"LSMs", strings.Join(before.LSMs, ","), strings.Join(after.LSMs, ",")},
		{"lockdown", before.Lockdown, after.Lockdown},
	} {
		if f.a != f.b {
			diffs = append(diffs, fmt.Sprintf("%s %q then %q", f.name, f.a, f.b))
		}
	}
	return strings.Join(diffs, "; ")
}
