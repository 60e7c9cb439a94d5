package harness

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// NetNS is a network namespace the spec created. It holds only what the spec
// puts in it, so programs attached there see only the spec's own traffic;
// it disappears with its last reference when the spec ends.
type NetNS struct {
	f *os.File
}

// NewNetNS creates a network namespace with its loopback up.
func (c *Cell) NewNetNS() *NetNS {
	f, err := unshareNetNS()
	c.Check("create network namespace", err)
	ns := &NetNS{f: f}
	c.Defer(func() { ns.f.Close() })
	c.Check("bring lo up", ns.Do(func() error {
		lo, err := net.InterfaceByName("lo")
		if err != nil {
			return err
		}
		return withRTNL(func(r *rtnl) error { return r.setUp(lo.Index) })
	}))
	return ns
}

// FD is the namespace's file descriptor, for programs attached to a
// namespace (sk_lookup, flow_dissector) and for moving links into it.
func (ns *NetNS) FD() int { return int(ns.f.Fd()) }

// Do runs fn on an OS thread that has entered the namespace: sockets fn
// creates, netlink requests it makes and links it attaches belong to ns.
// Sockets keep their namespace after fn returns and work from any thread.
func (ns *NetNS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		// The thread is unlocked only once it is back in its own namespace;
		// a thread that cannot return dies with this goroutine instead.
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(ns.f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns: %w", err)
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

// unshareNetNS creates a namespace on a thread of its own and returns a
// handle on it, leaving every thread of the process where it was.
func unshareNetNS() (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			done <- result{err: err}
			return
		}
		defer orig.Close()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("unshare(CLONE_NEWNET): %w", err)}
			return
		}
		f, err := os.Open("/proc/thread-self/ns/net")
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- result{f, err}
	}()
	r := <-done
	return r.f, r.err
}

// withRTNL runs fn with a route netlink socket of the calling thread's
// namespace.
func withRTNL(fn func(r *rtnl) error) error {
	r, err := dialRTNL()
	if err != nil {
		return err
	}
	defer r.Close()
	return fn(r)
}

// Veth is a link pair between two namespaces the spec created: packets A
// sends to BAddr cross the pair from A's end to B's end.
type Veth struct {
	c              *Cell
	A, B           *NetNS
	AIndex, BIndex int
	AAddr, BAddr   net.IP
}

// The addresses of a pair: 10.199.0.0/24 exists only inside the spec's
// namespaces.
var (
	vethA = net.IPv4(10, 199, 0, 1).To4()
	vethB = net.IPv4(10, 199, 0, 2).To4()
)

// NewVeth creates two namespaces joined by a veth pair, addressed and up.
// A kernel without veth ends the spec as unsupported with its errno
// (EOPNOTSUPP: no such link kind).
func (c *Cell) NewVeth() *Veth { return c.newPair("veth", nil, 1) }

// NewMultiqueueVeth is NewVeth with two queues each way: transmitting on a
// multiqueue device hashes each packet to pick a queue, and hashing runs the
// flow dissector.
func (c *Cell) NewMultiqueueVeth() *Veth { return c.newPair("veth", nil, 2) }

// NewNetkit is NewVeth with a netkit pair in L2 mode (so that packets carry
// an Ethernet header, like veth's), A's end being the primary.
func (c *Cell) NewNetkit() *Veth {
	const l2 = 0 // NETKIT_L2
	return c.newPair("netkit", attrs(nil).u32(unix.IFLA_NETKIT_MODE, l2), 1)
}

