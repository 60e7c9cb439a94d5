// Package harness is the spec runtime of the suites: it registers one
// Ginkgo spec per catalog row (Spec), gives the spec its Cell, whose verdict
// methods classify the kernel's answer, keep its evidence and end the spec,
// loads the programs of package bpf by typed handle, and streams every cell
// as one record the moment its spec ends (RunSuite, Record). Fixtures that
// take the cell live in its sub-packages (netns, cgroup, usertarget,
// freplace); the harness itself imports none of them.
package harness

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
	// Every row registers before any spec asks for its own.
	_ "github.com/bpfmatrix/bpfmatrix/suites/catalog/rows"
)

// Cell is the spec's handle on the cell it proves. Its methods do the
// plumbing every spec needs (classify errors, keep evidence, clean up), and
// each verdict method ends the spec, so a spec body reads as a sentence.
type Cell struct {
	Feature *catalog.Feature
	Kernel  *catalog.Kernel

	expect   catalog.Expectation
	rec      reports.Cell
	cleanups []func()
}

// verdict is panicked by the verdict methods to end the spec body early; run
// recovers it, so it never reaches Ginkgo.
type verdict struct{}

// current is the cell of the running spec. Ginkgo runs the specs of one
// process one at a time, and the suite binary runs in one process.
var current *Cell

// uncatalogued is the area of a spec whose ID has no catalog row: it still
// registers, so that a dry run lists it (and the harness's test names it),
// and it ends as an error when run.
const uncatalogued = "uncatalogued"

// Spec registers the spec that proves feature id. The Ginkgo text reads as a
// sentence: Describe(id) / It(sentence). Labels are the area, the kind (the
// ID's first part) and the ID with "/" written as "." (Ginkgo labels cannot
// hold "/"), so `--label-filter=attach.kprobe` selects one feature; specs of
// the faults area also get contract.CrashLabel. Ginkgo places the spec at
// the line that called Spec, and failures at the spec's own lines.
func Spec(id, sentence string, body func(c *Cell), decorators ...any) bool {
	ginkgo.GinkgoHelper()
	loc := types.NewCodeLocation(0)
	f, ok := catalog.Lookup(id)
	if !ok {
		f = &catalog.Feature{ID: id, Area: uncatalogued}
		body = func(c *Cell) {
			c.broken(reports.StageSetup, "%s: the spec proves %s, which has no catalog row (add it to suites/catalog)", loc, id)
		}
	}
	return register(f, loc, sentence, body, decorators)
}

// SpecFor registers the spec that proves f, a feature that is no row of
// the catalog: a program of a user's own object, whose row the suite makes
// from the object and its manifest. Everything else is Spec's.
func SpecFor(f *catalog.Feature, sentence string, body func(c *Cell), decorators ...any) bool {
	ginkgo.GinkgoHelper()
	return register(f, types.NewCodeLocation(0), sentence, body, decorators)
}

func register(f *catalog.Feature, loc types.CodeLocation, sentence string, body func(c *Cell), decorators []any) bool {
	if !contract.InShard(os.Getenv(contract.ShardEnv), f.ID) {
		return false
	}
	labels := contract.Labels(string(f.Area), f.ID)
	if f.Area == catalog.Faults {
		labels = append(labels, contract.CrashLabel)
	}
	args := append([]any{loc, ginkgo.Label(labels...)}, decorators...)
	args = append(args, func() { run(f, loc, body) })
	return ginkgo.Describe(f.ID, loc, func() { ginkgo.It(sentence, args...) })
}

// Object is the record of a user's program the cell proves, for its spec
// to fill in as it goes: what it reached is kept whatever ends the spec.
func (c *Cell) Object() *reports.Object {
	if c.rec.Object == nil {
		c.rec.Object = &reports.Object{}
	}
	return c.rec.Object
}

func run(f *catalog.Feature, loc types.CodeLocation, body func(c *Cell)) {
	k := Running()
	c := &Cell{Feature: f, Kernel: k}
	c.rec.Feature, c.rec.Area, c.rec.Since = f.ID, string(f.Area), f.Since
	c.expect = f.Expect(k)
	c.rec.Expected, c.rec.Reason = c.expect.Status, c.expect.Reason
	c.rec.ExpectedStage, c.rec.ExpectedErrno = c.expect.Stage, strings.Join(c.expect.Errnos, "|")
	current = c

	// Cleanups run after whatever ended the body: a verdict, which stops
	// here, or a failure or panic, which goes on to Ginkgo.
	defer func() {
		for i := len(c.cleanups) - 1; i >= 0; i-- {
			c.cleanups[i]()
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(verdict); !ok {
				panic(r)
			}
		}
	}()
	body(c)
	c.broken(reports.StageObserve, "the spec at %s ended without a verdict", loc)
}

