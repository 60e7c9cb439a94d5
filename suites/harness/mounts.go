package harness

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
)

// MountKernelFS mounts each of contract.KernelFS (tracefs, securityfs,
// bpffs; systemd mounts them at boot, minimal hosts, containers and VM
// guests may not) that is not mounted yet, and returns undo, which unmounts exactly those again, so a
// suite leaves the machine's mounts as it found them. The runner starts the
// suite in a mount namespace of its own, where undo is a formality; a suite
// started by hand in the machine's namespace needs it.
//
// Failures are returned for the log but are not fatal: a target that cannot
// mount them (a container without CAP_SYS_ADMIN) still runs, and the cells
// that needed them say so.
func MountKernelFS() (undo func(), errs []error) {
	var mounted []string
	for _, m := range contract.KernelFS {
		if isMounted(m.Dir, m.Magic) {
			continue
		}
		if err := os.MkdirAll(m.Dir, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := unix.Mount(m.FSType, m.Dir, m.FSType, 0, ""); err != nil {
			errs = append(errs, fmt.Errorf("mount %s on %s: %w", m.FSType, m.Dir, err))
			continue
		}
		mounted = append(mounted, m.Dir)
	}
	return func() {
		for i := len(mounted) - 1; i >= 0; i-- {
			if err := unix.Unmount(mounted[i], unix.MNT_DETACH); err != nil {
				fmt.Fprintf(os.Stderr, "bpfmatrix: unmount %s: %v\n", mounted[i], err)
			}
		}
	}, errs
}

func isMounted(dir string, magic int64) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == magic
}
