package kfuncs

import (
	"reflect"
	"strings"
	"testing"
)

func TestWatchListParses(t *testing.T) {
	l, err := Parse(watchlist)
	if err != nil {
		t.Fatal(err)
	}
	cells := 0
	for _, k := range l {
		cells += len(k.Cells)
	}
	if len(l) < 25 || cells < 50 || cells > 100 {
		t.Errorf("watch list has %d kfuncs in %d cells; want at least 25 kfuncs and 50 to 100 cells", len(l), cells)
	}
	if names := Names(); len(names) != len(l) || names[0] != l[0].Name {
		t.Errorf("Names() = %v, want the list's names in order", names)
	}
	if !reflect.DeepEqual(List(), l) {
		t.Errorf("List() differs from the parsed watch list")
	}
	if a, b := List(), List(); &a[0] != &b[0] {
		t.Errorf("List() parsed the watch list again; want it parsed once")
	}
}

func TestParse(t *testing.T) {
	got, err := Parse("# comment\n\nbpf_a 6.3 vmlinux tracing syscall@6.7 xdp! # trailing\nbpf_b 5.18 nf_conntrack sched_cls\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []Kfunc{
		{Name: "bpf_a", Since: "6.3", Module: Vmlinux, Cells: []Cell{{Prog: "tracing"}, {Prog: "syscall", Since: "6.7"}, {Prog: "xdp", Never: true}}},
		{Name: "bpf_b", Since: "5.18", Module: "nf_conntrack", Cells: []Cell{{Prog: "sched_cls"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse = %+v\nwant %+v", got, want)
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"bpf_a 6.3 vmlinux\n", "line 1: want <kfunc> <since> <module> <program type>..."},
		{"# c\nbpf_a 6 vmlinux xdp\n", "line 2: since \"6\" is not a version"},
		{"bpf-a 6.3 vmlinux xdp\n", "line 1: kfunc \"bpf-a\" is not a C identifier"},
		{"bpf_a 6.3 vmlinux xdp\nbpf_a 6.3 vmlinux tc\n", "line 2: kfunc bpf_a is listed on line 1 already"},
		{"bpf_a 6.3 vmlinux xdp@6.1\n", "line 1: xdp@6.1: 6.1 is not later than the kfunc's since 6.3"},
		{"bpf_a 6.3 vmlinux xdp@six\n", "line 1: xdp@six: version \"six\" is not major.minor"},
		{"bpf_a 6.3 vmlinux xdp xdp!\n", "line 1: program type xdp is listed twice"},
		{"bpf_a 6.3 nf/ct xdp\n", "line 1: module \"nf/ct\" is not a module name"},
		{"bpf_a 6.3 vmlinux !\n", "line 1: program type \"\" is not a name"},
	} {
		_, err := Parse(tc.text)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error starting %q", tc.text, err, tc.want)
		}
	}
}
