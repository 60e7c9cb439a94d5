package bpffs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/testns"
)

// childEnv makes the test binary the process inside the user namespace
// (TestMain): it mounts the delegated bpffs at the directory the variable
// names and proves a token from it works.
const childEnv = "BPFFS_TEST_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		if err := child(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child runs in a new user and mount namespace with the socket as fd 3.
func child(dir string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	if err := MountDelegated(3, dir); err != nil {
		return err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil || st.Type != unix.BPF_FS_MAGIC {
		return fmt.Errorf("statfs %s: type %#x, %v; want bpffs", dir, st.Type, err)
	}
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var line string
	for _, l := range strings.Split(string(mountinfo), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == dir {
			line = l
		}
	}
	for _, want := range []string{" - bpf ", "delegate_cmds=any", "delegate_maps=any", "delegate_progs=any", "delegate_attachs=any"} {
		if !strings.Contains(line, want) {
			return fmt.Errorf("mountinfo of %s = %q, want %q in it", dir, line, want)
		}
	}

	// A token from the mount admits what the user namespace alone cannot.
	if _, err := mapCreate(-1); !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("BPF_MAP_CREATE without a token: %v, want EPERM", err)
	}
	fsfd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fsfd)
	attr := [2]uint32{0 /* flags */, uint32(fsfd)}
	token, _, errno := unix.Syscall(unix.SYS_BPF, 36 /* BPF_TOKEN_CREATE */, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return fmt.Errorf("BPF_TOKEN_CREATE from %s: %w", dir, errno)
	}
	defer unix.Close(int(token))
	m, err := mapCreate(int(token))
	if err != nil {
		return fmt.Errorf("BPF_MAP_CREATE with the token: %w", err)
	}
	unix.Close(m)
	return nil
}

// mapCreate creates a one-entry array, with the token when token >= 0.
func mapCreate(token int) (int, error) {
	// union bpf_attr's BPF_MAP_CREATE member up to map_token_fd (6.9).
	var attr struct {
		mapType, keySize, valueSize, maxEntries, mapFlags, innerMapFD, numaNode uint32
		name                                                                    [16]byte
		ifindex, btfFD, btfKey, btfValue, btfVmlinuxValue                       uint32
		mapExtra                                                                uint64
		valueTypeBTFObjFD, tokenFD                                              int32
	}
	attr.mapType, attr.keySize, attr.valueSize, attr.maxEntries = 2 /* BPF_MAP_TYPE_ARRAY */, 4, 8, 1
	if token >= 0 {
		attr.mapFlags, attr.tokenFD = 1<<16 /* BPF_F_TOKEN_FD */, int32(token)
	}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, 0 /* BPF_MAP_CREATE */, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// TestDelegateAcrossAUserNamespaceNeedsRoot runs both sides with real
// syscalls: this process delegates, a child in a new user and mount
// namespace mounts the bpffs and creates a token and a map with it.
func TestDelegateAcrossAUserNamespaceNeedsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: only CAP_SYS_ADMIN in the initial user namespace may set delegate_* options")
	}
	if err := unix.Access("/proc/self/ns/user", unix.R_OK); err != nil {
		t.Skipf("needs user namespaces (CONFIG_USER_NS): %v", err)
	}
	dir := filepath.Join(t.TempDir(), "bpffs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	testns.UserNS(t, childEnv+"="+dir, func(conn int) error { return Delegate(conn, Any) })

	// The mount was the child's own: nothing of it is in our namespace.
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mountinfo), " "+dir+" ") {
		t.Errorf("the child's bpffs on %s is in the test's mount namespace", dir)
	}
}

func TestDelegateRefusesAnEmptyDelegation(t *testing.T) {
	if err := Delegate(-1, Delegation{}); err == nil {
		t.Error("Delegate with nothing delegated = nil, want an error before any syscall")
	}
}

func TestDelegationString(t *testing.T) {
	for _, tc := range []struct {
		d    Delegation
		want string
	}{
		{Any, "delegate_cmds=any,delegate_maps=any,delegate_progs=any,delegate_attachs=any"},
		{Delegation{Cmds: "0x3", Progs: "xdp:socket_filter"}, "delegate_cmds=0x3,delegate_progs=xdp:socket_filter"},
		{Delegation{}, "no delegate_* options"},
	} {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.d, got, tc.want)
		}
	}
}
