package vmimages

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
)

// fakeBzImage lays out a bzImage by the boot protocol: boot sector and
// setupSects setup sectors, then the protected-mode code, in which the
// payload sits at payloadOff. Only the fields findPayload reads are set.
func fakeBzImage(setupSects byte, payloadOff int, payload []byte, version string) []byte {
	eff := int(setupSects)
	if eff == 0 {
		eff = 4
	}
	img := make([]byte, (eff+1)*512+payloadOff+len(payload))
	img[offSetupSects] = setupSects
	copy(img[offHeaderMagic:], "HdrS")
	binary.LittleEndian.PutUint16(img[offVersion:], 0x20f)
	binary.LittleEndian.PutUint32(img[offPayloadOffset:], uint32(payloadOff))
	binary.LittleEndian.PutUint32(img[offPayloadLength:], uint32(len(payload)))
	// The version string lives in the setup code; its pointer is -0x200.
	binary.LittleEndian.PutUint16(img[offKernelVersion:], 0x300-0x200)
	copy(img[0x300:], version+"\x00")
	copy(img[(eff+1)*512+payloadOff:], payload)
	return img
}

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
		{"xz", fakeBzImage(27, 0x3a0, xz, "6.1.0-50-amd64 (x)"), 28*512 + 0x3a0, "xz", ""},
		{"zstd", fakeBzImage(39, 0x10, zst, "7.2.13"), 40*512 + 0x10, "zstd", ""},
		{"zero setup sects means 4", fakeBzImage(0, 0, zst, "x"), 5 * 512, "zstd", ""},
		{"short", []byte("MZ"), 0, "", "too short"},
		{"no HdrS", make([]byte, 4096), 0, "", "not a bzImage"},
		{"truncated", fakeBzImage(27, 0x3a0, xz, "x")[:28*512+0x3a0+4], 0, "", "truncated"},
		{"unknown compression", fakeBzImage(27, 0, []byte("hello world"), "x"), 0, "", "unknown compression"},
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
	if r := bzImageRelease(fakeBzImage(27, 0, xz, "6.1.0-50-cloud-amd64 (debian-kernel@lists) #1 SMP")); r != "6.1.0-50-cloud-amd64" {
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
			if err := extractVmlinux(context.Background(), fakeBzImage(27, 0x100, payload, "1.0"), name+".bzImage", dst, io.Discard); err != nil {
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
	err := extractVmlinux(context.Background(), fakeBzImage(27, 0, notELF.Bytes(), "1.0"), "bad.bzImage", filepath.Join(dir, "bad.vmlinux"), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Errorf("non-ELF payload: error %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.vmlinux.part")); err == nil {
		t.Error("bad.vmlinux.part left behind")
	}
}
