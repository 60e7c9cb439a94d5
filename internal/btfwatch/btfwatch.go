// Package btfwatch reads what a kernel's BTF says of its probe points on
// the host, without booting the kernel: its functions (fentry's targets),
// the watch list's functions' prototypes and the watch list's struct
// fields and kfuncs, from the .BTF section of a cached vmlinux, the BTF
// inside an arm64 Image, or the running kernel's /sys/kernel/btf/vmlinux.
// Decoding BTF inside an emulated guest is slow; the kernel file holds the
// same bytes. A field is what a CO-RE relocation resolves; its offset,
// type and size are what drift between kernels under a tool that
// hard-codes them.
package btfwatch

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cilium/ebpf/btf"

	"github.com/bpfmatrix/bpfmatrix/internal/inventory"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Load reads the BTF of a kernel file: an ELF vmlinux (its .BTF section),
// raw BTF such as /sys/kernel/btf/vmlinux, or an uncompressed arm64 Image,
// which holds the .BTF section's bytes as the kernel loads them and no ELF
// headers to find them by: Load looks for a BTF header there.
//
// The ELF's .BTF section is read as raw BTF: a vmlinux as Debian ships it
// (and as vmimages extracts it from a bzImage) has no symbol table, which
// btf.LoadSpec wants for the data sections, and a kernel's own types need
// none.
func Load(path string) (*btf.Spec, error) {
	k, err := read(path)
	return k.spec, err
}

// kernelBTF is a kernel's BTF as read: its bytes, which Add scans for the
// kernel's functions, and the spec that decodes them type by type, as
// looked up.
type kernelBTF struct {
	raw  []byte
	spec *btf.Spec
}

// read reads the BTF of a kernel file, as Load says.
func read(path string) (kernelBTF, error) {
	f, err := os.Open(path)
	if err != nil {
		return kernelBTF{}, err
	}
	defer f.Close()
	head := make([]byte, len(btfMagic))
	if _, err := io.ReadFull(f, head); err != nil {
		return kernelBTF{}, fmt.Errorf("BTF of %s: read its first bytes: %w", path, err)
	}
	var k kernelBTF
	switch {
	case bytes.HasPrefix(head, []byte(elf.ELFMAG)):
		// Only the section is read, not the whole (50 MB) vmlinux.
		k, err = section(f)
	case bytes.HasPrefix(head, btfMagic):
		var raw []byte
		if raw, err = os.ReadFile(path); err == nil {
			k, err = parse(raw)
		}
	default:
		var data []byte
		if data, err = os.ReadFile(path); err == nil {
			k, err = embedded(data)
		}
	}
	if err != nil {
		return kernelBTF{}, fmt.Errorf("BTF of %s: %w", path, err)
	}
	return k, nil
}

// parse makes the spec of raw BTF. It walks every type's header, so a
// truncated or garbled type section fails here, not halfway through a
// scan.
func parse(raw []byte) (kernelBTF, error) {
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return kernelBTF{}, err
	}
	return kernelBTF{raw, spec}, nil
}

// section reads the .BTF section of an ELF file as raw BTF.
func section(r io.ReaderAt) (kernelBTF, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return kernelBTF{}, err
	}
	sec := f.Section(".BTF")
	if sec == nil {
		return kernelBTF{}, errors.New("no .BTF section: a kernel built without CONFIG_DEBUG_INFO_BTF")
	}
	raw, err := sec.Data()
	if err != nil {
		return kernelBTF{}, fmt.Errorf("read .BTF: %w", err)
	}
	return parse(raw)
}

// btfMagic starts a little-endian BTF header: magic 0xeB9F, version 1,
// flags 0, and the header's length, 24.
var btfMagic = []byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0}

// embedded finds the BTF blob inside a kernel image by its header and
// returns the first one that parses. A kernel's own BTF has thousands of
// types; a stray match of the eight header bytes does not parse.
func embedded(data []byte) (kernelBTF, error) {
	var errs []error
	for off := 0; ; {
		i := bytes.Index(data[off:], btfMagic)
		if i < 0 {
			break
		}
		start := off + i
		off = start + 1
		if start+24 > len(data) {
			break
		}
		h := data[start : start+24]
		le := binary.LittleEndian
		typeOff, typeLen, strOff, strLen := le.Uint32(h[8:]), le.Uint32(h[12:]), le.Uint32(h[16:]), le.Uint32(h[20:])
		end := uint64(24) + max(uint64(typeOff)+uint64(typeLen), uint64(strOff)+uint64(strLen))
		if uint64(start)+end > uint64(len(data)) {
			continue
		}
		k, err := parse(data[start : start+int(end)])
		if err != nil {
			errs = append(errs, fmt.Errorf("at %#x: %w", start, err))
			continue
		}
		return k, nil
	}
	if len(errs) == 0 {
		return kernelBTF{}, errors.New("neither an ELF file nor raw BTF, and no BTF header (0xeB9F) inside")
	}
	return kernelBTF{}, fmt.Errorf("no BTF header inside parses: %w", errors.Join(errs...))
}

