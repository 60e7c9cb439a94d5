package harness

import (
	"encoding/binary"
	"fmt"
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The few rtnetlink requests the networking specs need, written with
// golang.org/x/sys/unix alone: inside a VM guest the suite binary is the
// only program, so there is no ip(8) or tc(8) to call. Each request runs in
// the network namespace of the calling thread and waits for the kernel's
// acknowledgement, whose errno is returned as is.

// rtnl is a NETLINK_ROUTE socket in the calling thread's namespace.
type rtnl struct {
	fd  int
	seq uint32
}

func dialRTNL() (*rtnl, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	// A reply that never comes must not hang the spec.
	tv := unix.Timeval{Sec: 2}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	return &rtnl{fd: fd}, nil
}

func (r *rtnl) Close() error { return unix.Close(r.fd) }

// do sends one request with NLM_F_ACK and returns the kernel's errno.
func (r *rtnl) do(typ, flags uint16, body []byte) error {
	r.seq++
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body))
	msg = append(msg, body...)
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], r.seq)
	if err := unix.Sendto(r.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 65536)
	for {
		n, _, err := unix.Recvfrom(r.fd, buf, 0)
		if err != nil {
			return fmt.Errorf("netlink reply: %w", err)
		}
		for b := buf[:n]; len(b) >= unix.NLMSG_HDRLEN; {
			l := int(binary.NativeEndian.Uint32(b[0:]))
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				return fmt.Errorf("netlink reply: bad length %d", l)
			}
			typ, seq := binary.NativeEndian.Uint16(b[4:]), binary.NativeEndian.Uint32(b[8:])
			if typ == unix.NLMSG_ERROR && seq == r.seq && l >= unix.NLMSG_HDRLEN+4 {
				if code := int32(binary.NativeEndian.Uint32(b[unix.NLMSG_HDRLEN:])); code != 0 {
					return unix.Errno(-code)
				}
				return nil
			}
			b = b[min((l+unix.NLMSG_ALIGNTO-1)&^(unix.NLMSG_ALIGNTO-1), len(b)):]
		}
	}
}

// attrs builds a sequence of netlink attributes.
type attrs []byte

func (a attrs) add(typ uint16, value []byte) attrs {
	l := unix.SizeofRtAttr + len(value)
	hdr := make([]byte, unix.SizeofRtAttr)
	binary.NativeEndian.PutUint16(hdr[0:], uint16(l))
	binary.NativeEndian.PutUint16(hdr[2:], typ)
	a = append(append(a, hdr...), value...)
	for len(a)%unix.NLA_ALIGNTO != 0 {
		a = append(a, 0)
	}
	return a
}

func (a attrs) u32(typ uint16, v uint32) attrs {
	return a.add(typ, binary.NativeEndian.AppendUint32(nil, v))
}

func (a attrs) str(typ uint16, s string) attrs { return a.add(typ, append([]byte(s), 0)) }

func (a attrs) nest(typ uint16, inner attrs) attrs {
	return a.add(typ|unix.NLA_F_NESTED, inner)
}

func bytesOf[T any](v *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))
}

func ifinfo(index int, flags, change uint32) []byte {
	return bytesOf(&unix.IfInfomsg{Family: unix.AF_UNSPEC, Index: int32(index), Flags: flags, Change: change})
}

// setUp brings a link up.
func (r *rtnl) setUp(index int) error {
	return r.do(unix.RTM_NEWLINK, 0, ifinfo(index, unix.IFF_UP, unix.IFF_UP))
}

// newPair creates a link of kind ("veth", "netkit") called name, with its
// peer called peer moved into the namespace peerNS, each with queues
// transmit and receive queues; data holds the kind's own attributes.
func (r *rtnl) newPair(kind, name, peer string, peerNS int, data attrs, queues uint32) error {
	q := attrs(nil).u32(unix.IFLA_NUM_TX_QUEUES, queues).u32(unix.IFLA_NUM_RX_QUEUES, queues)
	peerInfo := append(ifinfo(0, 0, 0), append(attrs(nil).str(unix.IFLA_IFNAME, peer).u32(unix.IFLA_NET_NS_FD, uint32(peerNS)), q...)...)
	const peerInfoAttr = 1 // VETH_INFO_PEER and IFLA_NETKIT_PEER_INFO alike
	info := attrs(nil).str(unix.IFLA_INFO_KIND, kind).nest(unix.IFLA_INFO_DATA, append(attrs(nil).add(peerInfoAttr, peerInfo), data...))
	body := append(ifinfo(0, 0, 0), append(attrs(nil).str(unix.IFLA_IFNAME, name).nest(unix.IFLA_LINKINFO, info), q...)...)
	return r.do(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body)
}

// addAddr assigns ip/prefix to a link.
func (r *rtnl) addAddr(index int, ip net.IP, prefix int) error {
	msg := unix.IfAddrmsg{Family: unix.AF_INET, Prefixlen: uint8(prefix), Index: uint32(index)}
	body := append(bytesOf(&msg), attrs(nil).add(unix.IFA_LOCAL, ip.To4()).add(unix.IFA_ADDRESS, ip.To4())...)
	return r.do(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body)
}

