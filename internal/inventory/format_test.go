package inventory

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// liveTracefs returns the running kernel's tracefs, or skips naming why.
func liveTracefs(t *testing.T) string {
	t.Helper()
	dir := FindTracefs()
	if dir == "" {
		t.Skip("needs tracefs mounted at /sys/kernel/tracing or under debugfs (root: mount -t tracefs tracefs /sys/kernel/tracing)")
	}
	return dir
}

// TestFormatRoundTripsLiveKernel parses every tracepoint format file of the
// running kernel and writes it back byte for byte: the parser loses nothing
// a report compares, on whatever layouts this kernel has.
func TestFormatRoundTripsLiveKernel(t *testing.T) {
	tracefs := liveTracefs(t)
	names, err := Tracepoints(tracefs)
	if err != nil {
		t.Skipf("needs a readable %s/events: %v", tracefs, err)
	}
	checked := 0
	for _, name := range names {
		raw, err := os.ReadFile(tracefs + "/events/" + name + "/format")
		if err != nil {
			continue // some kernels hide a few formats (e.g. ftrace's own)
		}
		f, err := ParseFormat(name, bytes.NewReader(raw))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var out bytes.Buffer
		if _, err := f.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		if out.String() != string(raw) {
			t.Errorf("%s does not round-trip:\n got %q\nwant %q", name, out.String(), raw)
		}
		checked++
	}
	if checked < 100 {
		t.Fatalf("round-tripped only %d formats of %d tracepoints", checked, len(names))
	}
	t.Logf("%d of %d formats round-trip", checked, len(names))
}

// TestFormatOfSysEnterOpenat checks the parsed layout of the seed point
// against the kernel's own ABI facts, not a copied table: syscall
// tracepoint arguments are unsigned longs after the 4 common fields and
// __syscall_nr, so dfd, filename, flags, mode sit at 16, 24, 32, 40.
func TestFormatOfSysEnterOpenat(t *testing.T) {
	tracefs := liveTracefs(t)
	f, err := ReadFormat(tracefs, "syscalls/sys_enter_openat")
	if err != nil {
		t.Skipf("needs syscalls/sys_enter_openat (CONFIG_FTRACE_SYSCALLS): %v", err)
	}
	if f.Name != "sys_enter_openat" || f.ID <= 0 {
		t.Errorf("name %q ID %d", f.Name, f.ID)
	}
	for i, name := range []string{"dfd", "filename", "flags", "mode"} {
		field, ok := f.Field(name)
		if !ok {
			t.Fatalf("no field %s in %+v", name, f.Fields)
		}
		if field.Offset != 16+8*i || field.Size != 8 {
			t.Errorf("%s at offset %d size %d, want %d and 8", name, field.Offset, field.Size, 16+8*i)
		}
	}
	if fn, _ := f.Field("filename"); fn.Type != "const char *" {
		t.Errorf("filename has type %q, want \"const char *\"", fn.Type)
	}
	if pid, _ := f.Field("common_pid"); pid.Type != "int" || !pid.Signed || pid.Size != 4 {
		t.Errorf("common_pid = %+v", pid)
	}
}

func TestParseFormatDeclarations(t *testing.T) {
	const format = "name: x\nID: 7\nformat:\n" +
		"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n" +
		"\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;\n" +
		"\tfield:__data_loc char[] name;\toffset:24;\tsize:4;\tsigned:0;\n" +
		"\tfield:__rel_loc char[] rel;\toffset:28;\tsize:4;\tsigned:0;\n" +
		"\tfield:const void * skbaddr;\toffset:32;\tsize:8;\tsigned:0;\n" +
		"\tfield:long prev_state;\toffset:40;\tsize:8;\tsigned:1;\n" +
		"\nprint fmt: \"%s\", REC->comm\n"
	f, err := ParseFormat("x", strings.NewReader(format))
	if err != nil {
		t.Fatal(err)
	}
	want := []reports.TracepointField{
		{Name: "common_type", Type: "unsigned short", Offset: 0, Size: 2},
		{Name: "comm", Type: "char[16]", Offset: 8, Size: 16},
		{Name: "name", Type: "__data_loc char[]", Offset: 24, Size: 4},
		{Name: "rel", Type: "__rel_loc char[]", Offset: 28, Size: 4},
		{Name: "skbaddr", Type: "const void *", Offset: 32, Size: 8},
		{Name: "prev_state", Type: "long", Offset: 40, Size: 8, Signed: true},
	}
	if len(f.Fields) != len(want) {
		t.Fatalf("fields %+v", f.Fields)
	}
	for i := range want {
		if f.Fields[i] != want[i] {
			t.Errorf("field %d = %+v, want %+v", i, f.Fields[i], want[i])
		}
	}
	var out bytes.Buffer
	f.WriteTo(&out)
	if out.String() != format {
		t.Errorf("round trip:\n got %q\nwant %q", out.String(), format)
	}
}

func TestParseFormatNamesTheBadLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"name: x\nID: seven\n", "line 2: ID \"seven\" is not a number"},
		{"name: x\nformat:\n\tfield:int a;\toffset:zero;\tsize:4;\tsigned:1;\n", "line 3: field"},
		{"name: x\nformat:\n\tfield:int a;\toffset:0;\n", "want field, offset, size and signed"},
		{"name: x\nformat:\n\tfield:a;\toffset:0;\tsize:4;\tsigned:1;\n", "no type before the name"},
		{"hello\n", "line 1: \"hello\" is not a name, ID, field or print fmt line"},
		{"name: x\n", "no name or no fields"},
	} {
		_, err := ParseFormat("f", strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "format f") {
			t.Errorf("ParseFormat(%q) = %v, want an error naming the file and %q", tc.in, err, tc.want)
		}
	}
}
