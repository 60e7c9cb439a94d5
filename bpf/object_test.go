package bpf

import (
	"testing"

	"github.com/bpfmatrix/bpfmatrix/internal/arch"
)

// TestSpecNamesTheArchsSyscallEntry checks that fentry and fexit on
// sys_getpgid target each arch's own entry point, and that no other
// program's target changes: tp_btf/sys_enter starts with "sys_" too.
func TestSpecNamesTheArchsSyscallEntry(t *testing.T) {
	want := map[Program]string{FentryCount: "getpgid", FexitCount: "getpgid"}
	for _, a := range arch.All {
		for _, o := range Objects() {
			spec, err := o.load()
			if err != nil {
				t.Fatal(err)
			}
			before := map[string]string{}
			for name, ps := range spec.Programs {
				before[name] = ps.AttachTo
			}
			forArch(spec, a)
			for name, ps := range spec.Programs {
				p := Program{o, name}
				got, wantTo := ps.AttachTo, before[name]
				if syscall, ok := want[p]; ok {
					wantTo = a.SyscallFunc(syscall)
				}
				if got != wantTo {
					t.Errorf("%s: %s targets %q, want %q", a.Name, name, got, wantTo)
				}
			}
		}
	}
	spec, err := FentryCount.Object().Spec()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := spec.Programs[FentryCount.Name()].AttachTo, arch.Running().SyscallFunc("getpgid"); got != want {
		t.Errorf("Spec: fentry_count targets %q, want the running arch's %q", got, want)
	}
}

func TestSpecIsACopyEachCall(t *testing.T) {
	for _, o := range objects {
		first, err := o.Spec()
		if err != nil {
			t.Fatal(err)
		}
		n := len(first.Programs)
		for name, p := range first.Programs {
			p.Instructions = p.Instructions[:0]
			delete(first.Programs, name)
		}
		again, err := o.Spec()
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Programs) != n {
			t.Fatalf("%s: a caller's change to its spec reached the next: %d programs, want %d", o.source, len(again.Programs), n)
		}
		for name, p := range again.Programs {
			if len(p.Instructions) == 0 {
				t.Errorf("%s: program %s lost its instructions to an earlier caller's change", o.source, name)
			}
		}
	}
}

// A spec of some programs has those alone, every map and variable, and is
// as much a copy as a whole one: a caller's changes reach no other.
func TestSpecOfSomeProgramsIsACopyOfThem(t *testing.T) {
	for _, o := range objects {
		whole, err := o.Spec()
		if err != nil {
			t.Fatal(err)
		}
		var name string
		for name = range whole.Programs {
			break
		}
		one, err := o.Spec(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(one.Programs) != 1 || one.Programs[name] == nil || len(one.Maps) != len(whole.Maps) || len(one.Variables) != len(whole.Variables) {
			t.Fatalf("%s: Spec(%s) has %d programs, %d of %d maps, %d of %d variables", o.source, name, len(one.Programs), len(one.Maps), len(whole.Maps), len(one.Variables), len(whole.Variables))
		}
		one.Programs[name].Instructions = one.Programs[name].Instructions[:0]
		for _, v := range one.Variables {
			clear(v.Value)
		}
		for m := range one.Maps {
			delete(one.Maps, m)
		}
		again, err := o.Spec(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Programs[name].Instructions) == 0 || len(again.Maps) != len(whole.Maps) {
			t.Errorf("%s: a change to Spec(%s) reached the next caller", o.source, name)
		}
		for vn, v := range again.Variables {
			if string(v.Value) != string(whole.Variables[vn].Value) {
				t.Errorf("%s: variable %s changed in another caller's spec", o.source, vn)
			}
		}
		if _, err := o.Spec(name, "bpfmatrix_no_such_program"); err == nil {
			t.Errorf("%s: Spec of a program it lacks did not fail", o.source)
		}
	}
}
