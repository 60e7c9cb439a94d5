// Package flock is the one lock bpfmatrix processes share: an exclusive
// flock(2) on a file, which the kernel drops when its holder dies, so a
// killed run never leaves a lock behind.
package flock

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// Lock takes an exclusive lock on path, creating it and its directory if
// missing. When another process (or another open of path in this one)
// holds it, Lock says so on log (nil discards it), prefixed with who, and
// waits. The lock
// lasts until unlock is called or the process ends.
func Lock(path, who string, log io.Writer) (unlock func(), err error) {
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
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fmt.Fprintf(log, "%s: waiting for %s (another bpfmatrix holds it)\n", who, path)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
	}
	return func() { f.Close() }, nil
}
