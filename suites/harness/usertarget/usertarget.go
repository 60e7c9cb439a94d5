// Package usertarget is the suite's own uprobe and USDT target: a small
// static C program (testdata/target.c, built for each architecture by
// `make generate` into testdata/target-<arch>) that the suite binary embeds,
// the one of its own GOARCH (embed_<arch>.go), so it reaches every VM and
// container, whose only other program is the suite binary. Each spec runs a
// private copy, so a probe on it counts only the spec's events.
//
//go:generate go run ./internal/build
package usertarget

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/cilium/ebpf/link"

	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

// Func is the function of the target that uprobes attach to; each run
// calls it harness.TriggerCalls times.
const Func = "bpfmatrix_uprobe_target"

// Target is a private copy of the target binary, opened for uprobes.
type Target struct {
	*link.Executable
	// Path is where the copy is.
	Path string
	c    *harness.Cell
}

// New writes a private copy of the target, removed when the spec ends,
// and opens it for uprobes.
func New(c *harness.Cell) *Target {
	c.Helper()
	dir, err := os.MkdirTemp("", "bpfmatrix-target-")
	c.Setup("create target dir", err)
	c.Defer(func() { os.RemoveAll(dir) })
	path, err := Write(dir)
	c.Setup("write target", err)
	ex, err := link.OpenExecutable(path)
	c.Setup("open target", err)
	return &Target{Executable: ex, Path: path, c: c}
}

// Write writes the target binary into dir and returns its path.
func Write(dir string) (string, error) {
	path := filepath.Join(dir, "target")
	return path, os.WriteFile(path, targetELF, 0o755)
}

// Run runs the target, which calls Func and fires its USDT probe
// harness.TriggerCalls times.
func (t *Target) Run() harness.Trigger {
	t.c.Helper()
	out, err := exec.Command(t.Path, strconv.Itoa(harness.TriggerCalls)).CombinedOutput()
	if err != nil {
		t.c.Failed("run target %s: %v: %s", t.Path, err, out)
	}
	return harness.Trigger{What: fmt.Sprintf("a run of the target calling %s %d times", Func, harness.TriggerCalls), Events: harness.TriggerCalls}
}

// Offset returns the file offset of symbol in the target: what uprobes
// take.
func (t *Target) Offset(symbol string) (uint64, error) { return symbolOffset(t.Path, symbol) }

// symbolOffset returns the file offset of symbol in the ELF file at path.
func symbolOffset(path, symbol string) (uint64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return 0, fmt.Errorf("symbols of %s: %w", path, err)
	}
	for _, s := range syms {
		if s.Name == symbol {
			return fileOffset(f, s.Value)
		}
	}
	return 0, fmt.Errorf("no symbol %s in %s", symbol, path)
}

// fileOffset converts a virtual address of f to its offset in the file,
// through the program header of the segment that holds it.
func fileOffset(f *elf.File, addr uint64) (uint64, error) {
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && addr >= p.Vaddr && addr < p.Vaddr+p.Memsz {
			return addr - p.Vaddr + p.Off, nil
		}
	}
	return 0, fmt.Errorf("address %#x is in no loadable segment", addr)
}
