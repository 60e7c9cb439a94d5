package netns

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

// The ports and address bpf/net.c matches. Fixed numbers are safe: every
// socket of a networking spec lives in a namespace that spec created.
const (
	ProbePort   = 4242
	ServicePort = 4243
)

var (
	// Loopback is where single-namespace specs send their probes.
	Loopback = net.IPv4(127, 0, 0, 1).To4()
	// VirtualIP is the address connect4_rewrite maps to Loopback:ServicePort
	// (TEST-NET-1: routed nowhere, so only the rewrite can make it work).
	VirtualIP = net.IPv4(192, 0, 2, 1).To4()
)

// UseCongestionControl opens a loopback TCP connection in ns whose client
// picks the congestion control called name (TCP_CONGESTION) and exchanges
// a message: the kernel initialises the congestion control on connect.
func (ns *NS) UseCongestionControl(name string) harness.Trigger {
	c := ns.c
	c.Helper()
	ln := ns.TCPListener(0)
	sa, err := unix.Getsockname(ln)
	c.Setup("getsockname", err)
	fd := ns.socket(unix.SOCK_STREAM, "open client")
	return harness.Effect("a loopback TCP connection whose client set TCP_CONGESTION="+name, "which used it", 1, func() error {
		if err := unix.SetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION, name); err != nil {
			return fmt.Errorf("setsockopt(TCP_CONGESTION): %w", err)
		}
		if err := noEINTR(func() error { return unix.Connect(fd, sa) }); err != nil {
			return err
		}
		if got, err := unix.GetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION); err != nil || got != name {
			return fmt.Errorf("getsockopt(TCP_CONGESTION) = %q, %v", got, err)
		}
		_, err := unix.Write(fd, []byte("bpfmatrix"))
		return err
	}())
}

// Outcome is what a UDPFlow's probes must come to: half of them carry a
// payload starting with 'K' (keep), half with 'D' (drop), so that a
// filter's verdict shows in which ones arrive.
type Outcome int

// The outcomes.
const (
	// AllArrive: the program let every probe through.
	AllArrive Outcome = iota
	// NoneArrives: the program dropped every probe, and the kernel applied
	// its verdict.
	NoneArrives
	// KeptArrive: exactly the probes marked 'K' arrived.
	KeptArrive
)

// UDPFlow is a socket in one namespace sending probes to a socket bound at
// ProbePort in another (or the same) namespace.
type UDPFlow struct {
	send, recv int
	to         unix.SockaddrInet4
}

// UDPFlow opens the two sockets: the receiver bound to dst:ProbePort in
// namespace to, the sender in namespace from.
func (from *NS) UDPFlow(to *NS, dst net.IP) *UDPFlow {
	c := from.c
	c.Helper()
	f := &UDPFlow{to: unix.SockaddrInet4{Port: ProbePort}}
	copy(f.to.Addr[:], dst.To4())
	f.recv = to.socket(unix.SOCK_DGRAM, "open receiver")
	c.Setup("bind receiver", unix.Bind(f.recv, &f.to))
	f.send = from.socket(unix.SOCK_DGRAM, "open sender")
	return f
}

// Receiver is the receiving socket, for attaching socket filters.
func (f *UDPFlow) Receiver() syscall.Conn { return fdConn(f.recv) }

// Send sends harness.TriggerCalls probes, alternately marked 'K' and 'D',
// collects what arrives, and compares it with want. Each probe is one event
// for a program on its way.
func (f *UDPFlow) Send(want Outcome) harness.Trigger {
	t, sendErrs := f.sendProbes()
	received, kept := receiveProbes(f.recv, harness.TriggerCalls, firstProbeWait, nextProbeWait)
	return f.judge(t, want, sendErrs, received, kept)
}

// Probes that never come must not hold a spec: a receiver waits for the
// first one long enough for a busy machine, for each next one briefly.
const (
	firstProbeWait = 500 * time.Millisecond
	nextProbeWait  = 100 * time.Millisecond
)

// judgedSettle is how long SendCounted gives the last probe a program
// judged to reach its socket: a path of microseconds on hardware, ~50
// times slower in an emulated guest (TCG).
const judgedSettle = 20 * time.Millisecond

