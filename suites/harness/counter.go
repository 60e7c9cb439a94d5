package harness

import (
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/bpf"
)

// Counter is one program of bpf/counters.c, loaded alone with its own hits
// map. It counts only events of this process, so a count above zero proves
// that the spec's own trigger reached the program.
type Counter struct {
	Prog *ebpf.Program
	hits *ebpf.Map
}

// LoadCounter loads the counter program called name, counting only events
// of this process. Loading one program per cell keeps a type the kernel
// refuses from taking the others down; a refusal ends the spec with the
// kernel's verdict.
func (c *Cell) LoadCounter(name string) *Counter {
	return c.loadCounter(name, uint32(os.Getpid()))
}

// LoadCounterAnyProcess is LoadCounter without the process filter, for
// events that happen in a child, such as a uprobe in a private copy of a
// target binary that only the spec runs.
func (c *Cell) LoadCounterAnyProcess(name string) *Counter {
	return c.loadCounter(name, 0)
}

func (c *Cell) loadCounter(name string, tgid uint32) *Counter {
	spec, err := bpf.LoadCounters()
	c.Check("parse counters object", err)
	prog, ok := spec.Programs[name]
	if !ok {
		panic("harness: bpf/counters.c has no program " + name)
	}
	c.Check("set target_tgid", spec.Variables["target_tgid"].Set(tgid))
	spec.Programs = map[string]*ebpf.ProgramSpec{name: prog}

	coll, err := ebpf.NewCollection(spec)
	c.Check("load "+prog.Type.String()+" program "+name, err)
	c.Defer(func() { coll.Close() })
	return &Counter{Prog: coll.Programs[name], hits: coll.Maps["hits"]}
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
