package runcache

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/mountinfo"
)

// hostFiles are the files of the host whose text decides cells on the host
// kernel: its command line (lsm=, lockdown=), the sysctls that gate or
// shape eBPF, and what securityfs says of the LSMs when it is mounted.
var hostFiles = []string{
	"/proc/cmdline",
	"/proc/sys/kernel/unprivileged_bpf_disabled",
	"/proc/sys/kernel/perf_event_paranoid",
	"/proc/sys/kernel/kptr_restrict",
	"/proc/sys/net/core/bpf_jit_enable",
	"/proc/sys/net/core/bpf_jit_harden",
	"/sys/kernel/security/lsm",
	"/sys/kernel/security/lockdown",
}

// hostMounts are the filesystem types whose mounts are part of the host's
// facts: the kernel filesystems the suite and the runner mount when they
// are missing, cgroup2 (where cgroup programs attach) and debugfs.
var hostMounts = []string{"tracefs", "securityfs", "bpf", "cgroup2", "debugfs"}

// HostFacts are the inputs of a run on the host kernel beside the suite:
// the kernel's uname, its config, the files of hostFiles, the mounts of
// hostMounts, and the runner's capabilities and seccomp mode. They are
// read once per process, at the first call: the runner calls it before the
// first run on the host kernel starts, so what a run mounts on the host
// (the container targets' kernel filesystems) is not taken for a fact of
// the machine. The machine's boot ID is not among them: a reboot into the
// same kernel build with the same command line gives the same cells, and a
// CI job on a fresh machine can reuse a run of an earlier one.
func HostFacts() Inputs {
	hostOnce.Do(func() { hostFacts = readHostFacts() })
	return maps.Clone(hostFacts)
}

var (
	hostOnce  sync.Once
	hostFacts Inputs
)

func readHostFacts() Inputs {
	in := Inputs{}
	var u unix.Utsname
	if err := unix.Uname(&u); err == nil {
		in["uname"] = strings.Join([]string{unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Version[:]), unix.ByteSliceToString(u.Machine[:])}, " ")
		release := unix.ByteSliceToString(u.Release[:])
		for _, config := range []string{"/proc/config.gz", "/boot/config-" + release} {
			if sum, err := FileSum(config); err == nil {
				in["config"] = config + " " + sum
				break
			}
		}
	}
	for _, f := range hostFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			data = []byte("unreadable: " + errnoOf(err))
		}
		in["file "+f] = string(bytes.TrimSpace(data))
	}
	mounts, err := mountinfo.Read()
	if err != nil {
		in["mounts"] = err.Error()
	}
	for _, fstype := range hostMounts {
		var points []string
		for _, m := range mounts {
			if m.FSType == fstype {
				points = append(points, m.Root+" on "+m.Point)
			}
		}
		slices.Sort(points)
		in["mounted "+fstype] = strings.Join(points, ", ")
	}
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			name, value, _ := strings.Cut(line, ":")
			switch name {
			case "CapEff", "CapBnd", "Seccomp", "NoNewPrivs":
				in["status "+name] = strings.TrimSpace(value)
			}
		}
	}
	return in
}

// errnoOf is the errno of a failed read, or its text.
func errnoOf(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

// ToolVersion is the first line a tool prints for args (qemu's
// --version), once per process: part of the inputs of every run that
// uses the tool.
func ToolVersion(path string, args ...string) (string, error) {
	id := path + "\x00" + strings.Join(args, "\x00")
	if v, ok := versions.Load(id); ok {
		return v.(string), nil
	}
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v", path, strings.Join(args, " "), err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	versions.Store(id, line)
	return line, nil
}

var versions sync.Map // path and arguments → first line
