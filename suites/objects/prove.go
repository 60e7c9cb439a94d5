package objects

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/bpf"
	"github.com/bpfmatrix/bpfmatrix/objects"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

// prove takes program e.Program of spec as far as the cell asks: load,
// attach, fired. The cell's object record says how far it got whatever
// ends the spec.
func prove(c *harness.Cell, e objects.Entry, spec *ebpf.CollectionSpec) {
	c.Helper()
	ps := spec.Programs[e.Program].Copy()
	h := hookOf(ps, e)
	o := c.Object()
	o.File, o.Program, o.Section, o.Type = e.File, e.Program, ps.SectionName, ps.Type.String()
	if at := attachType(ps); at != ebpf.AttachNone || ps.Type == ebpf.CGroupSKB {
		o.AttachType = at.String()
	}
	o.Target, o.Asked = h.target, askedStage(e)
	o.Claimed = objects.Claims(e.Kernels, c.Kernel.Version)
	if h.needs != "" && h.early {
		o.Needs = h.needs
		c.SkippedAt(reports.StageLoad, "%s %s needs %s to load", ps.Type, e.Program, h.needs)
	}
	if e.Attach != "" && (ps.Type == ebpf.Tracing || ps.Type == ebpf.LSM) {
		ps.AttachTo = e.Attach
	}

	maps := createMaps(c, spec, o)
	prog := load(c, spec, ps, maps, o)
	o.Reached = reports.ObjectLoaded
	if o.Asked == reports.ObjectLoaded {
		c.Supported("loaded: %s", figures(o))
	}
	if h.needs != "" {
		o.Needs = h.needs
		c.SkippedAt(reports.StageAttach, "loaded (%s), but attaching needs %s", figures(o), h.needs)
	}
	fire := h.attach(c, prog)
	o.Reached = reports.ObjectAttached
	if o.Asked == reports.ObjectAttached {
		c.Supported("loaded (%s) and attached to %s", figures(o), h.target)
	}
	if fire == nil && e.Trigger == "" {
		o.Needs = "a trigger that reaches " + h.target + ": give trigger in the manifest"
		c.SkippedAt(reports.StageTrigger, "loaded (%s) and attached to %s, but no built-in trigger reaches it: give trigger in the manifest", figures(o), h.target)
	}

	enableStats(c)
	before := runStats(c, prog)
	var t harness.Trigger
	switch {
	case e.Trigger == "":
		t = fire()
	case h.netns && fire != nil:
		// The built-in packets reach the spec's own namespaces, which the
		// user's command cannot see: both run.
		t = fire()
		t.What += ", then " + userTrigger(c, e.Trigger).What
	default:
		t = userTrigger(c, e.Trigger)
	}
	// Runs that land after the trigger returned (a packet's softirq,
	// deferred to ksoftirqd in a busy guest) count too: one read at once
	// saw 2 of an XDP program's 10 runs in a 5.10 guest.
	harness.AwaitEvents(runsSince{prog, before.RunCount}, t.Events)
	after := runStats(c, prog)
	o.Trigger = t.What
	o.RunCount, o.RunTimeNS = after.RunCount-before.RunCount, uint64((after.Runtime - before.Runtime).Nanoseconds())
	if t.Events > 0 && o.RunCount >= t.Events {
		o.Reached = reports.ObjectFired
	}
	if o.RunCount == 0 && ps.Type == ebpf.LSM && c.Kernel.LSMs != nil && !c.Kernel.HasLSM("bpf") {
		// As the catalog's attach/lsm: the hook is there, the BPF LSM is
		// not active, so it never runs.
		c.Unsupported(reports.StageObserve, "", "loaded and attached, but ran 0 times after %s: \"bpf\" is not in the active LSM list (%s)", t.What, strings.Join(c.Kernel.LSMs, ","))
	}
	c.ExpectFired(harness.Count(o.RunCount), t)
}

