package harness

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/bpf"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Objects are programs of one object of package bpf, loaded for one cell
// together with the maps they use. Every object counts the events its
// programs see in its hits map, so a count above zero proves that the
// spec's own trigger reached a program.
type Objects struct {
	// Prog is the first program loaded, the one Load was given.
	Prog *ebpf.Program
	coll *ebpf.Collection
}

// Counter counts the events a spec caused: Objects do, from their hits map.
type Counter interface{ Events() uint64 }

// LoadOption changes what Load loads and how.
type LoadOption func(*loadOptions)

type loadOptions struct {
	more []bpf.Program
	// drop makes packet programs drop what they count (bpf/net.c).
	drop bool
	// anyProcess leaves target_tgid at 0: count every process's events.
	anyProcess bool
	// note is added to the evidence of a refused load.
	note string
}

// With loads more programs of the same object, sharing its maps.
func With(more ...bpf.Program) LoadOption {
	return func(o *loadOptions) { o.more = append(o.more, more...) }
}

// AnyProcess counts every process's events rather than only the suite's:
// for events in a child, such as a uprobe in a private copy of a target
// binary that only the spec runs.
func AnyProcess() LoadOption { return func(o *loadOptions) { o.anyProcess = true } }

// Dropping makes the packet programs of bpf/net.c drop what they count,
// which proves that the kernel applies their verdict.
func Dropping() LoadOption { return func(o *loadOptions) { o.drop = true } }

// Note adds text, in parentheses, to the evidence of a refused load.
func Note(text string) LoadOption { return func(o *loadOptions) { o.note = " (" + text + ")" } }

// The load-time variables of the objects (bpf/counters.c, bpf/net.c).
const (
	targetTGIDVar = "target_tgid"
	dropVar       = "drop"
	// targetSyscallVar, where an object has it, is the syscall number of
	// getpgid(2) on this arch, for programs that see every syscall
	// (raw_tracepoint and tp_btf on sys_enter) and count only the spec's.
	targetSyscallVar = "target_syscall"
)

// KernelBTF is the running kernel's BTF, decoded once for the suite: every
// load that resolves CO-RE relocations, kfuncs or an attach target reads it
// here. Decoding vmlinux's types again for each load cost seconds a cell
// under emulation. Modules are loaded before the suite starts, so the
// modules it lists do not change while it runs.
var KernelBTF = btf.NewCache()

// NewProgram loads spec as ebpf.NewProgramWithOptions does, with the
// kernel BTF of KernelBTF: NewProgramWithOptions decodes the kernel's BTF
// anew for every program with a BTF target (an LSM hook, a struct_ops
// member, a traced function), which took 0.3–1.2 s a load under TCG
// (prog/lsm, prog/struct_ops, prog/tracing on the catalog's kernels,
// 2026-12-02), against tens of milliseconds on hardware.
func NewProgram(spec *ebpf.ProgramSpec, opts ebpf.ProgramOptions) (*ebpf.Program, error) {
	const key = "program"
	coll, err := ebpf.NewCollectionWithOptions(&ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{key: spec}},
		ebpf.CollectionOptions{Programs: opts, Cache: KernelBTF})
	if err != nil {
		// The collection's loader names the program by its key, which
		// says nothing here: the error is the load's. Only that prefix
		// goes; one naming a map keeps its words.
		if inner := errors.Unwrap(err); inner != nil && err.Error() == "program "+key+": "+inner.Error() {
			err = inner
		}
		return nil, err
	}
	defer coll.Close()
	return coll.DetachProgram(key), nil
}

// Load loads program p, and only the maps it references, so that a
// program or map type the kernel lacks fails only the specs that need it.
// Programs that filter by process (their object has target_tgid) count
// only the suite's events unless AnyProcess is given. A refusal ends the
// spec with the kernel's verdict.
func (c *Cell) Load(p bpf.Program, opts ...LoadOption) *Objects {
	c.Helper()
	spec, what, err := LoadSpec(p, opts...)
	if err != nil {
		c.broken(reports.StageLoad, "%v", err)
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Cache: KernelBTF})
	c.Loaded("load "+what, err)
	c.Defer(func() { coll.Close() })
	return &Objects{Prog: coll.Programs[p.Name()], coll: coll}
}

