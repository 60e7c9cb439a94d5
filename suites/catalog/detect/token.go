package detect

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/mountinfo"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
	"github.com/bpfmatrix/bpfmatrix/suites/internal/rawbpf"
)

// token probes the process's bpffs mounts for a token, the way
// cilium/ebpf looks for one: each bpf mount in /proc/self/mountinfo with
// delegate_* options, BPF_TOKEN_CREATE from its root.
func token() catalog.Token {
	t := catalog.Token{PerfEventParanoid: readSysctl("kernel/perf_event_paranoid")}
	mounts, err := mountinfo.Read()
	if err != nil {
		t.Refused = err.Error()
		return t
	}
	var refused []string
	for _, m := range catalog.DelegatingMounts(mounts) {
		fd, err := rawbpf.TokenCreate(m.Mount)
		if err != nil {
			refused = append(refused, fmt.Sprintf("BPF_TOKEN_CREATE from %s: %s", m.Mount, errnoName(err)))
			continue
		}
		unix.Close(fd)
		m.PerfEventParanoid = t.PerfEventParanoid
		m.Resolve(kernelEnums)
		return m
	}
	t.Refused = strings.Join(refused, "; ")
	return t
}

// kernelEnums resolves names from the running kernel's BTF, where the
// kernel itself takes the names of delegate_* options from.
func kernelEnums(enum, name string) (uint64, bool) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return 0, false
	}
	var e *btf.Enum
	if err := spec.TypeByName(enum, &e); err != nil {
		return 0, false
	}
	for _, v := range e.Values {
		if v.Name == name {
			return v.Value, true
		}
	}
	return 0, false
}

func readSysctl(name string) string {
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// errnoName is an errno's name (EPERM), or the error's text.
func errnoName(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		if name := unix.ErrnoName(errno); name != "" {
			return name
		}
	}
	return err.Error()
}