func (c *Cell) newPair(kind string, data attrs, queues uint32) *Veth {
	v := &Veth{c: c, A: c.NewNetNS(), B: c.NewNetNS(), AAddr: vethA, BAddr: vethB}
	c.Check("create "+kind+" pair"+c.moduleFact(kind), v.A.Do(func() error {
		return withRTNL(func(r *rtnl) error { return r.newPair(kind, "bm0", "bm1", v.B.FD(), data, queues) })
	}))
	var macA, macB net.HardwareAddr
	var err error
	c.Check("configure "+kind+" end A", v.A.Do(func() error { v.AIndex, macA, err = configure("bm0", vethA); return err }))
	c.Check("configure "+kind+" end B", v.B.Do(func() error { v.BIndex, macB, err = configure("bm1", vethB); return err }))
	// Permanent neighbour entries spare every spec ARP, whose first request
	// can be lost while the link's qdisc is being activated: then the
	// retransmission comes only after a second.
	c.Check("add neighbour B on A", v.A.Do(func() error {
		return withRTNL(func(r *rtnl) error { return r.addNeigh(v.AIndex, vethB, macB) })
	}))
	c.Check("add neighbour A on B", v.B.Do(func() error {
		return withRTNL(func(r *rtnl) error { return r.addNeigh(v.BIndex, vethA, macA) })
	}))
	c.Check("wait for "+kind+" end A", v.A.Do(func() error { return waitRunning("bm0") }))
	c.Check("wait for "+kind+" end B", v.B.Do(func() error { return waitRunning("bm1") }))
	c.Check("warm up "+kind+" pair", v.warmUp())
	return v
}

// warmUpPort is where warmUp sends: not ProbePort, so that no program
// that matches probes counts it.
const warmUpPort = 4241

// warmUp sends datagrams from A to B until one arrives, before any program
// is attached: then both ends' qdiscs are active, and no probe dies in the
// noop qdisc a link has for a moment after its carrier comes up.
func (v *Veth) warmUp() error {
	var sfd, rfd int
	var err error
	if err := v.B.Do(func() error { rfd, err = v.c.rawSocket(unix.SOCK_DGRAM); return err }); err != nil {
		return err
	}
	to := &unix.SockaddrInet4{Port: warmUpPort}
	copy(to.Addr[:], v.BAddr)
	if err := unix.Bind(rfd, to); err != nil {
		return err
	}
	tv := unix.NsecToTimeval((20 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(rfd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return err
	}
	if err := v.A.Do(func() error { sfd, err = v.c.rawSocket(unix.SOCK_DGRAM); return err }); err != nil {
		return err
	}
	buf := make([]byte, 16)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		_ = unix.Sendto(sfd, []byte("warm-up"), 0, to)
		if _, err := recv(rfd, buf); err == nil {
			return nil
		}
	}
	return fmt.Errorf("no datagram from %s reached %s in 2s", v.AAddr, v.BAddr)
}

// waitRunning waits until the link called name is operationally up. Until
// then its qdisc is noop, which drops every packet: the kernel's link
// watcher activates it shortly after the carrier comes up.
func waitRunning(name string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		ifc, err := net.InterfaceByName(name)
		if err != nil {
			return err
		}
		if ifc.Flags&net.FlagRunning != 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is not running after 2s (flags %v)", name, ifc.Flags)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// configure gives the link called name the address ip/24 and brings it up;
// it returns the link's index and MAC address.
func configure(name string, ip net.IP) (int, net.HardwareAddr, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return 0, nil, err
	}
	return ifc.Index, ifc.HardwareAddr, withRTNL(func(r *rtnl) error {
		if err := r.addAddr(ifc.Index, ip, 24); err != nil {
			return fmt.Errorf("add address %s: %w", ip, err)
		}
		return r.setUp(ifc.Index)
	})
}

// moduleConfig names the CONFIG option (without CONFIG_) of each module the
// networking specs may need.
var moduleConfig = map[string]string{"veth": "veth", "netkit": "netkit", "sch_ingress": "net_sch_ingress", "cls_bpf": "net_cls_bpf"}

// moduleFact says, for evidence, how the running kernel provides a
// module's feature: built in, a module that is loaded, or a module that is
// not (a VM guest loads the ones the suite needs; nothing autoloads them
// there).
func (c *Cell) moduleFact(module string) string {
	config := "CONFIG_" + strings.ToUpper(moduleConfig[module])
	v, known := c.Kernel.ConfigValue(config)
	switch {
	case !known:
		return ""
	case v == "":
		return " (" + config + " is not set)"
	case v != "m":
		return fmt.Sprintf(" (%s=%s)", config, v)
	}
	if _, err := os.Stat("/sys/module/" + module); err != nil {
		return fmt.Sprintf(" (%s=m, module %s not loaded: no /sys/module/%s)", config, module, module)
	}
	return fmt.Sprintf(" (%s=m, module %s loaded)", config, module)
}
