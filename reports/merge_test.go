package reports_test

import (
	"encoding/json"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
)

// cellsOf returns every cell of r keyed by column, sorted, so reports that
// hold the same cells in another order compare equal.
func cellsOf(r *reports.Report) map[reports.RunKey][]reports.Cell {
	out := map[reports.RunKey][]reports.Cell{}
	for _, run := range r.Runs {
		out[run.Key()] = append(out[run.Key()], run.Cells...)
	}
	for _, cells := range out {
		sort.Slice(cells, func(i, j int) bool {
			if cells[i].Feature != cells[j].Feature {
				return cells[i].Feature < cells[j].Feature
			}
			return cells[i].Status < cells[j].Status
		})
	}
	return out
}

// shard returns a report holding only run ki of full, as one CI job per
// kernel writes it.
func shard(full *reports.Report, ki int) *reports.Report {
	s := *full
	s.Runs = []reports.Run{full.Runs[ki]}
	return &s
}

func TestMergeOfPerKernelShardsEqualsTheFullRun(t *testing.T) {
	full := fixture.Report(6, 150)
	var shards []*reports.Report
	for ki := range full.Runs {
		shards = append(shards, shard(full, ki))
	}
	merged := reports.Merge(shards...)
	if !reflect.DeepEqual(cellsOf(merged), cellsOf(full)) {
		t.Fatal("merging per-kernel shards lost or changed cells")
	}
	if len(merged.Runs) != len(full.Runs) || merged.Host != full.Host || merged.Tool != full.Tool || !merged.Generated.Equal(full.Generated) {
		t.Errorf("merged header %q %q %v, %d runs; want the full run's", merged.Host, merged.Tool, merged.Generated, len(merged.Runs))
	}
	for i := range full.Runs {
		if !reflect.DeepEqual(merged.Runs[i].Kernel, full.Runs[i].Kernel) || merged.Runs[i].Status != full.Runs[i].Status {
			t.Errorf("run %d: kernel facts or status changed by the merge", i)
		}
	}
	// Round trip through JSON, as CI does between jobs.
	data, _ := json.Marshal(merged)
	back, err := reports.Parse("merged.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cellsOf(back), cellsOf(full)) {
		t.Error("the merged report does not survive JSON")
	}
	if d := reports.Compare(full, back, 10); len(d.Changes) != 0 {
		t.Errorf("diff(full, merge(shards)) = %+v, want no change", d.Changes)
	}
}

func TestMergeOfFeatureShardsOfOneKernel(t *testing.T) {
	// Shards by label filter: the same kernel, disjoint features.
	full := fixture.Report(1, 40)
	a, b := shard(full, 0), shard(full, 0)
	a.Runs = []reports.Run{full.Runs[0]}
	b.Runs = []reports.Run{full.Runs[0]}
	a.Runs[0].Cells = full.Runs[0].Cells[:25]
	b.Runs[0].Cells = full.Runs[0].Cells[25:]
	merged := reports.Merge(a, b)
	if len(merged.Runs) != 1 || !reflect.DeepEqual(cellsOf(merged), cellsOf(full)) {
		t.Fatalf("got %d runs; want the one run with all %d cells", len(merged.Runs), len(full.Runs[0].Cells))
	}
}

func TestMergeKeepsConflicts(t *testing.T) {
	full := fixture.Report(2, 10)
	other := shard(full, 1)
	other.Runs = []reports.Run{full.Runs[1]}
	other.Runs[0].Cells = append([]reports.Cell(nil), full.Runs[1].Cells...)
	other.Runs[0].Cells[3].Status = reports.Failed
	other.Runs[0].Cells[3].Evidence = "attached, but observed 0 events"
	other.Host = "ci-runner-9"

	merged := reports.Merge(full, other)
	conflicts := merged.Conflicts()
	if len(conflicts) != 1 {
		t.Fatalf("conflicts = %+v, want exactly one", conflicts)
	}
	c := conflicts[0]
	if c.Feature != full.Runs[1].Cells[3].Feature || c.Run != full.Runs[1].Key() || len(c.Cells) != 2 ||
		c.Cells[0].Status != full.Runs[1].Cells[3].Status || c.Cells[1].Status != reports.Failed {
		t.Errorf("conflict = %+v", c)
	}
	if got, want := len(merged.Runs[1].Cells), len(full.Runs[1].Cells)+1; got != want {
		t.Errorf("run has %d cells, want %d: only the identical ones may be dropped", got, want)
	}
	if merged.Host != "ci-runner-7, ci-runner-9" {
		t.Errorf("host = %q, want both hosts once", merged.Host)
	}
	// Merging a shard with itself changes nothing.
	if again := reports.Merge(merged, merged); !reflect.DeepEqual(again, merged) {
		t.Error("Merge(m, m) != m")
	}
}

