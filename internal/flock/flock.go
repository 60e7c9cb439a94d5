// Package flock is the one lock bpfmatrix processes share: an exclusive
// flock(2) on a file, which the kernel drops when its holder dies, so a
// killed run never leaves a lock behind.
package flock

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// poll is how often a waiting Lock tries again. flock(2) has no timeout
// and no way to be woken, so a wait that ctx must be able to end polls.
const poll = 100 * time.Millisecond

// Lock takes an exclusive lock on path, creating it and its directory if
// missing. When another process (or another open of path in this one)
// holds it, Lock says so on log (nil discards it), prefixed with who, and
// waits, until ctx is done: then it returns ctx's cause. The lock lasts
// until unlock is called or the process ends.
func Lock(ctx context.Context, path, who string, log io.Writer) (unlock func(), err error) {
	if log == nil {
		log = io.Discard
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	try := func() error {
		for {
			err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			if err != syscall.EINTR {
				return err
			}
		}
	}
	err = try()
	if err == syscall.EWOULDBLOCK {
		fmt.Fprintf(log, "%s: waiting for %s (another bpfmatrix holds it)\n", who, path)
		tick := time.NewTicker(poll)
		defer tick.Stop()
		for err == syscall.EWOULDBLOCK {
			select {
			case <-ctx.Done():
				f.Close()
				return nil, context.Cause(ctx)
			case <-tick.C:
				err = try()
			}
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
