package networking

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/bpf"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/cgroup"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/netns"
	"github.com/bpfmatrix/bpfmatrix/suites/internal/rawbpf"
)

// Programs on sockets: cgroup hooks on a cgroup the spec enters, socket
// maps and namespace hooks. Each effect checked here (a rewritten address, a
// message on another socket, a steered connection) happens only if the
// program ran and the kernel honoured what it returned.

var _ = harness.Spec("attach/cgroup_skb.ingress", "counts loopback UDP arriving at the sockets of a cgroup", func(c *harness.Cell) {
	k := c.Load(bpf.CgroupSkbIngressCount)
	cg := cgroup.New(c)
	c.Attach(cg.Attach(ebpf.AttachCGroupInetIngress, k.Prog))
	ns := netns.New(c)
	c.ExpectFired(k, ns.UDPFlow(ns, netns.Loopback).Send(netns.AllArrive))
})

var _ = harness.Spec("attach/cgroup_skb.egress", "counts loopback UDP leaving the sockets of a cgroup", func(c *harness.Cell) {
	k := c.Load(bpf.CgroupSkbEgressCount)
	cg := cgroup.New(c)
	c.Attach(cg.Attach(ebpf.AttachCGroupInetEgress, k.Prog))
	ns := netns.New(c)
	c.ExpectFired(k, ns.UDPFlow(ns, netns.Loopback).Send(netns.AllArrive))
})

var _ = harness.Spec("attach/cgroup_sock.sock_create", "counts the sockets created in a cgroup", func(c *harness.Cell) {
	k := c.Load(bpf.SockCreateCount)
	cg := cgroup.New(c)
	c.Attach(cg.Attach(ebpf.AttachCGroupInetSockCreate, k.Prog))
	c.ExpectFired(k, netns.New(c).Sockets())
})

var _ = harness.Spec("attach/cgroup_sock_addr.connect4", "rewrites a connect to a virtual address into a loopback listener", func(c *harness.Cell) {
	k := c.Load(bpf.Connect4Rewrite)
	cg := cgroup.New(c)
	c.Attach(cg.Attach(ebpf.AttachCGroupInet4Connect, k.Prog))
	c.ExpectFired(k, netns.New(c).ConnectVirtual())
})

var _ = harness.Spec("attach/cgroup_sock_addr.bind4", "rewrites the port of a bind", func(c *harness.Cell) {
	k := c.Load(bpf.Bind4Rewrite)
	cg := cgroup.New(c)
	c.Attach(cg.Attach(ebpf.AttachCGroupInet4Bind, k.Prog))
	c.ExpectFired(k, netns.New(c).BindProbe())
})

var _ = harness.Spec("attach/sock_ops", "counts the TCP state callbacks of a loopback connection", func(c *harness.Cell) {
	k := c.Load(bpf.SockopsStateCount)
	cg := cgroup.New(c)
	c.Attach(cg.Attach(ebpf.AttachCGroupSockOps, k.Prog))
	c.ExpectFired(k, netns.New(c).OpenAndClose())
})

var _ = harness.Spec("attach/sk_msg", "redirects a message sent on one TCP socket into another through a sockmap", func(c *harness.Cell) {
	k := c.Load(bpf.SkMsgRedirect)
	c.Attached("attach", link.RawAttachProgram(link.RawAttachProgramOptions{Target: k.Map(bpf.SocksMap).FD(), Program: k.Prog, Attach: ebpf.AttachSkMsgVerdict}))
	ns := netns.New(c)
	from, to := ns.NewTCPConn(), ns.NewTCPConn()
	c.Attached("insert sockets", k.Put(bpf.SocksMap, from.Client, to.Client))
	c.ExpectFired(k, netns.Redirect(from.Client, to.Client))
})

var _ = harness.Spec("attach/sk_skb", "redirects what one TCP socket receives out of another through a sockmap", func(c *harness.Cell) {
	k := c.Load(bpf.SkSkbRedirect, harness.With(bpf.SkSkbParser))
	socks := k.Map(bpf.SocksMap).FD()
	c.Attached("attach parser", link.RawAttachProgram(link.RawAttachProgramOptions{Target: socks, Program: k.Program(bpf.SkSkbParser), Attach: ebpf.AttachSkSKBStreamParser}))
	c.Attached("attach verdict", link.RawAttachProgram(link.RawAttachProgramOptions{Target: socks, Program: k.Prog, Attach: ebpf.AttachSkSKBStreamVerdict}))
	ns := netns.New(c)
	from, to := ns.NewTCPConn(), ns.NewTCPConn()
	c.Attached("insert sockets", k.Put(bpf.SocksMap, from.Server, to.Client))
	c.ExpectFired(k, netns.Redirect(from.Client, to.Server))
})

var _ = harness.Spec("attach/sk_lookup", "steers a connection for a port nobody listens on to a chosen listener", func(c *harness.Cell) {
	k := c.Load(bpf.SkLookupSteer)
	ns := netns.New(c)
	listener := ns.TCPListener(netns.ProbePort)
	c.Attached("insert listener", k.Put(bpf.SocksMap, listener))
	c.Attach(link.AttachNetNs(ns.FD(), k.Prog))
	c.ExpectFired(k, ns.Steer(listener))
})

var _ = harness.Spec("attach/sk_reuseport", "selects one socket of a SO_REUSEPORT group for every datagram", func(c *harness.Cell) {
	k := c.Load(bpf.ReuseportSelect)
	group := netns.New(c).NewReuseportGroup()
	c.Attached("fill reuseport array", k.Put(bpf.GroupMap, group.Socks[:]...))
	c.Attached("SO_ATTACH_REUSEPORT_EBPF", group.Attach(k.Prog))
	c.ExpectFired(k, group.Send(k))
})

var _ = harness.Spec("attach/struct_ops.tcp_congestion_ops", "registers a BPF TCP congestion control that a loopback connection uses", func(c *harness.Cell) {
	c.Create("load BTF (BPF_BTF_LOAD), which a struct_ops map needs", rawbpf.ProbeBTFLoad())
	k := c.Load(bpf.BmInit, harness.With(bpf.BmSsthresh, bpf.BmCongAvoid, bpf.BmUndoCwnd))
	c.Attach(link.AttachStructOps(link.StructOpsOptions{Map: k.Map(bpf.BpfmatrixCcMap)}))
	c.ExpectFired(k, netns.New(c).UseCongestionControl("bpfmatrix_cc"))
})