// LoadSpec is the collection Load loads for p: p and the programs of With,
// the maps they use, and the object's variables set (the suite's PID, the
// syscall to count, whether to drop). what names it for the evidence; an
// error is a broken object or option, never the kernel's answer.
func LoadSpec(p bpf.Program, opts ...LoadOption) (spec *ebpf.CollectionSpec, what string, err error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	object := p.Object()
	names := []string{p.Name()}
	for _, q := range o.more {
		if q.Object() != object {
			return nil, "", fmt.Errorf("program %s is not in bpf/%s", q.Name(), object.Source())
		}
		if q != p {
			names = append(names, q.Name())
		}
	}
	spec, err = object.Spec(names...)
	if err != nil {
		return nil, "", fmt.Errorf("bpf/%s: %w", object.Source(), err)
	}
	used := map[string]bool{}
	for _, ps := range spec.Programs {
		for _, ins := range ps.Instructions {
			used[ins.Reference()] = true
		}
	}
	for name, m := range spec.Maps {
		// struct_ops maps refer to programs, not the other way round.
		if !used[name] && !strings.HasPrefix(name, ".") && m.Type != ebpf.StructOpsMap {
			delete(spec.Maps, name)
		}
	}
	set := func(name string, value uint32) error {
		if err := spec.Variables[name].Set(value); err != nil {
			return fmt.Errorf("set %s of bpf/%s: %w", name, object.Source(), err)
		}
		return nil
	}
	if o.drop {
		if _, ok := spec.Variables[dropVar]; !ok {
			return nil, "", fmt.Errorf("bpf/%s has no %s variable to make %s drop", object.Source(), dropVar, p.Name())
		}
		if err := set(dropVar, 1); err != nil {
			return nil, "", err
		}
	}
	if _, ok := spec.Variables[targetTGIDVar]; ok && !o.anyProcess {
		if err := set(targetTGIDVar, uint32(os.Getpid())); err != nil {
			return nil, "", err
		}
	}
	if _, ok := spec.Variables[targetSyscallVar]; ok {
		if err := set(targetSyscallVar, uint32(unix.SYS_GETPGID)); err != nil {
			return nil, "", err
		}
	}
	return spec, spec.Programs[p.Name()].Type.String() + " program " + strings.Join(names, ", ") + o.note, nil
}

// Program returns another of the loaded programs (see With).
func (o *Objects) Program(p bpf.Program) *ebpf.Program { return o.coll.Programs[p.Name()] }

// Map returns one of the loaded maps.
func (o *Objects) Map(m bpf.Map) *ebpf.Map { return o.coll.Maps[m.Name()] }

// Put stores socket file descriptors at keys 0, 1, ... of a socket map
// (sockmap, reuseport array); programs see the sockets, not the numbers.
func (o *Objects) Put(m bpf.Map, fds ...int) error {
	for i, fd := range fds {
		if err := o.Map(m).Put(uint32(i), uint64(fd)); err != nil {
			return fmt.Errorf("%s[%d]: %w", m.Name(), i, err)
		}
	}
	return nil
}

// Events reads how many events the programs have counted so far.
func (o *Objects) Events() uint64 {
	var n uint64
	hits := o.Map(bpf.HitsMap)
	if hits == nil || hits.Lookup(uint32(0), &n) != nil {
		return 0
	}
	return n
}

// Attach keeps l open until the spec ends; an error ends the spec with the
// kernel's verdict.
func (c *Cell) Attach(l link.Link, err error) link.Link {
	c.Helper()
	c.Attached("attach", err)
	c.Defer(func() { l.Close() })
	return l
}

// ExpectFired ends the spec by the counter: supported when the program
// counted at least the events the trigger caused and the trigger had its
// effect, failed otherwise. Both counts are the cell's evidence, so a
// counter that counts what the spec did not cause (or misses what it did)
// shows.
//
// Some events land after the trigger returned: a packet sent from one
// namespace is handled in a softirq, which a busy kernel (an emulated one
// on a loaded machine) defers to ksoftirqd, so a count read at once could
// miss all of them. The count is read again until it reaches what the
// trigger caused, for up to lateEvents.
func (c *Cell) ExpectFired(k Counter, t Trigger) {
	c.Helper()
	n := AwaitEvents(k, t.Events)
	c.rec.Events, c.rec.Triggered = n, t.Events
	switch status, evidence := Counted(n, t); status {
	case reports.Error:
		c.broken(reports.StageTrigger, "%s", evidence)
	case reports.Failed:
		c.Failed("%s", evidence)
	default:
		c.Supported("%s", evidence)
	}
}

// lateEvents is how long ExpectFired waits for events still on their way:
// never once they all landed, so only a cell that would fail pays it.
const lateEvents = 2 * time.Second

// AwaitEvents reads k's count until it reaches want, for up to
// lateEvents, and returns the last count read: for a spec that reads its
// own count after the trigger, as ExpectFired does.
func AwaitEvents(k Counter, want uint64) uint64 { return awaitEvents(k, want, lateEvents) }

// awaitEvents reads k's count until it reaches want or wait has passed,
// and returns the last count read.
func awaitEvents(k Counter, want uint64, wait time.Duration) uint64 {
	n := k.Events()
	for deadline := time.Now().Add(wait); n < want && time.Now().Before(deadline); n = k.Events() {
		time.Sleep(5 * time.Millisecond)
	}
	return n
}

// Counted is the verdict of n counted events after trigger t: supported
// only when n reaches what t caused (so a trigger that is taken away, or a
// counter that misses the spec's events, fails), an error when t caused
// nothing to count.
func Counted(n uint64, t Trigger) (reports.Status, string) {
	switch {
	case t.Events == 0:
		return reports.Error, fmt.Sprintf("the spec caused no event to count (%s)", t.What)
	case n < t.Events:
		return reports.Failed, fmt.Sprintf("attached, but observed %d events after %s, which caused %d", n, t.What, t.Events)
	case t.Err != nil:
		return reports.Failed, fmt.Sprintf("attached and observed %d events after %s, but %v", n, t.What, t.Err)
	}
	return reports.Supported, fmt.Sprintf("attached and observed %d events after %s", n, t.What)
}
