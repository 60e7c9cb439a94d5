package harness

import (
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/bpf"
	"github.com/bpfmatrix/bpfmatrix/internal/testns"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

// TestCountersCountOnlyTheSpecsEventsNeedsRoot attaches each kind of
// counter the tracing specs use to the running kernel and proves, for each,
// that nothing but the spec's trigger reaches it: with the trigger taken away
// it counts nothing (the suite's own bpf(2) calls, the Go runtime's threads
// and every other syscall included) and the verdict is failed; with the
// trigger it counts at least what the trigger caused, and the verdict is
// supported. A counter kind the kernel refuses here is skipped, saying so.
func TestCountersCountOnlyTheSpecsEventsNeedsRoot(t *testing.T) {
	// Tracepoints need tracefs: mount it where only this test sees it.
	if !testns.PrivateMounts(t) {
		return
	}
	undo, errs := MountKernelFS()
	defer undo()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, tc := range []struct {
		name    string
		prog    bpf.Program
		attach  func(*ebpf.Program) (link.Link, error)
		trigger func() Trigger
	}{
		{"tracepoint task/task_newtask", bpf.TaskNewtaskCount,
			func(p *ebpf.Program) (link.Link, error) { return link.Tracepoint("task", "task_newtask", p, nil) }, Fork},
		{"tracepoint syscalls/sys_enter_getpgid", bpf.TracepointCount,
			func(p *ebpf.Program) (link.Link, error) {
				return link.Tracepoint("syscalls", "sys_enter_getpgid", p, nil)
			}, Getpgid},
		{"tracepoint raw_syscalls/sys_enter", bpf.RawSyscallsCount,
			func(p *ebpf.Program) (link.Link, error) { return link.Tracepoint("raw_syscalls", "sys_enter", p, nil) }, Getpgid},
		{"raw_tracepoint sys_enter", bpf.RawTracepointCount,
			func(p *ebpf.Program) (link.Link, error) {
				return link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: p})
			}, Getpgid},
		{"tp_btf sys_enter", bpf.TpBtfCount,
			func(p *ebpf.Program) (link.Link, error) { return link.AttachTracing(link.TracingOptions{Program: p}) }, Getpgid},
		{"lsm file_open", bpf.LsmCount,
			func(p *ebpf.Program) (link.Link, error) { return link.AttachLSM(link.LSMOptions{Program: p}) }, OpenFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, what, err := LoadSpec(tc.prog)
			if err != nil {
				t.Fatal(err)
			}
			coll, err := ebpf.NewCollection(spec)
			if err != nil {
				t.Skipf("the kernel refuses to load %s here: %v", what, err)
			}
			defer coll.Close()
			objs := &Objects{Prog: coll.Programs[tc.prog.Name()], coll: coll}
			l, err := tc.attach(objs.Prog)
			if err != nil {
				t.Skipf("the kernel refuses to attach %s here: %v", what, err)
			}
			defer l.Close()

			// The spec's trigger taken away: the suite goes on with its own
			// business (bpf(2) reads of the counter, a forked and reaped
			// child elsewhere, goroutines), and the counter must not move.
			claimed := tc.trigger()
			base := objs.Events()
			for range 3 {
				_ = objs.Events()
				go func() {}()
			}
			noise := objs.Events() - base
			if noise != 0 {
				t.Errorf("%s counted %d events that the spec did not cause", what, noise)
			}
			if status, evidence := Counted(noise, claimed); status != reports.Failed {
				t.Errorf("with the trigger taken away: %s (%s), want failed", status, evidence)
			}

			before := objs.Events()
			trig := tc.trigger()
			n := objs.Events() - before
			if status, evidence := Counted(n, trig); status != reports.Supported {
				t.Errorf("with the trigger: %s (%s), want supported", status, evidence)
			}
			t.Logf("%s: %d events after %s (%d caused)", what, n, trig.What, trig.Events)
		})
	}
}

func TestCounted(t *testing.T) {
	ten := Trigger{What: "10 getpgid(2) calls", Events: 10}
	for _, tc := range []struct {
		n    uint64
		t    Trigger
		want reports.Status
	}{
		{10, ten, reports.Supported},
		{12, ten, reports.Supported},
		{9, ten, reports.Failed},
		{0, ten, reports.Failed},
		{10, Trigger{What: "nothing"}, reports.Error},
		{10, Effect("a connect", "which was rewritten", 1, os.ErrNotExist), reports.Failed},
	} {
		if got, evidence := Counted(tc.n, tc.t); got != tc.want {
			t.Errorf("Counted(%d, %+v) = %s (%s), want %s", tc.n, tc.t, got, evidence, tc.want)
		}
	}
}

// lateCounter counts one more event each read after the first few: events
// that land after their trigger returned, as packets a softirq deferred to
// ksoftirqd do.
type lateCounter struct{ reads uint64 }

func (l *lateCounter) Events() uint64 {
	l.reads++
	return l.reads / 4
}

// ExpectFired waits for events still on their way up to what the trigger
// caused, and no longer than it must: never past the count it wants, and a
// count that never comes ends the wait.
func TestAwaitEventsWaitsForLateEvents(t *testing.T) {
	if n := awaitEvents(&lateCounter{}, 10, 5*time.Second); n != 10 {
		t.Errorf("awaitEvents of 10 late events = %d", n)
	}
	k := &lateCounter{}
	if n := awaitEvents(k, 0, 5*time.Second); n != 0 || k.reads != 1 {
		t.Errorf("awaitEvents of none read %d times, got %d; want one read", k.reads, n)
	}
	start := time.Now()
	if n := awaitEvents(&lateCounter{}, 1_000_000, 50*time.Millisecond); n >= 1_000_000 || time.Since(start) > 5*time.Second {
		t.Errorf("awaitEvents of events that never come = %d after %v", n, time.Since(start))
	}
}