// SendCounted is Send for a program k on the probes' way that counts each
// probe it judges, whether it keeps or drops it, and it does not wait out
// a timeout to show that a probe did not arrive. The kernel takes each
// probe from the program to its socket before it takes the next one
// through the program (the backlog, tc ingress and socket filters handle
// one skb at a time), so when k has counted all n probes, the first n-1
// that were let through are queued already: a kernel that ignored a drop
// verdict shows at least n-1 arrivals. judgedSettle covers the last one.
// Where probes must arrive and too few did, a busy guest may have held
// one on the other vCPU: SendCounted then waits for them as Send does, so
// only a failing run pays for the wait.
func (f *UDPFlow) SendCounted(want Outcome, k harness.Counter) harness.Trigger {
	t, sendErrs := f.sendProbes()
	awaitJudged(k, t.Events)
	n := int(t.Events)
	received, kept := receiveProbes(f.recv, n, 0, 0)
	if received < arrivals(want, n) {
		more, moreKept := receiveProbes(f.recv, n-received, firstProbeWait, nextProbeWait)
		received, kept = received+more, kept+moreKept
	}
	return f.judge(t, want, sendErrs, received, kept)
}

// arrivals is how many of n probes want says arrive.
func arrivals(want Outcome, n int) int {
	switch want {
	case AllArrive:
		return n
	case KeptArrive:
		return n / 2
	}
	return 0
}

// awaitJudged waits until k has counted n events, for 2 s at most, then
// judgedSettle more (SendCounted).
func awaitJudged(k harness.Counter, n uint64) {
	for deadline := time.Now().Add(2 * time.Second); k.Events() < n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(judgedSettle)
}

// sendProbes sends the harness.TriggerCalls probes; the sends that failed
// are said in words.
func (f *UDPFlow) sendProbes() (harness.Trigger, string) {
	const n = harness.TriggerCalls
	var sendErrs string
	for i := range n {
		payload := []byte(fmt.Sprintf("K bpfmatrix probe %d", i))
		if i%2 == 1 {
			payload[0] = 'D'
		}
		if err := unix.Sendto(f.send, payload, 0, &f.to); err != nil {
			sendErrs += fmt.Sprintf(" (send %d: %v)", i, err)
		}
	}
	return harness.Trigger{Events: n}, sendErrs
}

// receiveProbes reads up to limit probes from socket fd until none comes in
// time: first for the first one, next for each one after; 0 takes only
// what is queued already. kept counts those marked 'K'.
func receiveProbes(fd, limit int, first, next time.Duration) (received, kept int) {
	wait := first
	buf := make([]byte, 256)
	for received < limit {
		flags := unix.MSG_DONTWAIT
		if wait > 0 {
			tv := unix.NsecToTimeval(wait.Nanoseconds())
			_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
			flags = 0
		}
		wait = next
		size, err := recvFlags(fd, buf, flags)
		if err != nil {
			break
		}
		received++
		if size > 0 && buf[0] == 'K' {
			kept++
		}
	}
	return received, kept
}

// judge says what the probes came to against want.
func (f *UDPFlow) judge(t harness.Trigger, want Outcome, sendErrs string, received, kept int) harness.Trigger {
	n := int(t.Events)
	t.What = fmt.Sprintf("%d UDP datagrams to %s%s (%d arrived, %d of them marked 'K')",
		n, net.IP(f.to.Addr[:]), sendErrs, received, kept)
	switch {
	case want == AllArrive && received != n:
		t.Err = fmt.Errorf("only %d of %d probes arrived", received, n)
	case want == NoneArrives && received != 0:
		t.Err = fmt.Errorf("the program returned drop, yet %d of %d probes arrived", received, n)
	case want == KeptArrive && (received != n/2 || kept != received):
		t.Err = fmt.Errorf("expected the %d 'K' probes of %d to arrive", n/2, n)
	}
	return t
}

