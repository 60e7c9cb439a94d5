package netns

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/suites/harness"
	"github.com/bpfmatrix/bpfmatrix/suites/internal/rtnl"
)

// Pair is a link pair between two namespaces the spec created: packets A
// sends to BAddr cross the pair from A's end to B's end.
type Pair struct {
	c              *harness.Cell
	A, B           *NS
	AIndex, BIndex int
	AAddr, BAddr   net.IP
}

// Send sends probes from A to B's address, where B listens for them, and
// compares what arrives with want.
func (v *Pair) Send(want Outcome) harness.Trigger {
	v.c.Helper()
	return v.A.UDPFlow(v.B, v.BAddr).Send(want)
}

// SendCounted is Send through a program k that counts each probe it
// judges: k's count, not a receive timeout, says when every probe that
// will arrive has (UDPFlow.SendCounted).
func (v *Pair) SendCounted(want Outcome, k harness.Counter) harness.Trigger {
	v.c.Helper()
	return v.A.UDPFlow(v.B, v.BAddr).SendCounted(want, k)
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
func NewVeth(c *harness.Cell) *Pair {
	c.Helper()
	return newPair(c, "veth", nil, 1)
}

// NewMultiqueueVeth is NewVeth with two queues each way: transmitting on a
// multiqueue device hashes each packet to pick a queue, and hashing runs the
// flow dissector.
func NewMultiqueueVeth(c *harness.Cell) *Pair {
	c.Helper()
	return newPair(c, "veth", nil, 2)
}

// NewNetkit is NewVeth with a netkit pair in L2 mode (so that packets carry
// an Ethernet header, like veth's), A's end being the primary.
func NewNetkit(c *harness.Cell) *Pair {
	c.Helper()
	const l2 = 0 // NETKIT_L2
	return newPair(c, "netkit", rtnl.Attrs(nil).U32(unix.IFLA_NETKIT_MODE, l2), 1)
}

// The ends' ifindexes. Each end is the only link but lo of a fresh
// namespace, where the kernel would number both 2; a pair whose ends have
// one ifindex waits up to a second for the link watcher (rtnl.NewPair, docs/facts.md#veth-ifindex).
const pairIndexA, pairIndexB = 10, 11

func newPair(c *harness.Cell, kind string, data rtnl.Attrs, queues uint32) *Pair {
	c.Helper()
	v := &Pair{c: c, A: New(c), B: New(c), AAddr: vethA, BAddr: vethB}
	c.Setup("create "+kind+" pair"+moduleFact(c, kind), v.A.Do(func() error {
		return rtnl.With(func(r *rtnl.Conn) error {
			return r.NewPair(kind, "bm0", pairIndexA, "bm1", pairIndexB, v.B.FD(), data, queues)
		})
	}))
	var macA, macB net.HardwareAddr
	var err error
	c.Setup("configure "+kind+" end A", v.A.Do(func() error { v.AIndex, macA, err = configure("bm0", vethA); return err }))
	c.Setup("configure "+kind+" end B", v.B.Do(func() error { v.BIndex, macB, err = configure("bm1", vethB); return err }))
	// Permanent neighbour entries spare every spec ARP, whose first request
	// can be lost while the link's qdisc is being activated: then the
	// retransmission comes only after a second.
	c.Setup("add neighbour B on A", v.A.Do(func() error {
		return rtnl.With(func(r *rtnl.Conn) error { return r.AddNeigh(v.AIndex, vethB, macB) })
	}))
	c.Setup("add neighbour A on B", v.B.Do(func() error {
		return rtnl.With(func(r *rtnl.Conn) error { return r.AddNeigh(v.BIndex, vethA, macA) })
	}))
	c.Setup("wait for "+kind+" end A", v.A.Do(func() error { return waitRunning("bm0") }))
	c.Setup("wait for "+kind+" end B", v.B.Do(func() error { return waitRunning("bm1") }))
	c.Setup("warm up "+kind+" pair", v.warmUp())
	return v
}

// warmUpPort is where warmUp sends: not ProbePort, so that no program
// that matches probes counts it.
const warmUpPort = 4241

// warmUp sends datagrams from A to B until one arrives, before any program
// is attached: then both ends' qdiscs are active, and no probe dies in the
// noop qdisc a link has for a moment after its carrier comes up.
func (v *Pair) warmUp() error {
	var sfd, rfd int
	var err error
	if err := v.B.Do(func() error { rfd, err = rawSocket(v.c, unix.SOCK_DGRAM); return err }); err != nil {
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
	if err := v.A.Do(func() error { sfd, err = rawSocket(v.c, unix.SOCK_DGRAM); return err }); err != nil {
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
	return ifc.Index, ifc.HardwareAddr, rtnl.With(func(r *rtnl.Conn) error {
		if err := r.AddAddr(ifc.Index, ip, 24); err != nil {
			return fmt.Errorf("add address %s: %w", ip, err)
		}
		return r.SetUp(ifc.Index)
	})
}

// moduleConfig names the CONFIG option (without CONFIG_) of each module the
// networking specs may need.
var moduleConfig = map[string]string{"veth": "veth", "netkit": "netkit", "sch_ingress": "net_sch_ingress", "cls_bpf": "net_cls_bpf"}

// moduleFact says, for evidence, how the running kernel provides a
// module's feature: built in, a module that is loaded, or a module that is
// not (a VM guest loads the ones the suite needs; nothing autoloads them
// there).
func moduleFact(c *harness.Cell, module string) string {
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
