// Package reports owns everything after the cells of a run are collected: the
// versioned report schema, loading with validation, and (in subpackages) the
// renderers. Suites only write Cell records; they never read a report.
package reports

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/arch"
	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
)

// SchemaVersion is the version of the report format written by this build.
// Loading a report with a newer version is an error, so an old tool never
// silently drops fields it does not know.
//
// Version 2 added the blocked status, the unknown expectation, and the stage a
// cell ended at beside the stage and errnos its expectation predicted.
// Version 3 added the object of a cell of a user's own program.
// Version 4 added the kernel's architecture, part of what makes a run a
// column: a reader of version 3 would merge an amd64 and an arm64 run of the
// same kernel and target into one column of conflicts.
const SchemaVersion = 4

// Status is what a cell says about a feature on one kernel and target.
type Status string

// The statuses a cell can have, and what each one claims (README.md, "What
// a report says").
const (
	// Supported: loaded, or attached and observed at least the events the
	// spec caused.
	Supported Status = "supported"
	// Unsupported: the kernel said no (errno, ErrNotSupported) or a required
	// CONFIG option is off; the evidence says which.
	Unsupported Status = "unsupported"
	// Failed: the kernel accepted it, but it misbehaved (attached, never fired).
	Failed Status = "failed"
	// Error: the harness itself broke; says nothing about the kernel.
	Error Status = "error"
	// Blocked: the environment refused before eBPF was reached (seccomp,
	// missing capabilities, kernel.unprivileged_bpf_disabled, a network
	// namespace refused); the cell's layer says which. It says nothing about
	// the kernel's support, and is counted apart.
	Blocked Status = "blocked"
	// Skipped: a prerequisite is missing, named in the evidence.
	Skipped Status = "skipped"
	// Crashed: the kernel died during the cell; evidence is the console tail.
	Crashed Status = "crashed"
	// Timeout: the target stopped answering before the cell ended.
	Timeout Status = "timeout"
)

// Unknown is an expectation, never an observation: the catalog cannot
// predict the cell on this kernel (a fact it needs could not be read). Such
// a cell is shown, and counted neither as expected nor as unexpected.
const Unknown Status = "unknown"

// Statuses lists every status in the order reports show them.
var Statuses = []Status{Supported, Unsupported, Failed, Blocked, Error, Skipped, Crashed, Timeout}

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	for _, known := range Statuses {
		if s == known {
			return true
		}
	}
	return false
}

// Stage is how far a cell got: where a cell that did not work ended, and
// where an expectation says it must end.
type Stage string

// The stages of a cell, in the order a spec goes through them.
const (
	// StageSetup: the fixtures the spec needs (namespaces, cgroups, devices).
	StageSetup Stage = "setup"
	// StageCreate: kernel objects other than the program (maps, BTF, links).
	StageCreate Stage = "create"
	// StageLoad: the program through the verifier.
	StageLoad Stage = "load"
	// StageAttach: the program to its hook.
	StageAttach Stage = "attach"
	// StageTrigger: the spec's own events.
	StageTrigger Stage = "trigger"
	// StageObserve: counting what the program saw.
	StageObserve Stage = "observe"
)

// Stages lists every stage in order.
var Stages = []Stage{StageSetup, StageCreate, StageLoad, StageAttach, StageTrigger, StageObserve}

// Valid reports whether s is one of the known stages.
func (s Stage) Valid() bool {
	for _, known := range Stages {
		if s == known {
			return true
		}
	}
	return false
}