// SendUDP sends harness.TriggerCalls datagrams from namespace ns to
// dst:ProbePort, where nothing needs to listen: for programs on the way out.
func (ns *NS) SendUDP(dst net.IP) harness.Trigger {
	c := ns.c
	c.Helper()
	fd := ns.socket(unix.SOCK_DGRAM, "open sender")
	to := &unix.SockaddrInet4{Port: ProbePort}
	copy(to.Addr[:], dst.To4())
	return harness.Repeat("UDP datagrams to "+dst.String(), func() { _ = unix.Sendto(fd, []byte("bpfmatrix probe"), 0, to) })
}

// socket opens an IPv4 socket in ns, closed when the spec ends; a refusal
// ends the spec, step saying what the socket was for.
func (ns *NS) socket(typ int, step string) int {
	c := ns.c
	c.Helper()
	var fd int
	c.Setup(step, ns.Do(func() (err error) { fd, err = rawSocket(c, typ); return err }))
	return fd
}

// rawSocket opens an IPv4 socket in the calling thread's namespace, closed
// when the spec ends.
func rawSocket(c *harness.Cell, typ int) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		c.Defer(func() { unix.Close(fd) })
	}
	return fd, err
}

// TCPConn is an established loopback TCP connection: both ends.
type TCPConn struct{ Client, Server int }

// TCPListener listens on 127.0.0.1:port in ns (port 0: any).
func (ns *NS) TCPListener(port int) int {
	c := ns.c
	c.Helper()
	fd := ns.socket(unix.SOCK_STREAM, "open listener")
	c.Setup("bind listener", unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}))
	c.Setup("listen", unix.Listen(fd, 8))
	return fd
}

