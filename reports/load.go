package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
)

// Load reads and validates the report at path. Errors name the file and the
// field that is wrong, so a CI log says what to fix in one line.
func Load(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", path, err)
	}
	return Parse(path, data)
}

// LoadAll loads every path, stopping at the first bad one.
func LoadAll(paths ...string) ([]*Report, error) {
	reps := make([]*Report, 0, len(paths))
	for _, p := range paths {
		r, err := Load(p)
		if err != nil {
			return nil, err
		}
		reps = append(reps, r)
	}
	return reps, nil
}

// Parse decodes and validates a report; name is used in errors.
//
// The schema version is read before anything else: a file written by a newer
// bpfmatrix may not decode into this build's types at all, and "upgrade
// bpfmatrix" is the useful answer then, not a type error deep inside it.
// Unknown fields are ignored, so fields can be added within a version.
func Parse(name string, data []byte) (*Report, error) {
	var head struct {
		Schema json.RawMessage `json:"schema"`
		Runs   json.RawMessage `json:"runs"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("report %s: %s", name, describe(data, err))
	}
	if head.Schema == nil {
		return nil, fmt.Errorf("report %s: field schema: missing; want the report format version (%d)", name, SchemaVersion)
	}
	version, err := strconv.Atoi(string(head.Schema))
	if err != nil {
		return nil, fmt.Errorf("report %s: field schema: %s is not an integer; want the report format version (%d)", name, head.Schema, SchemaVersion)
	}
	if version > SchemaVersion {
		return nil, fmt.Errorf("report %s: field schema: version %d is newer than this bpfmatrix understands (%d); upgrade bpfmatrix", name, version, SchemaVersion)
	}
	if head.Runs == nil {
		return nil, fmt.Errorf("report %s: field runs: missing; want a list of runs", name)
	}

	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("report %s: %s", name, describe(data, err))
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("report %s: %w", name, err)
	}
	return &r, nil
}

// describe turns a decoding error into one line naming the field and the
// position, rather than encoding/json's Go-type vocabulary.
func describe(data []byte, err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		// Offset counts the bytes read, the offending one included.
		return fmt.Sprintf("%s: not valid JSON: %v", position(data, syntax.Offset-1), syntax)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Sprintf("field %s: want %s, got JSON %s (%s)", field, jsonKind(typ.Type.Kind().String()), typ.Value, position(data, typ.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "not valid JSON: the file ends in the middle of the report"
	default:
		return err.Error()
	}
}

// jsonKind says a Go kind in JSON's words.
func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case kind == "slice", kind == "array":
		return "a list"
	case kind == "struct", kind == "map":
		return "an object"
	}
	return kind
}

// position turns a byte offset into "line L column C", 1-based.
func position(data []byte, offset int64) string {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 0 {
		offset = 0
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d column %d", line, col)
}

// KernelVersion is the version of k: its parsed Version field, else its
// catalog name ("5.10"), else its release; ok is false for neither.
func (k Kernel) KernelVersion() (kversion.Version, bool) {
	for _, s := range []string{k.Version, k.Name, k.Release} {
		if v, ok := kversion.Parse(s); ok {
			return v, true
		}
	}
	return kversion.Version{}, false
}
