package token

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// cgroupSeq tells apart the cgroups of runs of one runner.
var cgroupSeq atomic.Int64

// delegatedCgroup is a cgroup v2 the runner creates for one run and hands
// to the namespace's root, the way a container runtime delegates one to a
// container: the launcher starts in it (CLONE_INTO_CGROUP), makes it the
// root of a cgroup namespace of its own and mounts cgroup2 there, so the
// suite creates and enters the cgroups its specs attach to, all inside it.
type delegatedCgroup struct {
	dir string
	fd  *os.File
}

// delegateCgroup creates the run's cgroup under root, the host's cgroup2
// mount. Its name does not start with the suite's cgroup prefix, so the
// leak check of a suite running beside it on the host does not count it.
func delegateCgroup(root string) (*delegatedCgroup, error) {
	dir := filepath.Join(root, fmt.Sprintf("%s-%d-%d", Name, os.Getpid(), cgroupSeq.Add(1)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the namespace's cgroup: %w", err)
	}
	g := &delegatedCgroup{dir: dir}
	// The files cgroup v2 delegation hands over (Documentation/admin-guide/cgroup-v2.rst, "Delegation").
	for _, path := range []string{dir, filepath.Join(dir, "cgroup.procs"), filepath.Join(dir, "cgroup.threads"), filepath.Join(dir, "cgroup.subtree_control")} {
		if err := os.Chown(path, hostUID, hostUID); err != nil {
			g.remove()
			return nil, fmt.Errorf("hand %s to the user namespace's root: %w", path, err)
		}
	}
	fd, err := os.Open(dir)
	if err != nil {
		g.remove()
		return nil, err
	}
	g.fd = fd
	return g, nil
}

// remove kills whatever the run left running in the cgroup, removes the
// cgroups the suite left in it and then the cgroup itself. It returns what
// it had to clean up, "" when the run left nothing.
func (g *delegatedCgroup) remove() string {
	if g.fd != nil {
		g.fd.Close()
	}
	var left []string
	if n := g.processes(); n > 0 {
		left = append(left, fmt.Sprintf("%d processes (killed)", n))
		if err := os.WriteFile(filepath.Join(g.dir, "cgroup.kill"), []byte("1"), 0); err != nil {
			left = append(left, fmt.Sprintf("cgroup.kill: %v", err))
		}
		g.waitEmpty()
	}
	var dirs []string
	_ = filepath.WalkDir(g.dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	// Deepest first: a cgroup goes only once it has no children.
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, dir := range dirs {
		if dir != g.dir {
			left = append(left, "cgroup "+strings.TrimPrefix(dir, g.dir))
		}
		if err := os.Remove(dir); err != nil {
			left = append(left, fmt.Sprintf("cannot remove %s: %v", dir, err))
		}
	}
	return strings.Join(left, ", ")
}

// processes counts the processes in the cgroup and below.
func (g *delegatedCgroup) processes() int {
	n := 0
	_ = filepath.WalkDir(g.dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "cgroup.procs" {
			b, _ := os.ReadFile(path)
			n += len(strings.Fields(string(b)))
		}
		return nil
	})
	return n
}

// waitEmpty waits, a few seconds at most, until the killed processes are
// gone: a cgroup with processes cannot be removed.
func (g *delegatedCgroup) waitEmpty() {
	for range 500 {
		b, err := os.ReadFile(filepath.Join(g.dir, "cgroup.events"))
		if err != nil || strings.Contains(string(b), "populated 0") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
