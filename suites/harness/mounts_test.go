package harness

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/internal/testns"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog/detect"
)

// TestMountKernelFSUndoNeedsRoot proves on the real kernel that the suite
// mounts what is missing and that undo leaves the mounts as they were, in a
// private mount namespace, so the machine's own mounts are never touched.
func TestMountKernelFSUndoNeedsRoot(t *testing.T) {
	if !testns.PrivateMounts(t) {
		return
	}
	// Start from a bare machine: none of the three mounted.
	for _, m := range contract.KernelFS {
		for isMounted(m.Dir, m.Magic) {
			if err := unix.Unmount(m.Dir, unix.MNT_DETACH); err != nil {
				t.Fatalf("unmount %s in the private namespace: %v", m.Dir, err)
			}
		}
	}
	undo, errs := MountKernelFS()
	if len(errs) > 0 {
		t.Fatalf("MountKernelFS: %v", errs)
	}
	for _, m := range contract.KernelFS {
		if !isMounted(m.Dir, m.Magic) {
			t.Errorf("%s is not mounted on %s after MountKernelFS", m.FSType, m.Dir)
		}
	}
	if k, err := detect.Kernel(); err != nil || k.Tracefs != "/sys/kernel/tracing" {
		t.Errorf("detect.Kernel after MountKernelFS: tracefs %q, err %v", k.Tracefs, err)
	}
	undo()
	for _, m := range contract.KernelFS {
		if isMounted(m.Dir, m.Magic) {
			t.Errorf("%s is still mounted on %s after undo", m.FSType, m.Dir)
		}
	}

	// A filesystem that was there before is left alone by both.
	if err := unix.Mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil {
		t.Fatal(err)
	}
	undo, _ = MountKernelFS()
	undo()
	if !isMounted("/sys/kernel/tracing", unix.TRACEFS_MAGIC) {
		t.Error("undo unmounted a tracefs the suite had not mounted")
	}
}

func TestFSFactsChanged(t *testing.T) {
	before := &catalog.Kernel{Tracefs: "/sys/kernel/tracing", FunctionTracer: "permission denied", LSMs: []string{"lockdown", "bpf"}, Lockdown: "integrity"}
	for _, tc := range []struct {
		name  string
		after catalog.Kernel
		want  string
	}{
		{"unchanged", *before, ""},
		{"tracefs gone", catalog.Kernel{FunctionTracer: "no tracefs", LSMs: before.LSMs, Lockdown: "integrity"},
			`tracefs "/sys/kernel/tracing" then ""; function tracer "permission denied" then "no tracefs"`},
		{"securityfs gone", catalog.Kernel{Tracefs: before.Tracefs, FunctionTracer: before.FunctionTracer},
			`LSMs "lockdown,bpf" then ""; lockdown "integrity" then ""`},
	} {
		if got := fsFactsChanged(before, &tc.after); got != tc.want {
			t.Errorf("%s: fsFactsChanged = %q, want %q", tc.name, got, tc.want)
		}
	}
}
