// Package testns runs a test's body in a mount namespace of its own, so
// tests of code that mounts and unmounts the kernel filesystems exercise the
// real syscalls without touching the machine's mounts, and runs a program
// under a seccomp filter that refuses one syscall, for tests of how it
// copes with a refusal injected from outside.
package testns

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
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

const seccompEnv = "BPFMATRIX_TESTNS_SECCOMP_EXEC"

// DenyingSyscall returns a command that runs name with args under a seccomp
// filter refusing syscall nr with EPERM, as a container's profile would: a
// fault injected from outside the program, for tests of how it copes. The
// filter is installed by the test binary itself, re-executed for it
// (DenyingSyscall's caller must call ExecDenying first thing in TestMain or
// the test), and it follows the program across exec.
func DenyingSyscall(nr uintptr, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{name}, args...)...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", seccompEnv, nr))
	return cmd
}

// ExecDenying is the re-executed side of DenyingSyscall: when the test binary
// was started for it, it installs the filter on every thread and execs the
// program in its place, never returning. Otherwise it returns at once.
func ExecDenying() {
	nr, err := strconv.ParseUint(os.Getenv(seccompEnv), 10, 32)
	if err != nil {
		return
	}
	const (
		retAllow = 0x7fff0000 // SECCOMP_RET_ALLOW
		retErrno = 0x00050000 // SECCOMP_RET_ERRNO
	)
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: uint32(nr), Jt: 0, Jf: 1},
		{Code: unix.BPF_RET | unix.BPF_K, K: retErrno | uint32(unix.EPERM)},
		{Code: unix.BPF_RET | unix.BPF_K, K: retAllow},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "testns: no_new_privs:", err)
		os.Exit(2)
	}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); errno != 0 {
		fmt.Fprintln(os.Stderr, "testns: seccomp:", errno)
		os.Exit(2)
	}
	os.Unsetenv(seccompEnv)
	err = syscall.Exec(os.Args[1], os.Args[1:], os.Environ())
	fmt.Fprintln(os.Stderr, "testns: exec", os.Args[1], err)
	os.Exit(2)
}
