package container

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/internal/mountinfo"
)

// Mount is a host path bind-mounted into every container at the same path.
type Mount struct {
	Path     string
	FS       string // the filesystem it must hold, for the report
	ReadOnly bool
}

// The kernel filesystems (contract.KernelFS) cannot be mounted by a
// container without CAP_SYS_ADMIN, and even a privileged one does not get
// them from podman (docs/facts.md#podman-mounts), so they are mounted on the host and bound
// in. securityfs is bound read-only: the suite only reads the active LSM
// list and lockdown mode from it.
var readOnlyFS = map[string]bool{"securityfs": true}

// hostFS counts the container runs that use the kernel filesystems this
// process mounted on the host: profiles run in parallel, and the last one to
// finish unmounts them, so the machine is left as it was found and no run
// sees them vanish while it starts.
var hostFS struct {
	sync.Mutex
	users   int
	mounted []string
}

// AcquireHostMounts mounts each kernel filesystem the host lacks and returns
// the mounts containers get, and done, which unmounts what was mounted
// here once no run needs it. Other targets that run the suite in
// namespaces of their own on the host kernel (bpf-token) share it, so the
// count covers them too. A filesystem the host cannot mount is left out
// and logged: the cells that need it say so, and the run's detail lists
// what the containers had.
func AcquireHostMounts(logf func(format string, args ...any)) (mounts []Mount, done func()) {
	hostFS.Lock()
	defer hostFS.Unlock()
	hostFS.users++
	for _, fs := range contract.KernelFS {
		var st unix.Statfs_t
		if err := unix.Statfs(fs.Dir, &st); err != nil || st.Type != fs.Magic {
			if err := unix.Mount(fs.FSType, fs.Dir, fs.FSType, 0, ""); err != nil {
				logf("host has no %s at %s and cannot mount it (%v): containers run without it", fs.FSType, fs.Dir, err)
				continue
			}
			hostFS.mounted = append(hostFS.mounted, fs.Dir)
		}
		mounts = append(mounts, Mount{Path: fs.Dir, FS: fs.FSType, ReadOnly: readOnlyFS[fs.FSType]})
	}
	// On a hybrid cgroup layout podman gives containers the v1 hierarchies
	// only; cgroup programs need the host's cgroup2 mount.
	if dir := Cgroup2(); dir != "" && dir != "/sys/fs/cgroup" {
		mounts = append(mounts, Mount{Path: dir, FS: "cgroup2"})
	}
	// Debian kernels have no /proc/config.gz: the suite reads the config from
	// /boot, where it predicts statuses from it.
	if config := "/boot/config-" + release(); fileExists(config) && !fileExists("/proc/config.gz") {
		mounts = append(mounts, Mount{Path: config, FS: "kernel config", ReadOnly: true})
	}
	return mounts, sync.OnceFunc(func() {
		hostFS.Lock()
		defer hostFS.Unlock()
		if hostFS.users--; hostFS.users > 0 {
			return
		}
		for i := len(hostFS.mounted) - 1; i >= 0; i-- {
			if err := unix.Unmount(hostFS.mounted[i], unix.MNT_DETACH); err != nil {
				logf("cannot unmount %s again: %v", hostFS.mounted[i], err)
			}
		}
		hostFS.mounted = nil
	})
}

// Cgroup2 returns where the host mounts cgroup2 (/sys/fs/cgroup on a
// cgroup v2 host, which podman sets up itself for containers;
// /sys/fs/cgroup/unified on a hybrid one), or "" if it does not.
func Cgroup2() string {
	dir, _ := mountinfo.Find("cgroup2")
	return dir
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

// bpfStats counts the runs on the host kernel that need bpf_stats on: the
// users' objects prove a program ran by its run count, which the kernel
// keeps only while stats are enabled, and a process without CAP_SYS_ADMIN
// in the initial namespace (a container, a user namespace) cannot enable
// them. The runner holds a BPF_ENABLE_STATS file descriptor meanwhile: the
// kernel turns stats off when the last one closes, whatever ends this
// process, so the machine is never left with them on.
var bpfStats struct {
	sync.Mutex
	users int
	fd    io.Closer
}

// HoldBPFStats turns bpf_stats on for the host kernel until done, shared
// like AcquireHostMounts. Where the kernel refuses, it logs why and the
// cells that need a run count say what refused them.
func HoldBPFStats(logf func(format string, args ...any)) (done func()) {
	bpfStats.Lock()
	defer bpfStats.Unlock()
	if bpfStats.users++; bpfStats.fd == nil {
		fd, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
		if err != nil {
			logf("cannot turn bpf_stats on for the objects' run counts: %v", err)
		} else {
			bpfStats.fd = fd
		}
	}
	return sync.OnceFunc(func() {
		bpfStats.Lock()
		defer bpfStats.Unlock()
		if bpfStats.users--; bpfStats.users == 0 && bpfStats.fd != nil {
			bpfStats.fd.Close()
			bpfStats.fd = nil
		}
	})
}