// Add reads the kernel BTF at path and completes pp with it: BTFFunctions
// (and, when lists is not nil, their names in lists.BTFFunctions), each
// watched function the target recorded (inventory.SettleFunction), and the
// field and kfunc points of watch, appended; pp.HostBTF records what was
// read, or why it could not be. A BTF whose every type header and
// function name it could not read, or whose watched functions it could
// not decode, adds no points and makes no function absent: that a point
// is not in a kernel is said only from BTF that was read, never guessed
// from an error. It returns how long reading and looking up took.
//
// HostBTF.Source is the running kernel's BTFSource as is, and a kernel
// file's base name otherwise ("vmlinux", "Image"): the run names the
// kernel, and a path into this machine's cache means nothing to a reader
// of the report; so is it in HostBTF.Error.
func Add(pp *reports.ProbePoints, lists *reports.ProbeLists, path string, watch []inventory.Point) time.Duration {
	start := time.Now()
	source := path
	if path != inventory.BTFSource {
		source = filepath.Base(path)
	}
	pp.HostBTF = &reports.Count{Source: source}
	k, err := read(path)
	var (
		names   map[string]struct{}
		watched map[string]*btf.Func
	)
	if err == nil {
		names, pp.HostBTF.N, err = functions(k.raw)
	}
	if err == nil {
		watched, err = watchedFunctions(pp, k.spec, names)
	}
	if err != nil {
		Unread(pp, source, strings.ReplaceAll(err.Error(), path, source))
		return time.Since(start)
	}
	pp.BTFFunctions = reports.Count{Source: source, N: len(names)}
	if lists != nil {
		lists.BTFFunctions = slices.Sorted(maps.Keys(names))
	}
	settleFunctions(pp, watched)
	spec := k.spec
	for _, p := range watch {
		if !p.InBTF() {
			continue
		}
		w := reports.WatchedPoint{Kind: p.Kind, Name: p.Name}
		switch p.Kind {
		case reports.PointField:
			watchField(&w, spec)
		case reports.PointKfunc:
			watchKfunc(&w, spec)
		}
		pp.Watch = append(pp.Watch, w)
	}
	return time.Since(start)
}

// Unread records in pp that the kernel BTF named source could not be
// read, and why: HostBTF and BTFFunctions carry the error, no field or
// kfunc point is added, and each watched function is settled without BTF,
// its traceability unknown for want of it.
func Unread(pp *reports.ProbePoints, source, why string) {
	pp.HostBTF = &reports.Count{Source: source, Error: why}
	pp.BTFFunctions = reports.Count{Source: source, Error: why}
	settleFunctions(pp, nil)
}

// watchedFunctions decodes the BTF functions that pp's watched functions
// name, of those in names (the kernel's, as functions found them). Where
// a kernel has two functions of one name (static ones, in two files), the
// last is kept.
func watchedFunctions(pp *reports.ProbePoints, spec *btf.Spec, names map[string]struct{}) (map[string]*btf.Func, error) {
	funcs := map[string]*btf.Func{}
	for _, w := range pp.Watch {
		if _, ok := names[w.Name]; !ok || w.Kind != reports.PointFunction {
			continue
		}
		types, err := spec.AnyTypesByName(w.Name)
		if err != nil {
			return nil, fmt.Errorf("decode function %s: %w", w.Name, err)
		}
		for _, t := range types {
			if fn, ok := t.(*btf.Func); ok {
				funcs[w.Name] = fn
			}
		}
	}
	return funcs, nil
}

// settleFunctions completes the watched functions of pp with their
// entries in funcs, the kernel's BTF functions by name.
func settleFunctions(pp *reports.ProbePoints, funcs map[string]*btf.Func) {
	for i := range pp.Watch {
		if w := &pp.Watch[i]; w.Kind == reports.PointFunction {
			inventory.SettleFunction(pp, w, funcs[w.Name])
		}
	}
}

// watchField resolves a field point's dotted path in spec.
func watchField(w *reports.WatchedPoint, spec *btf.Spec) {
	f, err := Field(spec, w.Name)
	if err != nil {
		w.Error = err.Error()
		return
	}
	w.Present, w.Fields = true, []reports.TracepointField{f}
}

