package kernelimage

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/testfiles"
)

func TestFindPayload(t *testing.T) {
	xz := []byte{0xfd, '7', 'z', 'X', 'Z', 0, 1, 2, 3, 4}
	zst := []byte{0x28, 0xb5, 0x2f, 0xfd, 9, 9, 9, 9}
	for _, tt := range []struct {
		name   string
		img    []byte
		off    int64
		format string
		error  string
	}{
		{"xz", testfiles.BzImage(27, 0x3a0, xz, "6.1.0-50-amd64 (x)"), 28*512 + 0x3a0, "xz", ""},
		{"zstd", testfiles.BzImage(39, 0x10, zst, "7.2.13"), 40*512 + 0x10, "zstd", ""},
		{"zero setup sects means 4", testfiles.BzImage(0, 0, zst, "x"), 5 * 512, "zstd", ""},
		{"short", []byte("MZ"), 0, "", "too short"},
		{"no HdrS", make([]byte, 4096), 0, "", "not a bzImage"},
		{"truncated", testfiles.BzImage(27, 0x3a0, xz, "x")[:28*512+0x3a0+4], 0, "", "truncated"},
		{"unknown compression", testfiles.BzImage(27, 0, []byte("hello world"), "x"), 0, "", "unknown compression"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := findPayload(tt.img)
			if tt.error != "" {
				if err == nil || !strings.Contains(err.Error(), tt.error) {
					t.Fatalf("error %v, want one containing %q", err, tt.error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Offset != tt.off || p.Format != tt.format {
				t.Errorf("payload at %d (%s), want %d (%s)", p.Offset, p.Format, tt.off, tt.format)
			}
		})
	}
	if r := bzImageRelease(testfiles.BzImage(27, 0, xz, "6.1.0-50-cloud-amd64 (debian-kernel@lists) #1 SMP")); r != "6.1.0-50-cloud-amd64" {
		t.Errorf("release %q", r)
	}
}

// TestExtractVmlinux decompresses gzip (Go) and, where the tools exist,
// xz and zstd payloads with the appended size the kernel build adds, and
// refuses a payload that is not an ELF file.
func TestExtractVmlinux(t *testing.T) {
	elf := append([]byte("\x7fELF\x02\x01\x01"), bytes.Repeat([]byte("kernel"), 1000)...)
	sized := func(b []byte) []byte {
		return binary.LittleEndian.AppendUint32(b, uint32(len(elf)))
	}
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write(elf)
	z.Close()
	cases := map[string][]byte{"gzip": gz.Bytes()}
	for _, tool := range []struct{ name, cmd string }{{"xz", "xz"}, {"zstd", "zstd"}} {
		if _, err := exec.LookPath(tool.cmd); err != nil {
			t.Logf("%s not installed: its case is skipped", tool.cmd)
			continue
		}
		cmd := exec.Command(tool.cmd, "-c")
		cmd.Stdin = bytes.NewReader(elf)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		cases[tool.name] = sized(out)
	}
	dir := t.TempDir()
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			dst := filepath.Join(dir, name+".vmlinux")
			if err := ExtractVmlinux(context.Background(), testfiles.BzImage(27, 0x100, payload, "1.0"), name+".bzImage", dst, io.Discard); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(dst); !bytes.Equal(b, elf) {
				t.Errorf("vmlinux differs from the payload's content (%d bytes)", len(b))
			}
		})
	}
	var notELF bytes.Buffer
	z = gzip.NewWriter(&notELF)
	z.Write([]byte("not a kernel"))
	z.Close()
	err := ExtractVmlinux(context.Background(), testfiles.BzImage(27, 0, notELF.Bytes(), "1.0"), "bad.bzImage", filepath.Join(dir, "bad.vmlinux"), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Errorf("non-ELF payload: error %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.vmlinux.part")); err == nil {
		t.Error("bad.vmlinux.part left behind")
	}
}
