package matrix

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bpfmatrix/bpfmatrix/matrix/parity"
	"github.com/bpfmatrix/bpfmatrix/matrix/runcache"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Reusable is a Target whose runs the run cache (Options.Cache) can reuse.
// Inputs lists what the cells of its run of s depend on beside the suite
// and the runner, which Run adds: the kernel's identity, the programs and
// command lines that start the suite. An error says why this run cannot be
// reused; it then runs, and is not stored.
type Reusable interface {
	Inputs(ctx context.Context, s *Suite, p *Progress) (runcache.Inputs, error)
}

// Inputs of the host target: the host kernel's facts (runcache.HostFacts)
// and the bpftool whose probe the cells are compared with.
func (h Host) Inputs(ctx context.Context, s *Suite, p *Progress) (runcache.Inputs, error) {
	in := runcache.HostFacts()
	bin := h.Bpftool
	if bin == "" {
		var err error
		if bin, err = parity.Find(); err != nil {
			return nil, err
		}
	}
	sum, err := runcache.FileSum(bin)
	if err != nil {
		return nil, err
	}
	in["bpftool"] = bin + " " + sum
	return in, nil
}

// cacheKey is the run cache's side of one target's run: its inputs and
// their key, or nothing when the run is neither reused nor stored.
type cacheKey struct {
	in  runcache.Inputs
	key string
}

// inputs are the inputs of t's run of s: the target's own and those of the
// suite and the runner. ok is false when the run cannot be cached.
func inputs(ctx context.Context, s *Suite, t Target, opts Options, p *Progress) (cacheKey, bool) {
	r, ok := t.(Reusable)
	if !ok || opts.Cache == nil {
		return cacheKey{}, false
	}
	in, err := r.Inputs(ctx, s, p)
	if err == nil {
		err = addSuiteInputs(in, s, opts)
	}
	if err != nil {
		if ctx.Err() == nil {
			p.Printf("not cached: %s", firstLine(err.Error()))
		}
		return cacheKey{}, false
	}
	in["target"] = RunName(t)
	return cacheKey{in: in, key: in.Key()}, true
}

// addSuiteInputs adds the inputs every target shares: the runner's build,
// the suite binary, its label filter, seed, shard and plan, and the users'
// staged objects with their plan.
func addSuiteInputs(in runcache.Inputs, s *Suite, opts Options) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for name, path := range map[string]string{"runner": self, "suite": s.Binary} {
		sum, err := runcache.FileSum(path)
		if err != nil {
			return err
		}
		in[name] = sum
	}
	in["tool"] = opts.Tool
	in["label filter"] = s.LabelFilter
	in["shard"] = s.Shard
	in["features"] = strings.Join(s.Features, " ")
	in["seed"] = fmt.Sprint(s.Seed)
	if opts.AnySeed {
		// Picked at random: a run of any seed will do, and says its own.
		in["seed"] = "any"
	}
	if s.Objects == "" {
		return nil
	}
	return filepath.WalkDir(s.Objects, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		sum, err := runcache.FileSum(path)
		rel, _ := filepath.Rel(s.Objects, path)
		in["object "+filepath.ToSlash(rel)] = sum
		return err
	})
}

// reuse fills dir, inside out, with the cached run of k, if the cache
// holds one, and returns it marked as reused. An entry that is not whole,
// does not match its manifest or holds a run that did not end ok is
// ignored, with a line that says why.
func reuse(k cacheKey, c *runcache.Cache, out, dir string, p *Progress) (reports.Run, bool) {
	err := makeRunDir(out, dir)
	if err == nil {
		err = c.Restore(k.key, dir)
	}
	var run reports.Run
	if err == nil {
		run, err = savedRun(dir)
	}
	switch {
	case errors.Is(err, runcache.ErrMiss):
		return run, false
	case err != nil:
		p.Printf("ignored the run cache's entry %s: %s", c.Path(k.key), firstLine(err.Error()))
		return run, false
	}
	run.CachedFrom = &reports.Cached{Key: k.key, Entry: c.Path(k.key), RanAt: run.Start}
	if err := writeJSON(runFile(dir), run); err != nil {
		p.Printf("ignored the run cache's entry %s: %v", c.Path(k.key), err)
		return run, false
	}
	p.Printf("cached: ran %s in %s", run.Start.Local().Format(time.DateTime), c.Path(k.key))
	p.Summary(run)
	return run, true
}

// store keeps run, which ran in dir, in the cache if it ended ok with no
// unexpected and no error cell: only a run that says what it should can
// stand for the next one.
func store(k cacheKey, c *runcache.Cache, run reports.Run, dir string, p *Progress) {
	if run.Status != RunOK {
		return
	}
	for _, cell := range run.Cells {
		if cell.Unexpected || cell.Status == reports.Error {
			return
		}
	}
	if err := c.Store(k.key, k.in, dir); err != nil {
		p.Printf("not stored in the run cache: %v", err)
	}
}
