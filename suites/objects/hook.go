package objects

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/arch"
	"github.com/bpfmatrix/bpfmatrix/objects"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/cgroup"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/netns"
)

// hook is where a program attaches and what makes it run, decided from its
// type, attach type and section, and the manifest's attach target.
type hook struct {
	// target says what the program attaches to, for the evidence.
	target string
	// needs says what the program needs that neither its section nor the
	// manifest names; the cell stops there. early: it is needed to load.
	needs string
	early bool
	// netns: attaching builds network namespaces (a veth pair, a loopback).
	netns bool
	// attach attaches prog (ending the spec if the kernel refuses) and
	// returns the built-in trigger that makes it run, nil where none
	// reaches the hook (a uprobe's binary, a cgroup hook it does not use).
	attach func(c *harness.Cell, prog *ebpf.Program) func() harness.Trigger
}

// hookOf decides the hook of ps. Where a section names no target (a
// placeholder such as SEC("fentry"), a uprobe without a binary) the hook
// says what it needs rather than guessing.
func hookOf(ps *ebpf.ProgramSpec, e objects.Entry) hook {
	target := ps.AttachTo
	if e.Attach != "" {
		target = e.Attach
	}
	sec := ps.SectionName
	kind, _, _ := strings.Cut(sec, "/")
	switch ps.Type {
	case ebpf.Kprobe:
		return probeHook(kind, target)
	case ebpf.TracePoint:
		group, name, ok := strings.Cut(target, "/")
		if !ok {
			return hook{needs: `a tracepoint as "group/name": give attach in the manifest`}
		}
		return tracingHook(target, func(prog *ebpf.Program) (link.Link, error) { return link.Tracepoint(group, name, prog, nil) })
	case ebpf.RawTracepoint, ebpf.RawTracepointWritable:
		if target == "" {
			return hook{needs: "a raw tracepoint name: give attach in the manifest"}
		}
		return tracingHook(target, func(prog *ebpf.Program) (link.Link, error) {
			return link.AttachRawTracepoint(link.RawTracepointOptions{Name: target, Program: prog})
		})
	case ebpf.Tracing, ebpf.LSM:
		if target == "" {
			return hook{needs: fmt.Sprintf("a BTF target (section %q names none): give attach in the manifest", sec), early: true}
		}
		if ps.AttachType == ebpf.AttachTraceIter {
			return iterHook(target)
		}
		return tracingHook(target, func(prog *ebpf.Program) (link.Link, error) {
			if ps.Type == ebpf.LSM {
				return link.AttachLSM(link.LSMOptions{Program: prog})
			}
			return link.AttachTracing(link.TracingOptions{Program: prog})
		})
	case ebpf.Extension:
		return hook{needs: "a BPF program to replace (freplace), which bpfmatrix does not load beside it", early: true}
	case ebpf.XDP:
		if ps.AttachType != ebpf.AttachXDP {
			return hook{needs: fmt.Sprintf("a %s entry holding it, which bpfmatrix does not make", ps.AttachType)}
		}
		return vethHook("XDP on a veth", func(v *netns.Pair, prog *ebpf.Program) (link.Link, error) { return v.XDP(prog, 0) })
	case ebpf.SchedCLS:
		return tcHook(ps.AttachType)
	case ebpf.SocketFilter:
		return socketHook()
	case ebpf.CGroupSKB, ebpf.CGroupSock, ebpf.CGroupSockAddr, ebpf.SockOps, ebpf.CGroupSockopt, ebpf.CGroupSysctl:
		if ps.AttachType == ebpf.AttachNone && ps.Type != ebpf.CGroupSKB {
			return hook{needs: fmt.Sprintf("a cgroup attach type (section %q names none)", sec)}
		}
		return cgroupHook(attachType(ps))
	}
	return hook{needs: fmt.Sprintf("an attachment bpfmatrix does not make for %s programs (section %q)", ps.Type, sec)}
}

// attachType is ps's attach type, named: BPF_CGROUP_INET_INGRESS is attach
// type 0, so a cgroup_skb program without one is an ingress program.
func attachType(ps *ebpf.ProgramSpec) ebpf.AttachType {
	if ps.Type == ebpf.CGroupSKB && ps.AttachType == ebpf.AttachNone {
		return ebpf.AttachCGroupInetIngress
	}
	return ps.AttachType
}

