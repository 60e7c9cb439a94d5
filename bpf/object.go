package bpf

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/cilium/ebpf"

	"github.com/bpfmatrix/bpfmatrix/internal/arch"
)

// Object is one C file of this package as bpf2go compiled and embedded it.
type Object struct {
	// source is the C file, "counters.c".
	source string
	load   func() (*ebpf.CollectionSpec, error)

	// The object is parsed once and copied for each caller: a copy costs a
	// tenth of a parse (net.c on the host: 0.1 ms against 1.3 ms), and a
	// suite loads these objects in most of its ~250 specs, under TCG.
	once   sync.Once
	parsed *ebpf.CollectionSpec
	err    error
}

// Source is the object's C file, for evidence.
func (o *Object) Source() string { return o.source }

// Spec is the embedded object for the running architecture (see
// syscallEntry). Each call returns a new spec, which the caller may change
// before loading it: with programs named, those alone (Only), else all.
func (o *Object) Spec(programs ...string) (*ebpf.CollectionSpec, error) {
	o.once.Do(func() {
		o.parsed, o.err = o.load()
		if o.err == nil {
			forArch(o.parsed, arch.Running())
		}
	})
	if o.err != nil {
		return nil, o.err
	}
	if len(programs) == 0 {
		return o.parsed.Copy(), nil
	}
	return Only(o.parsed, programs...)
}

// Only copies spec with the named programs alone, and all its maps and
// variables, for a caller that loads a few of its programs. Its BTF is
// shared, not copied: loading only reads it. A whole copy
// (CollectionSpec.Copy) of kfuncs.c, 60-odd programs and their BTF, for
// each kfunc cell's one program was 0.2–0.3 s of every guest's suite under
// TCG, spent on copies thrown away at once.
func Only(spec *ebpf.CollectionSpec, programs ...string) (*ebpf.CollectionSpec, error) {
	only := &ebpf.CollectionSpec{
		Maps:      make(map[string]*ebpf.MapSpec, len(spec.Maps)),
		Programs:  make(map[string]*ebpf.ProgramSpec, len(programs)),
		Variables: make(map[string]*ebpf.VariableSpec, len(spec.Variables)),
		Types:     spec.Types,
		ByteOrder: spec.ByteOrder,
	}
	for _, name := range programs {
		ps, ok := spec.Programs[name]
		if !ok {
			return nil, fmt.Errorf("no program %s", name)
		}
		only.Programs[name] = ps.Copy()
	}
	for name, m := range spec.Maps {
		only.Maps[name] = m.Copy()
	}
	for name, v := range spec.Variables {
		only.Variables[name] = v.Copy()
	}
	return only, nil
}

// syscallEntry is how the C files name a syscall's kernel entry point in an
// fentry or fexit section, SEC("fentry/sys_getpgid"): the kernel function
// is arch-specific (__x64_sys_getpgid, __arm64_sys_getpgid), so one object
// serves every arch only if the loader names it, as libbpf does for its
// ksyscall sections.
const syscallEntry = "sys_"

// forArch names a's entry point as the target of each fentry and fexit
// program of spec that names a syscall by syscallEntry.
func forArch(spec *ebpf.CollectionSpec, a arch.Arch) {
	for _, ps := range spec.Programs {
		if ps.Type != ebpf.Tracing || (ps.AttachType != ebpf.AttachTraceFEntry && ps.AttachType != ebpf.AttachTraceFExit) {
			continue
		}
		if name, ok := strings.CutPrefix(ps.AttachTo, syscallEntry); ok {
			ps.AttachTo = a.SyscallFunc(name)
		}
	}
}

// Objects returns every object of this package.
func Objects() []*Object { return slices.Clone(objects) }

// Program is one program of an Object. The only values are the generated
// ones of programs.go, one per program.
type Program struct {
	object *Object
	name   string
}

// Object is the object that holds the program.
func (p Program) Object() *Object { return p.object }

// Name is the program's C function name, its key in the object's
// CollectionSpec.
func (p Program) Name() string { return p.name }

// Map names a map by its C name. Objects can each have a map of that name
// (every object has hits); programs.go has one value per name.
type Map struct{ name string }

// Name is the map's C name, its key in an object's CollectionSpec.
func (m Map) Name() string { return m.name }