// watchKfunc looks a kfunc point up among spec's functions.
func watchKfunc(w *reports.WatchedPoint, spec *btf.Spec) {
	var fn *btf.Func
	if err := spec.TypeByName(w.Name, &fn); err != nil {
		if errors.Is(err, btf.ErrNotFound) {
			err = errors.New("no function " + w.Name + " in kernel BTF")
		}
		w.Error = err.Error()
		return
	}
	w.Present, w.Prototype = true, inventory.Prototype(fn)
	w.DeclTags = slices.Clone(fn.Tags)
}

// Field resolves path ("task_struct.__state", "sock.__sk_common.skc_daddr")
// in spec: the first name is a struct or union, each next one a member of
// the one before, found also inside anonymous structs and unions, whose
// offsets add up. The field's Name is its last member's.
func Field(spec *btf.Spec, path string) (reports.TracepointField, error) {
	names := strings.Split(path, ".")
	if len(names) < 2 {
		return reports.TracepointField{}, fmt.Errorf("field %q: want struct.member", path)
	}
	outer, err := composite(spec, names[0])
	if err != nil {
		return reports.TracepointField{}, err
	}
	var (
		typ       btf.Type = outer
		bits      btf.Bits
		member    btf.Member
		container = names[0]
	)
	for _, name := range names[1:] {
		members, ok := membersOf(typ)
		if !ok {
			return reports.TracepointField{}, fmt.Errorf("%s: %s is %s, which has no members", path, container, inventory.CType(typ))
		}
		m, at, ok := find(members, name)
		if !ok {
			return reports.TracepointField{}, fmt.Errorf("%s has no member %s", describe(typ, container), name)
		}
		bits += at
		member, typ, container = m, m.Type, container+"."+name
	}
	size, err := btf.Sizeof(member.Type)
	if err != nil {
		return reports.TracepointField{}, fmt.Errorf("%s: size of %s: %w", path, inventory.CType(member.Type), err)
	}
	f := reports.TracepointField{
		Name:   names[len(names)-1],
		Type:   inventory.CType(member.Type),
		Offset: int(bits / 8),
		Size:   size,
		Signed: signed(member.Type),
	}
	f.BitOffset, f.BitfieldSize = int(bits), int(member.BitfieldSize)
	return f, nil
}

// composite finds the struct or union named name, preferring one with
// members over a forward declaration's empty twin.
func composite(spec *btf.Spec, name string) (btf.Type, error) {
	types, err := spec.AnyTypesByName(name)
	if err != nil && !errors.Is(err, btf.ErrNotFound) {
		return nil, fmt.Errorf("look up %s: %w", name, err)
	}
	var found btf.Type
	for _, t := range types {
		switch t := t.(type) {
		case *btf.Struct:
			if found == nil || len(t.Members) > 0 {
				found = t
			}
		case *btf.Union:
			if found == nil || len(t.Members) > 0 {
				found = t
			}
		}
	}
	if found == nil {
		return nil, fmt.Errorf("no struct or union %s in kernel BTF", name)
	}
	return found, nil
}

// membersOf returns the members of t, seen through typedefs and qualifiers.
func membersOf(t btf.Type) ([]btf.Member, bool) {
	switch t := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		return t.Members, true
	case *btf.Union:
		return t.Members, true
	}
	return nil, false
}

// find looks name up among members, descending into anonymous members (an
// unnamed struct or union: the kernel's struct_group, __randomize_layout
// blocks, unions of aliases). It returns the member and its offset from
// the start of members' type.
func find(members []btf.Member, name string) (btf.Member, btf.Bits, bool) {
	for _, m := range members {
		if m.Name == name {
			return m, m.Offset, true
		}
	}
	for _, m := range members {
		if m.Name != "" {
			continue
		}
		inner, ok := membersOf(m.Type)
		if !ok {
			continue
		}
		if found, at, ok := find(inner, name); ok {
			return found, m.Offset + at, true
		}
	}
	return btf.Member{}, 0, false
}

// describe names a container in an error: "struct task_struct", or the
// path that led to it when it has no name of its own.
func describe(t btf.Type, path string) string {
	switch u := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		if u.Name != "" {
			return "struct " + u.Name
		}
	case *btf.Union:
		if u.Name != "" {
			return "union " + u.Name
		}
	}
	return path
}

// signed says whether t is a signed integer or enum, through typedefs.
func signed(t btf.Type) bool {
	switch u := btf.UnderlyingType(t).(type) {
	case *btf.Int:
		return u.Encoding&btf.Signed != 0
	case *btf.Enum:
		return u.Signed
	}
	return false
}
