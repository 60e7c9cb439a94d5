// Package kfuncs proves the kfunc cells, kfunc/<program type>/<kfunc>: for
// each kfunc of the watch list (internal/kfuncs) and each program type it
// lists, the program of kfuncs.c named <program type>__<kfunc> calls the
// kfunc, the spec loads it, runs it (BPF_PROG_TEST_RUN for syscall, tc,
// cgroup_skb and XDP programs; the spec's own syscalls, file opens or an
// iterator read for tracing and LSM ones) and reads what the call did.
//
// A kernel can say no in three ways, and the evidence tells them apart:
// the kfunc is not in its BTF (looked up before loading: unsupported at
// load, ENOENT); it is, but not for this program type (the verifier's
// "calling kernel function X is not allowed": unsupported at load, EACCES);
// or it lives in a module that is not loaded (skipped at setup).
package kfuncs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/bpf"
	watchlist "github.com/bpfmatrix/bpfmatrix/internal/kfuncs"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
	"github.com/bpfmatrix/bpfmatrix/suites/harness/netns"
)

var _ = registerAll()

func registerAll() bool {
	modules := map[string]string{}
	for _, k := range watchlist.List() {
		modules[k.Name] = k.Module
	}
	for _, f := range catalog.All() {
		if f.Area != catalog.Kfuncs {
			continue
		}
		prog, kfunc := cellOf(f.ID)
		harness.Spec(f.ID, "calls "+kfunc+" from a "+prog+" program and sees what the call did", func(c *harness.Cell) {
			prove(c, prog+"__"+kfunc, modules[kfunc])
		})
	}
	return true
}

// cellOf splits "kfunc/<program type>/<kfunc>".
func cellOf(id string) (prog, kfunc string) {
	_, rest, _ := strings.Cut(id, "/")
	prog, kfunc, _ = strings.Cut(rest, "/")
	return prog, kfunc
}

func prove(c *harness.Cell, name, module string) {
	c.Helper()
	spec, err := object(name)
	c.Setup("take the cell's program of kfuncs.c", err)
	ps := spec.Programs[name]
	for _, fn := range calls(ps) {
		inBTF(c, fn, module)
	}
	c.Setup("set target_tgid", spec.Variables["target_tgid"].Set(uint32(os.Getpid())))
	c.Setup("set target_ppid", spec.Variables["target_ppid"].Set(uint32(os.Getppid())))
	if ps.SectionName == "iter/tcp" {
		port, err := localPort(listen(c))
		c.Setup("read the listener's port", err)
		c.Setup("set target_port", spec.Variables["target_port"].Set(port))
	}

	var (
		coll *ebpf.Collection
		veth *netns.Pair
	)
	load := func() (err error) {
		coll, err = ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Cache: harness.KernelBTF})
		return err
	}
	if strings.HasPrefix(name, "xdp__bpf_xdp_metadata_") {
		// Only a device-bound program may call the XDP metadata kfuncs: it
		// loads bound to B's end of a veth pair, in B's namespace.
		veth = netns.NewVeth(c)
		ps.Ifindex, ps.Flags = uint32(veth.BIndex), ps.Flags|bpfFXDPDevBoundOnly
		inB := load
		load = func() error { return veth.B.Do(inB) }
	}
	if err := load(); err != nil {
		refused(c, err, ps)
	}
	c.Defer(coll.Close)
	_, kfunc, _ := strings.Cut(name, "__")
	prog, hits := coll.Programs[name], counter{coll.Maps["hits"], kfunc}

	switch {
	case veth != nil:
		c.Attach(veth.XDP(prog, link.XDPDriverMode))
		c.ExpectFired(hits, veth.Send(netns.AllArrive))
	case ps.Type == ebpf.Syscall:
		testRun(c, prog, hits, nil)
	case ps.Type == ebpf.SchedCLS || ps.Type == ebpf.CGroupSKB || ps.Type == ebpf.XDP:
		testRun(c, prog, hits, packet)
	case ps.Type == ebpf.LSM:
		c.Attach(link.AttachLSM(link.LSMOptions{Program: prog}))
		c.ExpectFired(hits, harness.OpenFile())
	case ps.AttachType == ebpf.AttachTraceIter:
		readIter(c, prog, hits, ps.SectionName)
	case ps.Type == ebpf.Tracing:
		c.Attach(link.AttachTracing(link.TracingOptions{Program: prog}))
		c.ExpectFired(hits, harness.Getpgid())
	}
	c.Setup("run the cell's program", fmt.Errorf("no way to run a %s program (%s)", ps.Type, ps.SectionName))
}

