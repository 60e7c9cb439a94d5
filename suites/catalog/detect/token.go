package detect

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
)

// token probes the process's bpffs mounts for a token, the way
// cilium/ebpf looks for one: each bpf mount in /proc/self/mountinfo with
// delegate_* options, BPF_TOKEN_CREATE from its root.
func token() catalog.Token {
	t := catalog.Token{PerfEventParanoid: readSysctl("kernel/perf_event_paranoid")}
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Refused = err.Error()
		return t
	}
	var refused []string
	for _, m := range catalog.DelegatingMounts(string(mountinfo)) {
		if err := createToken(m.Mount); err != nil {
			refused = append(refused, fmt.Sprintf("BPF_TOKEN_CREATE from %s: %s", m.Mount, errnoName(err)))
			continue
		}
		m.PerfEventParanoid = t.PerfEventParanoid
		m.Resolve(kernelEnums)
		return m
	}
	t.Refused = strings.Join(refused, "; ")
	return t
}

// createToken creates a token from the bpffs mounted at dir and closes it.
func createToken(dir string) error {
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	attr := struct{ flags, bpffsFD uint32 }{bpffsFD: uint32(fd)}
	const bpfTokenCreate = 36 // BPF_TOKEN_CREATE, Linux 6.9
	token, _, errno := unix.Syscall(unix.SYS_BPF, bpfTokenCreate, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return errno
	}
	return unix.Close(int(token))
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