func TestMergeIsAssociative(t *testing.T) {
	full := fixture.Report(4, 12)
	a, b, c := shard(full, 0), reports.Merge(shard(full, 1), shard(full, 2)), shard(full, 3)
	c2 := shard(full, 1)
	c2.Runs = []reports.Run{full.Runs[1]}
	c2.Runs[0].Cells = []reports.Cell{full.Runs[1].Cells[0]}
	c2.Runs[0].Cells[0].Status = reports.Crashed
	c2.Runs[0].Status = "panic"
	for _, tc := range [][3]*reports.Report{{a, b, c}, {c2, a, b}, {a, c2, c}, {b, c, c2}} {
		left := reports.Merge(reports.Merge(tc[0], tc[1]), tc[2])
		right := reports.Merge(tc[0], reports.Merge(tc[1], tc[2]))
		if !reflect.DeepEqual(left, right) {
			t.Errorf("Merge(Merge(a,b),c) != Merge(a,Merge(b,c))")
		}
		if flat := reports.Merge(tc[0], tc[1], tc[2]); !reflect.DeepEqual(flat, left) {
			t.Errorf("Merge(a,b,c) != Merge(Merge(a,b),c)")
		}
	}
}

// FuzzMerge splits a report at fuzzer-chosen points and mutates statuses:
// every grouping must give the same report, no cell may be lost, and the
// result must be a valid report.
func FuzzMerge(f *testing.F) {
	f.Add(uint8(3), uint8(1), uint8(2), uint16(0))
	f.Add(uint8(0), uint8(0), uint8(0), uint16(7))
	f.Add(uint8(5), uint8(20), uint8(3), uint16(513))
	// The first run built for arm64 too, cell for cell the same: merging
	// must keep them apart.
	base := fixture.Objects(fixture.Report(3, 24))
	base.Runs = append(base.Runs, fixture.ARM64(base.Runs[0]))
	f.Add(uint8(60), uint8(110), uint8(100), uint16(2))
	f.Fuzz(func(t *testing.T, split1, split2, mutate uint8, salt uint16) {
		// Flatten to (run, cell) pairs, then deal them into three shards.
		type item struct {
			run  int
			cell reports.Cell
		}
		var items []item
		for ri, run := range base.Runs {
			for _, c := range run.Cells {
				items = append(items, item{ri, c})
			}
		}
		n := len(items)
		i1, i2 := int(split1)%(n+1), int(split2)%(n+1)
		if i1 > i2 {
			i1, i2 = i2, i1
		}
		if m := int(mutate); m < n {
			items = append(items, items[m])
			items[len(items)-1].cell.Status = reports.Statuses[int(salt)%len(reports.Statuses)]
		}
		shards := make([]*reports.Report, 3)
		for s := range shards {
			shards[s] = &reports.Report{Schema: 1, Tool: base.Tool, Host: base.Host, Generated: base.Generated.Add(time.Duration(int(salt)%(s+1)) * time.Second)}
		}
		for i, it := range items {
			s := 0
			switch {
			case i >= i2:
				s = 2
			case i >= i1:
				s = 1
			}
			sh := shards[s]
			var run *reports.Run
			for k := range sh.Runs {
				if sh.Runs[k].Key() == base.Runs[it.run].Key() {
					run = &sh.Runs[k]
				}
			}
			if run == nil {
				r := base.Runs[it.run]
				r.Cells = nil
				sh.Runs = append(sh.Runs, r)
				run = &sh.Runs[len(sh.Runs)-1]
			}
			run.Cells = append(run.Cells, it.cell)
		}
		left := reports.Merge(reports.Merge(shards[0], shards[1]), shards[2])
		right := reports.Merge(shards[0], reports.Merge(shards[1], shards[2]))
		if !reflect.DeepEqual(left, right) {
			t.Fatal("merge is not associative")
		}
		if err := left.Validate(); err != nil {
			t.Fatalf("merged report invalid: %v", err)
		}
		want := map[reports.RunKey]map[reports.Cell]bool{}
		for _, it := range items {
			k := base.Runs[it.run].Key()
			if want[k] == nil {
				want[k] = map[reports.Cell]bool{}
			}
			want[k][it.cell] = true
		}
		got := map[reports.RunKey]map[reports.Cell]bool{}
		for _, run := range left.Runs {
			for _, c := range run.Cells {
				if got[run.Key()] == nil {
					got[run.Key()] = map[reports.Cell]bool{}
				}
				if got[run.Key()][c] {
					t.Fatalf("cell %+v merged twice", c)
				}
				got[run.Key()][c] = true
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatal("the merged report does not hold exactly the shards' cells")
		}
	})
}

// TestMergeDropsTheSameObjectCellReadTwice: two shard files holding the
// same object cell decode to two Object pointers, and are still one cell.
func TestMergeDropsTheSameObjectCellReadTwice(t *testing.T) {
	data, err := json.Marshal(fixture.Objects(fixture.Report(2, 3)))
	if err != nil {
		t.Fatal(err)
	}
	a, errA := reports.Parse("a.json", data)
	b, errB := reports.Parse("b.json", data)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	merged := reports.Merge(a, b)
	if !reflect.DeepEqual(cellsOf(merged), cellsOf(a)) {
		t.Errorf("merging a shard with its copy kept %d cells, want %d", len(merged.Runs[0].Cells), len(a.Runs[0].Cells))
	}
	b.Runs[0].Cells[len(b.Runs[0].Cells)-1].Object.RunCount++
	if got, want := len(reports.Merge(a, b).Runs[0].Cells), len(a.Runs[0].Cells)+1; got != want {
		t.Errorf("an object cell that differs in its object only: %d cells, want %d", got, want)
	}
}