// bpfFXDPDevBoundOnly is BPF_F_XDP_DEV_BOUND_ONLY of the uapi (6.3): the
// program is bound to the device of its ifindex, as XDP metadata kfuncs
// require ("metadata kfuncs require device-bound program").
const bpfFXDPDevBoundOnly = 1 << 6

// calls lists the kfuncs a program calls, each once, in order.
func calls(ps *ebpf.ProgramSpec) []string {
	var names []string
	seen := map[string]bool{}
	for _, ins := range ps.Instructions {
		if ins.IsKfuncCall() && !seen[ins.Reference()] {
			seen[ins.Reference()] = true
			names = append(names, ins.Reference())
		}
	}
	return names
}

// parsed is kfuncs.c's object, parsed once.
var parsed = sync.OnceValues(LoadKfuncs)

// object returns kfuncs.c's object with program name alone, for a cell
// to load.
func object(name string) (*ebpf.CollectionSpec, error) {
	spec, err := parsed()
	if err != nil {
		return nil, err
	}
	only, err := bpf.Only(spec, name)
	if err != nil {
		return nil, fmt.Errorf("kfuncs.c: %w", err)
	}
	// The cell's maps (.rodata, .bss, hits) load without their BTF: no
	// kfunc needs it, and marshalling and loading it was a quarter of the
	// kfunc cells' time in a 7.2 arm64 guest (0.24 of 0.88 s loading). The
	// program keeps its own, which the verifier needs (bpf_obj_new's local
	// type IDs, func info).
	for _, m := range only.Maps {
		m.Key, m.Value = nil, nil
	}
	return only, nil
}

// inBTF ends the spec unless the kernel's BTF has fn: in vmlinux, or in
// the BTF of module when fn is a module's.
func inBTF(c *harness.Cell, fn, module string) {
	c.Helper()
	kernel, err := harness.KernelBTF.Kernel()
	if errors.Is(err, ebpf.ErrNotSupported) {
		c.Unsupported(reports.StageLoad, "ENOENT", "the kernel has no BTF (/sys/kernel/btf/vmlinux), so no kfunc %s: %v", fn, err)
	}
	c.Setup("read the kernel's BTF", err)
	var f *btf.Func
	if kernel.TypeByName(fn, &f) == nil || refusesBPF(c.Kernel) {
		return
	}
	if module == watchlist.Vmlinux || module == "" {
		c.Unsupported(reports.StageLoad, "ENOENT", "%s is not in this kernel's BTF: /sys/kernel/btf/vmlinux has no FUNC %s", fn, fn)
	}
	mod, err := harness.KernelBTF.Module(module)
	if _, loaded := os.Stat("/sys/module/" + module); errors.Is(err, os.ErrNotExist) && loaded == nil {
		c.Unsupported(reports.StageLoad, "ENOENT", "%s is no function of vmlinux, and its module %s is loaded but has no BTF: no /sys/kernel/btf/%s", fn, module, module)
	}
	if config := watchlist.ModuleConfigs[module]; errors.Is(err, os.ErrNotExist) {
		switch value, known := c.Kernel.ConfigValue(config); {
		case known && value != "y" && value != "m":
			c.Unsupported(reports.StageLoad, "ENOENT", "%s is not in this kernel's BTF: no FUNC %s in vmlinux, and its module %s is not built (%s is not set)", fn, fn, module, config)
		case known && c.Kernel.Config["CONFIG_DEBUG_INFO_BTF_MODULES"] != "y":
			c.Unsupported(reports.StageLoad, "ENOENT", "%s is not in this kernel's BTF: no FUNC %s in vmlinux, and its module %s (%s=%s) can have none: CONFIG_DEBUG_INFO_BTF_MODULES is not set", fn, fn, module, config, value)
		}
		c.Skipped("%s is no function of vmlinux, and its module %s is not loaded: no /sys/kernel/btf/%s", fn, module, module)
	}
	c.Setup("read the BTF of module "+module, err)
	if mod.TypeByName(fn, &f) != nil {
		c.Unsupported(reports.StageLoad, "ENOENT", "%s is not in this kernel's BTF: neither vmlinux nor module %s has FUNC %s", fn, module, fn)
	}
}

// refusesBPF reports whether the environment refuses every bpf(2) call,
// with no BPF token to make up for it: then the load is refused before the
// kernel is asked for any kfunc, and it is the load that ends the spec
// (blocked), not what the BTF lacks.
func refusesBPF(k *catalog.Kernel) bool {
	return !k.Privileges.Unrestricted() && k.RefusesBPF() && !k.Token.Held()
}

