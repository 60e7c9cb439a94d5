package netnspool

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/netnsthread"
	"github.com/bpfmatrix/bpfmatrix/internal/testns"
)

// TestPoolHandsOutFreshNamespacesOnceNeedsRoot fills a pool of real
// namespaces and takes them: each is another namespace than the test's,
// with lo up and no other link, its mount gone; then the pool is empty.
func TestPoolHandsOutFreshNamespacesOnceNeedsRoot(t *testing.T) {
	if !testns.PrivateMounts(t) {
		return
	}
	dir := filepath.Join(t.TempDir(), "netns")
	if err := Fill(dir, 2); err != nil {
		t.Fatal(err)
	}
	var own unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &own); err != nil {
		t.Fatal(err)
	}
	pool := Open(dir)
	seen := map[uint64]bool{}
	for i := range 2 {
		f, err := pool.Take()
		if err != nil || f == nil {
			t.Fatalf("take %d: %v, %v", i, f, err)
		}
		defer f.Close()
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		if st.Ino == own.Ino || seen[st.Ino] {
			t.Errorf("take %d: namespace %d, the test's is %d, taken before: %v", i, st.Ino, own.Ino, seen)
		}
		seen[st.Ino] = true
		if links := linksIn(t, f); len(links) != 1 || links[0].Name != "lo" || links[0].Flags&net.FlagUp == 0 {
			t.Errorf("take %d: links %+v, want lo alone, up", i, links)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the taken namespaces left %v in the pool", entries)
	}
	if f, err := pool.Take(); f != nil || err != nil {
		t.Errorf("a third take of two: %v, %v; want none", f, err)
	}
	if f, err := Open("").Take(); f != nil || err != nil {
		t.Errorf("take of no pool: %v, %v", f, err)
	}
}

// linksIn lists the links of the namespace ns.
func linksIn(t *testing.T, ns *os.File) []net.Interface {
	t.Helper()
	var links []net.Interface
	err := netnsthread.Run(func() error { return unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET) }, func() (err error) {
		links, err = net.Interfaces()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return links
}