// createMaps creates every map of the object, as the object declares it
// (but ownMaps), before any program: a map type or flag the kernel lacks
// fails the create stage, naming the map.
func createMaps(c *harness.Cell, spec *ebpf.CollectionSpec, o *reports.Object) map[string]*ebpf.Map {
	c.Helper()
	only, _ := bpf.Only(spec) // no program named, none missing
	ownMaps(only)
	coll, err := ebpf.NewCollectionWithOptions(only, ebpf.CollectionOptions{Cache: harness.KernelBTF})
	c.Create("create the object's maps", err)
	c.Defer(coll.Close)
	for _, name := range slices.Sorted(maps.Keys(coll.Maps)) {
		m := coll.Maps[name]
		o.Maps = append(o.Maps, reports.ObjectMap{Name: name, Type: m.Type().String(), Flags: m.Flags(), MaxEntries: m.MaxEntries()})
	}
	return coll.Maps
}

// ownMaps makes spec's maps a cell's own: nothing pinned (libbpf's
// LIBBPF_PIN_BY_NAME would share them with every other cell), tail-call
// slots empty (the programs they name are cells of their own), and no
// struct_ops map (it registers programs, which only their loader can do).
func ownMaps(spec *ebpf.CollectionSpec) {
	for name, m := range spec.Maps {
		m.Pinning = ebpf.PinNone
		switch m.Type {
		case ebpf.StructOpsMap:
			delete(spec.Maps, name)
		case ebpf.ProgramArray:
			m.Contents = nil
		}
	}
}

// load loads ps alone with the maps createMaps made, asking the verifier
// for its statistics; a refusal is loaded again with the full log, whose
// tail the cell keeps.
func load(c *harness.Cell, spec *ebpf.CollectionSpec, ps *ebpf.ProgramSpec, maps map[string]*ebpf.Map, o *reports.Object) *ebpf.Program {
	c.Helper()
	one, _ := bpf.Only(spec) // ps is the caller's: no program named
	ownMaps(one)
	one.Programs[ps.Name] = ps
	replace := map[string]*ebpf.Map{}
	for name := range one.Maps {
		if m, ok := maps[name]; ok {
			replace[name] = m
		} else {
			delete(one.Maps, name)
		}
	}
	opts := ebpf.CollectionOptions{MapReplacements: replace, Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats}, Cache: harness.KernelBTF}
	coll, err := ebpf.NewCollectionWithOptions(one, opts)
	var verr *ebpf.VerifierError
	if err != nil && errors.As(err, &verr) {
		opts.Programs.LogLevel |= ebpf.LogLevelBranch
		if retry, again := ebpf.NewCollectionWithOptions(one, opts); again != nil {
			err = again
		} else {
			// Accepted with the full log, refused without: the first
			// answer stands, and the second program goes.
			retry.Close()
		}
	}
	if errors.Is(err, ebpf.ErrNotSupported) {
		if missing := btfTarget(ps); missing != nil {
			c.Object().Needs = fmt.Sprintf("a kernel function %s in BTF (if the section's name is a placeholder, give attach in the manifest)", ps.AttachTo)
			c.Unsupported(reports.StageLoad, catalog.ErrNotSupported, "load %s program %s: %v, so cilium/ebpf did not ask the kernel (%v)", ps.Type, ps.Name, missing, err)
		}
	}
	c.Loaded(fmt.Sprintf("load %s program %s", ps.Type, ps.Name), err)
	c.Defer(coll.Close)
	prog := coll.Programs[ps.Name]
	o.Verifier = verifierStats(prog.VerifierLog)
	if info, err := prog.Info(); err == nil {
		if n, ok := info.VerifiedInstructions(); ok {
			if o.Verifier == nil {
				o.Verifier = &reports.Verifier{}
			}
			o.Verifier.VerifiedInsns = n
		}
		o.XlatedBytes, _ = info.TranslatedSize()
		o.JitedBytes, _ = info.JitedSize()
	}
	return prog
}

// enableStats turns bpf_stats on until the spec ends, unless they are on
// already: a runner that starts the suite without the privilege to turn
// them on (in a container, a user namespace) holds them on for it.
func enableStats(c *harness.Cell) {
	c.Helper()
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err == nil {
		c.Defer(func() { stats.Close() })
		return
	}
	if statsOn() {
		return
	}
	c.Setup("enable bpf_stats (BPF_ENABLE_STATS)", err)
}

