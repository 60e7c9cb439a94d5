// Package probepoints records what each kernel lets eBPF hook: counts of its
// tracepoints, syscall tracepoints, ftrace functions and perf event
// sources, and, for the tracepoints and functions of the watch list
// (inventory.Watch), whether each tracepoint exists and its layout, and
// whether ftrace can attach to each function (and, when not, whether
// /proc/kallsyms has it). Kernel BTF is the runner's to read, on the host,
// from the same kernel file: the BTF functions and their count, a watched
// function's prototype and traceability, the list's struct fields and
// kfuncs. Decoding BTF inside an emulated VM took half of this cell's
// time. The data goes into the record stream as its own record; the cells
// say whether the inventory could be taken and whether a tracepoint's
// format file tells the truth about the context a program reads.
package probepoints

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/internal/inventory"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

var _ = harness.Spec("probepoints/inventory", "counts what this kernel can hook and reads the watch list's formats and kprobe-ability", func(c *harness.Cell) {
	pp, perfSources := take(c)
	harness.Record(reports.Record{ProbePoints: pp})

	switch {
	case c.Kernel.Tracefs == "":
		c.Blocked(reports.StageSetup, "no tracefs", "tracepoints: %s", pp.Tracepoints.Error)
	case pp.Tracepoints.Error != "":
		c.Unsupported(reports.StageSetup, "", "tracepoints: %s", pp.Tracepoints.Error)
	}
	evidence := fmt.Sprintf("tracefs %s: %s tracepoints, %s syscall tracepoints; kprobe-able functions: %s; perf event sources: %s (%s); %s",
		pp.Tracefs, pp.Tracepoints, pp.SyscallTracepoints, pp.KprobeFunctions, pp.PerfEventSources,
		strings.Join(perfSources, " "), watched(pp))
	c.Supported("%s", evidence)
})

// take is the inventory of this kernel, its name lists packed: the one a
// VM's /init took before the snapshot this run resumes, or one taken now.
func take(c *harness.Cell) (*reports.ProbePoints, []string) {
	c.Helper()
	if path := os.Getenv(contract.InventoryEnv); path != "" {
		pp, perfSources, err := inventory.Load(path, "by /init earlier in this boot, before the VM snapshot this run resumes")
		c.Setup("read the inventory /init took", err)
		return pp, perfSources
	}
	pp, lists := inventory.Take(c.Kernel.Tracefs, inventory.Watch)
	c.Observed("pack the name lists", pp.PackLists(lists))
	return pp, lists.PerfEventSources
}

// watched says how many of the watch list's points the target found: the
// tracepoints present, naming the missing ones, and the functions ftrace
// can attach to. Whether a function is in kernel BTF is the runner's to
// read, on the host, so a function not kprobe-able is not called missing
// here.
func watched(pp *reports.ProbePoints) string {
	var tracepoints, functions, kprobeable int
	var missing, notKprobe []string
	for _, w := range pp.Watch {
		switch w.Kind {
		case reports.PointTracepoint:
			tracepoints++
			if !w.Present {
				missing = append(missing, w.Name)
			}
		case reports.PointFunction:
			functions++
			if w.Kprobe == "yes" {
				kprobeable++
			} else if w.Kprobe == "no" {
				notKprobe = append(notKprobe, w.Name)
			}
		}
	}
	s := fmt.Sprintf("%d of %d watched tracepoints present", tracepoints-len(missing), tracepoints)
	if len(missing) > 0 {
		s += " (missing: " + strings.Join(missing, ", ") + ")"
	}
	if pp.KprobeFunctions.Error == "" {
		s += fmt.Sprintf("; %d of %d watched functions kprobe-able", kprobeable, functions)
		if len(notKprobe) > 0 {
			s += " (not: " + strings.Join(notKprobe, ", ") + ")"
		}
	}
	return s
}

// The values the format spec passes to openat(2): an fd no process has open
// (openat fails with EBADF after the tracepoint fired) and a flag set no
// other open in the suite uses.
const (
	probeDFD   = 0x5eed
	probeFlags = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NOCTTY
)