// Cell is one feature on one kernel and target: the record a suite streams as
// one JSON line as soon as the spec that proved it ends.
type Cell struct {
	// Feature is the catalog ID, such as "attach/kprobe".
	Feature string `json:"feature"`
	// Area groups features in reports: features, tracing, networking, security.
	Area string `json:"area"`
	// Status is what was observed.
	Status Status `json:"status"`
	// Expected is what the kernel's version and config predict: a status,
	// or Unknown where the catalog cannot predict.
	Expected Status `json:"expected"`
	// ExpectedStage and ExpectedErrno are where and how an expected
	// unsupported or blocked cell must fail: the errno names it may end
	// with, joined by "|" ("EINVAL|EOPNOTSUPP"), any errno when empty.
	ExpectedStage Stage  `json:"expected_stage,omitempty"`
	ExpectedErrno string `json:"expected_errno,omitempty"`
	// Unexpected is set when the cell differs from its expectation: another
	// status, or the predicted failure at another stage or with another
	// errno. CI gates on it; an Unknown expectation is never unexpected.
	Unexpected bool `json:"unexpected,omitempty"`
	// Stage is where a cell that did not work ended.
	Stage Stage `json:"stage,omitempty"`
	// Layer names what refused a blocked cell: seccomp, capabilities,
	// kernel.unprivileged_bpf_disabled, a user namespace, a network
	// namespace.
	Layer string `json:"layer,omitempty"`
	// Evidence is the kernel's own words: errno, verifier log tail, the
	// CONFIG line, the event count, the console tail.
	Evidence string `json:"evidence"`
	// Errno is the errno name the kernel returned, when it returned one.
	Errno string `json:"errno,omitempty"`
	// Reason explains Expected: the missing CONFIG option or the version.
	Reason string `json:"reason,omitempty"`
	// Events is how many events the attached program observed.
	Events uint64 `json:"events,omitempty"`
	// Triggered is how many events the spec caused; a supported counting
	// cell has Events >= Triggered.
	Triggered uint64 `json:"triggered,omitempty"`
	// DurationMS is how long the spec took.
	DurationMS float64 `json:"duration_ms"`
	// Since is the upstream kernel version that introduced the feature, from
	// its catalog row. Reports set it beside the lowest kernel where the
	// feature works, so a backport or a config that turns it off stands out.
	Since string `json:"since,omitempty"`
	// VerifierLog is the tail of the verifier's log when a load was refused,
	// kept apart from Evidence so a report can show it verbatim.
	VerifierLog string `json:"verifier_log,omitempty"`
	// Object is set on the cells of a user's own object programs (area
	// AreaObjects): what the program is and how far it got.
	Object *Object `json:"object,omitempty"`
}

// Kernel describes the kernel a run happened on.
type Kernel struct {
	// Name is the catalog name the user asked for ("5.10", "host").
	Name string `json:"name"`
	// Arch is the kernel's architecture, GOARCH's and Debian's name
	// ("amd64", "arm64"). Empty means amd64: every report before schema 4
	// ran there (Run.Arch says so).
	Arch string `json:"arch,omitempty"`
	// Release is uname -r inside the target.
	Release string `json:"release"`
	// Version is the parsed upstream version, "major.minor.patch".
	Version string `json:"version"`
	// Package is the Debian package the kernel came from, if any.
	Package string `json:"package,omitempty"`
	// ConfigSource names where the kernel config was read from.
	ConfigSource string `json:"config_source,omitempty"`
	BTF          bool   `json:"btf"`
	Tracefs      string `json:"tracefs,omitempty"`
	// FunctionTracer is "ok" or the error reading ftrace's function list.
	FunctionTracer string `json:"function_tracer,omitempty"`
	// Trampolines is "ok" or what refused a trampoline program before the
	// verifier; InitPrivate is kernel.init_private where it exists.
	Trampolines string `json:"trampolines,omitempty"`
	InitPrivate string `json:"init_private,omitempty"`
	// Token says what the BPF token the suite could hold delegates, where
	// it could hold one.
	Token string `json:"token,omitempty"`
	// LSMs is the active LSM list from /sys/kernel/security/lsm.
	LSMs []string `json:"lsms,omitempty"`
	// Lockdown is the bracketed mode of /sys/kernel/security/lockdown.
	Lockdown string `json:"lockdown,omitempty"`
	// UnprivilegedBPF is kernel.unprivileged_bpf_disabled.
	UnprivilegedBPF string `json:"unprivileged_bpf_disabled,omitempty"`
	// Seccomp and CapEff come from /proc/self/status of the suite process,
	// so a report can tell seccomp's EPERM from the kernel's.
	Seccomp string `json:"seccomp,omitempty"`
	CapEff  string `json:"cap_eff,omitempty"`
}