// Record streams each cell as one JSON line the moment its spec ends, and
// turns a spec that broke outside the harness (a panic, a failed assertion,
// a timeout) into an error cell rather than losing it.
var _ = ginkgo.ReportAfterEach(func(r ginkgo.SpecReport) {
	c := current
	current = nil
	if c == nil {
		return
	}
	if r.State.Is(types.SpecStateFailureStates) && !c.rec.Unexpected {
		c.rec.Status = reports.Error
		c.rec.Unexpected = true
		c.rec.Evidence = strings.TrimSpace(r.State.String() + ": " + r.Failure.Message)
		if r.State == types.SpecStateTimedout {
			c.rec.Status = reports.Timeout
		}
	}
	c.rec.DurationMS = float64(r.RunTime) / float64(time.Millisecond)
	Record(reports.Record{Cell: &c.rec})
})

// Helper marks the calling function as a helper of specs, as
// testing.T.Helper does: a failure inside it is reported at the line of
// the spec that called it. Every function that can end a spec calls it.
func (c *Cell) Helper() {
	var pc [1]uintptr
	if runtime.Callers(2, pc[:]) == 1 {
		if _, marked := helperCalls.LoadOrStore(pc[0], true); marked {
			return
		}
	}
	types.MarkAsHelper(1)
}

// helperCalls holds the call sites of Helper already marked. Ginkgo keeps
// helpers by function name, which MarkAsHelper resolves through
// runtime.Caller on every call: a suite calls Helper thousands of times
// from a few hundred places, and resolving was 3 % of a 7.2 guest's suite
// in a CPU profile. A call site's return address names one function.
var helperCalls sync.Map

// Defer runs fn when the spec ends, whatever its verdict; last in, first out.
func (c *Cell) Defer(fn func()) { c.cleanups = append(c.cleanups, fn) }

// Setup, Create, Loaded, Attached, Triggered and Observed end the spec
// with the kernel's answer if err is not nil, recording the stage it came
// at; step says what was being done and heads the evidence. Setup and
// Triggered are the spec's own plumbing, around the feature: there only an
// errno of a kernel that lacks something (a device kind, a qdisc) is
// unsupported, a refused privilege is blocked, and anything else is an
// error of the harness, never the kernel's verdict.
func (c *Cell) Setup(step string, err error) {
	c.Helper()
	c.checkAt(reports.StageSetup, step, err)
}

// Create: a map, BTF, a link or another kernel object besides the program.
func (c *Cell) Create(step string, err error) {
	c.Helper()
	c.checkAt(reports.StageCreate, step, err)
}

// Loaded: a program the spec assembled itself, through the verifier.
func (c *Cell) Loaded(step string, err error) {
	c.Helper()
	c.checkAt(reports.StageLoad, step, err)
}

// Attached: a program to its hook, where Attach (for links) does not fit.
func (c *Cell) Attached(step string, err error) {
	c.Helper()
	c.checkAt(reports.StageAttach, step, err)
}

// Triggered: the spec's own action that causes the events.
func (c *Cell) Triggered(step string, err error) {
	c.Helper()
	c.checkAt(reports.StageTrigger, step, err)
}

// Observed: reading what the program saw.
func (c *Cell) Observed(step string, err error) {
	c.Helper()
	c.checkAt(reports.StageObserve, step, err)
}

func (c *Cell) checkAt(stage reports.Stage, step string, err error) {
	c.Helper()
	if err == nil {
		return
	}
	v := Classify(err)
	if v.VerifierLog != "" {
		c.rec.VerifierLog = v.VerifierLog
	}
	status := v.Status
	if status == reports.Unsupported && !kernelAnswers(stage, v.Errno) {
		status = reports.Error
	}
	if p := c.Kernel.Privileges; !p.Unrestricted() && c.environmentRefused(stage, v.Errno) {
		status, c.rec.Layer = reports.Blocked, p.BlockedLayer()
	}
	c.end(status, stage, v.Errno, step+": "+v.Evidence)
}

