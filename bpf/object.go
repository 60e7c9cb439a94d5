package bpf

import (
	"slices"

	"github.com/cilium/ebpf"
)

// Object is one C file of this package as bpf2go compiled and embedded it.
type Object struct {
	// source is the C file, "counters.c".
	source string
	load   func() (*ebpf.CollectionSpec, error)
}

// Source is the object's C file, for evidence.
func (o *Object) Source() string { return o.source }

// Spec parses the embedded object. Each call returns a new spec, which the
// caller may change before loading it.
func (o *Object) Spec() (*ebpf.CollectionSpec, error) { return o.load() }

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
