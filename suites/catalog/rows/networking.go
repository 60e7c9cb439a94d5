package rows

import (
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"

	"github.com/cilium/ebpf"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Networking attach mechanisms: each spec attaches in namespaces, a veth
// pair or a cgroup it creates, causes the traffic itself and records what
// the program saw. Since is the upstream version of the mechanism as the
// spec uses it (bpf_link-based XDP, flow_dissector and struct_ops need the
// link, which came later than the program type: cilium/ebpf issue 1474).
// Needs names the CONFIG options; veth, cls_bpf, sch_ingress are modules on
// Debian, which the VM guest loads.
func init() {
	veth := catalog.Config("CONFIG_VETH")
	cgroup := catalog.Config("CONFIG_CGROUP_BPF")
	catalog.Register(
		catalog.Feature{ID: "attach/socket_filter", Area: catalog.Networking, Prog: ebpf.SocketFilter, Since: "3.19",
			Doc: "SO_ATTACH_BPF on a UDP socket: counts the datagrams and drops those marked 'D'"},
		catalog.Feature{ID: "attach/socket_filter.classic", Area: catalog.Networking, Since: "2.6",
			Doc: "classic SO_ATTACH_FILTER on a UDP socket keeping only datagrams marked 'K', for contrast"},
		catalog.Feature{ID: "attach/xdp.generic", Area: catalog.Networking, Prog: ebpf.XDP, Attach: ebpf.AttachXDP, Since: "5.9",
			Needs: []catalog.Requirement{veth},
			Doc:   "XDP in generic (skb) mode on a veth through a bpf_link: counts probes and passes them"},
		catalog.Feature{ID: "attach/xdp.generic.netlink", Area: catalog.Networking, Prog: ebpf.XDP, Since: "4.12",
			Needs: []catalog.Requirement{veth},
			Doc:   "XDP in generic mode on a veth through netlink IFLA_XDP, as before bpf_link"},
		catalog.Feature{ID: "attach/xdp.driver", Area: catalog.Networking, Prog: ebpf.XDP, Attach: ebpf.AttachXDP, Since: "5.9",
			Needs: []catalog.Requirement{veth},
			Doc:   "XDP in native (driver) mode on a veth through a bpf_link"},
		catalog.Feature{ID: "attach/xdp.drop", Area: catalog.Networking, Prog: ebpf.XDP, Attach: ebpf.AttachXDP, Since: "5.9",
			Needs: []catalog.Requirement{veth},
			Doc:   "XDP_DROP in generic mode on a veth: the probes are counted and none arrives"},
		catalog.Feature{ID: "attach/tc.ingress", Area: catalog.Networking, Prog: ebpf.SchedCLS, Since: "4.5",
			Needs: []catalog.Requirement{veth, catalog.Config("CONFIG_NET_CLS_BPF", "CONFIG_NET_SCH_INGRESS", "CONFIG_NET_CLS_ACT")},
			Doc:   "cls_bpf in direct-action mode on clsact ingress of a veth, set up over netlink"},
		catalog.Feature{ID: "attach/tc.egress", Area: catalog.Networking, Prog: ebpf.SchedCLS, Since: "4.5",
			Needs: []catalog.Requirement{veth, catalog.Config("CONFIG_NET_CLS_BPF", "CONFIG_NET_SCH_INGRESS", "CONFIG_NET_CLS_ACT")},
			Doc:   "cls_bpf in direct-action mode on clsact egress of a veth, set up over netlink"},
		catalog.Feature{ID: "attach/tc.drop", Area: catalog.Networking, Prog: ebpf.SchedCLS, Since: "4.5",
			Needs: []catalog.Requirement{veth, catalog.Config("CONFIG_NET_CLS_BPF", "CONFIG_NET_SCH_INGRESS", "CONFIG_NET_CLS_ACT")},
			Doc:   "cls_bpf returning TC_ACT_SHOT on clsact ingress: the probes are counted and none arrives"},
		catalog.Feature{ID: "attach/tcx.ingress", Area: catalog.Networking, Prog: ebpf.SchedCLS, Attach: ebpf.AttachTCXIngress, Since: "6.6",
			Needs: []catalog.Requirement{veth, catalog.Config("CONFIG_NET_XGRESS")},
			Doc:   "tcx link on the ingress of a veth"},
		catalog.Feature{ID: "attach/tcx.egress", Area: catalog.Networking, Prog: ebpf.SchedCLS, Attach: ebpf.AttachTCXEgress, Since: "6.6",
			Needs: []catalog.Requirement{veth, catalog.Config("CONFIG_NET_XGRESS")},
			Doc:   "tcx link on the egress of a veth"},
		// A kernel without netkit refuses the device pair, before any program.
		catalog.Feature{ID: "attach/netkit", Area: catalog.Networking, Prog: ebpf.SchedCLS, Attach: ebpf.AttachNetkitPrimary, Since: "6.7", At: reports.StageSetup,
			Needs: []catalog.Requirement{catalog.Config("CONFIG_NETKIT")},
			Doc:   "netkit link on the primary end of an L2 netkit pair, counting what it sends"},
		catalog.Feature{ID: "attach/cgroup_skb.ingress", Area: catalog.Networking, Prog: ebpf.CGroupSKB, Attach: ebpf.AttachCGroupInetIngress, Since: "4.10",
			Needs: []catalog.Requirement{cgroup},
			Doc:   "cgroup_skb ingress on a cgroup v2 the spec enters: counts loopback UDP to its sockets"},
		catalog.Feature{ID: "attach/cgroup_skb.egress", Area: catalog.Networking, Prog: ebpf.CGroupSKB, Attach: ebpf.AttachCGroupInetEgress, Since: "4.10",
			Needs: []catalog.Requirement{cgroup},
			Doc:   "cgroup_skb egress on a cgroup v2 the spec enters: counts loopback UDP from its sockets"},
		catalog.Feature{ID: "attach/cgroup_sock.sock_create", Area: catalog.Networking, Prog: ebpf.CGroupSock, Attach: ebpf.AttachCGroupInetSockCreate, Since: "4.10",
			Needs: []catalog.Requirement{cgroup},
			Doc:   "cgroup/sock_create counting the sockets the spec creates"},
		catalog.Feature{ID: "attach/cgroup_sock_addr.connect4", Area: catalog.Networking, Prog: ebpf.CGroupSockAddr, Attach: ebpf.AttachCGroupInet4Connect, Since: "4.17",
			Needs: []catalog.Requirement{cgroup},
			Doc:   "cgroup/connect4 rewriting a connect to 192.0.2.1:4242 into 127.0.0.1:4243"},
		catalog.Feature{ID: "attach/cgroup_sock_addr.bind4", Area: catalog.Networking, Prog: ebpf.CGroupSockAddr, Attach: ebpf.AttachCGroupInet4Bind, Since: "4.17",
			Needs: []catalog.Requirement{cgroup},
			Doc:   "cgroup/bind4 rewriting a bind to port 4242 into 4243"},
		catalog.Feature{ID: "attach/sock_ops", Area: catalog.Networking, Prog: ebpf.SockOps, Attach: ebpf.AttachCGroupSockOps, Since: "4.16",
			Needs: []catalog.Requirement{cgroup},
			Doc:   "sock_ops counting TCP state callbacks of a loopback connection"},
		catalog.Feature{ID: "attach/sk_msg", Area: catalog.Networking, Prog: ebpf.SkMsg, Attach: ebpf.AttachSkMsgVerdict, Since: "4.17",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_NET_SOCK_MSG")},
			Doc:   "sk_msg on a sockmap redirecting a message sent on one TCP socket into another"},
		catalog.Feature{ID: "attach/sk_skb", Area: catalog.Networking, Prog: ebpf.SkSKB, Attach: ebpf.AttachSkSKBStreamVerdict, Since: "4.14",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_BPF_STREAM_PARSER")},
			Doc:   "sk_skb stream parser and verdict on a sockmap redirecting what one TCP socket receives out of another"},
		catalog.Feature{ID: "attach/sk_lookup", Area: catalog.Networking, Prog: ebpf.SkLookup, Attach: ebpf.AttachSkLookup, Since: "5.9",
			Needs: []catalog.Requirement{catalog.Config("CONFIG_NET_SOCK_MSG")},
			Doc:   "sk_lookup on a namespace steering a connection for a port nobody listens on to a chosen listener"},
		catalog.Feature{ID: "attach/sk_reuseport", Area: catalog.Networking, Prog: ebpf.SkReuseport, Attach: ebpf.AttachSkReuseportSelect, Since: "4.19",
			Doc: "sk_reuseport selecting one socket of a SO_REUSEPORT group for every datagram"},
		catalog.Feature{ID: "attach/flow_dissector", Area: catalog.Networking, Prog: ebpf.FlowDissector, Attach: ebpf.AttachFlowDissector, Since: "5.8",
			Needs: []catalog.Requirement{veth},
			Doc:   "flow_dissector link on a namespace, run by the transmit hash of a two-queue veth"},
		catalog.Feature{ID: "attach/lwt_in", Area: catalog.Networking, Prog: ebpf.LWTIn, Since: "4.10",
			Needs: []catalog.Requirement{veth, catalog.Config("CONFIG_LWTUNNEL_BPF")},
			Doc:   "lwt_in on a route of a namespace forwarding the spec's probes"},
		catalog.Feature{ID: "attach/lwt_out", Area: catalog.Networking, Prog: ebpf.LWTOut, Since: "4.10",
			Needs: []catalog.Requirement{veth, catalog.Config("CONFIG_LWTUNNEL_BPF")},
			Doc:   "lwt_out on the route the spec's probes leave by"},
		catalog.Feature{ID: "attach/lwt_xmit", Area: catalog.Networking, Prog: ebpf.LWTXmit, Since: "4.10",
			Needs: []catalog.Requirement{veth, catalog.Config("CONFIG_LWTUNNEL_BPF")},
			Doc:   "lwt_xmit on the route the spec's probes leave by"},
		// The program type came with the link: an older kernel refuses the load.
		catalog.Feature{ID: "attach/netfilter", Area: catalog.Networking, Prog: ebpf.Netfilter, Attach: ebpf.AttachNetfilter, Since: "6.4", At: reports.StageLoad,
			Needs: []catalog.Requirement{catalog.Config("CONFIG_NETFILTER_BPF_LINK")},
			Doc:   "netfilter link on IPv4 LOCAL_OUT of a namespace counting loopback UDP"},
		// Before 6.4 the kernel refuses the struct_ops map with BPF_F_LINK,
		// which cilium/ebpf creates as it loads the programs.
		catalog.Feature{ID: "attach/struct_ops.tcp_congestion_ops", Area: catalog.Networking, Prog: ebpf.StructOps, Attach: ebpf.AttachStructOps, Since: "6.4", At: reports.StageLoad,
			Needs: []catalog.Requirement{catalog.Config("CONFIG_DEBUG_INFO_BTF", "CONFIG_BPF_JIT")},
			Doc:   "a BPF tcp_congestion_ops registered with a struct_ops link (BPF_F_LINK, the only form cilium/ebpf loads) and used by a loopback connection"},
	)
}