// statsOn reports whether bpf_stats are on, by their effect: a socket
// filter run once by BPF_PROG_TEST_RUN counts the run only then. The
// sysctl cannot tell: it shows what was written to it, not the stats a
// BPF_ENABLE_STATS descriptor holds on.
var statsOn = sync.OnceValue(func() bool {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.SocketFilter,
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
	if err != nil {
		return false
	}
	defer prog.Close()
	if _, err := prog.Run(&ebpf.RunOptions{Data: make([]byte, 64)}); err != nil {
		return false
	}
	s, err := prog.Stats()
	return err == nil && s.RunCount > 0
})

// btfTarget says which BTF type a refused trampoline, LSM or tp_btf
// program's target would be, when the kernel's BTF lacks it: cilium/ebpf
// reports a missing target (after searching the modules' BTF too) as
// ErrNotSupported, which would read as a kernel without the program type.
func btfTarget(ps *ebpf.ProgramSpec) error {
	if !trampoline(ps) && ps.AttachType != ebpf.AttachTraceRawTp || ps.Type == ebpf.Extension {
		return nil
	}
	name := ps.AttachTo
	if ps.Type == ebpf.LSM {
		name = "bpf_lsm_" + name
	} else if ps.AttachType == ebpf.AttachTraceRawTp {
		name = "btf_trace_" + name
	}
	kernel, err := harness.KernelBTF.Kernel()
	if err != nil {
		return nil
	}
	if _, err := kernel.AnyTypeByName(name); !errors.Is(err, btf.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("the kernel's BTF has no %s, which section %q attaches to", name, ps.SectionName)
}

// runsSince counts prog's runs since it had run before times, read anew
// on every call (harness.Counter); 0 while the stats cannot be read,
// which runStats then reports.
type runsSince struct {
	prog   *ebpf.Program
	before uint64
}

func (r runsSince) Events() uint64 {
	s, err := r.prog.Stats()
	if err != nil || s.RunCount < r.before {
		return 0
	}
	return s.RunCount - r.before
}

// runStats reads the program's run count and run time.
func runStats(c *harness.Cell, prog *ebpf.Program) *ebpf.ProgramStats {
	c.Helper()
	s, err := prog.Stats()
	c.Observed("read the program's run count (bpf_stats)", err)
	return s
}

// The verifier's statistics lines (kernel/bpf/verifier.c, print_verification_stats).
var (
	processedRE = regexp.MustCompile(`processed (\d+) insns \(limit \d+\) max_states_per_insn (\d+) total_states (\d+) peak_states (\d+)`)
	timeRE      = regexp.MustCompile(`verification time (\d+) usec`)
)

// verifierStats reads the statistics lines of a verifier log; nil when it
// has none.
func verifierStats(log string) *reports.Verifier {
	m := processedRE.FindStringSubmatch(log)
	if m == nil {
		return nil
	}
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	v := &reports.Verifier{InsnsProcessed: n(m[1]), MaxStatesPerInsn: n(m[2]), TotalStates: n(m[3]), PeakStates: n(m[4])}
	if t := timeRE.FindStringSubmatch(log); t != nil {
		v.TimeUS = n(t[1])
	}
	return v
}

// figures says a load's figures in words, for the evidence.
func figures(o *reports.Object) string {
	var parts []string
	if v := o.Verifier; v != nil {
		if v.InsnsProcessed > 0 {
			parts = append(parts, fmt.Sprintf("verifier processed %d insns (%.1f%% of the 1M limit), %d peak states", v.InsnsProcessed, 100*float64(v.InsnsProcessed)/reports.InsnLimit, v.PeakStates))
		}
		if v.VerifiedInsns > 0 {
			parts = append(parts, fmt.Sprintf("verified_insns %d", v.VerifiedInsns))
		}
	}
	if o.XlatedBytes > 0 {
		parts = append(parts, fmt.Sprintf("xlated %d B", o.XlatedBytes))
	}
	if o.JitedBytes > 0 {
		parts = append(parts, fmt.Sprintf("jited %d B", o.JitedBytes))
	}
	parts = append(parts, fmt.Sprintf("%d maps", len(o.Maps)))
	return strings.Join(parts, ", ")
}
