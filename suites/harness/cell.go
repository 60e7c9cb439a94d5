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
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
)

// Cell is the spec's handle on the cell it proves. Its methods do the
// plumbing every spec needs (classify errors, keep evidence, clean up), and
// each verdict method ends the spec, so a spec body reads as a sentence.
type Cell struct {
	Feature *catalog.Feature
	Kernel  *catalog.Kernel

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
			c.broken("%s: the spec proves %s, which has no catalog row (add it to suites/catalog)", loc, id)
		}
	}
	labels := contract.Labels(string(f.Area), id)
	if f.Area == catalog.Faults {
		labels = append(labels, contract.CrashLabel)
	}
	args := append([]any{loc, ginkgo.Label(labels...)}, decorators...)
	args = append(args, func() { run(f, loc, body) })
	return ginkgo.Describe(id, loc, func() { ginkgo.It(sentence, args...) })
}

func run(f *catalog.Feature, loc types.CodeLocation, body func(c *Cell)) {
	k := Running()
	c := &Cell{Feature: f, Kernel: k}
	c.rec.Feature, c.rec.Area, c.rec.Since = f.ID, string(f.Area), f.Since
	c.rec.Expected, c.rec.Reason = f.Expect(k)
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
	c.broken("the spec at %s ended without a verdict", loc)
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
func (c *Cell) Helper() { types.MarkAsHelper(1) }

// Defer runs fn when the spec ends, whatever its verdict; last in, first out.
func (c *Cell) Defer(fn func()) { c.cleanups = append(c.cleanups, fn) }

// Check ends the spec with the kernel's verdict if err is not nil; step says
// what was being done ("load", "attach") and prefixes the evidence.
func (c *Cell) Check(step string, err error) {
	c.Helper()
	if err == nil {
		return
	}
	v := Classify(err)
	c.rec.VerifierLog = v.VerifierLog
	c.end(v.Status, v.Errno, step+": "+v.Evidence)
}

// Supported ends the spec: the feature works, and evidence says how we know.
func (c *Cell) Supported(format string, args ...any) {
	c.Helper()
	c.end(reports.Supported, "", fmt.Sprintf(format, args...))
}

// Unsupported ends the spec: the kernel refused with errno (a name such as
// "EOPNOTSUPP", or "" when it has none) and the evidence.
func (c *Cell) Unsupported(errno, format string, args ...any) {
	c.Helper()
	c.end(reports.Unsupported, errno, fmt.Sprintf(format, args...))
}

// Failed ends the spec: the kernel accepted the program but it misbehaved.
func (c *Cell) Failed(format string, args ...any) {
	c.Helper()
	c.end(reports.Failed, "", fmt.Sprintf(format, args...))
}

// Skipped ends the spec: a prerequisite, named in the evidence, is missing.
func (c *Cell) Skipped(format string, args ...any) {
	c.Helper()
	c.end(reports.Skipped, "", fmt.Sprintf(format, args...))
}

// broken ends the spec as an error of the harness or the spec itself.
func (c *Cell) broken(format string, args ...any) {
	c.Helper()
	c.end(reports.Error, "", fmt.Sprintf(format, args...))
}

// end records the verdict, compares it with the catalog's expectation, and
// ends the spec. An unexpected verdict fails the spec right here, so that
// Ginkgo reports the failure at the spec's line that reached it.
func (c *Cell) end(s reports.Status, errno, evidence string) {
	c.Helper()
	c.rec.Status, c.rec.Errno, c.rec.Evidence = s, errno, evidence
	if s == reports.Unsupported && c.rec.Reason != "" && c.rec.Expected == reports.Unsupported {
		c.rec.Evidence = c.rec.Reason + "; " + c.rec.Evidence
	}
	// A skipped cell names the prerequisite it lacked; whatever is wrong
	// there shows in that prerequisite's own cell (or it is a test-only
	// spec that was not asked to run), so a skip is never the regression.
	c.rec.Unexpected = s != c.rec.Expected && s != reports.Skipped
	if c.rec.Unexpected {
		why := c.rec.Reason
		if why == "" {
			why = "kernel " + c.Kernel.Version.Full() + " with its config"
		}
		ginkgo.Fail(fmt.Sprintf("%s: observed %s, expected %s (%s)\nevidence: %s",
			c.Feature.ID, s, c.rec.Expected, why, c.rec.Evidence))
	}
	panic(verdict{})
}
