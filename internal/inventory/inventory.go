// Package inventory reads what a running kernel lets eBPF hook: its
// tracepoints and their formats, the functions ftrace (and so kprobes) can
// attach to and the perf event sources. It reads; it attaches nothing. The
// probepoints suite records it from inside each target, and `bpfmatrix
// probepoints --kernel host` lists it from a live read of the machine. The
// functions kernel BTF describes (fentry's targets) are read from the
// kernel's BTF on the host (internal/btfwatch); SettleFunction and
// Traceability join the two reads of a watched function.
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
// FindTracefs returns, or "" for none) and looks up each tracepoint and
// function of watch; the full name lists come back beside the counts. Of a
// function it records only what the running kernel alone knows: whether
// ftrace can attach to it and, when not, whether /proc/kallsyms has it.
// Kernel BTF is the runner's to read, on the host (btfwatch.Add fills
// BTFFunctions and settles each function with SettleFunction): decoding
// it inside a VM under emulation took most of the inventory's time. The
// watch list's fields and kfuncs are the runner's too (Point.InBTF).
// Take never fails as a whole: a source it cannot read is counted as its
// error, which is the evidence a report shows.
func Take(tracefs string, watch []Point) (*reports.ProbePoints, *reports.ProbeLists) {
	pp := &reports.ProbePoints{Tracefs: tracefs}
	lists := &reports.ProbeLists{}

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
	filterFunctions := filepath.Join(tracefs, "available_filter_functions")
	pp.KprobeFunctions, lists.KprobeFunctions = count(filterFunctions, func() ([]string, error) {
		if tracefs == "" {
			return nil, errors.New("no tracefs")
		}
		return FilterFunctions(filterFunctions)
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
			watchFunction(&w, kprobeable, pp.KprobeFunctions, symbols)
		}
		pp.Watch = append(pp.Watch, w)
	}
	pp.Kallsyms = symbols.count()
	return pp, lists
}

// Kallsyms is where the kernel lists its symbols.
const Kallsyms = "/proc/kallsyms"

// kallsyms reads the symbol names of a kallsyms file once, when first
// asked: only a function ftrace cannot attach to needs it.
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

// count is what was read, for ProbePoints.Kallsyms: nil when nothing asked.
func (k *kallsyms) count() *reports.Count {
	switch {
	case !k.read:
		return nil
	case k.err != nil:
		return &reports.Count{Source: k.path, Error: k.err.Error()}
	}
	return &reports.Count{Source: k.path, N: len(k.names)}
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

// watchFunction records what the running kernel says of a watched
// function: Kprobe, and Kallsyms when ftrace cannot attach to it (in
// neither BTF nor ftrace's list, the symbol table tells an inlined or
// removed function from a notrace one). Present and Error say what the
// target saw; SettleFunction completes them with kernel BTF.
func watchFunction(w *reports.WatchedPoint, kprobeable map[string]bool, kprobeCount reports.Count, symbols *kallsyms) {
	switch {
	case kprobeCount.Error != "":
		w.Error = "available_filter_functions: " + kprobeCount.Error
		return
	case kprobeable[w.Name]:
		w.Present, w.Kprobe = true, "yes"
		return
	}
	w.Kprobe, w.Error = "no", "not in available_filter_functions"
	switch in, err := symbols.has(w.Name); {
	case err != nil:
		// The error is the kallsyms Count's, once for all functions.
	case in:
		w.Kallsyms = "yes"
	default:
		w.Kallsyms = "no"
	}
}

// SettleFunction completes a watched function as the target recorded it
// (watchFunction) with the kernel's BTF, read on the host: fn is its entry
// there, nil when BTF has none or could not be read (pp.BTFFunctions.Error
// says which). It sets Present, Prototype, Error and Traceability.
func SettleFunction(pp *reports.ProbePoints, w *reports.WatchedPoint, fn *btf.Func) {
	var why []string
	switch {
	case fn != nil:
		w.Present, w.Prototype = true, Prototype(fn)
	case pp.BTFFunctions.Error != "":
		why = append(why, "kernel BTF: "+pp.BTFFunctions.Error)
	default:
		why = append(why, "not in kernel BTF")
	}
	switch {
	case pp.KprobeFunctions.Error != "":
		why = append(why, "available_filter_functions: "+pp.KprobeFunctions.Error)
	case w.Kprobe == "yes":
		w.Present = true
	default:
		why = append(why, "not in available_filter_functions")
	}
	w.Error = ""
	if !w.Present {
		w.Error = strings.Join(why, "; ")
	}
	w.Traceability = Traceability(pp, w)
}

// Traceability puts a watched function (as SettleFunction filled it) in its
// reports.Trace* category. A source that could not be read makes the
// category unknown, naming it and its error: each category needs both
// answers, so there is nothing to settle without one. It is the one place
// the rule lives: the target records the sources it alone can read, the
// runner adds kernel BTF and calls it.
func Traceability(pp *reports.ProbePoints, w *reports.WatchedPoint) string {
	inBTF := w.Prototype != ""
	var unknown []string
	if pp.BTFFunctions.Error != "" {
		unknown = append(unknown, "kernel BTF: "+pp.BTFFunctions.Error)
	}
	if pp.KprobeFunctions.Error != "" {
		unknown = append(unknown, "available_filter_functions: "+pp.KprobeFunctions.Error)
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
	switch w.Kallsyms {
	case "yes":
		return reports.TraceKallsymsOnly
	case "no":
		return reports.TraceAbsent
	}
	why := Kallsyms + " was not read"
	if pp.Kallsyms != nil && pp.Kallsyms.Error != "" {
		why = pp.Kallsyms.Error
	}
	return reports.TraceUnknown + ": in neither kernel BTF nor available_filter_functions, and " + why
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
// available_filter_functions at path, without their "[module]" suffix. On
// a kernel in lockdown, or without CONFIG_FUNCTION_TRACER, it returns the
// kernel's refusal, not an empty list.
func FilterFunctions(path string) ([]string, error) {
	f, err := os.Open(path)
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