// addNeigh adds a permanent neighbour entry: ip is at mac on the link.
func (r *rtnl) addNeigh(index int, ip net.IP, mac net.HardwareAddr) error {
	msg := unix.NdMsg{Family: unix.AF_INET, Ifindex: int32(index), State: unix.NUD_PERMANENT}
	body := append(bytesOf(&msg), attrs(nil).add(unix.NDA_DST, ip.To4()).add(unix.NDA_LLADDR, mac)...)
	return r.do(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, body)
}

// addRoute adds a route to dst out of a link, via gw when it is not nil,
// with extra attributes (a lightweight tunnel encapsulation).
func (r *rtnl) addRoute(dst *net.IPNet, index int, gw net.IP, extra attrs) error {
	prefix, _ := dst.Mask.Size()
	msg := unix.RtMsg{Family: unix.AF_INET, Dst_len: uint8(prefix), Table: unix.RT_TABLE_MAIN,
		Protocol: unix.RTPROT_BOOT, Scope: unix.RT_SCOPE_LINK, Type: unix.RTN_UNICAST}
	a := attrs(nil).add(unix.RTA_DST, dst.IP.To4()).u32(unix.RTA_OIF, uint32(index))
	if gw != nil {
		msg.Scope = unix.RT_SCOPE_UNIVERSE
		a = a.add(unix.RTA_GATEWAY, gw.To4())
	}
	return r.do(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, append(bytesOf(&msg), append(a, extra...)...))
}

// lwtBPF is the RTA_ENCAP_TYPE/RTA_ENCAP pair that runs prog at hook
// (LWT_BPF_IN, LWT_BPF_OUT, LWT_BPF_XMIT) for a route's packets.
func lwtBPF(hook uint16, progFD int, name string) attrs {
	const (
		lwtBPFProgFD   = 1 // LWT_BPF_PROG_FD
		lwtBPFProgName = 2 // LWT_BPF_PROG_NAME
	)
	prog := attrs(nil).u32(lwtBPFProgFD, uint32(progFD)).str(lwtBPFProgName, name)
	return attrs(nil).add(unix.RTA_ENCAP_TYPE, binary.NativeEndian.AppendUint16(nil, unix.LWTUNNEL_ENCAP_BPF)).
		nest(unix.RTA_ENCAP, attrs(nil).nest(hook, prog))
}

// The clsact qdisc's handle and its ingress and egress hooks, and the
// uapi values of linux/pkt_cls.h and linux/lwtunnel.h that x/sys/unix lacks.
const (
	tcHClsact  = 0xFFFFFFF1 // TC_H_CLSACT, the qdisc's parent
	tcHHandle  = 0xFFFF0000 // TC_H_MAKE(TC_H_CLSACT, 0), its handle ffff:
	tcHIngress = 0xFFFFFFF2 // TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)
	tcHEgress  = 0xFFFFFFF3 // TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)

	tcaBPFFD            = 6 // TCA_BPF_FD
	tcaBPFName          = 7 // TCA_BPF_NAME
	tcaBPFFlags         = 8 // TCA_BPF_FLAGS
	tcaBPFFlagActDirect = 1 // TCA_BPF_FLAG_ACT_DIRECT

	lwtBPFIn   = 1 // LWT_BPF_IN
	lwtBPFOut  = 2 // LWT_BPF_OUT
	lwtBPFXmit = 3 // LWT_BPF_XMIT
)

// tcmsg is struct tcmsg of linux/rtnetlink.h.
type tcmsg struct {
	Family               uint8
	_                    [3]byte
	Ifindex              int32
	Handle, Parent, Info uint32
}

// addClsact adds the clsact qdisc, which holds ingress and egress filters.
func (r *rtnl) addClsact(index int) error {
	msg := tcmsg{Family: unix.AF_UNSPEC, Ifindex: int32(index), Handle: tcHHandle, Parent: tcHClsact}
	return r.do(unix.RTM_NEWQDISC, unix.NLM_F_CREATE|unix.NLM_F_EXCL, append(bytesOf(&msg), attrs(nil).str(unix.TCA_KIND, "clsact")...))
}

// addBPFFilter adds a cls_bpf filter in direct-action mode at parent
// (tcHIngress or tcHEgress), matching every protocol.
func (r *rtnl) addBPFFilter(index int, parent uint32, progFD int, name string) error {
	const prio = 1
	msg := tcmsg{Family: unix.AF_UNSPEC, Ifindex: int32(index), Handle: 1, Parent: parent,
		Info: prio<<16 | uint32(htons(unix.ETH_P_ALL))}
	opts := attrs(nil).u32(tcaBPFFD, uint32(progFD)).str(tcaBPFName, name).u32(tcaBPFFlags, tcaBPFFlagActDirect)
	body := append(bytesOf(&msg), attrs(nil).str(unix.TCA_KIND, "bpf").nest(unix.TCA_OPTIONS, opts)...)
	return r.do(unix.RTM_NEWTFILTER, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body)
}

// setXDP attaches (progFD >= 0) or detaches (-1) an XDP program the way
// kernels before bpf_link did: IFLA_XDP on the link.
func (r *rtnl) setXDP(index, progFD int, flags uint32) error {
	xdp := attrs(nil).u32(unix.IFLA_XDP_FD, uint32(int32(progFD))).u32(unix.IFLA_XDP_FLAGS, flags)
	return r.do(unix.RTM_SETLINK, 0, append(ifinfo(index, 0, 0), attrs(nil).nest(unix.IFLA_XDP, xdp)...))
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
