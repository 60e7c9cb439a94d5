package harness

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// kernelFS are the pseudo filesystems eBPF features need. systemd mounts them
// at boot; minimal hosts, containers and VM guests may not.
var kernelFS = []struct{ fstype, dir string }{
	{"tracefs", "/sys/kernel/tracing"},
	{"securityfs", "/sys/kernel/security"},
	{"bpf", "/sys/fs/bpf"},
}

// MountKernelFS mounts each of tracefs, securityfs and bpffs that is not
// mounted yet. Failures are returned for the log but are not fatal: a target
// that cannot mount them (a container without CAP_SYS_ADMIN) still runs, and
// the cells that needed them say so.
func MountKernelFS() []error {
	var errs []error
	for _, m := range kernelFS {
		var st unix.Statfs_t
		if err := unix.Statfs(m.dir, &st); err == nil && isFS(st.Type, m.fstype) {
			continue
		}
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := unix.Mount(m.fstype, m.dir, m.fstype, 0, ""); err != nil {
			errs = append(errs, fmt.Errorf("mount %s on %s: %w", m.fstype, m.dir, err))
		}
	}
	return errs
}

func isFS(magic int64, fstype string) bool {
	switch fstype {
	case "tracefs":
		return magic == unix.TRACEFS_MAGIC
	case "securityfs":
		return magic == unix.SECURITYFS_MAGIC
	case "bpf":
		return magic == unix.BPF_FS_MAGIC
	}
	return false
}
