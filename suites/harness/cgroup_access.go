package harness

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Triggers for the cgroup programs that act as access control: each is
// something only a process in the spec's cgroup does.

// NullDevice returns a character device node 1:3 (the null device) that
// this process can open: a node the spec makes in a temporary directory,
// so the spec needs no /dev, or /dev/null when the temporary directory
// does not allow device nodes (nodev).
func (c *Cell) NullDevice() string {
	dir, err := os.MkdirTemp("", cgroupPrefix+"dev-")
	c.Check("create device dir", err)
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
func OpenDenied(path string) Trigger {
	return Effect("a second open of "+path+" (char 1:3)", "which the program refused with EPERM", 1, func() error {
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
