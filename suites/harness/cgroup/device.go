package cgroup

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

// The null device and its trigger, for cgroup_device, which controls which
// devices a cgroup's processes may open.

// NullDevice returns a character device node 1:3 (the null device) that
// this process can open: a node the spec makes in a temporary directory,
// so the spec needs no /dev, or /dev/null when the temporary directory
// does not allow device nodes (nodev).
func NullDevice(c *harness.Cell) string {
	c.Helper()
	dir, err := os.MkdirTemp("", Prefix+"dev-")
	c.Setup("create device dir", err)
	c.Defer(func() { os.RemoveAll(dir) })
	node := filepath.Join(dir, "null")
	candidates := []string{"/dev/null"}
	if unix.Mknod(node, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))) == nil {
		candidates = []string{node, "/dev/null"}
	}
	for _, path := range candidates {
		if f, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
			f.Close()
			return path
		}
	}
	c.Skipped("no openable null device: %s", candidates)
	return ""
}

// OpenDenied opens path, which opened before the spec attached its program:
// the effect is the open refused with EPERM.
func OpenDenied(path string) harness.Trigger {
	return harness.Effect("a second open of "+path+" (char 1:3)", "which the program refused with EPERM", 1, func() error {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		switch {
		case err == nil:
			f.Close()
			return errors.New("the open succeeded")
		case !errors.Is(err, unix.EPERM):
			return err
		}
		return nil
	}())
}
