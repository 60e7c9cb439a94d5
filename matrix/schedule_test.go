package matrix

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/flock"
)

func TestStartOrderIsLongestFirstWithMoreThanOneJob(t *testing.T) {
	targets := []Target{
		fakeTarget{name: "host", kernel: "host"},
		fakeTarget{name: "vm", kernel: "5.10"},
		fakeTarget{name: "vm", kernel: "7.2"},
		fakeTarget{name: "container/default", kernel: "host"},
		fakeTarget{name: "vm", kernel: "6.1"},
	}
	last := map[string]time.Duration{"vm-5.10": 20 * time.Second, "vm-7.2": 45 * time.Second, "container-default-host": 2 * time.Second}
	names := func(order []int) []string {
		var n []string
		for _, i := range order {
			n = append(n, RunName(targets[i]))
		}
		return n
	}
	// 6.1 never ran: a booted kernel's guess (60 s) puts it first; the
	// host's guess (10 s) puts it before the 2 s container.
	want := []string{"vm-6.1", "vm-7.2", "vm-5.10", "host-host", "container-default-host"}
	if got := names(startOrder(&Suite{}, targets, 2, last)); !slices.Equal(got, want) {
		t.Errorf("order with 2 jobs = %v, want %v", got, want)
	}
	given := []string{"host-host", "vm-5.10", "vm-7.2", "container-default-host", "vm-6.1"}
	if got := names(startOrder(&Suite{}, targets, 1, last)); !slices.Equal(got, given) {
		t.Errorf("order with 1 job = %v, want the order given %v", got, given)
	}
	// A run of some specs says nothing of a full one, nor the reverse:
	// the guesses alone, the newer kernel first.
	if got := names(startOrder(&Suite{LabelFilter: "networking"}, targets, 2, last)); !slices.Equal(got, []string{"vm-7.2", "vm-6.1", "vm-5.10", "host-host", "container-default-host"}) {
		t.Errorf("order of a label-filtered run = %v, want the guesses alone", got)
	}
}

// laneTarget is a fakeTarget of a VM lane.
type laneTarget struct {
	fakeTarget
	arch string
}

func (l laneTarget) Arch() string { return l.arch }

// TestStartOrderGuessesEmulatedAndNewerFirst starts VMs that never ran
// here emulated lane first, then newest kernel first; a kernel file, which
// has no version, last of its lane.
func TestStartOrderGuessesEmulatedAndNewerFirst(t *testing.T) {
	native, emulated := runtime.GOARCH, "arm64"
	if native == "arm64" {
		emulated = "amd64"
	}
	vm := func(kernel, arch string) Target { return laneTarget{fakeTarget{name: "vm", kernel: kernel}, arch} }
	targets := []Target{vm("5.10", native), vm("/boot/vmlinuz", emulated), vm("7.3", emulated), vm("7.3", native), vm("5.10", emulated), fakeTarget{name: "host", kernel: "host"}}
	if got, want := startOrder(&Suite{}, targets, 2, nil), []int{2, 4, 1, 3, 0, 5}; !slices.Equal(got, want) {
		t.Errorf("start order %v, want %v: emulated lane first, newer kernels first, the host's last", got, want)
	}
}

func TestRunStartsByTheDurationsItNoted(t *testing.T) {
	t.Chdir(t.TempDir())
	durations := filepath.Join(t.TempDir(), "cache", "durations.json")
	suite := &Suite{Features: []string{"map/array"}, Areas: map[string]string{"map/array": "features"}}
	var (
		mu      sync.Mutex
		started []string
	)
	target := func(kernel string, took time.Duration) fakeTarget {
		return fakeTarget{name: "vm", kernel: kernel, fn: func(_ context.Context, dir string) Outcome {
			mu.Lock()
			started = append(started, kernel)
			mu.Unlock()
			time.Sleep(took)
			writeStream(t, dir, `{"kernel":{"release":"`+kernel+`"}}`,
				`{"cell":{"feature":"map/array","status":"supported","expected":"supported"}}`)
			return Outcome{Status: RunOK}
		}}
	}
	targets := []Target{target("5.10", 10*time.Millisecond), target("7.2", 200*time.Millisecond), target("6.1", 50*time.Millisecond)}
	opts := Options{Out: "out", Jobs: 2, Log: &strings.Builder{}, Durations: durations}

	// First matrix: no history, every VM guessed alike, the newest first.
	if _, err := Run(context.Background(), suite, targets, opts); err != nil {
		t.Fatal(err)
	}
	// The two first start together, in either order; the third waits.
	startedAs := func(first, second, third string) bool {
		return len(started) == 3 && started[2] == third && slices.Contains(started[:2], first) && slices.Contains(started[:2], second)
	}
	if !startedAs("7.2", "6.1", "5.10") {
		t.Fatalf("first matrix started %v, want 7.2 and 6.1, then 5.10", started)
	}
	last := readDurations(durations)
	if len(last) != 3 || last["vm-7.2"] < 200*time.Millisecond || last["vm-5.10"] >= last["vm-7.2"] {
		t.Fatalf("noted durations = %v, want the three runs' wall times", last)
	}

	// A run that broke is not noted: its time says nothing of a whole one.
	broken := fakeTarget{name: "vm", kernel: "7.3", fn: func(context.Context, string) Outcome { return Outcome{Status: RunPanic, Detail: "Kernel panic"} }}
	if _, err := Run(context.Background(), suite, []Target{broken}, opts); err != nil {
		t.Fatal(err)
	}
	if _, noted := readDurations(durations)["vm-7.3"]; noted {
		t.Errorf("a panicked run's time was noted: %v", readDurations(durations))
	}

	// A run's setup (saving a snapshot, once) is not noted either.
	saving := fakeTarget{name: "vm", kernel: "6.12", fn: func(_ context.Context, dir string) Outcome {
		time.Sleep(300 * time.Millisecond)
		writeStream(t, dir, `{"kernel":{"release":"6.12"}}`, `{"cell":{"feature":"map/array","status":"supported","expected":"supported"}}`)
		return Outcome{Status: RunOK, Setup: 250 * time.Millisecond}
	}}
	if _, err := Run(context.Background(), suite, []Target{saving}, opts); err != nil {
		t.Fatal(err)
	}
	if d := readDurations(durations)["vm-6.12"]; d < 50*time.Millisecond || d > 200*time.Millisecond {
		t.Errorf("a run of 300 ms with 250 ms of setup was noted as %v, want about 50 ms", d)
	}

	// Second matrix: the 7.2 run took longest, so it starts first.
	started = nil
	if _, err := Run(context.Background(), suite, targets, opts); err != nil {
		t.Fatal(err)
	}
	if !startedAs("7.2", "6.1", "5.10") {
		t.Errorf("second matrix started %v, want 7.2 and 6.1, then 5.10", started)
	}
}

