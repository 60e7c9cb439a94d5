// Package inventory reads what a running kernel lets eBPF hook: its
// tracepoints and their formats, the functions ftrace (and so kprobes) can
// attach to, the functions kernel BTF describes (fentry's targets) and the
// perf event sources. It reads; it attaches nothing. The probepoints suite
// records it from inside each target, and `bpfmatrix probepoints --kernel
// host` lists it from a live read of the machine.
package inventory

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Tracefs locations, in the order the kernel prefers them. Kernels since 4.1
// mount tracefs at /sys/kernel/tracing; older setups only have it inside
// debugfs.
var tracefsDirs = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}

// FindTracefs returns the first tracefs directory with an events/ dir, or "".
func FindTracefs() string {
	for _, dir := range tracefsDirs {
		if _, err := os.Stat(filepath.Join(dir, "events")); err == nil {
			return dir
		}
	}
	return ""
}

// BTFSource is where the kernel exposes its own BTF.
const BTFSource = "/sys/kernel/btf/vmlinux"

// PerfSources is where the kernel lists its perf event sources (PMUs).
const PerfSources = "/sys/bus/event_source/devices"

// Take reads the kernel's probe points from tracefs (a directory such as
// FindTracefs returns, or "" for none) and kernel BTF, and looks up each
// tracepoint and function of watch (its fields and kfuncs are the runner's:
// Point.InBTF); the full name lists come back beside the counts. It never
// fails as a whole: a source it cannot read is counted as its error, which
// is the evidence a report shows.
func Take(tracefs string, watch []Point) (*reports.ProbePoints, *reports.ProbeLists) {
	pp := &reports.ProbePoints{Tracefs: tracefs}
	lists := &reports.ProbeLists{}
	var byName map[string]*btf.Func

	pp.Tracepoints, lists.Tracepoints = count(filepath.Join(tracefs, "events"), func() ([]string, error) {
		if tracefs == "" {
			return nil, errors.New("tracefs is mounted neither at /sys/kernel/tracing nor under debugfs")
		}
		return Tracepoints(tracefs)
	})
	pp.SyscallTracepoints, _ = count(filepath.Join(tracefs, "events", "syscalls"), func() ([]string, error) {
		if pp.Tracepoints.Error != "" {
			return nil, errors.New(pp.Tracepoints.Error)
		}
		var sys []string
		for _, tp := range lists.Tracepoints {
			if strings.HasPrefix(tp, "syscalls/") {
				sys = append(sys, tp)
			}
		}
		return sys, nil
	})
	pp.KprobeFunctions, lists.KprobeFunctions = count(filepath.Join(tracefs, "available_filter_functions"), func() ([]string, error) {
		if tracefs == "" {
			return nil, errors.New("no tracefs")
		}
		return FilterFunctions(tracefs)
	})
	pp.BTFFunctions, lists.BTFFunctions = count(BTFSource, func() ([]string, error) {
		var err error
		byName, err = BTFFunctions()
		return slices.Sorted(maps.Keys(byName)), err
	})
	pp.PerfEventSources, lists.PerfEventSources = count(PerfSources, func() ([]string, error) {
		return dirNames(PerfSources)
	})

	kprobeable := map[string]bool{}
	for _, fn := range lists.KprobeFunctions {
		kprobeable[fn] = true
	}
	symbols := newKallsyms(Kallsyms)
	for _, p := range watch {
		if p.InBTF() {
			continue // the runner reads these from the kernel's BTF, on the host
		}
		w := reports.WatchedPoint{Kind: p.Kind, Name: p.Name}
		switch p.Kind {
		case reports.PointTracepoint:
			watchTracepoint(&w, tracefs)
		case reports.PointFunction:
			watchFunction(&w, byName[p.Name], pp.BTFFunctions, kprobeable, pp.KprobeFunctions)
			w.Traceability = traceability(&w, pp.BTFFunctions, pp.KprobeFunctions, symbols)
		}
		pp.Watch = append(pp.Watch, w)
	}
	return pp, lists
}

// Kallsyms is where the kernel lists its symbols.
const Kallsyms = "/proc/kallsyms"

// kallsyms reads the symbol names of a kallsyms file once, when first
// asked: only a function in neither BTF nor ftrace's list needs it.
type kallsyms struct {
	path  string
	names map[string]bool
	err   error
	read  bool
}

func newKallsyms(path string) *kallsyms { return &kallsyms{path: path} }

func (k *kallsyms) has(name string) (bool, error) {
	if !k.read {
		k.read = true
		k.names, k.err = symbolNames(k.path)
	}
	return k.names[name], k.err
}

// symbolNames reads the names of a kallsyms file ("address type name
// [module]" a line). Addresses may read as zeros (kptr_restrict): the
// names are all it needs.
func symbolNames(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) >= 3 {
			names[fields[2]] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s lists no symbols", path)
	}
	return names, nil
}

