package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// CellsEnv names the file (or serial device, inside a VM) that receives the
// record stream, one JSON line per record. Unset: records go nowhere and the
// suite is an ordinary Ginkgo run.
const CellsEnv = "BPFMATRIX_CELLS"

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

// Record appends one record to the stream. Each line is a single write(2),
// so a reader never sees half of one unless the target dies mid-write.
func Record(rec reports.Record) {
	sinkOnce.Do(func() {
		path := os.Getenv(CellsEnv)
		if path == "" {
			return
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bpfmatrix: open %s=%s: %v\n", CellsEnv, path, err)
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
		fmt.Fprintf(os.Stderr, "bpfmatrix: write %s: %v\n", CellsEnv, err)
	}
}

// RunSuite is the body of the suite binary's only Test: it mounts the kernel
// filesystems eBPF needs, records the kernel's facts first, so even a run that dies at once says where it ran,
// then runs every registered spec.
func RunSuite(t *testing.T, description string) {
	gomega.RegisterFailHandler(ginkgo.Fail)
	for _, err := range MountKernelFS() {
		fmt.Fprintln(os.Stderr, "bpfmatrix:", err)
	}
	facts := Running().Facts()
	Record(reports.Record{Kernel: &facts})
	ginkgo.RunSpecs(t, description)
}
