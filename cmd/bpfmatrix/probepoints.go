package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/internal/btfwatch"
	"github.com/bpfmatrix/bpfmatrix/internal/inventory"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/vmimages"
)

func init() {
	commands["probepoints"] = command{"list a kernel's tracepoints and hookable functions (host: live; others: from a report)", probePoints}
}

// probePoints lists what can be hooked on a kernel, one point a line, like
// `bpftrace -l`: "tracepoint:system:event", "kprobe:function" (in ftrace's
// available_filter_functions), "fentry:function" (in kernel BTF). Then the
// watch list's points that are not hooks but what a program reads or calls,
// each with what this kernel has, after a tab: "field:task_struct.__state"
// with its layout, "kfunc:bpf_task_acquire" with its prototype,
// "function:vfs_read" with how it can be traced; "absent: <why>" where the
// kernel lacks one. -grep matches the part before the tab.
func probePoints(args []string) error {
	fs, verbose := newFlags("probepoints")
	kernel := fs.String("kernel", "", "host for a live read of this machine, or a kernel of the report ("+fmt.Sprint(vmimages.Names()[1:])+")")
	arch := fs.String("arch", "", "the architecture of the report's run, when it has the kernel for more than one ("+strings.Join(vmimages.Arches, ", ")+")")
	grep := fs.String("grep", "", "only points matching this regular expression, kind prefix included (kfunc:bpf_task_, field:task_struct\\.)")
	report := fs.String("report", "reports/out/report.json", "report to read a non-host kernel's points from")
	if err := fs.Parse(args); err != nil {
		return err
	}
	setupLog(*verbose)
	if fs.NArg() > 0 {
		return badInput("probepoints: unexpected argument %q; want flags only (-kernel, -arch, -grep, -report)", fs.Arg(0))
	}
	if *kernel == "" {
		return badInput("probepoints: -kernel is required: host, or a kernel of the report such as 6.1")
	}
	if *arch != "" && !slices.Contains(vmimages.Arches, *arch) {
		return badInput("probepoints: -arch %q is not an architecture; known are %s", *arch, strings.Join(vmimages.Arches, ", "))
	}
	re, err := regexp.Compile(*grep)
	if err != nil {
		return badInput("probepoints: -grep %q is not a regular expression: %v", *grep, err)
	}

	var (
		lists *reports.ProbeLists
		pp    *reports.ProbePoints
	)
	if *kernel == vmimages.Host {
		pp, lists = inventory.Take(inventory.FindTracefs(), inventory.Watch)
		btfwatch.Add(pp, lists, inventory.BTFSource, inventory.Watch)
		// Say what could not be read, so an empty answer is not mistaken for "nothing there".
		for _, c := range []struct {
			what  string
			count reports.Count
		}{{"tracepoints", pp.Tracepoints}, {"kprobe functions", pp.KprobeFunctions}, {"fentry (BTF) functions, fields or kfuncs", *pp.HostBTF}} {
			if c.count.Error != "" {
				fmt.Fprintf(os.Stderr, "bpfmatrix: no %s listed: %s\n", c.what, c.count.Error)
			}
		}
	} else {
		if pp, lists, err = reportLists(*report, *kernel, *arch); err != nil {
			return err
		}
	}

	w := bufio.NewWriter(os.Stdout)
	n := 0
	emit := func(kind, name string) {
		line := kind + ":" + name
		if re.MatchString(line) {
			fmt.Fprintln(w, line)
			n++
		}
	}
	for _, tp := range lists.Tracepoints {
		emit("tracepoint", tracepointName(tp))
	}
	for _, fn := range lists.KprobeFunctions {
		emit("kprobe", fn)
	}
	for _, fn := range lists.BTFFunctions {
		emit("fentry", fn)
	}
	for _, p := range pp.Watch {
		if p.Kind == reports.PointTracepoint {
			continue // listed above, and its format is the report's to show
		}
		line := p.Kind + ":" + p.Name
		if re.MatchString(line) {
			fmt.Fprintf(w, "%s\t%s\n", line, watchedDetail(p))
			n++
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d probe points\n", n)
	return nil
}

// watchedDetail says what a kernel has of a watched point: a field's
// layout, a kfunc's prototype and decl tags, a function's traceability.
func watchedDetail(p reports.WatchedPoint) string {
	switch {
	case p.Kind == reports.PointFunction:
		return p.Traceability
	case !p.Present:
		return "absent: " + p.Error
	case p.Kind == reports.PointField && len(p.Fields) == 1:
		return p.Fields[0].Layout()
	case len(p.DeclTags) > 0:
		return p.Prototype + " [" + strings.Join(p.DeclTags, " ") + "]"
	}
	return p.Prototype
}

// tracepointName writes "system/event" as bpftrace does: "system:event".
func tracepointName(tp string) string { return strings.Replace(tp, "/", ":", 1) }

// reportLists finds kernel's run in the report (of arch, when not "") and
// reads the lists file the runner wrote beside it. Without arch, a kernel
// the report has on more than one architecture is bad input.
func reportLists(path, kernel, arch string) (*reports.ProbePoints, *reports.ProbeLists, error) {
	rep, err := reports.Load(path)
	if err != nil {
		return nil, nil, badInput("probepoints: %v", err)
	}
	var (
		known  []string // the -kernel values the report has probe points of
		arches []string // kernel's architectures there
		found  *reports.Run
	)
	for i := range rep.Runs {
		run := &rep.Runs[i]
		if run.ProbePoints == nil {
			continue
		}
		if !slices.Contains(known, run.Kernel.Name) {
			known = append(known, run.Kernel.Name)
		}
		if run.Kernel.Name != kernel {
			continue
		}
		if !slices.Contains(arches, run.Arch()) {
			arches = append(arches, run.Arch())
		}
		if found == nil && (arch == "" || run.Arch() == arch) {
			found = run
		}
	}
	switch {
	case len(known) == 0:
		return nil, nil, badInput("probepoints: report %s has no probe points; run bpfmatrix run --label-filter probepoints first, or use -kernel host", path)
	case found == nil && len(arches) > 0:
		return nil, nil, badInput("probepoints: report %s has kernel %s on %s only, not %s; pick one with -arch", path, kernel, strings.Join(arches, ", "), arch)
	case found == nil:
		return nil, nil, badInput("probepoints: kernel %q is not in report %s; it has probe points of %s (or use -kernel host)", kernel, path, strings.Join(known, ", "))
	case arch == "" && len(arches) > 1:
		return nil, nil, badInput("probepoints: report %s has kernel %s on %s; pick one with -arch", path, kernel, strings.Join(arches, ", "))
	}
	if found.ProbePoints.ListsFile == "" {
		return nil, nil, fmt.Errorf("probepoints: report %s: kernel %s has counts but no lists file; rerun it with bpfmatrix run", path, kernel)
	}
	file := filepath.Join(filepath.Dir(path), found.ProbePoints.ListsFile)
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("probepoints: lists of kernel %s: %w", kernel, err)
	}
	var lists reports.ProbeLists
	if err := json.Unmarshal(data, &lists); err != nil {
		return nil, nil, fmt.Errorf("probepoints: lists of kernel %s: %s: %w", kernel, file, err)
	}
	return found.ProbePoints, &lists, nil
}
