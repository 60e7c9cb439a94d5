// Package rtnl is the few rtnetlink requests the networking fixtures need,
// written with golang.org/x/sys/unix alone. It is hand-written rather than
// a netlink library because the suite binary is often the only program of
// its target (a VM guest has no ip(8) or tc(8)) and needs about ten
// requests, each answered by an acknowledgement whose errno the evidence
// must carry as is, with the kernel's extended ack message. The figures
// behind keeping it hand-written are in docs/decisions.md#rtnetlink. Each
// request runs in the network namespace of the calling thread.
package rtnl

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Conn is a NETLINK_ROUTE socket in the calling thread's namespace.
type Conn struct {
	fd  int
	seq uint32
}

func dial() (*Conn, error) {
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
	// Extended acks carry the kernel's own words for a refusal ("Unknown
	// device type"), for the evidence; capped acks leave our request out of
	// them. Kernels before 4.12 lack both and still answer with the errno.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	return &Conn{fd: fd}, nil
}

func (r *Conn) Close() error { return unix.Close(r.fd) }

// With runs fn with a route netlink socket of the calling thread's
// namespace, closed when fn returns.
func With(fn func(r *Conn) error) error {
	r, err := dial()
	if err != nil {
		return err
	}
	defer r.Close()
	return fn(r)
}

// do sends one request with NLM_F_ACK and returns the kernel's errno.
func (r *Conn) do(typ, flags uint16, body []byte) error {
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
					return &Error{Errno: unix.Errno(-code), Msg: extackMsg(b[:l])}
				}
				return nil
			}
			b = b[min((l+unix.NLMSG_ALIGNTO-1)&^(unix.NLMSG_ALIGNTO-1), len(b)):]
		}
	}
}

// Error is the kernel's refusal of a request: its errno, and the message
// of its extended ack when it sent one.
type Error struct {
	Errno unix.Errno
	Msg   string
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return e.Errno.Error()
	}
	return e.Errno.Error() + ": " + e.Msg
}

// Unwrap lets errors.Is and errors.As see the errno, which the evidence
// classifies by.
func (e *Error) Unwrap() error { return e.Errno }

// extackMsg returns NLMSGERR_ATTR_MSG of a capped error message (header,
// struct nlmsgerr, then attributes), or "".
func extackMsg(m []byte) string {
	const flagAckTLVs, attrMsg = 0x200, 1 // NLM_F_ACK_TLVS, NLMSGERR_ATTR_MSG
	if binary.NativeEndian.Uint16(m[6:])&flagAckTLVs == 0 {
		return ""
	}
	for a := m[min(unix.NLMSG_HDRLEN+4+unix.NLMSG_HDRLEN, len(m)):]; len(a) >= unix.SizeofRtAttr; {
		l := int(binary.NativeEndian.Uint16(a[0:]))
		if l < unix.SizeofRtAttr || l > len(a) {
			return ""
		}
		if binary.NativeEndian.Uint16(a[2:]) == attrMsg {
			return strings.TrimRight(string(a[unix.SizeofRtAttr:l]), "\x00")
		}
		a = a[min((l+unix.NLA_ALIGNTO-1)&^(unix.NLA_ALIGNTO-1), len(a)):]
	}
	return ""
}

// Attrs builds a sequence of netlink attributes.
type Attrs []byte

func (a Attrs) add(typ uint16, value []byte) Attrs {
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

// U32 appends a 32-bit attribute.
func (a Attrs) U32(typ uint16, v uint32) Attrs {
	return a.add(typ, binary.NativeEndian.AppendUint32(nil, v))
}

func (a Attrs) str(typ uint16, s string) Attrs { return a.add(typ, append([]byte(s), 0)) }

func (a Attrs) nest(typ uint16, inner Attrs) Attrs {
	return a.add(typ|unix.NLA_F_NESTED, inner)
}

func bytesOf[T any](v *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))
}

func ifinfo(index int, flags, change uint32) []byte {
	return bytesOf(&unix.IfInfomsg{Family: unix.AF_UNSPEC, Index: int32(index), Flags: flags, Change: change})
}