// refused ends the spec on a failed load: unsupported with the verifier's
// words when it refused a kfunc for the program type, else as the harness
// classifies any refused load.
func refused(c *harness.Cell, err error, ps *ebpf.ProgramSpec) {
	c.Helper()
	var verr *ebpf.VerifierError
	if errors.As(err, &verr) {
		for _, line := range verr.Log {
			if strings.Contains(line, "calling kernel function ") && strings.Contains(line, " is not allowed") {
				c.Unsupported(reports.StageLoad, "EACCES", "load %s (%s): verifier: %s", ps.Name, ps.SectionName, strings.TrimSpace(line))
			}
		}
	}
	c.Loaded("load "+ps.Name+" ("+ps.SectionName+")", err)
}

// packet is what test runs of packet programs see: an Ethernet header of
// type IPv4, an IPv4 header and a TCP header, padded to 64 bytes.
var packet = func() []byte {
	p := make([]byte, 64)
	copy(p[0:], []byte{0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00})
	copy(p[14:], []byte{0x45, 0, 0, 50, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2})
	copy(p[34:], []byte{0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff})
	return p
}()

// testRun runs prog once with BPF_PROG_TEST_RUN and ends the spec by what
// it counted.
func testRun(c *harness.Cell, prog *ebpf.Program, hits counter, data []byte) {
	c.Helper()
	_, err := prog.Run(&ebpf.RunOptions{Data: data})
	c.Triggered("BPF_PROG_TEST_RUN", err)
	counted(c, hits, "one BPF_PROG_TEST_RUN")
}

// readIter reads an iterator of prog to its end, which runs prog once per
// object, and ends the spec by what it counted.
func readIter(c *harness.Cell, prog *ebpf.Program, hits counter, section string) {
	c.Helper()
	it := c.Attach(link.AttachIter(link.IterOptions{Program: prog})).(*link.Iter)
	r, err := it.Open()
	c.Triggered("open the "+section+" iterator", err)
	_, err = io.Copy(io.Discard, r)
	r.Close()
	c.Triggered("read the "+section+" iterator", err)
	counted(c, hits, "a read of the "+section+" iterator")
}

func counted(c *harness.Cell, hits counter, after string) {
	c.Helper()
	n := hits.Events()
	switch {
	case n > 0 && unobservable[hits.kfunc]:
		c.Supported("the verifier accepted the call to %s, and the program ran past it %d time(s) in %s; what %s did is not observable from the program", hits.kfunc, n, after, hits.kfunc)
	case n > 0:
		c.Supported("the program saw %s do what it says %d time(s) in %s", hits.kfunc, n, after)
	}
	c.Failed("the program loaded, but counted no effect of %s in %s", hits.kfunc, after)
}

// unobservable are the kfuncs whose effect a program cannot see: a
// release, a destroy, an unlock. Their programs count only once the call
// was reached with what it takes, and a cell says no more than that.
var unobservable = map[string]bool{
	"bpf_task_release":      true,
	"bpf_cgroup_release":    true,
	"bpf_rcu_read_unlock":   true,
	"bpf_obj_drop_impl":     true,
	"bpf_cpumask_release":   true,
	"bpf_iter_num_destroy":  true,
	"bpf_iter_task_destroy": true,
	"bpf_iter_css_destroy":  true,
}

// listen opens a TCP listener on an ephemeral port of every address, for
// the socket iterator to find and destroy.
func listen(c *harness.Cell) int {
	c.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	c.Setup("socket(AF_INET, SOCK_STREAM)", err)
	c.Defer(func() { unix.Close(fd) })
	c.Setup("bind 0.0.0.0:0", unix.Bind(fd, &unix.SockaddrInet4{}))
	c.Setup("listen", unix.Listen(fd, 1))
	return fd
}

func localPort(fd int) (uint16, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0, err
	}
	in4, ok := sa.(*unix.SockaddrInet4)
	if !ok {
		return 0, fmt.Errorf("getsockname: %T, want an IPv4 address", sa)
	}
	return uint16(in4.Port), nil
}

// counter reads hits[0], where the programs count the effects of kfunc.
type counter struct {
	m     *ebpf.Map
	kfunc string
}

func (h counter) Events() uint64 {
	var n uint64
	if h.m == nil || h.m.Lookup(uint32(0), &n) != nil {
		return 0
	}
	return n
}
