package inventory

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Format is a tracepoint's format file: the layout of the record a
// tracepoint program receives as its context.
type Format struct {
	Name string
	ID   int
	// Fields are in file order; the common_* fields come first.
	Fields []reports.TracepointField
	// Print is the value of "print fmt:", verbatim, to the end of the file.
	Print string
}

// ParseFormat reads a tracepoint's format file, as found at
// <tracefs>/events/<system>/<event>/format. name is used in errors.
func ParseFormat(name string, r io.Reader) (*Format, error) {
	f := &Format{}
	sc := bufio.NewScanner(r)
	// print fmt lines of some tracepoints run to several kilobytes.
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		switch {
		case trimmed == "" || trimmed == "format:":
		case strings.HasPrefix(text, "name: "):
			f.Name = strings.TrimPrefix(text, "name: ")
		case strings.HasPrefix(text, "ID: "):
			id, err := strconv.Atoi(strings.TrimPrefix(text, "ID: "))
			if err != nil {
				return nil, fmt.Errorf("format %s line %d: ID %q is not a number", name, line, strings.TrimPrefix(text, "ID: "))
			}
			f.ID = id
		case strings.HasPrefix(text, "print fmt: "):
			// The last entry; its string may hold newlines (ext4's do).
			rest := []string{strings.TrimPrefix(text, "print fmt: ")}
			for sc.Scan() {
				rest = append(rest, sc.Text())
			}
			f.Print = strings.Join(rest, "\n")
		case strings.HasPrefix(trimmed, "field:"):
			field, err := parseField(trimmed)
			if err != nil {
				return nil, fmt.Errorf("format %s line %d: %w", name, line, err)
			}
			f.Fields = append(f.Fields, field)
		default:
			return nil, fmt.Errorf("format %s line %d: %q is not a name, ID, field or print fmt line", name, line, text)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("format %s: %w", name, err)
	}
	if f.Name == "" || len(f.Fields) == 0 {
		return nil, fmt.Errorf("format %s: no name or no fields; want a tracefs format file", name)
	}
	return f, nil
}

// parseField parses "field:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;".
func parseField(line string) (reports.TracepointField, error) {
	var field reports.TracepointField
	seen := 0
	for _, part := range strings.Split(line, ";") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			continue
		}
		var err error
		switch key {
		case "field":
			field.Type, field.Name, err = splitDecl(value)
		case "offset":
			field.Offset, err = strconv.Atoi(value)
		case "size":
			field.Size, err = strconv.Atoi(value)
		case "signed":
			var n int
			n, err = strconv.Atoi(value)
			field.Signed = n != 0
		default:
			continue
		}
		if err != nil {
			return field, fmt.Errorf("field %q: %s %q: %w", line, key, value, err)
		}
		seen++
	}
	if seen != 4 {
		return field, fmt.Errorf("field %q: want field, offset, size and signed", line)
	}
	return field, nil
}

// splitDecl splits a C declaration into type and name, moving an array
// suffix to the type: "char comm[16]" is ("char[16]", "comm"). A __data_loc
// (or __rel_loc) declaration already has its brackets in the type:
// "__data_loc char[] name".
func splitDecl(decl string) (typ, name string, err error) {
	decl = strings.TrimSpace(decl)
	suffix := ""
	if strings.HasSuffix(decl, "]") {
		if i := strings.LastIndex(decl, "["); i > 0 {
			decl, suffix = decl[:i], decl[i:]
		}
	}
	// The kernel prints "<type> <name>" (f_show in kernel/trace/trace_events.c).
	i := strings.LastIndex(decl, " ")
	if i <= 0 || i == len(decl)-1 {
		return "", "", fmt.Errorf("no type before the name")
	}
	return decl[:i] + suffix, decl[i+1:], nil
}

// joinDecl is splitDecl's inverse.
func joinDecl(typ, name string) string {
	dynamic := strings.HasPrefix(typ, "__data_loc") || strings.HasPrefix(typ, "__rel_loc")
	if i := strings.Index(typ, "["); i > 0 && !dynamic {
		return typ[:i] + " " + name + typ[i:]
	}
	return typ + " " + name
}

// WriteTo writes f in the kernel's format file layout: parsing a format file
// and writing it back gives the same bytes.
func (f *Format) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nID: %d\nformat:\n", f.Name, f.ID)
	for i, field := range f.Fields {
		// The kernel separates the common_* fields from the event's own.
		if i > 0 && strings.HasPrefix(f.Fields[i-1].Name, "common_") && !strings.HasPrefix(field.Name, "common_") {
			b.WriteString("\n")
		}
		signed := 0
		if field.Signed {
			signed = 1
		}
		fmt.Fprintf(&b, "\tfield:%s;\toffset:%d;\tsize:%d;\tsigned:%d;\n", joinDecl(field.Type, field.Name), field.Offset, field.Size, signed)
	}
	fmt.Fprintf(&b, "\nprint fmt: %s\n", f.Print)
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// Field returns the field called name.
func (f *Format) Field(name string) (reports.TracepointField, bool) {
	for _, field := range f.Fields {
		if field.Name == name {
			return field, true
		}
	}
	return reports.TracepointField{}, false
}
