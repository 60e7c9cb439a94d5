package harness

import (
	"debug/elf"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/cilium/ebpf/link"
)

// userTarget is testdata/target.c, built static by `make generate`: the
// suite carries its own uprobe and USDT target into every VM and container,
// whose only other program is the suite binary.
//
//go:embed testdata/target
var userTarget []byte

// UserTargetFunc is the function of the user target that uprobes attach to.
const UserTargetFunc = "bpfmatrix_uprobe_target"

// WriteUserTarget writes the user target binary into dir and returns its path.
func WriteUserTarget(dir string) (string, error) {
	path := filepath.Join(dir, "target")
	return path, os.WriteFile(path, userTarget, 0o755)
}

// UserTarget writes a private copy of the user target, which only this spec
// runs (so a probe on it counts only the spec's events), and opens it for
// uprobes; the copy goes when the spec ends.
func (c *Cell) UserTarget() (string, *link.Executable) {
	dir, err := os.MkdirTemp("", "bpfmatrix-target-")
	c.Check("create target dir", err)
	c.Defer(func() { os.RemoveAll(dir) })
	path, err := WriteUserTarget(dir)
	c.Check("write target", err)
	ex, err := link.OpenExecutable(path)
	c.Check("open target", err)
	return path, ex
}

// RunUserTarget runs the user target at path, which calls UserTargetFunc
// and fires its USDT probe TriggerCalls times.
func (c *Cell) RunUserTarget(path string) Trigger {
	c.Helper()
	out, err := exec.Command(path, strconv.Itoa(TriggerCalls)).CombinedOutput()
	if err != nil {
		c.Failed("run target %s: %v: %s", path, err, out)
	}
	return Trigger{What: fmt.Sprintf("a run of the target calling %s %d times", UserTargetFunc, TriggerCalls), Events: TriggerCalls}
}

// SymbolOffset returns the file offset of symbol in the executable at path:
// what uprobes take.
func SymbolOffset(path, symbol string) (uint64, error) {
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
			return FileOffset(f, s.Value)
		}
	}
	return 0, fmt.Errorf("no symbol %s in %s", symbol, path)
}

// FileOffset converts a virtual address of f to its offset in the file,
// through the program header of the segment that holds it.
func FileOffset(f *elf.File, addr uint64) (uint64, error) {
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && addr >= p.Vaddr && addr < p.Vaddr+p.Memsz {
			return addr - p.Vaddr + p.Off, nil
		}
	}
	return 0, fmt.Errorf("address %#x is in no loadable segment", addr)
}
