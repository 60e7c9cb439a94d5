// Package netnspool keeps network namespaces made ahead of time, each for
// one taker. A VM guest's /init fills a pool before its snapshot is saved;
// the suite of every run restored from that snapshot takes a namespace
// from it instead of creating one. Each is as fresh as one created at
// once: nothing but its loopback, brought up, and no process in it. Under
// TCG creating one (unshare(CLONE_NEWNET), then lo up) cost ~9 ms of an
// arm64 guest's suite, and a run creates ~47.
package netnspool

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/netnsthread"
)

// Fill creates n network namespaces with their loopback up, each kept
// alive by a bind mount at dir/<i> (as `ip netns add` does), i from 0.
func Fill(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range n {
		if err := add(filepath.Join(dir, strconv.Itoa(i))); err != nil {
			return fmt.Errorf("network namespace %d of the pool: %w", i, err)
		}
	}
	return nil
}

// add creates one namespace, lo up, and mounts it at path.
func add(path string) error {
	if err := os.WriteFile(path, nil, 0o444); err != nil {
		return err
	}
	err := netnsthread.InNew(func() error {
		if err := netnsthread.LoopbackUp(); err != nil {
			return err
		}
		return unix.Mount("/proc/thread-self/ns/net", path, "", unix.MS_BIND, "")
	})
	if err != nil {
		os.Remove(path) // no namespace behind it: never to be taken
	}
	return err
}

// Pool hands out the namespaces Fill made in a directory, each once.
type Pool struct {
	dir  string
	mu   sync.Mutex
	next int
}

// Open is the pool Fill made in dir; nil for "", a pool that has none.
func Open(dir string) *Pool {
	if dir == "" {
		return nil
	}
	return &Pool{dir: dir}
}

// Take returns the next namespace of the pool, its mount removed, so that
// it goes when the file is closed, as one unshare made would; nil when
// the pool has none left (the caller creates one).
func (p *Pool) Take() (*os.File, error) {
	if p == nil {
		return nil, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	path := filepath.Join(p.dir, strconv.Itoa(p.next))
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.next++
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil || st.Type != unix.NSFS_MAGIC {
		f.Close()
		return nil, fmt.Errorf("%s is not a namespace (statfs type %#x, %v)", path, st.Type, err)
	}
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil {
		f.Close()
		return nil, fmt.Errorf("unmount %s: %w", path, err)
	}
	_ = os.Remove(path)
	return f, nil
}
