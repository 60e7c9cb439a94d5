package btfwatch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// The kinds of BTF type the scan tells apart (enum btf_kind in the
// kernel's include/uapi/linux/btf.h).
const (
	kindFunc    = 12
	kindDeclTag = 17
)

// tail is how many bytes follow a BTF type's 12-byte header, by kind (a
// count is per member, parameter or value, vlen of them), for each kind
// the kernel defines up to ENUM64 (6.0); -1 marks a kind unknown.
var tail = [...]struct{ fixed, each int }{
	0:  {-1, 0}, // BTF_KIND_UNKN: no type has it
	1:  {4, 0},  // INT: its encoding
	2:  {0, 0},  // PTR
	3:  {12, 0}, // ARRAY: element type, index type, length
	4:  {0, 12}, // STRUCT: members
	5:  {0, 12}, // UNION: members
	6:  {0, 8},  // ENUM: values
	7:  {0, 0},  // FWD
	8:  {0, 0},  // TYPEDEF
	9:  {0, 0},  // VOLATILE
	10: {0, 0},  // CONST
	11: {0, 0},  // RESTRICT
	12: {0, 0},  // FUNC
	13: {0, 8},  // FUNC_PROTO: parameters
	14: {4, 0},  // VAR: linkage
	15: {0, 12}, // DATASEC: variables
	16: {0, 0},  // FLOAT
	17: {4, 0},  // DECL_TAG: component index
	18: {0, 0},  // TYPE_TAG
	19: {0, 12}, // ENUM64: values
}

// functions lists the distinct names of raw BTF's functions (FUNC types,
// fentry's targets) and counts its types as btf.Spec.All yields them:
// Void and every type but the declaration tags. It reads each type's
// header and name and decodes nothing else: decoding all of a kernel's
// 60k–126k types, to keep the functions, took 56–157 ms per kernel, the
// scan 3–10 ms (TestFunctionsAgreeWithSpec logs both), and the runner
// reads the BTF of every kernel of a matrix.
func functions(raw []byte) (names map[string]struct{}, types int, err error) {
	if len(raw) < 24 {
		return nil, 0, errors.New("BTF shorter than its header")
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if binary.BigEndian.Uint16(raw) == 0xeb9f {
		bo = binary.BigEndian
	}
	hdrLen, typeOff, typeLen, strOff, strLen := uint64(bo.Uint32(raw[4:])), uint64(bo.Uint32(raw[8:])), uint64(bo.Uint32(raw[12:])), uint64(bo.Uint32(raw[16:])), uint64(bo.Uint32(raw[20:]))
	if hdrLen+typeOff+typeLen > uint64(len(raw)) || hdrLen+strOff+strLen > uint64(len(raw)) {
		return nil, 0, errors.New("BTF's types or strings run past its end")
	}
	typeSec := raw[hdrLen+typeOff : hdrLen+typeOff+typeLen]
	strs := raw[hdrLen+strOff : hdrLen+strOff+strLen]
	names = map[string]struct{}{}
	types = 1 // Void, type 0, which BTF does not encode
	for off := 0; off < len(typeSec); {
		if off+12 > len(typeSec) {
			return nil, 0, fmt.Errorf("type header at %#x runs past the type section", off)
		}
		nameOff, info := bo.Uint32(typeSec[off:]), bo.Uint32(typeSec[off+4:])
		kind, vlen := int(info>>24&0x1f), int(info&0xffff)
		if kind >= len(tail) || tail[kind].fixed < 0 {
			return nil, 0, fmt.Errorf("type at %#x: unknown kind %d", off, kind)
		}
		if kind == kindFunc {
			name, err := name(strs, nameOff)
			if err != nil {
				return nil, 0, fmt.Errorf("function at %#x: %w", off, err)
			}
			names[name] = struct{}{}
		}
		if kind != kindDeclTag {
			types++
		}
		off += 12 + tail[kind].fixed + vlen*tail[kind].each
		if off > len(typeSec) {
			return nil, 0, fmt.Errorf("type of kind %d runs past the type section", kind)
		}
	}
	return names, types, nil
}

// name reads the NUL-terminated string at off in a BTF string section.
func name(strs []byte, off uint32) (string, error) {
	if uint64(off) >= uint64(len(strs)) {
		return "", fmt.Errorf("name offset %#x past the strings", off)
	}
	end := bytes.IndexByte(strs[off:], 0)
	if end < 0 {
		return "", fmt.Errorf("name at %#x has no terminating NUL", off)
	}
	return string(strs[off : int(off)+end]), nil
}
