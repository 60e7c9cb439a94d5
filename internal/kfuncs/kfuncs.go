// Package kfuncs is the watch list of kernel functions (kfuncs) that
// products call from eBPF programs, and which program types call them: the
// catalog makes one kfunc/<program type>/<kfunc> row of each pair, and
// internal/inventory adds the names to the probe points it looks up in
// each kernel's BTF. The list is the plain
// text file watchlist.txt (format in docs/kfuncs.md); extending it is
// adding a line, and a program for each new cell in suites/kfuncs.
package kfuncs

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
)

// Vmlinux is the module field of a kfunc the kernel image itself holds.
const Vmlinux = "vmlinux"

// ModuleConfigs are the CONFIG options that build the watch list's
// modules: where a module has no BTF, the option says whether the kernel
// lacks it (not set) or has it unloaded (=m).
var ModuleConfigs = map[string]string{
	"nf_conntrack":   "CONFIG_NF_CONNTRACK",
	"xfrm_interface": "CONFIG_XFRM_INTERFACE",
}

// Kfunc is one line of the watch list.
type Kfunc struct {
	Name string
	// Since is the upstream version whose BTF first has the kfunc.
	Since string
	// Module is Vmlinux, or the kernel module whose BTF holds the kfunc.
	Module string
	// Cells are the program types it is proven from.
	Cells []Cell
}

// Cell is one program type a kfunc is proven from.
type Cell struct {
	// Prog is bpftool's name of the program type ("sched_cls").
	Prog string
	// Since is set where the type may call the kfunc only from a version
	// later than the kfunc's own.
	Since string
	// Never is set where no kernel lets the type call the kfunc.
	Never bool
}

//go:embed watchlist.txt
var watchlist string

// list is the embedded watch list, parsed once. A malformed list stops
// every program that imports the package at start, naming the line; the
// package's tests parse it too, so none builds into a release.
var list = func() []Kfunc {
	l, err := Parse(watchlist)
	if err != nil {
		panic("kfuncs: watchlist.txt: " + err.Error())
	}
	return l
}()

// List returns the embedded watch list, shared by every caller: read it,
// do not change it.
func List() []Kfunc { return list }

// Names returns the kfuncs of the watch list, in its order.
func Names() []string {
	var names []string
	for _, k := range List() {
		names = append(names, k.Name)
	}
	return names
}

// Parse reads a watch list: "#" starts a comment; every other non-blank
// line is "<kfunc> <since> <module> <program type>...". An error names the
// line and what it expected.
func Parse(text string) ([]Kfunc, error) {
	var list []Kfunc
	seen := map[string]int{}
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		if c := strings.IndexByte(line, '#'); c >= 0 {
			line = line[:c]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 4 {
			return nil, fmt.Errorf("line %d: want <kfunc> <since> <module> <program type>..., got %q", n, strings.TrimSpace(line))
		}
		k := Kfunc{Name: fields[0], Since: fields[1], Module: fields[2]}
		if !isIdent(k.Name) {
			return nil, fmt.Errorf("line %d: kfunc %q is not a C identifier", n, k.Name)
		}
		if first, dup := seen[k.Name]; dup {
			return nil, fmt.Errorf("line %d: kfunc %s is listed on line %d already", n, k.Name, first)
		}
		seen[k.Name] = n
		if !isVersion(k.Since) {
			return nil, fmt.Errorf("line %d: since %q is not a version major.minor", n, k.Since)
		}
		if !isIdent(k.Module) {
			return nil, fmt.Errorf("line %d: module %q is not a module name (or vmlinux)", n, k.Module)
		}
		progs := map[string]bool{}
		for _, tok := range fields[3:] {
			c, err := parseCell(tok, k.Since)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			if progs[c.Prog] {
				return nil, fmt.Errorf("line %d: program type %s is listed twice", n, c.Prog)
			}
			progs[c.Prog] = true
			k.Cells = append(k.Cells, c)
		}
		list = append(list, k)
	}
	return list, nil
}

func parseCell(tok, since string) (Cell, error) {
	if prog, ok := strings.CutSuffix(tok, "!"); ok {
		if !isIdent(prog) {
			return Cell{}, fmt.Errorf("program type %q is not a name", prog)
		}
		return Cell{Prog: prog, Never: true}, nil
	}
	prog, at, ok := strings.Cut(tok, "@")
	if !isIdent(prog) {
		return Cell{}, fmt.Errorf("program type %q is not a name", prog)
	}
	if !ok {
		return Cell{Prog: prog}, nil
	}
	if !isVersion(at) {
		return Cell{}, fmt.Errorf("%s: version %q is not major.minor", tok, at)
	}
	v, _ := kversion.Parse(at)
	s, _ := kversion.Parse(since)
	if v.Compare(s) <= 0 {
		return Cell{}, fmt.Errorf("%s: %s is not later than the kfunc's since %s", tok, at, since)
	}
	return Cell{Prog: prog, Since: at}, nil
}

func isVersion(s string) bool {
	v, ok := kversion.Parse(s)
	return ok && v.String() == s
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
