package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

var (
	running     *Kernel
	runningOnce sync.Once

	sink     *os.File
	sinkOnce sync.Once
)

// Running returns the facts of the kernel the suite runs on, read once.
func Running() *Kernel {
	runningOnce.Do(func() {
		k, err := DetectKernel()
		if err != nil {
			ginkgo.Fail("detect kernel: " + err.Error())
		}
		running = k
	})
	return running
}

// Record appends one record to the stream named by reports.CellsEnv; when
// it is unset, records go nowhere and the suite is an ordinary Ginkgo run. Each line is a single write(2),
// so a reader never sees half of one unless the target dies mid-write.
func Record(rec reports.Record) {
	sinkOnce.Do(func() {
		path := os.Getenv(reports.CellsEnv)
		if path == "" {
			return
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bpfmatrix: open %s=%s: %v\n", reports.CellsEnv, path, err)
			return
		}
		sink = f
	})
	if sink == nil {
		return
	}
	line, err := json.Marshal(rec)
	if err != nil {
		panic(err)
	}
	if _, err := sink.Write(append(line, '\n')); err != nil {
		fmt.Fprintf(os.Stderr, "bpfmatrix: write %s: %v\n", reports.CellsEnv, err)
	}
}

// RunSuite is the body of the suite binary's only Test: it mounts the kernel
// filesystems eBPF needs, records the kernel's facts first, so even a run that dies at once says where it ran,
// then runs every registered spec.
func RunSuite(t *testing.T, description string) {
	gomega.RegisterFailHandler(ginkgo.Fail)
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. Raise it
	// directly: cilium/ebpf's rlimit package probes at init, which breaks
	// when the suite is a VM's first process (docs/facts.md#guest-rlimit).
	_ = unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY})
	for _, err := range MountKernelFS() {
		fmt.Fprintln(os.Stderr, "bpfmatrix:", err)
	}
	facts := Running().Facts()
	Record(reports.Record{Kernel: &facts})
	ginkgo.RunSpecs(t, description)
}
