// Package netns gives a spec network namespaces of its own and what it does
// in them: link pairs between two namespaces (veth, netkit), attaching
// programs to their ends, routes and hooks (XDP, tc, tcx, netkit, lwt,
// netfilter), and the traffic that proves a program ran (UDP probes, TCP
// connections, a SO_REUSEPORT group). Nothing touches the machine's own
// interfaces, and everything goes when the spec ends.
package netns

import (
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/internal/netnspool"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
	"github.com/bpfmatrix/bpfmatrix/suites/internal/rtnl"
)

// NS is a network namespace the spec created. It holds only what the spec
// puts in it, so programs attached there see only the spec's own traffic;
// it disappears with its last reference when the spec ends.
type NS struct {
	c *harness.Cell
	f *os.File
}

// pool is the namespaces a VM guest's /init made ahead for this run
// (contract.NetnsPoolEnv); none elsewhere.
var pool = netnspool.Open(os.Getenv(contract.NetnsPoolEnv))

// New creates a network namespace with its loopback up, or takes one of
// the pool, which is the same.
func New(c *harness.Cell) *NS {
	c.Helper()
	f, err := pool.Take()
	c.Setup("take a network namespace of the pool", err)
	made := f == nil
	if made {
		f, err = Unshare()
		c.Setup("create network namespace", err)
	}
	ns := &NS{c: c, f: f}
	c.Defer(func() { ns.f.Close() })
	if made {
		c.Setup("bring lo up", ns.Do(func() error {
			lo, err := net.InterfaceByName("lo")
			if err != nil {
				return err
			}
			return rtnl.With(func(r *rtnl.Conn) error { return r.SetUp(lo.Index) })
		}))
	}
	return ns
}

// FD is the namespace's file descriptor, for programs attached to a
// namespace (sk_lookup, flow_dissector) and for moving links into it.
func (ns *NS) FD() int { return int(ns.f.Fd()) }

// Do runs fn on an OS thread that has entered the namespace: sockets fn
// creates, netlink requests it makes and links it attaches belong to ns.
// Sockets keep their namespace after fn returns and work from any thread.
func (ns *NS) Do(fn func() error) error {
	return onThread(func() error {
		if err := unix.Setns(int(ns.f.Fd()), unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("setns: %w", err)
		}
		return nil
	}, fn)
}

// Unshare creates a namespace on a thread of its own and returns a handle
// on it, leaving every thread of the process where it was. Specs use New,
// which also closes it; Unshare is for tests outside a spec.
func Unshare() (*os.File, error) {
	var f *os.File
	err := onThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
		}
		return nil
	}, func() (err error) {
		f, err = os.Open("/proc/thread-self/ns/net")
		return err
	})
	return f, err
}

// onThread runs fn on a locked OS thread that enter moved into another
// network namespace, then moves the thread back. The thread is unlocked
// only once it is back in its own namespace; a thread that cannot return
// dies with its goroutine instead.
func onThread(enter, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if err := enter(); err != nil {
			errc <- err
			return
		}
		err = fn()
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}