var _ = harness.Spec("probepoints/format", "reads sys_enter_openat's dfd and flags where its format file says they are", func(c *harness.Cell) {
	const point = "syscalls/sys_enter_openat"
	if c.Kernel.Tracefs == "" {
		c.Blocked(reports.StageSetup, "no tracefs", "tracefs is mounted neither at /sys/kernel/tracing nor under debugfs, and the suite could not mount it")
	}
	format, err := inventory.ReadFormat(c.Kernel.Tracefs, point)
	c.Setup("read the format of "+point, err)
	dfd, ok1 := format.Field("dfd")
	flags, ok2 := format.Field("flags")
	if !ok1 || !ok2 {
		c.Failed("%s has no dfd or no flags field: %+v", point, format.Fields)
	}

	// Only this thread's openat counts: the program compares the whole
	// pid_tgid, so no other open of the suite can overwrite the result.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := uint64(unix.Getpid())<<32 | uint64(unix.Gettid())

	seen, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 24, MaxEntries: 1})
	c.Create("create the result map", err)
	c.Defer(func() { seen.Close() })
	insns, err := readFieldsProgram(tid, seen, dfd, flags)
	c.Loaded("assemble the reader", err)
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "read_openat", Type: ebpf.TracePoint, License: "GPL", Instructions: insns})
	c.Loaded("load tracepoint program", err)
	c.Defer(func() { prog.Close() })
	c.Attach(link.Tracepoint("syscalls", "sys_enter_openat", prog, nil))

	_, openErr := unix.Openat(probeDFD, "bpfmatrix-probepoints-format", probeFlags, 0)
	var got struct{ DFD, Flags, Hits uint64 }
	c.Observed("read the result map", seen.Lookup(uint32(0), &got))
	if got.Hits == 0 {
		c.Failed("attached, but observed 0 events after openat(%#x, ..., %#x) (it returned %v)", probeDFD, probeFlags, openErr)
	}
	evidence := fmt.Sprintf("%s: dfd at offset %d size %d read %#x (passed %#x); flags at offset %d size %d read %#x (passed %#x)",
		point, dfd.Offset, dfd.Size, got.DFD, probeDFD, flags.Offset, flags.Size, got.Flags, probeFlags)
	if got.DFD != probeDFD || got.Flags != probeFlags {
		c.Failed("the format file misplaces the fields: %s", evidence)
	}
	c.Supported("%s", evidence)
})

// readFieldsProgram assembles a tracepoint program that, for the thread
// whose pid_tgid is tid, stores the two fields (read at the offsets and
// sizes the format file gives) and a hit count in seen[0].
func readFieldsProgram(tid uint64, seen *ebpf.Map, a, b reports.TracepointField) (asm.Instructions, error) {
	sizeA, err := loadSize(a)
	if err != nil {
		return nil, err
	}
	sizeB, err := loadSize(b)
	if err != nil {
		return nil, err
	}
	return asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1), // the context: the tracepoint's record
		asm.FnGetCurrentPidTgid.Call(),
		asm.LoadImm(asm.R1, int64(tid), asm.DWord),
		asm.JNE.Reg(asm.R0, asm.R1, "out"),
		asm.LoadMem(asm.R7, asm.R6, int16(a.Offset), sizeA),
		asm.LoadMem(asm.R8, asm.R6, int16(b.Offset), sizeB),
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, seen.FD()),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.StoreMem(asm.R0, 0, asm.R7, asm.DWord),
		asm.StoreMem(asm.R0, 8, asm.R8, asm.DWord),
		asm.LoadMem(asm.R1, asm.R0, 16, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 16, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	}, nil
}

func loadSize(f reports.TracepointField) (asm.Size, error) {
	switch f.Size {
	case 1:
		return asm.Byte, nil
	case 2:
		return asm.Half, nil
	case 4:
		return asm.Word, nil
	case 8:
		return asm.DWord, nil
	}
	return 0, fmt.Errorf("field %s has size %d, which one load cannot read", f.Name, f.Size)
}
