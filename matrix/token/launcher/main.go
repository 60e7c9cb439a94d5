// Command launcher starts the suite binary for the bpf-token target. The
// runner starts it in a new user, mount and network namespace, in a cgroup
// it delegates, with the socket to the runner as fd 3. The launcher does
// what must happen between clone and exec: mount the bpffs the runner
// delegates where the suite looks for one, a tmpfs for the suite's
// temporary files and cgroup2 for its cgroup, bring up the loopback of the
// new network namespace, and then execute the suite. It is built static
// (CGO_ENABLED=0) by matrix/token.
//
// Usage: launcher -bpffs DIR [-tmp DIR] [-cgroup2 DIR] -- SUITE [ARG...]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/netnsthread"
	"github.com/bpfmatrix/bpfmatrix/matrix/token/bpffs"
)

// exitSetup is the launcher's own failure, apart from any exit code of the
// suite's (which replaces the launcher once it runs).
const exitSetup = 125

// unshare(2) of the cgroup namespace is the calling thread's alone: setup
// and the exec of the suite must run on one OS thread, or the suite starts
// from a thread still in the old cgroup namespace (seen once under load:
// the suite's cgroup read 0::/bpf-token-<pid>-1, not 0::/).
func init() { runtime.LockOSThread() }

func main() {
	bpf := flag.String("bpffs", "", "directory to mount the delegated bpffs on")
	tmp := flag.String("tmp", "", "directory to mount the suite's tmpfs on (its TMPDIR)")
	cgroup2 := flag.String("cgroup2", "", "where the host mounts cgroup2: the launcher's cgroup becomes the root of a cgroup namespace mounted there")
	flag.Parse()
	suite := flag.Args()
	if *bpf == "" || len(suite) == 0 {
		fail(errors.New("usage: launcher -bpffs DIR [-tmp DIR] [-cgroup2 DIR] -- SUITE [ARG...]"))
	}
	if err := setup(*bpf, *tmp, *cgroup2); err != nil {
		fail(err)
	}
	err := unix.Exec(suite[0], suite, os.Environ())
	fail(fmt.Errorf("execute %s: %w", suite[0], err))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "bpf-token launcher: %v\n", err)
	os.Exit(exitSetup)
}

// setup makes the namespaces what the suite expects.
func setup(bpf, tmp, cgroup2 string) error {
	// The new mount namespace copies the runner's, shared mounts turned
	// slaves of the host's: make it private, so no mount or unmount on the
	// machine reaches the suite mid-run.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make the mount namespace private: %w", err)
	}
	if err := bpffs.MountDelegated(3, bpf); err != nil {
		return err
	}
	unix.Close(3)
	if tmp != "" {
		if err := unix.Mount("tmpfs", tmp, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
			return fmt.Errorf("mount a tmpfs on %s: %w", tmp, err)
		}
	}
	// The runner started the launcher in the cgroup it delegated: as the
	// root of a cgroup namespace, with cgroup2 mounted over the host's,
	// it is where the suite finds cgroup2 and makes its cgroups. The
	// kernel refuses a filesystem on the root of a mount of its own
	// superblock (EBUSY, docs/bpf-token.md#cgroup2-ebusy), so a tmpfs goes
	// between the two.
	if cgroup2 != "" {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("unshare(CLONE_NEWCGROUP): %w", err)
		}
		if err := unix.Mount("tmpfs", cgroup2, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755"); err != nil {
			return fmt.Errorf("mount a tmpfs on %s: %w", cgroup2, err)
		}
		if err := unix.Mount("cgroup2", cgroup2, "cgroup2", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return fmt.Errorf("mount cgroup2 on %s: %w", cgroup2, err)
		}
	}
	// lo up, as a container runtime does for a container without a
	// network: specs use loopback sockets in the suite's own namespace.
	if err := netnsthread.LoopbackUp(); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return nil
}
