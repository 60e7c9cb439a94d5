package container

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/internal/testns"
)

// TestHostMountsReleasedByLastRunNeedsRoot: parallel profile runs share the
// mounts made for them, and the last one to finish unmounts exactly those,
// leaving a filesystem the host had before alone.
func TestHostMountsReleasedByLastRunNeedsRoot(t *testing.T) {
	if !testns.PrivateMounts(t) {
		return
	}
	fs := contract.KernelFS
	mounted := func(i int) bool {
		var st unix.Statfs_t
		return unix.Statfs(fs[i].Dir, &st) == nil && st.Type == fs[i].Magic
	}
	for i := range fs {
		for mounted(i) {
			if err := unix.Unmount(fs[i].Dir, unix.MNT_DETACH); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The host had tracefs already; securityfs and bpffs it lacks.
	if err := unix.Mount(fs[0].FSType, fs[0].Dir, fs[0].FSType, 0, ""); err != nil {
		t.Fatal(err)
	}
	logf := func(format string, args ...any) { t.Logf(format, args...) }
	_, first := AcquireHostMounts(logf)
	mounts, second := AcquireHostMounts(logf)
	if len(mounts) < len(fs) {
		t.Fatalf("containers get %v, want all of the kernel filesystems", mounts)
	}
	first()
	first() // twice is once
	for i := range fs {
		if !mounted(i) {
			t.Errorf("%s unmounted while a run still uses it", fs[i].Dir)
		}
	}
	second()
	for i, want := range []bool{true, false, false} {
		if mounted(i) != want {
			t.Errorf("after the last run: %s mounted = %v, want %v", fs[i].Dir, mounted(i), want)
		}
	}
}
