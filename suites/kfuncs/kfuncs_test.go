package kfuncs

import (
	"slices"
	"strings"
	"testing"

	watchlist "github.com/bpfmatrix/bpfmatrix/internal/kfuncs"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
)

// TestEveryCellHasItsProgram checks that each kfunc row has the program
// of kfuncs.c its spec loads, of the row's program type, calling the row's
// kfunc, and that kfuncs.c has no program without a row.
func TestEveryCellHasItsProgram(t *testing.T) {
	spec, err := LoadKfuncs()
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, f := range catalog.All() {
		if f.Area != catalog.Kfuncs {
			continue
		}
		rows++
		prog, kfunc := cellOf(f.ID)
		ps, ok := spec.Programs[prog+"__"+kfunc]
		switch {
		case !ok:
			t.Errorf("%s: kfuncs.c has no program %s__%s", f.ID, prog, kfunc)
		case ps.Type != f.Prog:
			t.Errorf("%s: program %s is of type %s, the row's is %s", f.ID, ps.Name, ps.Type, f.Prog)
		case !slices.Contains(calls(ps), kfunc):
			t.Errorf("%s: program %s calls %v, not %s", f.ID, ps.Name, calls(ps), kfunc)
		}
	}
	cells := 0
	for _, k := range watchlist.List() {
		cells += len(k.Cells)
	}
	if rows != cells || rows != len(spec.Programs) {
		t.Errorf("%d kfunc rows, %d watch list cells, %d programs in kfuncs.c; want one of each per cell", rows, cells, len(spec.Programs))
	}
}

func TestUnobservableAreListed(t *testing.T) {
	names := watchlist.Names()
	for kfunc := range unobservable {
		if !slices.Contains(names, kfunc) {
			t.Errorf("unobservable names %s, which the watch list has not", kfunc)
		}
	}
}

func TestCellOf(t *testing.T) {
	if prog, kfunc := cellOf("kfunc/sched_cls/bpf_dynptr_from_skb"); prog != "sched_cls" || kfunc != "bpf_dynptr_from_skb" {
		t.Errorf("cellOf = %q, %q", prog, kfunc)
	}
}

func TestCallsListsEachKfuncOnce(t *testing.T) {
	spec, err := LoadKfuncs()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(calls(spec.Programs["syscall__bpf_task_acquire"]), " ")
	if want := "bpf_task_from_pid bpf_task_acquire bpf_task_release"; got != want {
		t.Errorf("calls = %q, want %q", got, want)
	}
}
