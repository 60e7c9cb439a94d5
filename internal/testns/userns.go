package testns

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// UserNS re-executes the test binary, env added, in a new user and mount
// namespace, with one end of a unix socket as its fd 3, and runs serve on
// the other end meanwhile: the privileged side of a setup that a process
// in a user namespace cannot do alone. The copy's TestMain must see env
// and act as the side inside. Root maps to root, since the test binary
// lies in the go command's private directory, which no other uid may
// enter; the namespace still holds capabilities only over itself.
//
// It returns what the copy wrote on stdout, and fails t if serve or the
// copy failed. The caller skips without root.
func UserNS(t *testing.T, env string, serve func(conn int) error) string {
	t.Helper()
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(pair[0])
	inside := os.NewFile(uintptr(pair[1]), "socket of the copy in the user namespace")
	defer inside.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env)
	cmd.ExtraFiles = []*os.File{inside}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inside.Close()
	if err := serve(pair[0]); err != nil {
		t.Errorf("the side outside the user namespace: %v", err)
	}
	// A copy waiting for serve gives up once this end is closed.
	syscall.Close(pair[0])
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the copy in the user namespace: %v: %s", err, stderr.String())
	}
	return stdout.String()
}