// TCPConnect connects to 127.0.0.1:port, or to addr when given, from ns,
// and accepts the connection on listener.
func (ns *NS) TCPConnect(listener int, to unix.Sockaddr) (TCPConn, error) {
	c := ns.c
	c.Helper()
	conn := TCPConn{Client: ns.socket(unix.SOCK_STREAM, "open client")}
	var err error
	if err := noEINTR(func() error { return unix.Connect(conn.Client, to) }); err != nil {
		return conn, fmt.Errorf("connect: %w", err)
	}
	tv := unix.Timeval{Sec: 1}
	_ = unix.SetsockoptTimeval(listener, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	err = noEINTR(func() (err error) { conn.Server, _, err = unix.Accept4(listener, unix.SOCK_CLOEXEC); return err })
	if err != nil {
		return conn, fmt.Errorf("accept: %w", err)
	}
	c.Defer(func() { unix.Close(conn.Server) })
	return conn, nil
}

// NewTCPConn establishes a loopback TCP connection in ns.
func (ns *NS) NewTCPConn() TCPConn {
	c := ns.c
	c.Helper()
	ln := ns.TCPListener(0)
	sa, err := unix.Getsockname(ln)
	c.Setup("getsockname", err)
	conn, err := ns.TCPConnect(ln, sa)
	c.Triggered("establish TCP connection", err)
	unix.Close(ln)
	return conn
}

// OpenAndClose opens a loopback TCP connection in ns, sends a byte each way
// and closes both ends: the whole TCP state machine, on loopback.
// Each connection changes state several times; one is the least.
func (ns *NS) OpenAndClose() harness.Trigger {
	c := ns.c
	c.Helper()
	conn := ns.NewTCPConn()
	_, _ = unix.Write(conn.Client, []byte{1})
	_, _ = unix.Write(conn.Server, []byte{1})
	unix.Close(conn.Client)
	unix.Close(conn.Server)
	return harness.Trigger{What: "one loopback TCP connection opened, used and closed", Events: 1}
}

// Redirect sends a message on socket from and reads it on socket to, where
// it arrives only if a program moved it there.
func Redirect(from, to int) harness.Trigger {
	msg := []byte("bpfmatrix redirected message")
	return harness.Effect(fmt.Sprintf("%q sent on one socket", msg), "which arrived on another", 1, func() error {
		if _, err := unix.Write(from, msg); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		tv := unix.Timeval{Usec: 300000}
		_ = unix.SetsockoptTimeval(to, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		buf := make([]byte, 256)
		n, err := recv(to, buf)
		switch {
		case err != nil:
			return fmt.Errorf("read on the target socket: %w", err)
		case !bytes.Equal(buf[:n], msg):
			return fmt.Errorf("the target socket read %q", buf[:n])
		}
		return nil
	}())
}

// Steer connects to 127.0.0.1:ServicePort in ns, where nothing listens, and
// accepts on listener: only a program that steers the connection makes
// that work.
func (ns *NS) Steer(listener int) harness.Trigger {
	c := ns.c
	c.Helper()
	_, err := ns.TCPConnect(listener, &unix.SockaddrInet4{Port: ServicePort, Addr: [4]byte{127, 0, 0, 1}})
	return harness.Effect(fmt.Sprintf("a connection to port %d, where nothing listens", ServicePort),
		fmt.Sprintf("which the listener on %d accepted", ProbePort), 1, err)
}

// ConnectVirtual connects to VirtualIP:ProbePort from ns, where only a
// listener on 127.0.0.1:ServicePort exists and VirtualIP has no route.
func (ns *NS) ConnectVirtual() harness.Trigger {
	c := ns.c
	c.Helper()
	ln := ns.TCPListener(ServicePort)
	to := &unix.SockaddrInet4{Port: ProbePort}
	copy(to.Addr[:], VirtualIP)
	_, err := ns.TCPConnect(ln, to)
	return harness.Effect(fmt.Sprintf("a connect to %s:%d", VirtualIP, ProbePort),
		fmt.Sprintf("which reached the listener on 127.0.0.1:%d", ServicePort), 1, err)
}

// BindProbe binds a UDP socket in ns to 127.0.0.1:ProbePort and reads back
// the port the kernel actually bound.
func (ns *NS) BindProbe() harness.Trigger {
	c := ns.c
	c.Helper()
	fd := ns.socket(unix.SOCK_DGRAM, "open socket")
	return harness.Effect(fmt.Sprintf("a bind to port %d", ProbePort), fmt.Sprintf("which was bound to port %d", ServicePort), 1, func() error {
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: ProbePort, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			return err
		}
		sa, err := unix.Getsockname(fd)
		if err != nil {
			return err
		}
		if port := sa.(*unix.SockaddrInet4).Port; port != ServicePort {
			return fmt.Errorf("bound to port %d", port)
		}
		return nil
	}())
}

// Sockets creates and closes TCP and UDP sockets in ns.
func (ns *NS) Sockets() harness.Trigger {
	c := ns.c
	c.Helper()
	c.Setup("create sockets", ns.Do(func() error {
		for i := range harness.TriggerCalls {
			fd, err := unix.Socket(unix.AF_INET, []int{unix.SOCK_STREAM, unix.SOCK_DGRAM}[i%2]|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			unix.Close(fd)
		}
		return nil
	}))
	return harness.Trigger{What: fmt.Sprintf("%d socket(2) calls", harness.TriggerCalls), Events: harness.TriggerCalls}
}

// SetSockopts sets IP_TOS on a UDP socket in ns harness.TriggerCalls times.
func (ns *NS) SetSockopts() harness.Trigger {
	c := ns.c
	c.Helper()
	fd := ns.socket(unix.SOCK_DGRAM, "open socket")
	return harness.Repeat("setsockopt(IP_TOS) calls", func() {
		c.Triggered("setsockopt(IP_TOS)", unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TOS, 0x10))
	})
}

// ReuseportGroup is two UDP sockets sharing 127.0.0.1:ProbePort with
// SO_REUSEPORT in one namespace.
type ReuseportGroup struct {
	ns    *NS
	Socks [2]int
}

// NewReuseportGroup binds the group's two sockets in ns.
func (ns *NS) NewReuseportGroup() *ReuseportGroup {
	c := ns.c
	c.Helper()
	g := &ReuseportGroup{ns: ns}
	for i := range g.Socks {
		g.Socks[i] = ns.socket(unix.SOCK_DGRAM, "open group socket")
		c.Setup("SO_REUSEPORT", unix.SetsockoptInt(g.Socks[i], unix.SOL_SOCKET, unix.SO_REUSEPORT, 1))
		c.Setup("bind group socket", unix.Bind(g.Socks[i], &unix.SockaddrInet4{Port: ProbePort, Addr: [4]byte{127, 0, 0, 1}}))
	}
	return g
}

// Attach attaches a sk_reuseport program to the group.
func (g *ReuseportGroup) Attach(prog *ebpf.Program) error {
	return unix.SetsockoptInt(g.Socks[0], unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_EBPF, prog.FD())
}

// Send sends harness.TriggerCalls datagrams from as many sockets (so that
// the kernel's own hash would spread them over the group) and checks that
// all arrived at the socket the program k selects, Socks[1]. k counts each
// datagram it selects a socket for; once it has counted all, what the two
// sockets hold is what arrived (UDPFlow.SendCounted says why), with no
// receive timeout waited out unless Socks[1] still lacks some.
func (g *ReuseportGroup) Send(k harness.Counter) harness.Trigger {
	c := g.ns.c
	c.Helper()
	to := &unix.SockaddrInet4{Port: ProbePort, Addr: [4]byte{127, 0, 0, 1}}
	t := harness.Repeat("datagrams from as many source ports", func() {
		c.Triggered("send", unix.Sendto(g.ns.socket(unix.SOCK_DGRAM, "open sender"), []byte("bpfmatrix probe"), 0, to))
	})
	awaitJudged(k, t.Events)
	var got [2]int
	for i, fd := range g.Socks {
		got[i], _ = receiveProbes(fd, harness.TriggerCalls, 0, 0)
	}
	if got[1] < harness.TriggerCalls {
		more, _ := receiveProbes(g.Socks[1], harness.TriggerCalls-got[1], firstProbeWait, nextProbeWait)
		got[1] += more
	}
	if got[1] != harness.TriggerCalls || got[0] != 0 {
		t.Err = fmt.Errorf("socket 0 got %d, socket 1 got %d", got[0], got[1])
	} else {
		t.What += ", all of which arrived at the selected socket"
	}
	return t
}

// ClassicKeepFilter is a classic BPF socket filter for UDP sockets that
// keeps datagrams whose payload starts with 'K' and drops the others.
var ClassicKeepFilter = []unix.SockFilter{
	{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: 8}, // first payload byte, after the UDP header
	{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: 'K'},
	{Code: unix.BPF_RET | unix.BPF_K, K: 0xffff},
	{Code: unix.BPF_RET | unix.BPF_K, K: 0},
}

// AttachClassic attaches a classic BPF filter with SO_ATTACH_FILTER.
func AttachClassic(conn syscall.Conn, filter []unix.SockFilter) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptSockFprog(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog)
	}); err != nil {
		return err
	}
	return serr
}