// SetUp brings a link up.
func (r *Conn) SetUp(index int) error {
	return r.do(unix.RTM_NEWLINK, 0, ifinfo(index, unix.IFF_UP, unix.IFF_UP))
}

// NewPair creates a link of kind ("veth", "netkit") called name with
// ifindex index, with its peer called peer and ifindex peerIndex moved into
// the namespace peerNS, each with queues transmit and receive queues; data
// holds the kind's own attributes. The two indexes must differ: a link
// whose peer has the same ifindex as itself looks to the kernel's link
// watcher like a plain device, whose carrier change it applies at most
// once a second, and until then the link's qdisc drops every packet.
func (r *Conn) NewPair(kind, name string, index int, peer string, peerIndex, peerNS int, data Attrs, queues uint32) error {
	if index == peerIndex && index != 0 {
		return fmt.Errorf("new %s pair %s/%s: both ends given ifindex %d", kind, name, peer, index)
	}
	q := Attrs(nil).U32(unix.IFLA_NUM_TX_QUEUES, queues).U32(unix.IFLA_NUM_RX_QUEUES, queues)
	peerInfo := append(ifinfo(peerIndex, 0, 0), append(Attrs(nil).str(unix.IFLA_IFNAME, peer).U32(unix.IFLA_NET_NS_FD, uint32(peerNS)), q...)...)
	const peerInfoAttr = 1 // VETH_INFO_PEER and IFLA_NETKIT_PEER_INFO alike
	info := Attrs(nil).str(unix.IFLA_INFO_KIND, kind).nest(unix.IFLA_INFO_DATA, append(Attrs(nil).add(peerInfoAttr, peerInfo), data...))
	body := append(ifinfo(index, 0, 0), append(Attrs(nil).str(unix.IFLA_IFNAME, name).nest(unix.IFLA_LINKINFO, info), q...)...)
	return r.do(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body)
}

// AddAddr assigns ip/prefix to a link.
func (r *Conn) AddAddr(index int, ip net.IP, prefix int) error {
	msg := unix.IfAddrmsg{Family: unix.AF_INET, Prefixlen: uint8(prefix), Index: uint32(index)}
	body := append(bytesOf(&msg), Attrs(nil).add(unix.IFA_LOCAL, ip.To4()).add(unix.IFA_ADDRESS, ip.To4())...)
	return r.do(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body)
}

// AddNeigh adds a permanent neighbour entry: ip is at mac on the link.
func (r *Conn) AddNeigh(index int, ip net.IP, mac net.HardwareAddr) error {
	msg := unix.NdMsg{Family: unix.AF_INET, Ifindex: int32(index), State: unix.NUD_PERMANENT}
	body := append(bytesOf(&msg), Attrs(nil).add(unix.NDA_DST, ip.To4()).add(unix.NDA_LLADDR, mac)...)
	return r.do(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, body)
}

// AddRoute adds a route to dst out of a link, via gw when it is not nil,
// with extra attributes (a lightweight tunnel encapsulation).
func (r *Conn) AddRoute(dst *net.IPNet, index int, gw net.IP, extra Attrs) error {
	prefix, _ := dst.Mask.Size()
	msg := unix.RtMsg{Family: unix.AF_INET, Dst_len: uint8(prefix), Table: unix.RT_TABLE_MAIN,
		Protocol: unix.RTPROT_BOOT, Scope: unix.RT_SCOPE_LINK, Type: unix.RTN_UNICAST}
	a := Attrs(nil).add(unix.RTA_DST, dst.IP.To4()).U32(unix.RTA_OIF, uint32(index))
	if gw != nil {
		msg.Scope = unix.RT_SCOPE_UNIVERSE
		a = a.add(unix.RTA_GATEWAY, gw.To4())
	}
	return r.do(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, append(bytesOf(&msg), append(a, extra...)...))
}

