package harness

import (
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/bpf"
)

// Counter is a loaded program with its own hits map. It counts only events
// of this process (or of a private target only the spec runs), so a count
// above zero proves that the spec's own trigger reached the program.
type Counter struct {
	Prog *ebpf.Program
	hits *ebpf.Map
}

// LoadCounter loads the counter program called name, counting only events
// of this process. Loading one program per cell keeps a type the kernel
// refuses from taking the others down; a refusal ends the spec with the
// kernel's verdict.
func (c *Cell) LoadCounter(name string) *Counter {
	return c.loadObjects("counters", bpf.LoadCounters, loadOptions{}, name).Counter
}

// LoadCounterAnyProcess is LoadCounter without the process filter, for
// events that happen in a child, such as a uprobe in a private copy of a
// target binary that only the spec runs.
func (c *Cell) LoadCounterAnyProcess(name string) *Counter {
	return c.loadObjects("counters", bpf.LoadCounters, loadOptions{anyProcess: true}, name).Counter
}

// loadOptions set an object's load-time variables and the evidence of a
// refused load.
type loadOptions struct {
	// drop makes packet programs drop what they count (bpf/net.c).
	drop bool
	// anyProcess leaves target_tgid at 0: count every process's events.
	anyProcess bool
	// note is added to the evidence of a refused load.
	note string
}

// Objects are programs of one eBPF object loaded together with the maps
// they use; Prog (through Counter) is the first one named.
type Objects struct {
	*Counter
	coll *ebpf.Collection
}

// loadObjects loads only the named programs of an object and the maps they
// reference, so that a program or map type the kernel lacks fails only the
// specs that need it. A target_tgid variable is set to the suite's PID
// unless opts.anyProcess; a refusal ends the spec with the kernel's verdict.
func (c *Cell) loadObjects(object string, load func() (*ebpf.CollectionSpec, error), opts loadOptions, names ...string) *Objects {
	spec, err := load()
	c.Check("parse "+object+" object", err)
	progs := map[string]*ebpf.ProgramSpec{}
	used := map[string]bool{}
	for _, name := range names {
		p, ok := spec.Programs[name]
		if !ok {
			panic("harness: bpf/" + object + ".c has no program " + name)
		}
		progs[name] = p
		for _, ins := range p.Instructions {
			used[ins.Reference()] = true
		}
	}
	for name, m := range spec.Maps {
		// struct_ops maps refer to programs, not the other way round.
		if !used[name] && !strings.HasPrefix(name, ".") && m.Type != ebpf.StructOpsMap {
			delete(spec.Maps, name)
		}
	}
	spec.Programs = progs
	if v, ok := spec.Variables["drop"]; ok && opts.drop {
		c.Check("set drop", v.Set(uint32(1)))
	}
	if v, ok := spec.Variables["target_tgid"]; ok && !opts.anyProcess {
		c.Check("set target_tgid", v.Set(uint32(os.Getpid())))
	}
	coll, err := ebpf.NewCollection(spec)
	c.Check("load "+progs[names[0]].Type.String()+" program "+strings.Join(names, ", ")+opts.note, err)
	c.Defer(func() { coll.Close() })
	return &Objects{Counter: &Counter{Prog: coll.Programs[names[0]], hits: coll.Maps["hits"]}, coll: coll}
}

// Events reads how many events the program has counted so far.
func (k *Counter) Events() uint64 {
	var n uint64
	if err := k.hits.Lookup(uint32(0), &n); err != nil {
		return 0
	}
	return n
}

// Attach keeps l open until the spec ends; an error ends the spec with the
// kernel's verdict.
func (c *Cell) Attach(l link.Link, err error) link.Link {
	c.Check("attach", err)
	c.Defer(func() { l.Close() })
	return l
}

// ExpectFired ends the spec by the counter: supported when the program saw
// the events that what (the trigger, in words) caused, failed when it saw none.
func (c *Cell) ExpectFired(k *Counter, what string) {
	c.Fired(k.Events(), what)
}
