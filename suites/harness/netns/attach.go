package netns

import (
	"fmt"
	"net"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/suites/internal/rtnl"
)

// The attach points of a pair. Ingress hooks sit on B's end, where A's
// probes arrive; egress hooks on A's end, where they leave.

// XDP attaches prog to B's end with a bpf_link (5.9+), in the mode flags
// asks for.
func (v *Pair) XDP(prog *ebpf.Program, flags link.XDPAttachFlags) (link.Link, error) {
	return v.B.attach(func() (link.Link, error) {
		return link.AttachXDP(link.XDPOptions{Program: prog, Interface: v.BIndex, Flags: flags})
	})
}

// XDPNetlink attaches prog to B's end the way kernels before bpf_link
// allow: IFLA_XDP over netlink, with XDP_FLAGS_* flags. It stays until the
// spec ends.
func (v *Pair) XDPNetlink(prog *ebpf.Program, flags uint32) error {
	set := func(fd int) error {
		return v.B.Do(func() error { return rtnl.With(func(r *rtnl.Conn) error { return r.SetXDP(v.BIndex, fd, flags) }) })
	}
	if err := set(prog.FD()); err != nil {
		return fmt.Errorf("RTM_SETLINK IFLA_XDP: %w", err)
	}
	v.c.Defer(func() { _ = set(-1) })
	return nil
}

// Direction names a clsact hook.
type Direction bool

// The clsact hooks.
const (
	Ingress Direction = true
	Egress  Direction = false
)

// ClsBPF adds the clsact qdisc and a cls_bpf filter in direct-action mode
// running prog: on B's ingress, or on A's egress. Both go with the pair.
func (v *Pair) ClsBPF(prog *ebpf.Program, dir Direction) error {
	qdisc, filter := "clsact qdisc"+moduleFact(v.c, "sch_ingress"), "cls_bpf filter"+moduleFact(v.c, "cls_bpf")
	ns, index, parent := v.B, v.BIndex, uint32(rtnl.Ingress)
	if dir == Egress {
		ns, index, parent = v.A, v.AIndex, rtnl.Egress
	}
	return ns.Do(func() error {
		return rtnl.With(func(r *rtnl.Conn) error {
			if err := r.AddClsact(index); err != nil {
				return fmt.Errorf("add %s: %w", qdisc, err)
			}
			if err := r.AddBPFFilter(index, parent, prog.FD(), "bpfmatrix"); err != nil {
				return fmt.Errorf("add %s: %w", filter, err)
			}
			return nil
		})
	})
}

// TCX attaches prog with tcx (6.6+): ebpf.AttachTCXIngress on B's end,
// ebpf.AttachTCXEgress on A's.
func (v *Pair) TCX(prog *ebpf.Program, attach ebpf.AttachType) (link.Link, error) {
	ns, index := v.B, v.BIndex
	if attach == ebpf.AttachTCXEgress {
		ns, index = v.A, v.AIndex
	}
	return ns.attach(func() (link.Link, error) {
		return link.AttachTCX(link.TCXOptions{Interface: index, Program: prog, Attach: attach})
	})
}

// Netkit attaches prog to the primary end of a netkit pair, A's, where it
// runs on what A sends.
func (v *Pair) Netkit(prog *ebpf.Program) (link.Link, error) {
	return v.A.attach(func() (link.Link, error) {
		return link.AttachNetkit(link.NetkitOptions{Interface: v.AIndex, Program: prog, Attach: ebpf.AttachNetkitPrimary})
	})
}

// lwtDst is the destination of lightweight-tunnel routes: it exists only
// in the spec's namespaces.
var lwtDst = net.IPv4(10, 199, 1, 2).To4()

// RouteOut gives B the address 10.199.1.2 and routes it from A via B's
// first address (already resolved, see warmUp) through a route whose
// lightweight tunnel runs prog at LWT_BPF_OUT (out) or LWT_BPF_XMIT (xmit).
// It returns the address, where a UDPFlow can reach B.
func (v *Pair) RouteOut(prog *ebpf.Program, hook string) (net.IP, error) {
	h := map[string]uint16{"out": rtnl.LWTOut, "xmit": rtnl.LWTXmit}[hook]
	err := v.B.Do(func() error {
		return rtnl.With(func(r *rtnl.Conn) error { return r.AddAddr(v.BIndex, lwtDst, 32) })
	})
	if err != nil {
		return nil, fmt.Errorf("add %s on B: %w", lwtDst, err)
	}
	err = v.A.Do(func() error {
		return rtnl.With(func(r *rtnl.Conn) error {
			return r.AddRoute(&net.IPNet{IP: lwtDst, Mask: net.CIDRMask(32, 32)}, v.AIndex, v.BAddr, rtnl.LWTBPF(h, prog.FD(), "bpfmatrix"))
		})
	})
	if err != nil {
		return nil, fmt.Errorf("add route with encap bpf %s: %w", hook, err)
	}
	return lwtDst, nil
}

// RouteIn makes B a router for 10.199.2.0/24 through a route whose
// lightweight tunnel runs prog at LWT_BPF_IN, and routes that prefix from A
// through B. It returns an address in the prefix: probes A sends there
// reach prog as B forwards them.
func (v *Pair) RouteIn(prog *ebpf.Program) (net.IP, error) {
	prefix := &net.IPNet{IP: net.IPv4(10, 199, 2, 0).To4(), Mask: net.CIDRMask(24, 32)}
	err := v.B.Do(func() error {
		// /proc/sys/net is the namespace of the thread that opens it.
		if err := os.WriteFile("/proc/sys/net/ipv4/conf/all/forwarding", []byte("1"), 0); err != nil {
			return err
		}
		return rtnl.With(func(r *rtnl.Conn) error {
			return r.AddRoute(prefix, v.BIndex, nil, rtnl.LWTBPF(rtnl.LWTIn, prog.FD(), "bpfmatrix"))
		})
	})
	if err != nil {
		return nil, fmt.Errorf("add route with encap bpf in on B: %w", err)
	}
	err = v.A.Do(func() error {
		return rtnl.With(func(r *rtnl.Conn) error { return r.AddRoute(prefix, v.AIndex, v.BAddr, nil) })
	})
	if err != nil {
		return nil, fmt.Errorf("route %s via B: %w", prefix, err)
	}
	return net.IPv4(10, 199, 2, 5).To4(), nil
}

// Netfilter attaches prog to the IPv4 netfilter hook of ns (6.4+).
func (ns *NS) Netfilter(prog *ebpf.Program, hook link.NetfilterInetHook) (link.Link, error) {
	return ns.attach(func() (link.Link, error) {
		return link.AttachNetfilter(link.NetfilterOptions{Program: prog, ProtocolFamily: link.NetfilterProtoIPv4, Hook: hook, Priority: -128})
	})
}