// environmentRefused reports whether a restricted process's errno at stage
// is the environment's refusal rather than the kernel's answer: an EPERM or
// EACCES, unless the catalog named a kernel rule that refuses with it there
// (the trampoline gate, which a control load under the same privileges
// tells apart), or an ErrNotSupported where every bpf(2) call is refused.
func (c *Cell) environmentRefused(stage reports.Stage, errno string) bool {
	switch errno {
	case "EPERM", "EACCES":
		e := c.expect
		return !(e.Status == reports.Unsupported && e.Stage == stage && slices.Contains(e.Errnos, errno))
	case catalog.ErrNotSupported:
		return c.Kernel.RefusesBPF()
	}
	return false
}

// kernelAnswers reports whether an errno at stage is the kernel's verdict
// on the feature. Creating, loading and attaching ask the kernel for the
// feature itself; around it (setup, the trigger, reading the result) only
// an errno of something missing is, and a refused privilege.
func kernelAnswers(stage reports.Stage, errno string) bool {
	switch stage {
	case reports.StageCreate, reports.StageLoad, reports.StageAttach:
		return true
	}
	return slices.Contains(catalog.Absent, errno) || errno == "EPERM" || errno == "EACCES"
}

// Supported ends the spec: the feature works, and evidence says how we know.
func (c *Cell) Supported(format string, args ...any) {
	c.Helper()
	c.end(reports.Supported, "", "", fmt.Sprintf(format, args...))
}

// Unsupported ends the spec: the kernel refused at stage with errno (a name
// such as "EOPNOTSUPP", or "" when it has none) and the evidence.
func (c *Cell) Unsupported(stage reports.Stage, errno, format string, args ...any) {
	c.Helper()
	c.end(reports.Unsupported, stage, errno, fmt.Sprintf(format, args...))
}

// Blocked ends the spec: the environment (layer) refused at stage before
// the feature could be asked for.
func (c *Cell) Blocked(stage reports.Stage, layer, format string, args ...any) {
	c.Helper()
	c.rec.Layer = layer
	c.end(reports.Blocked, stage, "", fmt.Sprintf(format, args...))
}

// Failed ends the spec: the kernel accepted the program, but what it saw
// or did was not what the spec caused.
func (c *Cell) Failed(format string, args ...any) {
	c.Helper()
	c.end(reports.Failed, reports.StageObserve, "", fmt.Sprintf(format, args...))
}

// Skipped ends the spec: a prerequisite, named in the evidence, is missing.
func (c *Cell) Skipped(format string, args ...any) {
	c.Helper()
	c.SkippedAt(reports.StageSetup, format, args...)
}

// SkippedAt is Skipped for a prerequisite the spec finds missing at stage,
// past setup: the target of a program it loaded, say.
func (c *Cell) SkippedAt(stage reports.Stage, format string, args ...any) {
	c.Helper()
	c.end(reports.Skipped, stage, "", fmt.Sprintf(format, args...))
}

// broken ends the spec as an error of the harness or the spec itself.
func (c *Cell) broken(stage reports.Stage, format string, args ...any) {
	c.Helper()
	c.end(reports.Error, stage, "", fmt.Sprintf(format, args...))
}

// end records the verdict, judges it against the catalog's expectation, and
// ends the spec. The evidence is the kernel's words alone; the prediction
// stays in Reason. An unexpected verdict fails the spec right here, so that
// Ginkgo reports the failure at the spec's line that reached it; a cell the
// catalog could not predict (Unknown) is recorded and never fails.
func (c *Cell) end(s reports.Status, stage reports.Stage, errno, evidence string) {
	c.Helper()
	c.rec.Status, c.rec.Errno, c.rec.Evidence = s, errno, evidence
	if s != reports.Supported {
		c.rec.Stage = stage
	}
	if s != reports.Blocked {
		c.rec.Layer = ""
	}
	c.rec.Unexpected = c.expect.Status != reports.Unknown && !c.expect.Matches(s, stage, errno)
	if c.rec.Unexpected {
		observed := string(s)
		if stage != "" && s != reports.Supported {
			observed += " at " + string(stage)
		}
		if errno != "" {
			observed += " (" + errno + ")"
		}
		ginkgo.Fail(fmt.Sprintf("%s: observed %s, expected %s (kernel %s)\nevidence: %s",
			c.Feature.ID, observed, c.expect, c.Kernel.Version.Full(), evidence))
	}
	panic(verdict{})
}