// Run is every cell of one kernel, of one architecture, on one target.
type Run struct {
	Kernel Kernel `json:"kernel"`
	// Target is "host", "vm" or "container/<profile>".
	Target string `json:"target"`
	// Status is how the run ended: ok, panic, timeout, error or interrupted
	// (a signal stopped the matrix during or before the run).
	Status   string    `json:"status"`
	Detail   string    `json:"detail,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Cells    []Cell    `json:"cells"`
	WallTime float64   `json:"wall_seconds"`
	// Seed is Ginkgo's random seed of the run's spec order: `bpfmatrix run
	// --seed N` runs the specs in the same order again.
	Seed int64 `json:"seed,omitempty"`
	// ProbePoints is the kernel's inventory of event sources, when the
	// probepoints suite ran; its full lists are in a file beside the run.
	ProbePoints *ProbePoints `json:"probepoints,omitempty"`
	// Parity is how the cells compare with bpftool's feature probe run in
	// the same kernel and target.
	Parity *Parity `json:"parity,omitempty"`
	// Files are what the run left in its directory, relative to the
	// report.json the runner wrote beside it (runs/<run>/console.log,
	// cells.jsonl, run.json, …): where a reader finds its logs.
	Files []string `json:"files,omitempty"`
	// CachedFrom says the run was not run again but reused from the run
	// cache (docs/caching.md): an earlier run with the same inputs ended
	// ok with no unexpected and no error cell, and its cells, times and
	// files are this run's.
	CachedFrom *Cached `json:"cached_from,omitempty"`
}

// Cached is where and when a reused run ran.
type Cached struct {
	// Key is the SHA256 of the run's inputs, which names its entry.
	Key string `json:"key"`
	// Entry is the cache entry the run's files were copied from.
	Entry string `json:"entry"`
	// RanAt is when the reused run started.
	RanAt time.Time `json:"ran_at"`
}

// Parity compares a run's cells with `bpftool feature probe kernel` run in
// the same kernel: a cell agrees when it is supported and bpftool says
// available, or unsupported and bpftool says not available. Other statuses
// never agree. Compared is Agreed plus the allowed disagreements plus the
// others, and any other disagreement makes the run an error.
type Parity struct {
	// Skipped says why the run was not compared: its target runs no
	// bpftool probe.
	Skipped string `json:"skipped,omitempty"`
	// Error says why bpftool's answer is missing or unreadable; the run is
	// then an error.
	Error    string `json:"error,omitempty"`
	Compared int    `json:"compared"`
	Agreed   int    `json:"agreed"`
	// Allowed are disagreements with a known cause in bpftool's probe, each
	// with its reason.
	Allowed []ParityDiff `json:"allowed,omitempty"`
	// Disagreements are the others.
	Disagreements []ParityDiff `json:"disagreements,omitempty"`
	// Undecided names the questions this run cannot decide, with why: a
	// disagreement whose known cause only a cell left out of the run (by
	// a label filter) could show.
	Undecided []ParityDiff `json:"undecided,omitempty"`
}

// ParityDiff is one feature on which bpftool and the cell differ.
type ParityDiff struct {
	Feature string `json:"feature"`
	// Bpftool is bpftool's answer and the probe that gave it:
	// "not available (have_tracing_prog_type)".
	Bpftool string `json:"bpftool"`
	// Cell is the cell's status, stage and errno, and its evidence's
	// first line.
	Cell   string `json:"cell"`
	Reason string `json:"reason,omitempty"`
}

// Report is the whole output of a bpfmatrix invocation.
type Report struct {
	Schema    int       `json:"schema"`
	Tool      string    `json:"tool"`
	Host      string    `json:"host"`
	Generated time.Time `json:"generated"`
	Runs      []Run     `json:"runs"`
}

// Unexpected counts the cells whose status differs from the expected one.
func (r *Report) Unexpected() int {
	n := 0
	for _, run := range r.Runs {
		for _, c := range run.Cells {
			if c.Unexpected {
				n++
			}
		}
	}
	return n
}

// Deviation says in one line what an unexpected cell observed against what
// was expected, and why in the kernel's words: "attach/kprobe: unsupported
// EINVAL at load, expected supported: load program: invalid argument".
func (c *Cell) Deviation() string {
	say := func(status Status, errno string, stage Stage) string {
		s := string(status)
		if errno != "" {
			s += " " + errno
		}
		if stage != "" {
			s += " at " + string(stage)
		}
		return s
	}
	line := c.Feature + ": " + say(c.Status, c.Errno, c.Stage)
	if c.Expected != "" {
		line += ", expected " + say(c.Expected, c.ExpectedErrno, c.ExpectedStage)
	}
	if e := c.EvidenceLine(200); e != "" {
		line += ": " + e
	}
	return line
}

