package container

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Mount is a host path bind-mounted into every container at the same path.
type Mount struct {
	Path     string
	FS       string // the filesystem it must hold, for the report
	ReadOnly bool
}

// kernelFS are the pseudo filesystems eBPF features need. A container cannot
// mount them without CAP_SYS_ADMIN, and even a privileged one does not get
// them from podman (docs/facts.md#podman-mounts), so they are mounted on the host and bound in.
var kernelFS = []struct {
	Mount
	magic int64
}{
	{Mount{Path: "/sys/fs/bpf", FS: "bpffs"}, unix.BPF_FS_MAGIC},
	{Mount{Path: "/sys/kernel/tracing", FS: "tracefs"}, unix.TRACEFS_MAGIC},
	// Read-only: the suite only reads the active LSM list and lockdown mode.
	{Mount{Path: "/sys/kernel/security", FS: "securityfs", ReadOnly: true}, unix.SECURITYFS_MAGIC},
}

// hostMounts mounts each kernel filesystem the host lacks and returns the
// mounts containers get. A filesystem the host cannot mount is left out and
// logged: the cells that need it say so, and the run's detail lists what the
// containers had.
func hostMounts(logf func(format string, args ...any)) []Mount {
	var mounts []Mount
	for _, m := range kernelFS {
		var st unix.Statfs_t
		if err := unix.Statfs(m.Path, &st); err != nil || st.Type != m.magic {
			fstype := map[string]string{"bpffs": "bpf"}[m.FS]
			if fstype == "" {
				fstype = m.FS
			}
			if err := unix.Mount(fstype, m.Path, fstype, 0, ""); err != nil {
				logf("host has no %s at %s and cannot mount it (%v): containers run without it", m.FS, m.Path, err)
				continue
			}
		}
		mounts = append(mounts, m.Mount)
	}
	// On a hybrid cgroup layout podman gives containers the v1 hierarchies
	// only; cgroup programs need the host's cgroup2 mount.
	if dir := hybridCgroup2(); dir != "" {
		mounts = append(mounts, Mount{Path: dir, FS: "cgroup2"})
	}
	// Debian kernels have no /proc/config.gz: the suite reads the config from
	// /boot, where it predicts statuses from it.
	if config := "/boot/config-" + release(); fileExists(config) && !fileExists("/proc/config.gz") {
		mounts = append(mounts, Mount{Path: config, FS: "kernel config", ReadOnly: true})
	}
	return mounts
}

// hybridCgroup2 returns where the host mounts cgroup2 when that is not
// /sys/fs/cgroup (which podman sets up itself on a cgroup v2 host).
func hybridCgroup2() string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		// mountinfo: id parent major:minor root mountpoint options ... - fstype source superoptions
		fields := strings.Fields(line)
		for i, f := range fields {
			if f == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 && fields[4] != "/sys/fs/cgroup" {
				return fields[4]
			}
		}
	}
	return ""
}

func release() string {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return ""
	}
	return unix.ByteSliceToString(uts.Release[:])
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// volume is m as a podman --volume option.
func (m Mount) volume() string {
	mode := "rw"
	if m.ReadOnly {
		mode = "ro"
	}
	return fmt.Sprintf("--volume=%s:%s:%s", m.Path, m.Path, mode)
}
