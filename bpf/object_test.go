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