// fdConn lets a raw socket descriptor be passed where cilium/ebpf wants a
// syscall.Conn (link.AttachSocketFilter).
type fdConn int

func (c fdConn) SyscallConn() (syscall.RawConn, error) { return rawFD(c), nil }

type rawFD int

func (r rawFD) Control(fn func(fd uintptr)) error { fn(uintptr(r)); return nil }
func (r rawFD) Read(func(fd uintptr) bool) error  { return errors.ErrUnsupported }
func (r rawFD) Write(func(fd uintptr) bool) error { return errors.ErrUnsupported }

// attach runs attach in ns: links to an interface or a namespace hook
// (XDP, tcx, netkit, netfilter) resolve it in the attaching thread's
// namespace.
func (ns *NS) attach(attach func() (link.Link, error)) (link.Link, error) {
	var l link.Link
	err := ns.Do(func() error {
		var err error
		l, err = attach()
		return err
	})
	return l, err
}

// noEINTR retries a blocking socket call that a signal interrupted. Calls
// on sockets with a timeout (SO_RCVTIMEO) are not restarted after a signal
// handler, and the Go runtime signals its threads to preempt goroutines.
func noEINTR(call func() error) error {
	for {
		if err := call(); err != unix.EINTR {
			return err
		}
	}
}

// recv reads one datagram or what a stream socket has, until its timeout.
func recv(fd int, buf []byte) (int, error) { return recvFlags(fd, buf, 0) }

func recvFlags(fd int, buf []byte, flags int) (int, error) {
	var n int
	err := noEINTR(func() (err error) { n, _, err = unix.Recvfrom(fd, buf, flags); return err })
	return n, err
}