// traceability puts a watched function (as watchFunction filled it) in its
// reports.Trace* category. A source that could not be read makes the
// category unknown, naming it and its error: each category needs both
// answers, so there is nothing to settle without one.
func traceability(w *reports.WatchedPoint, btfCount, kprobeCount reports.Count, symbols *kallsyms) string {
	inBTF := w.Prototype != ""
	var unknown []string
	if btfCount.Error != "" {
		unknown = append(unknown, "kernel BTF: "+btfCount.Error)
	}
	if kprobeCount.Error != "" {
		unknown = append(unknown, "available_filter_functions: "+kprobeCount.Error)
	}
	if len(unknown) > 0 {
		return reports.TraceUnknown + ": " + strings.Join(unknown, "; ")
	}
	switch {
	case inBTF && w.Kprobe == "yes":
		return reports.TraceTraceable
	case inBTF:
		return reports.TraceBTFOnly
	case w.Kprobe == "yes":
		return reports.TraceKprobeOnly
	}
	in, err := symbols.has(w.Name)
	switch {
	case err != nil:
		return reports.TraceUnknown + ": in neither kernel BTF nor available_filter_functions, and " + err.Error()
	case in:
		return reports.TraceKallsymsOnly
	}
	return reports.TraceAbsent
}

func count(source string, list func() ([]string, error)) (reports.Count, []string) {
	names, err := list()
	if err != nil {
		return reports.Count{Source: source, Error: err.Error()}, nil
	}
	return reports.Count{Source: source, N: len(names)}, names
}

func watchTracepoint(w *reports.WatchedPoint, tracefs string) {
	if tracefs == "" {
		w.Error = "no tracefs"
		return
	}
	f, err := ReadFormat(tracefs, w.Name)
	if errors.Is(err, fs.ErrNotExist) {
		w.Error = "no " + w.Name + " in " + tracefs + "/events"
		return
	}
	if err != nil {
		w.Error = err.Error()
		return
	}
	w.Present, w.Fields = true, f.Fields
}

func watchFunction(w *reports.WatchedPoint, fn *btf.Func, btfCount reports.Count, kprobeable map[string]bool, kprobeCount reports.Count) {
	var why []string
	switch {
	case fn != nil:
		w.Present, w.Prototype = true, Prototype(fn)
	case btfCount.Error != "":
		why = append(why, "kernel BTF: "+btfCount.Error)
	default:
		why = append(why, "not in kernel BTF")
	}
	switch {
	case kprobeCount.Error != "":
		why = append(why, "available_filter_functions: "+kprobeCount.Error)
	case kprobeable[w.Name]:
		w.Present, w.Kprobe = true, "yes"
	default:
		w.Kprobe = "no"
		why = append(why, "not in available_filter_functions")
	}
	if !w.Present {
		w.Error = strings.Join(why, "; ")
	}
}

// Tracepoints lists every tracepoint under tracefs as "system/event".
func Tracepoints(tracefs string) ([]string, error) {
	events := filepath.Join(tracefs, "events")
	systems, err := os.ReadDir(events)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, sys := range systems {
		if !sys.IsDir() {
			continue
		}
		evs, err := os.ReadDir(filepath.Join(events, sys.Name()))
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			if ev.IsDir() {
				names = append(names, sys.Name()+"/"+ev.Name())
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

// ReadFormat reads and parses the format of tracepoint "system/event".
func ReadFormat(tracefs, name string) (*Format, error) {
	system, event, ok := strings.Cut(name, "/")
	if !ok || system == "" || event == "" || strings.Contains(event, "/") {
		return nil, fmt.Errorf("tracepoint %q: want system/event", name)
	}
	path := filepath.Join(tracefs, "events", system, event, "format")
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseFormat(path, f)
}

// FilterFunctions lists the distinct function names of ftrace's
// available_filter_functions, without their "[module]" suffix. On a kernel
// in lockdown, or without CONFIG_FUNCTION_TRACER, it returns the kernel's
// refusal, not an empty list.
func FilterFunctions(tracefs string) ([]string, error) {
	f, err := os.Open(filepath.Join(tracefs, "available_filter_functions"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, _, _ := strings.Cut(sc.Text(), " ")
		if name != "" {
			seen[name] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// BTFFunctions maps the name of every function in the kernel's own BTF
// (modules excluded) to its entry: the targets fentry, fexit and fmod_ret
// can name.
func BTFFunctions() (map[string]*btf.Func, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return nil, fmt.Errorf("load kernel BTF: %w", err)
	}
	funcs := map[string]*btf.Func{}
	for typ, err := range spec.All() {
		if err != nil {
			return nil, fmt.Errorf("iterate kernel BTF: %w", err)
		}
		if fn, ok := typ.(*btf.Func); ok {
			funcs[fn.Name] = fn
		}
	}
	return funcs, nil
}

func dirNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}
