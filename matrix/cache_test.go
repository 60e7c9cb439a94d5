package matrix

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/matrix/runcache"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

// reusableTarget is a fakeTarget with inputs, counting its runs: it stands
// in for a VM in unit tests of the run cache around it.
type reusableTarget struct {
	fakeTarget
	in    runcache.Inputs
	calls *int
}

func (r reusableTarget) Inputs(context.Context, *Suite, *Progress) (runcache.Inputs, error) {
	return r.in, nil
}

func (r reusableTarget) Run(ctx context.Context, s *Suite, dir string, p *Progress) Outcome {
	*r.calls++
	return r.fakeTarget.Run(ctx, s, dir, p)
}

// cacheFixture is a suite, a target that streams its two cells (or what
// cells says), and a cache, all in t's temporary directory.
type cacheFixture struct {
	t      *testing.T
	suite  *Suite
	target reusableTarget
	cells  []string
	opts   Options
	calls  int
	log    strings.Builder
}

func newCacheFixture(t *testing.T) *cacheFixture {
	dir := t.TempDir()
	bin := filepath.Join(dir, "suites.test")
	if err := os.WriteFile(bin, []byte("suite v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := &cacheFixture{t: t, suite: &Suite{Binary: bin, Seed: 7, Features: []string{"attach/kprobe", "attach/fentry"}},
		cells: []string{`{"cell":{"feature":"attach/kprobe","status":"supported","expected":"supported"}}`,
			`{"cell":{"feature":"attach/fentry","status":"unsupported","expected":"unsupported","evidence":"ENOTSUPP"}}`}}
	f.opts = Options{Cache: &runcache.Cache{Dir: filepath.Join(dir, "cache")}, Log: &f.log, Tool: "v1"}
	f.target = reusableTarget{fakeTarget{"vm", "6.1", func(_ context.Context, dir string) Outcome {
		writeStream(t, dir, f.cells...)
		return Outcome{Status: RunOK, Package: "linux-image-6.1.0-57-cloud-amd64"}
	}}, runcache.Inputs{"kernel": "linux-image-6.1.0-57-cloud-amd64 6.1.192-3"}, &f.calls}
	return f
}

// run runs the matrix into a new --out and returns its one run and
// whether the target ran.
func (f *cacheFixture) run() (reports.Run, bool) {
	f.t.Helper()
	before := f.calls
	f.opts.Out = f.t.TempDir()
	rep, err := Run(context.Background(), f.suite, []Target{f.target}, f.opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return rep.Runs[0], f.calls > before
}

func TestRunCacheReusesARunWhoseInputsDidNotChange(t *testing.T) {
	f := newCacheFixture(t)
	first, ran := f.run()
	if !ran || first.CachedFrom != nil {
		t.Fatalf("first run: ran %v, cached_from %+v", ran, first.CachedFrom)
	}
	second, ran := f.run()
	if ran {
		t.Fatalf("the target ran again with the same inputs:\n%s", f.log.String())
	}
	c := second.CachedFrom
	if c == nil || len(c.Key) != 64 || !c.RanAt.Equal(first.Start) || c.Entry != f.opts.Cache.Path(c.Key) {
		t.Fatalf("cached_from = %+v, want the key, its entry and the first run's start %s", c, first.Start)
	}
	if !reflect.DeepEqual(second.Cells, first.Cells) || !reflect.DeepEqual(second.Kernel, first.Kernel) || second.Seed != first.Seed {
		t.Errorf("reused run differs:\n%+v\nfirst:\n%+v", second, first)
	}
	if want := "[vm 6.1] cached: ran " + first.Start.Local().Format(time.DateTime) + " in " + c.Entry; !strings.Contains(f.log.String(), want) {
		t.Errorf("progress lacks %q:\n%s", want, f.log.String())
	}
	// The reused run's files are in the new --out, where its report
	// links them, and its run.json says it was reused.
	for _, name := range second.Files {
		if _, err := os.Stat(filepath.Join(f.opts.Out, name)); err != nil {
			t.Errorf("file of the reused run: %v", err)
		}
	}
	saved, err := savedRun(filepath.Join(f.opts.Out, "runs", "vm-6.1"))
	if err != nil || saved.CachedFrom == nil || saved.CachedFrom.Key != c.Key {
		t.Errorf("run.json of the reused run: %+v, %v", saved.CachedFrom, err)
	}
	data, err := os.ReadFile(filepath.Join(f.opts.Out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reports.Parse("report.json", data); err != nil {
		t.Error(err)
	}
}

func TestRunCacheRunsAgainWhenAnInputChanged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(f *cacheFixture)
	}{
		{"kernel", func(f *cacheFixture) {
			f.target.in = runcache.Inputs{"kernel": "linux-image-6.1.0-58-cloud-amd64 6.1.193-1"}
		}},
		{"suite binary", func(f *cacheFixture) {
			if err := os.WriteFile(f.suite.Binary, []byte("suite v2"), 0o755); err != nil {
				f.t.Fatal(err)
			}
		}},
		{"label filter", func(f *cacheFixture) { f.suite.LabelFilter = "tracing" }},
		{"seed asked for", func(f *cacheFixture) { f.suite.Seed = 8 }},
		{"shard", func(f *cacheFixture) { f.suite.Shard = "1/2" }},
		{"planned features", func(f *cacheFixture) { f.suite.Features = f.suite.Features[:1] }},
		{"objects", func(f *cacheFixture) {
			f.suite.Objects = f.t.TempDir()
			if err := os.WriteFile(filepath.Join(f.suite.Objects, "a.bpf.o"), []byte("ELF"), 0o644); err != nil {
				f.t.Fatal(err)
			}
		}},
		{"bpfmatrix version", func(f *cacheFixture) { f.opts.Tool = "v2" }},
		{"--no-cache", func(f *cacheFixture) { f.opts.NoCache = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCacheFixture(t)
			if _, ran := f.run(); !ran {
				t.Fatal("first run did not run")
			}
			tc.change(f)
			run, ran := f.run()
			if !ran || run.CachedFrom != nil {
				t.Fatalf("after a change of %s: ran %v, cached_from %+v", tc.name, ran, run.CachedFrom)
			}
			if tc.name == "--no-cache" {
				// It still keeps what it ran.
				f.opts.NoCache = false
			}
			if _, ran := f.run(); ran {
				t.Errorf("the run after the change of %s was not kept", tc.name)
			}
		})
	}
}

func TestRunCacheSeedPickedAtRandomReusesAnySeed(t *testing.T) {
	f := newCacheFixture(t)
	f.opts.AnySeed = true
	first, _ := f.run()
	f.suite.Seed = 8
	again, ran := f.run()
	if ran || again.Seed != first.Seed {
		t.Errorf("a random seed again: ran %v, seed %d (want the reused run's %d)", ran, again.Seed, first.Seed)
	}
	f.opts.AnySeed = false
	if _, ran := f.run(); !ran {
		t.Error("--seed 8, asked for, reused a run of seed 7")
	}
}

func TestRunCacheKeepsOnlyRunsThatEndedWell(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cells []string
	}{
		{"an unexpected cell", []string{`{"cell":{"feature":"attach/kprobe","status":"unsupported","expected":"supported","unexpected":true}}`,
			`{"cell":{"feature":"attach/fentry","status":"supported","expected":"supported"}}`}},
		{"an error cell", []string{`{"cell":{"feature":"attach/kprobe","status":"error","expected":"supported"}}`,
			`{"cell":{"feature":"attach/fentry","status":"supported","expected":"supported"}}`}},
		{"a missing cell", []string{`{"cell":{"feature":"attach/kprobe","status":"supported","expected":"supported"}}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCacheFixture(t)
			f.cells = tc.cells
			f.run()
			if _, ran := f.run(); !ran {
				t.Errorf("a run with %s was reused", tc.name)
			}
			if entries, _ := os.ReadDir(f.opts.Cache.Dir); len(entries) != 0 {
				t.Errorf("cache holds %d entries", len(entries))
			}
		})
	}
}

func TestRunCacheIgnoresADamagedEntry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, entry string)
		note   string // what the note must say; "" for a plain miss
	}{
		{"truncated file", func(t *testing.T, entry string) {
			if err := os.Truncate(filepath.Join(entry, "cells.jsonl"), 10); err != nil {
				t.Fatal(err)
			}
		}, "cells.jsonl: SHA256"},
		{"missing file", func(t *testing.T, entry string) {
			if err := os.Remove(filepath.Join(entry, "run.json")); err != nil {
				t.Fatal(err)
			}
		}, "run.json: no such file"},
		{"garbled manifest", func(t *testing.T, entry string) {
			if err := os.WriteFile(filepath.Join(entry, "entry.json"), []byte(`{"key":`), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "entry.json: unexpected end of JSON input"},
		{"run that did not end ok", func(t *testing.T, entry string) {
			// A consistent entry, manifest and all, of a broken run:
			// never trusted either.
			path := filepath.Join(entry, "run.json")
			data, _ := os.ReadFile(path)
			var run reports.Run
			if err := json.Unmarshal(data, &run); err != nil {
				t.Fatal(err)
			}
			run.Status = RunPanic
			data, _ = json.Marshal(run)
			os.WriteFile(path, data, 0o644)
			mdata, _ := os.ReadFile(filepath.Join(entry, "entry.json"))
			var m map[string]any
			json.Unmarshal(mdata, &m)
			sum, _ := runcache.FileSum(path)
			m["files"].(map[string]any)["run.json"] = sum
			mdata, _ = json.Marshal(m)
			os.WriteFile(filepath.Join(entry, "entry.json"), mdata, 0o644)
		}, "run.json says the run ended panic"},
		{"manifest gone", func(t *testing.T, entry string) {
			if err := os.Remove(filepath.Join(entry, "entry.json")); err != nil {
				t.Fatal(err)
			}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCacheFixture(t)
			f.run()
			entries, err := os.ReadDir(f.opts.Cache.Dir)
			if err != nil || len(entries) != 1 {
				t.Fatalf("cache: %v, %v", entries, err)
			}
			entry := filepath.Join(f.opts.Cache.Dir, entries[0].Name())
			tc.damage(t, entry)
			f.log.Reset()
			run, ran := f.run()
			if !ran || run.CachedFrom != nil || run.Status != RunOK {
				t.Fatalf("damaged entry: ran %v, cached_from %+v, status %s", ran, run.CachedFrom, run.Status)
			}
			notes := 0
			for _, line := range strings.Split(f.log.String(), "\n") {
				if strings.Contains(line, "ignored the run cache's entry "+entry) {
					notes++
					if !strings.Contains(line, tc.note) {
						t.Errorf("note %q does not say %q", line, tc.note)
					}
				}
			}
			if want := min(len(tc.note), 1); notes != want {
				t.Errorf("%d notes, want %d:\n%s", notes, want, f.log.String())
			}
			// The run replaced the entry with a whole one.
			if _, ran := f.run(); ran {
				t.Error("the run after a damaged entry was not kept")
			}
		})
	}
}

// TestHostRunIsReusedNeedsRoot runs the real suite on the host kernel twice
// into two --out directories: the second run is the first one's, reused,
// with the same cells. The times are logged, never asserted.
func TestHostRunIsReusedNeedsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the host target refuses to run otherwise")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	build := t.TempDir()
	s, err := BuildSuite(ctx, "..", build, "tracing && !crash")
	if err != nil {
		t.Fatal(err)
	}
	s.Seed = 1
	cache := &runcache.Cache{Dir: filepath.Join(t.TempDir(), "runs")}
	var runs []reports.Run
	for i, out := range []string{t.TempDir(), t.TempDir()} {
		var log strings.Builder
		start := time.Now()
		rep, err := Run(ctx, s, []Target{Host{}}, Options{Out: out, Cache: cache, AnySeed: true, Log: &log, Tool: "test"})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("run %d: %.2fs wall, %d cells\n%s", i+1, time.Since(start).Seconds(), len(rep.Runs[0].Cells), log.String())
		runs = append(runs, rep.Runs[0])
	}
	first, second := runs[0], runs[1]
	if first.Status != RunOK || first.CachedFrom != nil || len(first.Cells) == 0 {
		t.Fatalf("first run: %s %q, %d cells, cached_from %+v", first.Status, firstLine(first.Detail), len(first.Cells), first.CachedFrom)
	}
	if second.CachedFrom == nil || !second.CachedFrom.RanAt.Equal(first.Start) {
		t.Fatalf("second run not reused: cached_from %+v", second.CachedFrom)
	}
	a, _ := json.Marshal(first.Cells)
	b, _ := json.Marshal(second.Cells)
	if string(a) != string(b) {
		t.Errorf("reused cells differ from the first run's")
	}
}