// Deviations says how the run's first max unexpected cells deviate, a line
// each (Cell.Deviation), and how many more there are.
func (run *Run) Deviations(max int) (lines []string, more int) {
	for i := range run.Cells {
		if c := &run.Cells[i]; c.Unexpected {
			if len(lines) == max {
				more++
				continue
			}
			lines = append(lines, c.Deviation())
		}
	}
	return lines, more
}

// Validate checks the fields a renderer or a CI gate relies on and names the
// first one that is wrong.
func (r *Report) Validate() error {
	if r.Schema < 1 {
		return fmt.Errorf("field schema: %d is not a schema version", r.Schema)
	}
	if r.Schema > SchemaVersion {
		return fmt.Errorf("field schema: version %d is newer than this bpfmatrix understands (%d); upgrade bpfmatrix", r.Schema, SchemaVersion)
	}
	for i, run := range r.Runs {
		if run.Target == "" {
			return fmt.Errorf("field runs[%d].target: empty; want the target name (host, vm, container/<profile>)", i)
		}
		for j, c := range run.Cells {
			if c.Feature == "" {
				return fmt.Errorf("field runs[%d].cells[%d].feature: empty; want a catalog ID such as attach/kprobe", i, j)
			}
			if !c.Status.Valid() {
				return fmt.Errorf("field runs[%d].cells[%d].status: %q is not one of %v", i, j, c.Status, Statuses)
			}
			if c.Expected != "" && c.Expected != Unknown && !c.Expected.Valid() {
				return fmt.Errorf("field runs[%d].cells[%d].expected: %q is not one of %v or %s", i, j, c.Expected, Statuses, Unknown)
			}
			for _, st := range []Stage{c.Stage, c.ExpectedStage} {
				if st != "" && !st.Valid() {
					return fmt.Errorf("field runs[%d].cells[%d]: stage %q is not one of %v", i, j, st, Stages)
				}
			}
			if c.DurationMS < 0 {
				return fmt.Errorf("field runs[%d].cells[%d].duration_ms: %v is negative", i, j, c.DurationMS)
			}
			if c.Object != nil {
				if err := c.Object.validate(); err != nil {
					return fmt.Errorf("field runs[%d].cells[%d].object.%w", i, j, err)
				}
			}
			if c.Since != "" {
				if _, ok := kversion.Parse(c.Since); !ok {
					return fmt.Errorf("field runs[%d].cells[%d].since: %q is not a kernel version such as 5.18", i, j, c.Since)
				}
			}
		}
		if p := run.Parity; p != nil && (p.Agreed < 0 || p.Compared != p.Agreed+len(p.Allowed)+len(p.Disagreements)) {
			return fmt.Errorf("field runs[%d].parity: compared %d is not agreed %d + %d allowed + %d disagreements", i, p.Compared, p.Agreed, len(p.Allowed), len(p.Disagreements))
		}
		// Checked after the cells: a kernel name and arch are what make the
		// run a column, and a cell error is the more useful one to report
		// first.
		if run.Kernel.Name == "" {
			return fmt.Errorf("field runs[%d].kernel.name: empty; want the kernel's catalog name (host, 5.10, ...)", i)
		}
		if a := run.Kernel.Arch; a != "" && !slices.Contains(arch.Names(), a) {
			// A typo ("aarch64") would make a column of its own.
			return fmt.Errorf("field runs[%d].kernel.arch: %q is not one of %v (Debian's architecture names)", i, a, arch.Names())
		}
	}
	return nil
}

