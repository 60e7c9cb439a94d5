package kernelimage

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/testfiles"
)

// TestArch tells each kernel format's architecture from its first bytes,
// the way a kernel given for the wrong --arch is refused.
func TestArch(t *testing.T) {
	img := testfiles.Arm64Image("6.12.118+deb13-cloud-arm64")
	aarch64 := testfiles.Vmlinux("6.1", true)
	binary.LittleEndian.PutUint16(aarch64[18:], 183) // EM_AARCH64
	zboot := append([]byte("MZ\x00\x00zimg"), make([]byte, 100)...)
	for _, tt := range []struct {
		name string
		img  []byte
		arch string
	}{
		{"bzImage", testfiles.BzImage(27, 0, []byte{0x1f, 0x8b}, "6.1"), "amd64"},
		{"x86-64 vmlinux", testfiles.Vmlinux("6.1", true), "amd64"},
		{"arm64 Image", img, "arm64"},
		{"arm64 Image.gz", testfiles.Gzip(t, img), "arm64"},
		{"EFI zboot", zboot, "arm64"},
		{"AArch64 vmlinux", aarch64, "arm64"},
		{"gzip of something else", testfiles.Gzip(t, bytes.Repeat([]byte("text "), 100)), ""},
		{"text", []byte(strings.Repeat("#!/bin/sh\n", 10)), ""},
		{"short", []byte("MZ"), ""},
	} {
		if got := Arch(tt.img); got != tt.arch {
			t.Errorf("%s: Arch = %q, want %q", tt.name, got, tt.arch)
		}
	}
}

func TestCheckArm64Image(t *testing.T) {
	const release = "6.12.118+deb13-cloud-arm64"
	img := testfiles.Arm64Image(release)
	bigEndian := bytes.Clone(img)
	bigEndian[0x18] |= 1
	noBanner := bytes.Clone(img[:len(img)-80])
	for _, tt := range []struct {
		name    string
		img     []byte
		release string
		error   string
	}{
		{"plain", img, release, ""},
		{"gzip", testfiles.Gzip(t, img), release, ""},
		{"zboot", append([]byte("MZ\x00\x00zimg"), make([]byte, 100)...), "", "EFI zboot"},
		{"big-endian", bigEndian, "", "big-endian"},
		{"no banner", noBanner, "", `no "Linux version" banner`},
		{"gzip of a bzImage", testfiles.Gzip(t, testfiles.BzImage(27, 0, []byte{1}, "x")), "", "no arm64 Image header"},
		{"truncated gzip", testfiles.Gzip(t, img)[:100], "", "gzip-compressed Image"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckArm64Image(context.Background(), tt.img)
			if got != tt.release || (err == nil) != (tt.error == "") || err != nil && !strings.Contains(err.Error(), tt.error) {
				t.Errorf("CheckArm64Image = %q, %v; want %q, error %q", got, err, tt.release, tt.error)
			}
		})
	}
}

// TestExtractArm64Image decompresses an Image.gz into the Image qemu boots
// and refuses one whose content is no arm64 Image, leaving nothing behind.
func TestExtractArm64Image(t *testing.T) {
	dir := t.TempDir()
	img := testfiles.Arm64Image("7.2.13+deb14-cloud-arm64")
	dst := filepath.Join(dir, "Image")
	if !IsCompressedArm64(testfiles.Gzip(t, img)) || IsCompressedArm64(img) {
		t.Error("IsCompressedArm64 does not tell Image.gz from Image")
	}
	if err := ExtractArm64Image(context.Background(), testfiles.Gzip(t, img), "Image.gz", dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); !bytes.Equal(b, img) {
		t.Errorf("extracted Image differs from the original (%d bytes, want %d)", len(b), len(img))
	}
	bad := filepath.Join(dir, "bad")
	err := ExtractArm64Image(context.Background(), testfiles.Gzip(t, []byte("not a kernel at all, but long enough to have a header ...............")), "bad.gz", bad)
	if err == nil || !strings.Contains(err.Error(), "bad.gz: no arm64 Image header") {
		t.Errorf("non-Image payload: error %v", err)
	}
	for _, p := range []string{bad, bad + ".part"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
}
