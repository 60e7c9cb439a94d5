package leaks

import (
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/bpf"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/netns"
)

// TestLeaksFindsAHeldLinkAsRoot holds a netns link of a suite program and
// expects find to name it, then closes it and expects nothing.
func TestLeaksFindsAHeldLinkAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: loads a program and creates a link")
	}
	name := bpf.FlowDissectorCount.Name()
	spec, err := bpf.FlowDissectorCount.Object().Spec()
	if err != nil {
		t.Fatal(err)
	}
	spec.Programs = map[string]*ebpf.ProgramSpec{name: spec.Programs[name]}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		t.Skipf("flow_dissector program does not load here: %v", err)
	}
	defer coll.Close()
	prog := coll.Programs[name]
	ns, err := netns.Unshare()
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	l, err := link.AttachNetNs(int(ns.Fd()), prog)
	if err != nil {
		t.Skipf("no netns links here: %v", err)
	}
	_, leaks, err := find()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(leaks, ";"), "flow_dissector_") {
		t.Errorf("find() = %q, want the held flow_dissector link", leaks)
	}
	l.Close()
	ns.Close()
	if _, leaks, _ := find(); len(leaks) != 0 {
		t.Errorf("after closing: find() = %q, want none", leaks)
	}
}
