package kernelimage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/decompress"
)

// arm64 Image header fields (Documentation/arch/arm64/booting.rst): 64
// bytes, the magic "ARM\x64" at 0x38. Debian's arm64 vmlinuz is such an
// Image, uncompressed, with an EFI stub ("MZ" at 0) qemu ignores.
const (
	arm64HeaderSize = 64
	offArm64Flags   = 0x18
	offArm64Magic   = 0x38
	arm64Magic      = "ARM\x64"
)

var gzipMagic = []byte{0x1f, 0x8b}

// IsArm64Image reports whether img starts with an arm64 Image header.
func IsArm64Image(img []byte) bool {
	return len(img) >= arm64HeaderSize && string(img[offArm64Magic:offArm64Magic+4]) == arm64Magic
}

// isZboot reports whether img is an EFI zboot image (CONFIG_EFI_ZBOOT): a
// PE file holding a compressed Image, which qemu 7.2's -kernel cannot
// boot.
func isZboot(img []byte) bool {
	return len(img) >= 8 && string(img[:2]) == "MZ" && string(img[4:8]) == "zimg"
}

// Arch names the architecture a kernel file is for, by its format: "amd64"
// for a bzImage or an x86-64 ELF file, "arm64" for an arm64 Image (plain,
// gzip-compressed or EFI zboot) or an AArch64 ELF file, "" when it is none
// of these. Only the first bytes of a compressed Image are decompressed.
func Arch(img []byte) string {
	switch {
	case IsBzImage(img):
		return "amd64"
	case IsArm64Image(img), isZboot(img):
		return "arm64"
	case bytes.HasPrefix(img, []byte("\x7fELF")) && len(img) >= 20:
		// e_machine, little-endian in both kernels' ELF files.
		switch binary.LittleEndian.Uint16(img[18:]) {
		case 62: // EM_X86_64
			return "amd64"
		case 183: // EM_AARCH64
			return "arm64"
		}
	case bytes.HasPrefix(img, gzipMagic):
		head, err := gunzipHead(img, arm64HeaderSize)
		if err == nil && IsArm64Image(head) {
			return "arm64"
		}
	}
	return ""
}

// gunzipHead returns the first n bytes of the gzip stream img.
func gunzipHead(img []byte, n int) ([]byte, error) {
	r, err := decompress.FirstStream(context.Background(), "gzip", bytes.NewReader(img), nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	head := make([]byte, n)
	_, err = io.ReadFull(r, head)
	return head, err
}

// CheckArm64Image checks that img is an arm64 Image qemu-system-aarch64's
// -kernel boots, plain or gzip-compressed (arch/arm64/boot/Image.gz), and
// returns its release, from the "Linux version" banner. A compressed Image
// is decompressed in memory to read it.
func CheckArm64Image(ctx context.Context, img []byte) (string, error) {
	if isZboot(img) {
		return "", errors.New("an EFI zboot image (CONFIG_EFI_ZBOOT), which qemu's -kernel does not boot: give arch/arm64/boot/Image or Image.gz")
	}
	plain, err := plainImage(ctx, img)
	if err != nil {
		return "", err
	}
	release := bannerRelease(plain)
	if release == "" {
		return "", errors.New(`arm64 Image: no "Linux version" banner in it`)
	}
	return release, nil
}

// plainImage returns the uncompressed Image of img, checking its header.
func plainImage(ctx context.Context, img []byte) ([]byte, error) {
	if bytes.HasPrefix(img, gzipMagic) {
		r, err := decompress.FirstStream(ctx, "gzip", bytes.NewReader(img), nil)
		if err != nil {
			return nil, fmt.Errorf("gzip-compressed Image: %w", err)
		}
		plain, err := io.ReadAll(r)
		if cerr := r.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("gzip-compressed Image: %w", err)
		}
		img = plain
	}
	if !IsArm64Image(img) {
		return nil, fmt.Errorf("no arm64 Image header (magic %q at 0x38)", arm64Magic)
	}
	if binary.LittleEndian.Uint64(img[offArm64Flags:])&1 != 0 {
		return nil, errors.New("arm64 Image: a big-endian kernel; want little-endian")
	}
	return img, nil
}

// IsCompressedArm64 reports whether img is an arm64 Image that must be
// decompressed (by ExtractArm64Image) before qemu boots it.
func IsCompressedArm64(img []byte) bool { return bytes.HasPrefix(img, gzipMagic) }

// ExtractArm64Image writes the uncompressed Image of img, a gzip-compressed
// arm64 Image read from src, to dst, which qemu-system-aarch64 boots as
// is. dst appears complete or not at all.
func ExtractArm64Image(ctx context.Context, img []byte, src, dst string) error {
	plain, err := plainImage(ctx, img)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	tmp := dst + ".part"
	if err := os.WriteFile(tmp, plain, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}

// bannerRelease returns the release of the kernel's banner, "Linux version
// 6.12.118+deb13-cloud-arm64 (debian-kernel@…) …", in b, skipping format
// strings ("Linux version %s …") that come before it.
func bannerRelease(b []byte) string {
	const banner = "Linux version "
	for rest := b; ; {
		i := bytes.Index(rest, []byte(banner))
		if i < 0 {
			return ""
		}
		rest = rest[i+len(banner):]
		end := bytes.IndexByte(rest, 0)
		if end < 0 {
			end = len(rest)
		}
		if w := bytes.Fields(rest[:end]); len(w) > 0 && w[0][0] != '%' {
			return string(w[0])
		}
	}
}