// ProbePoints is what can be hooked on one kernel: how many event sources of
// each kind it offers and, for a watch list of points eBPF tools commonly
// hook, whether each exists and what it looks like. Finding an event source
// that exists on every kernel you ship to, with the fields you read at the
// offsets you expect, is often harder than writing the program.
type ProbePoints struct {
	// Tracefs is where tracefs was found ("/sys/kernel/tracing", or
	// "/sys/kernel/debug/tracing" when only debugfs offers it); "" if nowhere.
	Tracefs string `json:"tracefs"`
	// Tracepoints counts the directories under tracefs events/<system>/.
	Tracepoints Count `json:"tracepoints"`
	// SyscallTracepoints counts events/syscalls/ (sys_enter_* and sys_exit_*).
	SyscallTracepoints Count `json:"syscall_tracepoints"`
	// KprobeFunctions counts available_filter_functions: what ftrace, and so
	// kprobes by default, can attach to.
	KprobeFunctions Count `json:"kprobe_functions"`
	// BTFFunctions counts the distinct names of the FUNC entries of the
	// kernel's BTF: what fentry, fexit and fmod_ret can target. The runner
	// reads it on the host, from the same BTF as HostBTF, and its Source
	// names that file as HostBTF's does.
	BTFFunctions Count `json:"btf_functions"`
	// PerfEventSources counts /sys/bus/event_source/devices (cpu, software,
	// tracepoint, kprobe, uprobe, ...).
	PerfEventSources Count `json:"perf_event_sources"`
	// Watch is each point of the watch list, in its order: the tracepoints
	// and functions the suite looked up in the target (a function's
	// prototype and traceability completed by the runner from the kernel's
	// BTF), then the struct fields and kfuncs the runner looked up in the
	// kernel's BTF (HostBTF).
	Watch []WatchedPoint `json:"watch"`
	// HostBTF is the kernel BTF the runner read on the host, without
	// booting, for BTFFunctions and the function, field and kfunc points:
	// the file (/sys/kernel/btf/vmlinux, or the base name of the kernel's
	// vmlinux or arm64 Image) and how many types it holds, or why it could
	// not be read, and then the run has no field or kfunc points and its
	// functions' traceability is unknown. Absent when no run read it.
	HostBTF *Count `json:"host_btf,omitempty"`
	// Kallsyms is the target's read of /proc/kallsyms, made only when a
	// watched function is not in available_filter_functions: how many
	// symbols it lists, or why it could not be read, which is then the
	// reason such a function's Traceability is unknown. Absent when no
	// function needed it.
	Kallsyms *Count `json:"kallsyms,omitempty"`
	// ListsGzip holds the full name lists, gzipped JSON (ProbeLists). It
	// travels in the record stream only: ~45k ftrace function names per
	// kernel are ~1 MB as JSON, a long write through a VM's emulated
	// serial port, and ~4x less gzipped. The runner moves them to ListsFile, with
	// the BTF function names it reads on the host, so report.json stays
	// small.
	ListsGzip []byte `json:"lists_gzip,omitempty"`
	// ListsFile is where the full lists were saved, relative to the
	// directory of report.json ("runs/vm-6.1/probepoints.json").
	ListsFile string `json:"lists_file,omitempty"`
}

// Count is a number of event sources, or the kernel's reason it could not be
// counted: a refusal is evidence, never a zero.
type Count struct {
	N int `json:"n"`
	// Source names what was read: a path or "kernel BTF", and when it was
	// read if not by the run itself ("… (read by /init earlier
	// in this boot, before the VM snapshot this run resumes)").
	Source string `json:"source"`
	// Error is the error reading Source; N is meaningless when it is set.
	Error string `json:"error,omitempty"`
}

// String is the count, or the error in its place.
func (c Count) String() string {
	if c.Error != "" {
		return "? (" + c.Error + ")"
	}
	return fmt.Sprint(c.N)
}

// Kinds of watched points. Tracepoints and functions are looked up inside
// the target; fields and kfuncs in the kernel's BTF, on the host.
const (
	PointTracepoint = "tracepoint"
	PointFunction   = "function"
	// PointField is a member of a kernel struct or union, named by a dotted
	// path ("task_struct.__state", "sock.__sk_common.skc_daddr"): what a
	// CO-RE relocation resolves, and what drifts between kernels.
	PointField = "field"
	// PointKfunc is a kernel function a BPF program may call, looked up
	// by name among the kernel's BTF functions.
	PointKfunc = "kfunc"
)

// How traceable a watched function is: fentry needs its BTF entry, a kprobe
// its line in available_filter_functions.
const (
	// TraceTraceable: in kernel BTF and in available_filter_functions.
	TraceTraceable = "traceable"
	// TraceBTFOnly: in kernel BTF, but ftrace cannot attach to it.
	TraceBTFOnly = "btf-only"
	// TraceKprobeOnly: kprobe-able, with no BTF entry (no fentry).
	TraceKprobeOnly = "kprobe-only"
	// TraceAbsent: in neither, nor in /proc/kallsyms.
	TraceAbsent = "absent-or-inlined"
	// TraceKallsymsOnly: in neither, but the kernel has the symbol.
	TraceKallsymsOnly = "in kallsyms only (notrace or partly inlined)"
	// TraceUnknown starts the category when a source could not be read:
	// "unknown: available_filter_functions: ...". It never guesses.
	TraceUnknown = "unknown"
)

