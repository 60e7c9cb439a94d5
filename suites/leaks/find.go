package leaks

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/bpf"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/cgroup"
)

// find lists what the suite left behind that it should have released: bpf
// links that run a suite program and that this process still holds, cgroups
// and cgroup2 mounts it created, and network namespaces it still holds. It
// also returns how many links it looked at. A link stays only while an fd
// or a pin holds it; the suite pins nothing, so a leaked link is one whose
// fd the suite forgot to close.
func find() (links int, leaks []string, err error) {
	held, err := heldLinks()
	if err != nil {
		return 0, nil, err
	}
	ours, err := suitePrograms()
	if err != nil {
		return 0, nil, err
	}
	var it link.Iterator
	defer it.Close()
	for it.Next() {
		links++
		info, err := it.Link.Info()
		if err != nil || !held[it.ID] {
			continue
		}
		if name := programName(info.Program); ours[name] {
			leaks = append(leaks, fmt.Sprintf("link %d (type %d) of program %s", it.ID, info.Type, name))
		}
	}
	if err := it.Err(); err != nil {
		return links, leaks, err
	}
	if root, _ := cgroup.Mount(); root != "" {
		left, _ := filepath.Glob(filepath.Join(root, cgroup.Prefix+"*"))
		for _, dir := range left {
			leaks = append(leaks, "cgroup "+dir)
		}
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil && strings.Contains(string(b), cgroup.Prefix) {
		leaks = append(leaks, "a "+cgroup.Prefix+" mount in /proc/self/mountinfo")
	}
	own, _ := os.Readlink("/proc/self/ns/net")
	fds, _ := filepath.Glob("/proc/self/fd/*")
	for _, fd := range fds {
		if target, _ := os.Readlink(fd); strings.HasPrefix(target, "net:[") && target != own {
			leaks = append(leaks, "network namespace "+target+" held by fd "+filepath.Base(fd))
		}
	}
	return links, leaks, nil
}

// heldLinks returns the IDs of the links this process has fds of.
func heldLinks() (map[link.ID]bool, error) {
	held := map[link.ID]bool{}
	infos, err := filepath.Glob("/proc/self/fdinfo/*")
	if err != nil {
		return nil, err
	}
	for _, path := range infos {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "link_id:"); ok {
				if id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil {
					held[link.ID(id)] = true
				}
			}
		}
		f.Close()
	}
	return held, nil
}

// suitePrograms returns the names of every program in bpf/, whole and as
// the kernel keeps them (at most 15 characters): cilium/ebpf reports the
// whole name when the program has BTF.
func suitePrograms() (map[string]bool, error) {
	names := map[string]bool{}
	for _, o := range bpf.Objects() {
		spec, err := o.Spec()
		if err != nil {
			return nil, err
		}
		for name := range spec.Programs {
			names[name], names[name[:min(len(name), 15)]] = true, true
		}
	}
	return names, nil
}

func programName(id ebpf.ProgramID) string {
	prog, err := ebpf.NewProgramFromID(id)
	if err != nil {
		return ""
	}
	defer prog.Close()
	info, err := prog.Info()
	if err != nil {
		return ""
	}
	return info.Name
}
