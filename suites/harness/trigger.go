package harness

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/arch"
)

// Trigger is what a spec's action caused, the one shape every trigger
// returns: what happened in words, the least number of events it caused
// (a program attached where they happen counts at least as many), and,
// for an action whose effect only the attached program can bring about (a
// rewritten address, a dropped packet), why that effect did not happen.
type Trigger struct {
	// What says what the action did: "10 getpgid(2) calls".
	What string
	// Events is how many events the action caused at the least.
	Events uint64
	// Err is set when the action's expected effect did not happen.
	Err error
}

// TriggerCalls is how many events each repeated trigger causes, so that
// evidence counts are comparable across kernels.
const TriggerCalls = 10

// Repeat calls fn TriggerCalls times and says so: what is one call in words.
func Repeat(what string, fn func()) Trigger {
	for range TriggerCalls {
		fn()
	}
	return Trigger{What: fmt.Sprintf("%d %s", TriggerCalls, what), Events: TriggerCalls}
}

// Getpgid calls getpgid(2) TriggerCalls times: a syscall with a stable
// kernel entry point (GetpgidFunc) that has BTF, unlike amd64's
// __x64_sys_getpid, which has no BTF entry on the catalog's Debian kernels
// (measured in their VM guests: docs/facts.md#guest-getpid-btf), so fentry
// cannot target it. __arm64_sys_getpgid has BTF in the arm64 builds of all
// five catalog kernels (read from the BTF in their Image files).
func Getpgid() Trigger {
	return Repeat("getpgid(2) calls", func() { _, _ = unix.Getpgid(0) })
}

// GetpgidFunc is the kernel function behind getpgid(2) on the arch the
// suite runs on, what kprobes on the Getpgid trigger attach to:
// __x64_sys_getpgid on amd64, __arm64_sys_getpgid on arm64.
var GetpgidFunc = arch.Running().SyscallFunc("getpgid")

// OpenFile opens and closes /proc/self/stat TriggerCalls times, reaching
// the file_open LSM hook and security_file_open.
func OpenFile() Trigger {
	return Repeat("open(2) calls", func() {
		if f, err := os.Open("/proc/self/stat"); err == nil {
			f.Close()
		}
	})
}

// Fork forks TriggerCalls children. Each child's exec of a path that does
// not exist fails at once, so the trigger needs no binary in the target
// and still passes through the kernel's fork path every time.
func Fork() Trigger {
	return Repeat("forks", func() { _, _ = syscall.ForkExec("/nonexistent/bpfmatrix-fork-trigger", nil, nil) })
}

// ReadSysctl reads kernel/ostype through /proc/sys TriggerCalls times.
func ReadSysctl() Trigger {
	return Repeat("reads of /proc/sys/kernel/ostype", func() { _, _ = os.ReadFile("/proc/sys/kernel/ostype") })
}

// Effect is the Trigger of one action whose effect only the attached
// program can bring about: action says what the spec did, effect what then
// happened (said only when it did), events how many events the action
// caused, err why the effect did not happen.
func Effect(action, effect string, events uint64, err error) Trigger {
	t := Trigger{What: action, Events: events, Err: err}
	if err == nil {
		t.What += ", " + effect
	}
	return t
}

// Count is a count the spec kept itself, where no map counts: how many of
// its test runs the program changed, say.
type Count uint64

// Events returns the count.
func (n Count) Events() uint64 { return uint64(n) }