// WatchedPoint is one point of the watch list on one kernel.
type WatchedPoint struct {
	// Kind is PointTracepoint or PointFunction.
	Kind string `json:"kind"`
	// Name is "system/event" for a tracepoint, the symbol for a function.
	Name    string `json:"name"`
	Present bool   `json:"present"`
	// Error says why the point could not be read, when it could not.
	Error string `json:"error,omitempty"`
	// Fields is a tracepoint's format, common_* fields included, as tracefs
	// gives it: what a tracepoint program reads at each offset of its context.
	Fields []TracepointField `json:"fields,omitempty"`
	// Prototype is a function's C prototype from kernel BTF.
	Prototype string `json:"prototype,omitempty"`
	// Kprobe is "yes" or "no" for a function when available_filter_functions
	// was readable, else "" (unknown).
	Kprobe string `json:"kprobe,omitempty"`
	// Kallsyms is "yes" or "no" for a function not in
	// available_filter_functions: whether /proc/kallsyms has the symbol,
	// which tells a notrace function from an inlined or removed one. ""
	// when it was not looked up (the function is kprobe-able, or
	// available_filter_functions unreadable) or could not be read
	// (ProbePoints.Kallsyms says why). The target records it; the
	// runner, which reads kernel BTF, decides Traceability from it.
	Kallsyms string `json:"kallsyms,omitempty"`
	// Traceability is a function's Trace* category.
	Traceability string `json:"traceability,omitempty"`
	// DeclTags are a kfunc's BTF decl tags ("bpf_kfunc", "bpf_fastcall"),
	// which kernels built with pahole 1.26 or later attach to kfuncs.
	DeclTags []string `json:"decl_tags,omitempty"`
}

// TracepointField is one field line of a tracepoint's format file, or the
// layout of a watched struct field in kernel BTF.
type TracepointField struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Offset is in bytes from the start of the record (or struct).
	Offset int  `json:"offset"`
	Size   int  `json:"size"`
	Signed bool `json:"signed"`
	// BitOffset is a struct field's offset in bits from the start of its
	// outermost struct (Offset*8 plus a bitfield's bits into that byte);
	// BitfieldSize its width when it is a bitfield. Tracepoint fields
	// have neither.
	BitOffset    int `json:"bit_offset,omitempty"`
	BitfieldSize int `json:"bitfield_size,omitempty"`
}

// ProbeLists are the full, sorted name lists behind the counts.
type ProbeLists struct {
	Tracepoints      []string `json:"tracepoints"`
	KprobeFunctions  []string `json:"kprobe_functions"`
	BTFFunctions     []string `json:"btf_functions"`
	PerfEventSources []string `json:"perf_event_sources"`
}

// PackLists stores l in pp.ListsGzip.
//
// gzip's default level, not BestSpeed: in a 7.2 amd64 guest under TCG
// (lists without BTF functions, 2026-12-02, four runs each) BestSpeed
// packed in ~330 ms instead of ~490 ms but wrote 309 KB instead of 255 KB,
// and the record's longer way through the emulated serial port cost
// ~350 ms more: the cell took 3.37 s on average against 3.03 s.
func (pp *ProbePoints) PackLists(l *ProbeLists) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(l); err != nil {
		return fmt.Errorf("pack probe point lists: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("pack probe point lists: %w", err)
	}
	pp.ListsGzip = buf.Bytes()
	return nil
}

// UnpackLists decodes pp.ListsGzip; nil when the record carried no lists.
func (pp *ProbePoints) UnpackLists() (*ProbeLists, error) {
	if len(pp.ListsGzip) == 0 {
		return nil, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(pp.ListsGzip))
	if err != nil {
		return nil, fmt.Errorf("unpack probe point lists: %w", err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("unpack probe point lists: %w", err)
	}
	var l ProbeLists
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("unpack probe point lists: %w", err)
	}
	return &l, nil
}
