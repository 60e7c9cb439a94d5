package harness

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
)

// mountsChildEnv marks the re-executed test binary that runs
// TestMountKernelFSUndoNeedsRoot's body inside a mount namespace of its own.
const mountsChildEnv = "BPFMATRIX_TEST_MOUNTS_CHILD"

// TestMountKernelFSUndoNeedsRoot proves on the real kernel that the suite
// mounts what is missing and that undo leaves the mounts as they were. It
// runs in a private mount namespace (the test binary re-executes itself
// there), so the machine's own mounts are never touched.
func TestMountKernelFSUndoNeedsRoot(t *testing.T) {
	if os.Getenv(mountsChildEnv) == "" {
		if os.Geteuid() != 0 {
			t.Skip("needs root: mounts tracefs, securityfs and bpffs in a private mount namespace")
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestMountKernelFSUndoNeedsRoot$", "-test.v")
		cmd.Env = append(os.Environ(), mountsChildEnv+"=1")
		// Go makes / recursively private in the child before exec.
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("child in a private mount namespace: %v\n%s", err, out)
		}
		return
	}

	// Start from a bare machine: none of the three mounted.
	for _, m := range contract.KernelFS {
		for isMounted(m.Dir, m.FSType) {
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
		if !isMounted(m.Dir, m.FSType) {
			t.Errorf("%s is not mounted on %s after MountKernelFS", m.FSType, m.Dir)
		}
	}
	if k, err := catalog.DetectKernel(); err != nil || k.Tracefs != "/sys/kernel/tracing" {
		t.Errorf("DetectKernel after MountKernelFS: tracefs %q, err %v", k.Tracefs, err)
	}
	undo()
	for _, m := range contract.KernelFS {
		if isMounted(m.Dir, m.FSType) {
			t.Errorf("%s is still mounted on %s after undo", m.FSType, m.Dir)
		}
	}

	// A filesystem that was there before is left alone by both.
	if err := unix.Mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil {
		t.Fatal(err)
	}
	undo, _ = MountKernelFS()
	undo()
	if !isMounted("/sys/kernel/tracing", "tracefs") {
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