// probeHook is the hook of a kprobe-type program, by its section's kind.
func probeHook(kind, target string) hook {
	switch kind {
	case "kprobe", "kretprobe", "ksyscall", "kretsyscall":
		if target == "" {
			return hook{needs: "a kernel function (a syscall, for ksyscall): give attach in the manifest"}
		}
		fn := target
		if strings.HasSuffix(kind, "syscall") {
			// What libbpf prepends to a ksyscall section's name.
			fn = arch.Running().SyscallFunc(target)
		}
		return tracingHook(fn, func(prog *ebpf.Program) (link.Link, error) {
			if strings.HasPrefix(kind, "kret") {
				return link.Kretprobe(fn, prog, nil)
			}
			return link.Kprobe(fn, prog, nil)
		})
	case "kprobe.multi", "kretprobe.multi":
		if target == "" || strings.ContainsAny(target, "*?[") {
			return hook{needs: "a comma-separated list of kernel functions (bpfmatrix does not expand patterns): give attach in the manifest"}
		}
		symbols := strings.Split(target, ",")
		return tracingHook(target, func(prog *ebpf.Program) (link.Link, error) {
			opts := link.KprobeMultiOptions{Symbols: symbols}
			if kind == "kretprobe.multi" {
				return link.KretprobeMulti(prog, opts)
			}
			return link.KprobeMulti(prog, opts)
		})
	case "uprobe", "uretprobe", "uprobe.s", "uretprobe.s":
		path, symbol, ok := strings.Cut(target, ":")
		if !ok || path == "" || symbol == "" {
			return hook{needs: `a binary and symbol as "PATH:SYMBOL": give attach in the manifest`}
		}
		h := hook{target: target}
		h.attach = func(c *harness.Cell, prog *ebpf.Program) func() harness.Trigger {
			c.Helper()
			if _, err := os.Stat(path); err != nil {
				c.Object().Needs = fmt.Sprintf("%s in the target (%v)", path, err)
				c.SkippedAt(reports.StageAttach, "the uprobe's binary %s is not in this target: %v", path, err)
			}
			ex, err := link.OpenExecutable(path)
			c.Setup("open "+path, err)
			if strings.HasPrefix(kind, "uretprobe") {
				c.Attach(ex.Uretprobe(symbol, prog, nil))
			} else {
				c.Attach(ex.Uprobe(symbol, prog, nil))
			}
			// The suite is static Go and runs no binary of the target's:
			// only a trigger of the manifest's reaches the uprobe.
			return nil
		}
		return h
	}
	return hook{needs: fmt.Sprintf("an attachment bpfmatrix does not make for %s sections (cilium/ebpf has no USDT or uprobe.multi target resolution here)", kind)}
}

// tracingHook attaches with attach and triggers with the workload.
func tracingHook(target string, attach func(*ebpf.Program) (link.Link, error)) hook {
	return hook{target: target, attach: func(c *harness.Cell, prog *ebpf.Program) func() harness.Trigger {
		c.Helper()
		c.Attach(attach(prog))
		return workload
	}}
}

// iterHook attaches an iterator; reading it is what runs the program.
func iterHook(target string) hook {
	return hook{target: "iter/" + target, attach: func(c *harness.Cell, prog *ebpf.Program) func() harness.Trigger {
		c.Helper()
		it := c.Attach(link.AttachIter(link.IterOptions{Program: prog})).(*link.Iter)
		return func() harness.Trigger {
			c.Helper()
			r, err := it.Open()
			c.Triggered("open the iterator", err)
			defer r.Close()
			buf := make([]byte, 1<<16)
			n := 0
			for {
				m, err := r.Read(buf)
				n += m
				if err != nil || m == 0 {
					break
				}
			}
			return harness.Trigger{What: fmt.Sprintf("one read of the iterator (%d bytes)", n), Events: 1}
		}
	}}
}

