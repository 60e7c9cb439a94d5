// Package netns gives a spec network namespaces of its own and what it does
// in them: link pairs between two namespaces (veth, netkit), attaching
// programs to their ends, routes and hooks (XDP, tc, tcx, netkit, lwt,
// netfilter), and the traffic that proves a program ran (UDP probes, TCP
// connections, a SO_REUSEPORT group). Nothing touches the machine's own
// interfaces, and everything goes when the spec ends.
package netns

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/internal/netnspool"
	"github.com/bpfmatrix/bpfmatrix/internal/netnsthread"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
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
		c.Setup("bring lo up", ns.Do(netnsthread.LoopbackUp))
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
	return netnsthread.Run(func() error {
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
	err := netnsthread.InNew(func() (err error) {
		f, err = os.Open("/proc/thread-self/ns/net")
		return err
	})
	return f, err
}