// LWTBPF is the RTA_ENCAP_TYPE/RTA_ENCAP pair that runs prog at hook
// (LWT_BPF_IN, LWT_BPF_OUT, LWT_BPF_XMIT) for a route's packets.
func LWTBPF(hook uint16, progFD int, name string) Attrs {
	const (
		lwtBPFProgFD   = 1 // LWT_BPF_PROG_FD
		lwtBPFProgName = 2 // LWT_BPF_PROG_NAME
	)
	prog := Attrs(nil).U32(lwtBPFProgFD, uint32(progFD)).str(lwtBPFProgName, name)
	return Attrs(nil).add(unix.RTA_ENCAP_TYPE, binary.NativeEndian.AppendUint16(nil, unix.LWTUNNEL_ENCAP_BPF)).
		nest(unix.RTA_ENCAP, Attrs(nil).nest(hook, prog))
}

// The clsact qdisc's handle and its ingress and egress hooks, and the
// uapi values of linux/pkt_cls.h and linux/lwtunnel.h that x/sys/unix lacks.
const (
	tcHClsact = 0xFFFFFFF1 // TC_H_CLSACT, the qdisc's parent
	tcHHandle = 0xFFFF0000 // TC_H_MAKE(TC_H_CLSACT, 0), its handle ffff:
	Ingress   = 0xFFFFFFF2 // TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)
	Egress    = 0xFFFFFFF3 // TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)

	tcaBPFFD            = 6 // TCA_BPF_FD
	tcaBPFName          = 7 // TCA_BPF_NAME
	tcaBPFFlags         = 8 // TCA_BPF_FLAGS
	tcaBPFFlagActDirect = 1 // TCA_BPF_FLAG_ACT_DIRECT

	LWTIn   = 1 // LWT_BPF_IN
	LWTOut  = 2 // LWT_BPF_OUT
	LWTXmit = 3 // LWT_BPF_XMIT
)

// tcmsg is struct tcmsg of linux/rtnetlink.h.
type tcmsg struct {
	Family               uint8
	_                    [3]byte
	Ifindex              int32
	Handle, Parent, Info uint32
}

// AddClsact adds the clsact qdisc, which holds ingress and egress filters.
func (r *Conn) AddClsact(index int) error {
	msg := tcmsg{Family: unix.AF_UNSPEC, Ifindex: int32(index), Handle: tcHHandle, Parent: tcHClsact}
	return r.do(unix.RTM_NEWQDISC, unix.NLM_F_CREATE|unix.NLM_F_EXCL, append(bytesOf(&msg), Attrs(nil).str(unix.TCA_KIND, "clsact")...))
}

// AddBPFFilter adds a cls_bpf filter in direct-action mode at parent
// (Ingress or Egress), matching every protocol.
func (r *Conn) AddBPFFilter(index int, parent uint32, progFD int, name string) error {
	const prio = 1
	msg := tcmsg{Family: unix.AF_UNSPEC, Ifindex: int32(index), Handle: 1, Parent: parent,
		Info: prio<<16 | uint32(htons(unix.ETH_P_ALL))}
	opts := Attrs(nil).U32(tcaBPFFD, uint32(progFD)).str(tcaBPFName, name).U32(tcaBPFFlags, tcaBPFFlagActDirect)
	body := append(bytesOf(&msg), Attrs(nil).str(unix.TCA_KIND, "bpf").nest(unix.TCA_OPTIONS, opts)...)
	return r.do(unix.RTM_NEWTFILTER, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body)
}

// SetXDP attaches (progFD >= 0) or detaches (-1) an XDP program the way
// kernels before bpf_link did: IFLA_XDP on the link.
func (r *Conn) SetXDP(index, progFD int, flags uint32) error {
	xdp := Attrs(nil).U32(unix.IFLA_XDP_FD, uint32(int32(progFD))).U32(unix.IFLA_XDP_FLAGS, flags)
	return r.do(unix.RTM_SETLINK, 0, append(ifinfo(index, 0, 0), Attrs(nil).nest(unix.IFLA_XDP, xdp)...))
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