// vethHook attaches to a veth pair of the spec's own and sends packets
// from A to B: each one passes A's egress and B's ingress.
func vethHook(target string, attach func(*netns.Pair, *ebpf.Program) (link.Link, error)) hook {
	return hook{target: target, netns: true, attach: func(c *harness.Cell, prog *ebpf.Program) func() harness.Trigger {
		c.Helper()
		v := netns.NewVeth(c)
		c.Attach(attach(v, prog))
		return func() harness.Trigger { return v.A.SendUDP(v.BAddr) }
	}}
}

// tcHook attaches a tc program: by tcx (6.6+) where its section names a
// tcx attach type, by netkit for a netkit primary, else as a cls_bpf filter
// (every kernel), on B's ingress or A's egress.
func tcHook(at ebpf.AttachType) hook {
	switch at {
	case ebpf.AttachTCXIngress, ebpf.AttachTCXEgress:
		return vethHook("tcx "+at.String()+" on a veth", func(v *netns.Pair, prog *ebpf.Program) (link.Link, error) { return v.TCX(prog, at) })
	case ebpf.AttachNetkitPrimary:
		return hook{target: "netkit primary", netns: true, attach: func(c *harness.Cell, prog *ebpf.Program) func() harness.Trigger {
			c.Helper()
			v := netns.NewNetkit(c)
			c.Attach(v.Netkit(prog))
			return func() harness.Trigger { return v.A.SendUDP(v.BAddr) }
		}}
	case ebpf.AttachNone:
		return hook{target: "cls_bpf on a veth's ingress", netns: true, attach: func(c *harness.Cell, prog *ebpf.Program) func() harness.Trigger {
			c.Helper()
			v := netns.NewVeth(c)
			c.Attached("add cls_bpf filter", v.ClsBPF(prog, netns.Ingress))
			return func() harness.Trigger { return v.A.SendUDP(v.BAddr) }
		}}
	}
	return hook{needs: fmt.Sprintf("a %s attachment, which bpfmatrix does not make", at)}
}

// socketHook attaches a socket filter to a UDP socket of the spec's own
// namespace and sends it datagrams.
func socketHook() hook {
	return hook{target: "a UDP socket (SO_ATTACH_BPF)", netns: true, attach: func(c *harness.Cell, prog *ebpf.Program) func() harness.Trigger {
		c.Helper()
		ns := netns.New(c)
		flow := ns.UDPFlow(ns, netns.Loopback)
		c.Attached("SO_ATTACH_BPF", attachSocket(flow.Receiver(), prog))
		return func() harness.Trigger { return ns.SendUDP(netns.Loopback) }
	}}
}

func attachSocket(conn syscall.Conn, prog *ebpf.Program) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_BPF, prog.FD())
	})
	if err != nil {
		return err
	}
	return serr
}

// cgroupTriggered are the cgroup hooks the built-in cgroup trigger reaches:
// IPv4 sockets created, bound, connected and used over TCP and UDP, and a
// sysctl read. The others (IPv6, recvmsg, getpeername, sockopt, device)
// need a trigger of the manifest's.
var cgroupTriggered = []ebpf.AttachType{
	ebpf.AttachCGroupInetIngress, ebpf.AttachCGroupInetEgress, ebpf.AttachCGroupInetSockCreate,
	ebpf.AttachCGroupInet4Bind, ebpf.AttachCGroupInet4Connect, ebpf.AttachCGroupInet4PostBind,
	ebpf.AttachCGroupUDP4Sendmsg, ebpf.AttachCGroupSockOps, ebpf.AttachCGroupSysctl,
}

// cgroupHook attaches to a cgroup of the spec's own, which the suite joins,
// and uses sockets and sysctls from a network namespace of its own.
func cgroupHook(at ebpf.AttachType) hook {
	return hook{target: "a cgroup (" + at.String() + ")", netns: true, attach: func(c *harness.Cell, prog *ebpf.Program) func() harness.Trigger {
		c.Helper()
		g := cgroup.New(c)
		ns := netns.New(c)
		c.Attach(g.Attach(at, prog))
		if !slices.Contains(cgroupTriggered, at) {
			return nil
		}
		return func() harness.Trigger {
			c.Helper()
			tcp := ns.OpenAndClose()
			udp := ns.SendUDP(netns.Loopback)
			sysctl := harness.ReadSysctl()
			return harness.Trigger{What: strings.Join([]string{tcp.What, udp.What, sysctl.What}, ", "), Events: 1}
		}
	}}
}
