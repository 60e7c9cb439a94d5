package rtnl

import (
	"errors"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRefusalCarriesTheKernelsWordsNeedsRoot asks a real kernel, in a
// network namespace of the test's own, for a link of a kind that does not
// exist: the error is the errno the evidence classifies by, with the
// kernel's extended ack message beside it.
func TestRefusalCarriesTheKernelsWordsNeedsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates a network namespace")
	}
	errc := make(chan error, 1)
	go func() {
		// The thread stays in the new namespace and dies with this
		// goroutine: it is never unlocked.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- With(func(r *Conn) error { return r.NewPair("bpfmatrix-nosuchkind", "bm0", 10, "bm1", 11, -1, nil, 1) })
	}()
	err := <-errc
	var rerr *Error
	if !errors.As(err, &rerr) || !errors.Is(err, unix.EOPNOTSUPP) {
		t.Fatalf("NewPair of an unknown kind = %v; want an *Error wrapping EOPNOTSUPP", err)
	}
	if rerr.Msg != "Unknown device type" {
		t.Errorf("extended ack message = %q, want the kernel's %q", rerr.Msg, "Unknown device type")
	}
	if got := err.Error(); got != "operation not supported: Unknown device type" {
		t.Errorf("Error() = %q", got)
	}
}
