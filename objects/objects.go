// Package objects reads users' own eBPF ELF objects and the manifest beside
// them, and turns them into the plan of cells the suite proves: one per
// program, with the attach target, trigger and claimed kernels the manifest
// gives it. It checks everything before any target starts, so that a
// missing, truncated or non-BPF file, or a manifest that names nothing,
// is refused in one line; the suite (suites/objects) loads, attaches and
// triggers the programs in each target.
package objects

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
)

// Object is one user ELF object, parsed.
type Object struct {
	// Path is where the user's file is; Name its base name, which names
	// its cells (reports.ObjectID) and its copy in a target.
	Path, Name string
	Spec       *ebpf.CollectionSpec
}

// Open reads the object at path and checks that it is a whole eBPF ELF
// object that cilium/ebpf can parse and that holds at least one program.
// Its errors are one line that names the file and says what was expected.
func Open(path string) (*Object, error) {
	name := filepath.Base(path)
	if err := checkName(name); err != nil {
		return nil, fmt.Errorf("object %s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("object %s: not a regular file; want an eBPF ELF object (clang -target bpf)", path)
	}
	if err := checkELF(f, st.Size()); err != nil {
		return nil, fmt.Errorf("object %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(f)
	if err != nil {
		return nil, fmt.Errorf("object %s: cilium/ebpf cannot parse it: %s", path, oneLine(err))
	}
	if len(spec.Programs) == 0 {
		return nil, fmt.Errorf("object %s: holds no program (no executable section with a name cilium/ebpf knows, such as SEC(\"xdp\"))", path)
	}
	return &Object{Path: path, Name: name, Spec: spec}, nil
}

// Programs are the object's program names, sorted.
func (o *Object) Programs() []string {
	var names []string
	for name := range o.Spec.Programs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// checkELF refuses what is not a whole 64-bit eBPF ELF object: another
// machine's ELF, a file that is not ELF, and a truncated one (a section
// that ends past the end of the file), which the ELF reader itself may
// accept until a section is read.
func checkELF(f *os.File, size int64) error {
	var hdr [64]byte
	n, _ := io.ReadFull(f, hdr[:])
	if n < 4 || string(hdr[:4]) != elf.ELFMAG {
		return fmt.Errorf("not an ELF file; want an eBPF ELF object (clang -target bpf)")
	}
	if n < len(hdr) {
		return fmt.Errorf("truncated: %d bytes, shorter than an ELF header", size)
	}
	// e_shoff, e_shentsize and e_shnum of a little-endian ELF64 header:
	// where its section headers, at the end of the file, must end.
	if hdr[elf.EI_CLASS] == byte(elf.ELFCLASS64) && hdr[elf.EI_DATA] == byte(elf.ELFDATA2LSB) {
		shoff, shentsize, shnum := binary.LittleEndian.Uint64(hdr[0x28:]), binary.LittleEndian.Uint16(hdr[0x3a:]), binary.LittleEndian.Uint16(hdr[0x3c:])
		if end := shoff + uint64(shentsize)*uint64(shnum); end > uint64(size) {
			return fmt.Errorf("truncated: its section headers end at byte %d, the file has %d", end, size)
		}
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return fmt.Errorf("damaged ELF file (%v); want an eBPF ELF object (clang -target bpf)", err)
	}
	if ef.Machine != elf.EM_BPF {
		return fmt.Errorf("not an eBPF object: ELF machine %s; want EM_BPF (clang -target bpf)", ef.Machine)
	}
	if ef.Class != elf.ELFCLASS64 {
		return fmt.Errorf("not a 64-bit ELF object (%s)", ef.Class)
	}
	for _, s := range ef.Sections {
		if s.Type == elf.SHT_NOBITS || s.Type == elf.SHT_NULL {
			continue
		}
		if end := s.Offset + s.FileSize; end > uint64(size) {
			return fmt.Errorf("truncated: section %s ends at byte %d, the file has %d", s.Name, end, size)
		}
	}
	return nil
}

// checkName refuses a file name that cannot name cells and Ginkgo labels.
func checkName(name string) error {
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-+", r)
		if !ok {
			return fmt.Errorf("file name %q has %q; want letters, digits and . _ - + only (it names the object's cells)", name, r)
		}
	}
	return nil
}

// unwrapPath drops the path an *os.PathError repeats: "no such file or
// directory" rather than "open build/x.o: no such file or directory".
func unwrapPath(err error) error {
	var perr *os.PathError
	if errors.As(err, &perr) {
		return perr.Err
	}
	return err
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
