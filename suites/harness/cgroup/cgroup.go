// Package cgroup gives a spec a cgroup v2 of its own: it creates a child
// cgroup, moves the suite process into it until the spec ends, and attaches
// programs there, so that they see only what the spec does. It also holds
// the triggers of the cgroup programs that act as access control.
package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/mountinfo"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

// Cgroup is a cgroup v2 the spec created and moved the suite process into:
// sockets the spec opens and files it opens meanwhile belong to it, so
// programs attached there see only what the spec does.
type Cgroup struct {
	Path string
}

// Prefix names the cgroups (and temporary cgroup2 mounts and directories)
// the suite creates, so that the leak check can find any left behind.
const Prefix = "bpfmatrix-"

// New creates a child cgroup of the cgroup v2 hierarchy and moves the
// suite process into it until the spec ends. cgroup programs attach only
// to v2: attaching to a cgroup v1 directory fails with EBADF (measured on
// the project's 6.18 host, whose hybrid layout has cgroup2 at
// /sys/fs/cgroup/unified: docs/facts.md#host-cgroup-v2). Without a cgroup2 mount, as in a VM guest, it
// mounts one in a temporary directory.
func New(c *harness.Cell) *Cgroup {
	c.Helper()
	root, err := cgroup2Root(c)
	c.Setup("find cgroup2", err)
	home, err := ownCgroup(root)
	c.Setup("read own cgroup", err)
	dir, err := os.MkdirTemp(root, Prefix)
	c.Setup("create cgroup", err)
	c.Defer(func() { _ = unix.Rmdir(dir) })
	c.Setup("enter cgroup", enterCgroup(dir))
	c.Defer(func() { _ = enterCgroup(home) })
	return &Cgroup{Path: dir}
}

// Attach attaches prog to the cgroup, with a bpf_link where the kernel has
// one (5.7+) and BPF_PROG_ATTACH before: cilium/ebpf picks.
func (g *Cgroup) Attach(attach ebpf.AttachType, prog *ebpf.Program) (link.Link, error) {
	return link.AttachCgroup(link.CgroupOptions{Path: g.Path, Attach: attach, Program: prog})
}

func enterCgroup(dir string) error {
	return os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0)
}

// cgroup2Root returns the mount point of the cgroup v2 hierarchy, mounting
// one for the spec when there is none.
func cgroup2Root(c *harness.Cell) (string, error) {
	if mnt, err := Mount(); err != nil || mnt != "" {
		return mnt, err
	}
	dir, err := os.MkdirTemp("", Prefix+"cgroup2-")
	if err != nil {
		return "", err
	}
	if err := unix.Mount("cgroup2", dir, "cgroup2", 0, ""); err != nil {
		os.Remove(dir)
		return "", fmt.Errorf("mount cgroup2: %w", err)
	}
	c.Defer(func() {
		_ = unix.Unmount(dir, unix.MNT_DETACH)
		os.Remove(dir)
	})
	return dir, nil
}

// Mount finds the cgroup2 mount in /proc/self/mountinfo: the host
// may have it at /sys/fs/cgroup (unified), /sys/fs/cgroup/unified (hybrid)
// or nowhere. It returns "" when there is none.
func Mount() (string, error) { return mountinfo.Find("cgroup2") }

// ownCgroup is the directory of the suite process's cgroup v2 under root.
func ownCgroup(root string) (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			return filepath.Join(root, path), nil
		}
	}
	return "", errors.New("no cgroup v2 line in /proc/self/cgroup")
}
