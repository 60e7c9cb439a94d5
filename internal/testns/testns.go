// Package testns runs a test's body in a mount namespace of its own, so
// tests of code that mounts and unmounts the kernel filesystems exercise the
// real syscalls without touching the machine's mounts.
package testns

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

const childEnv = "BPFMATRIX_TESTNS_CHILD"

// PrivateMounts returns true in the copy of the test that runs in a private
// mount namespace, where the caller goes on with the test's body. In the
// original process it re-executes the test binary for this one test in a
// fresh mount namespace (which Go makes recursively private before exec),
// fails t if that copy fails, and returns false: the caller returns at once.
// It needs root, and skips t saying so otherwise.
func PrivateMounts(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts and unmounts kernel filesystems in a private mount namespace")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("%s in a private mount namespace: %v\n%s", t.Name(), err, out)
	}
	t.Logf("%s in a private mount namespace:\n%s", t.Name(), out)
	return false
}
