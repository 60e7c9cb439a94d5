package networking

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/bpf"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/netns"
)

// Programs on the packet path: each sees the spec's probe datagrams cross a
// socket, a veth pair or a route, and the probes that arrive (or do not)
// show that the kernel applied the program's verdict.

var _ = harness.Spec("attach/socket_filter", "filters a UDP socket's datagrams with SO_ATTACH_BPF", func(c *harness.Cell) {
	k := c.Load(bpf.SocketCount)
	ns := netns.New(c)
	flow := ns.UDPFlow(ns, netns.Loopback)
	c.Attached("SO_ATTACH_BPF", link.AttachSocketFilter(flow.Receiver(), k.Prog))
	c.ExpectFired(k, flow.SendCounted(netns.KeptArrive, k))
})

var _ = harness.Spec("attach/socket_filter.classic", "filters a UDP socket's datagrams with a classic SO_ATTACH_FILTER program", func(c *harness.Cell) {
	ns := netns.New(c)
	flow := ns.UDPFlow(ns, netns.Loopback)
	c.Attached("SO_ATTACH_FILTER", netns.AttachClassic(flow.Receiver(), netns.ClassicKeepFilter))
	// A classic filter counts nothing: what arrives is all the evidence.
	t := flow.Send(netns.KeptArrive)
	if t.Err != nil {
		c.Failed("attached, but %s after %s", t.Err, t.What)
	}
	c.Supported("attached; %s", t.What)
})

var _ = harness.Spec("attach/xdp.generic", "attaches a bpf_link in generic mode on a veth and passes the probes", func(c *harness.Cell) {
	k := c.Load(bpf.XdpCount)
	v := netns.NewVeth(c)
	c.Attach(v.XDP(k.Prog, link.XDPGenericMode))
	c.ExpectFired(k, v.Send(netns.AllArrive))
})

var _ = harness.Spec("attach/xdp.generic.netlink", "attaches with netlink IFLA_XDP in generic mode on a veth and passes the probes", func(c *harness.Cell) {
	k := c.Load(bpf.XdpCount)
	v := netns.NewVeth(c)
	c.Attached("attach", v.XDPNetlink(k.Prog, unix.XDP_FLAGS_SKB_MODE))
	c.ExpectFired(k, v.Send(netns.AllArrive))
})

var _ = harness.Spec("attach/xdp.driver", "attaches a bpf_link in native mode on a veth and passes the probes", func(c *harness.Cell) {
	k := c.Load(bpf.XdpCount)
	v := netns.NewVeth(c)
	c.Attach(v.XDP(k.Prog, link.XDPDriverMode))
	c.ExpectFired(k, v.Send(netns.AllArrive))
})

var _ = harness.Spec("attach/xdp.drop", "drops the probes with XDP_DROP in generic mode on a veth", func(c *harness.Cell) {
	k := c.Load(bpf.XdpCount, harness.Dropping())
	v := netns.NewVeth(c)
	c.Attach(v.XDP(k.Prog, link.XDPGenericMode))
	c.ExpectFired(k, v.SendCounted(netns.NoneArrives, k))
})

var _ = harness.Spec("attach/tc.ingress", "counts the probes with cls_bpf on clsact ingress of a veth", func(c *harness.Cell) {
	k := c.Load(bpf.TcCount)
	v := netns.NewVeth(c)
	c.Attached("attach", v.ClsBPF(k.Prog, netns.Ingress))
	c.ExpectFired(k, v.Send(netns.AllArrive))
})

var _ = harness.Spec("attach/tc.egress", "counts the probes with cls_bpf on clsact egress of a veth", func(c *harness.Cell) {
	k := c.Load(bpf.TcCount)
	v := netns.NewVeth(c)
	c.Attached("attach", v.ClsBPF(k.Prog, netns.Egress))
	c.ExpectFired(k, v.Send(netns.AllArrive))
})

var _ = harness.Spec("attach/tc.drop", "drops the probes with TC_ACT_SHOT on clsact ingress of a veth", func(c *harness.Cell) {
	k := c.Load(bpf.TcCount, harness.Dropping())
	v := netns.NewVeth(c)
	c.Attached("attach", v.ClsBPF(k.Prog, netns.Ingress))
	c.ExpectFired(k, v.SendCounted(netns.NoneArrives, k))
})

var _ = harness.Spec("attach/tcx.ingress", "counts the probes with a tcx link on the ingress of a veth", func(c *harness.Cell) {
	k := c.Load(bpf.TcCount)
	v := netns.NewVeth(c)
	c.Attach(v.TCX(k.Prog, ebpf.AttachTCXIngress))
	c.ExpectFired(k, v.Send(netns.AllArrive))
})

var _ = harness.Spec("attach/tcx.egress", "counts the probes with a tcx link on the egress of a veth", func(c *harness.Cell) {
	k := c.Load(bpf.TcCount)
	v := netns.NewVeth(c)
	c.Attach(v.TCX(k.Prog, ebpf.AttachTCXEgress))
	c.ExpectFired(k, v.Send(netns.AllArrive))
})

var _ = harness.Spec("attach/netkit", "counts the probes with a netkit link on the primary end of a netkit pair", func(c *harness.Cell) {
	k := c.Load(bpf.TcCount)
	v := netns.NewNetkit(c)
	c.Attach(v.Netkit(k.Prog))
	c.ExpectFired(k, v.Send(netns.AllArrive))
})

var _ = harness.Spec("attach/flow_dissector", "dissects the probes hashed to a queue of a two-queue veth", func(c *harness.Cell) {
	k := c.Load(bpf.FlowDissectorCount)
	v := netns.NewMultiqueueVeth(c)
	c.Attach(link.AttachNetNs(v.A.FD(), k.Prog))
	c.ExpectFired(k, v.Send(netns.AllArrive))
})

var _ = harness.Spec("attach/lwt_out", "counts the probes leaving by a route with encap bpf out", func(c *harness.Cell) {
	k := c.Load(bpf.LwtOutCount)
	v := netns.NewVeth(c)
	dst, err := v.RouteOut(k.Prog, "out")
	c.Attached("attach", err)
	c.ExpectFired(k, v.A.UDPFlow(v.B, dst).Send(netns.AllArrive))
})

var _ = harness.Spec("attach/lwt_xmit", "counts the probes leaving by a route with encap bpf xmit", func(c *harness.Cell) {
	k := c.Load(bpf.LwtXmitCount)
	v := netns.NewVeth(c)
	dst, err := v.RouteOut(k.Prog, "xmit")
	c.Attached("attach", err)
	c.ExpectFired(k, v.A.UDPFlow(v.B, dst).Send(netns.AllArrive))
})

var _ = harness.Spec("attach/lwt_in", "counts the probes a namespace forwards by a route with encap bpf in", func(c *harness.Cell) {
	k := c.Load(bpf.LwtInCount)
	v := netns.NewVeth(c)
	dst, err := v.RouteIn(k.Prog)
	c.Attached("attach", err)
	c.ExpectFired(k, v.A.SendUDP(dst))
})

var _ = harness.Spec("attach/netfilter", "counts loopback probes at IPv4 LOCAL_OUT of a namespace", func(c *harness.Cell) {
	k := c.Load(bpf.NetfilterCount)
	ns := netns.New(c)
	c.Attach(ns.Netfilter(k.Prog, link.NetfilterInetLocalOut))
	c.ExpectFired(k, ns.UDPFlow(ns, netns.Loopback).Send(netns.AllArrive))
})