func TestDurationsFileThatCannotBeReadIsNoHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "durations.json")
	if err := os.WriteFile(path, []byte(`{"vm-7.2": "long"`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readDurations(path); len(got) != 0 {
		t.Errorf("readDurations(torn file) = %v, want none", got)
	}
	if got := readDurations(filepath.Join(t.TempDir(), "missing.json")); len(got) != 0 {
		t.Errorf("readDurations(missing file) = %v, want none", got)
	}
}

func TestHostKernelTargetsRunBesideTheVMs(t *testing.T) {
	t.Chdir(t.TempDir())
	suite := &Suite{Features: []string{"map/array"}, Areas: map[string]string{"map/array": "features"}}
	hostRan := make(chan struct{})
	ok := func(dir string) Outcome {
		writeStream(t, dir, `{"kernel":{"release":"r"}}`, `{"cell":{"feature":"map/array","status":"supported","expected":"supported"}}`)
		return Outcome{Status: RunOK}
	}
	// Both VMs hold their slots until the host target ran: with one pool
	// of two slots it would wait behind them, and the VMs would say so.
	vm := func(kernel string) fakeTarget {
		return fakeTarget{name: "vm", kernel: kernel, fn: func(_ context.Context, dir string) Outcome {
			select {
			case <-hostRan:
				return ok(dir)
			case <-time.After(10 * time.Second):
				return Outcome{Status: RunError, Detail: "the host target did not run beside the VMs"}
			}
		}}
	}
	host := fakeTarget{name: "host", kernel: "host", fn: func(_ context.Context, dir string) Outcome {
		close(hostRan)
		return ok(dir)
	}}
	rep, err := Run(context.Background(), suite, []Target{vm("5.10"), vm("7.2"), host}, Options{Out: "out", Jobs: 2, Log: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range rep.Runs {
		if run.Status != RunOK {
			t.Errorf("%s %s: %s %s", run.Target, run.Kernel.Release, run.Status, run.Detail)
		}
	}
}

func TestHostKernelTargetsRunOneAtATime(t *testing.T) {
	targets := []Target{fakeTarget{name: "host", kernel: "host"}, fakeTarget{name: "vm", kernel: "5.10"}, fakeTarget{name: "container/default", kernel: "host"}}
	want := []pool{{[]int{1}, 3}, {[]int{0, 2}, 1}}
	if got := pools([]int{0, 1, 2}, targets, 3); !slices.EqualFunc(got, want, func(a, b pool) bool { return a.slots == b.slots && slices.Equal(a.targets, b.targets) }) {
		t.Errorf("pools with 3 jobs = %v, want the VMs' pool of 3 slots, then the host kernel's of 1: %v", got, want)
	}
	if got := pools([]int{2, 0, 1}, targets, 1); len(got) != 1 || got[0].slots != 1 || !slices.Equal(got[0].targets, []int{2, 0, 1}) {
		t.Errorf("pools with 1 job = %v, want one pool of one slot, in the order given", got)
	}
}

// Two matrices on one machine share its kernel: a target on it waits for
// HostKernelLock, held here as another bpfmatrix would, and says so; an
// interrupt while it waits ends its run as interrupted, never run.
func TestHostKernelTargetsWaitForOtherMatrices(t *testing.T) {
	t.Chdir(t.TempDir())
	suite := &Suite{Features: []string{"map/array"}, Areas: map[string]string{"map/array": "features"}}
	unlock, err := flock.Lock(context.Background(), HostKernelLock, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ran := false
	host := fakeTarget{name: "host", kernel: "host", fn: func(context.Context, string) Outcome {
		ran = true
		return Outcome{Status: RunOK}
	}}
	ctx, cancel := context.WithCancelCause(context.Background())
	log, logw := io.Pipe()
	go func() {
		line, _ := bufio.NewReader(log).ReadString('\n')
		if !strings.Contains(line, "[host] the host's kernel: waiting for "+HostKernelLock) {
			t.Errorf("a waiting target said %q", line)
		}
		cancel(errors.New("interrupt"))
		io.Copy(io.Discard, log)
	}()
	rep, err := Run(ctx, suite, []Target{host}, Options{Out: "out", Jobs: 2, Log: logw})
	logw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ran || rep.Runs[0].Status != RunInterrupted {
		t.Errorf("a target interrupted while it waited: ran %v, status %s %s; want it not run and %s", ran, rep.Runs[0].Status, rep.Runs[0].Detail, RunInterrupted)
	}
}
