package harness

import (
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Triggers cause the events that attached programs must observe. Each makes
// a fixed number of calls so that evidence counts are comparable across
// kernels.

// TriggerCalls is how many events each trigger causes.
const TriggerCalls = 10

// Getpgid calls getpgid(2) TriggerCalls times: a syscall with a stable
// kernel entry point (__x64_sys_getpgid) that has BTF on every kernel
// (__x64_sys_getpid has none, see docs/facts.md#guest-getpid-btf).
func Getpgid() string {
	for i := 0; i < TriggerCalls; i++ {
		_, _ = unix.Getpgid(0)
	}
	return "10 getpgid(2) calls"
}

// OpenFile opens and closes /proc/self/stat TriggerCalls times, reaching
// the file_open LSM hook and security_file_open.
func OpenFile() string {
	for i := 0; i < TriggerCalls; i++ {
		if f, err := os.Open("/proc/self/stat"); err == nil {
			f.Close()
		}
	}
	return "10 open(2) calls"
}

// Fork forks TriggerCalls children. Each child's exec of a path that does
// not exist fails at once, so the trigger needs no binary in the target and
// still passes through the kernel's fork path every time.
func Fork() string {
	for i := 0; i < TriggerCalls; i++ {
		_, _ = syscall.ForkExec("/nonexistent/bpfmatrix-fork-trigger", nil, nil)
	}
	return "10 forks"
}

// Drain reads an iterator to its end; reading is what runs its program.
func Drain(it interface{ Open() (io.ReadCloser, error) }) error {
	r, err := it.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(io.Discard, r)
	return err
}
