// Package kernelimage recognises kernel images — x86-64 ones (a bzImage by
// its boot header, a vmlinux by its ELF notes) and arm64 ones (an Image by
// its header's magic) — reads their release, and makes of them what qemu
// boots: a bzImage's decompressed vmlinux, entered through its PVH entry,
// and an uncompressed arm64 Image. It knows nothing of where kernels come
// from.
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

// bzImage fields of the x86 boot protocol (Documentation/arch/x86/boot.rst).
const (
	offSetupSects    = 0x1f1
	offHeaderMagic   = 0x202
	offVersion       = 0x206
	offKernelVersion = 0x20e
	offPayloadOffset = 0x248
	offPayloadLength = 0x24c
	bootHeaderEnd    = 0x250
)

// payload is the compressed kernel inside a bzImage.
type payload struct {
	Offset, Length int64  // in the file
	Format         string // "gzip", "xz", "zstd", "lz4", "lzma", "bzip2", "lzo"
}

// payloadMagics identify the compressor by the payload's first bytes.
var payloadMagics = []struct {
	magic  []byte
	format string
}{
	{[]byte{0x1f, 0x8b}, "gzip"},
	{[]byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, "xz"},
	{[]byte{0x28, 0xb5, 0x2f, 0xfd}, "zstd"},
	{[]byte{0x02, 0x21, 0x4c, 0x18}, "lz4"},
	{[]byte{0x5d, 0x00, 0x00}, "lzma"},
	{[]byte("BZh"), "bzip2"},
	{[]byte{0x89, 'L', 'Z', 'O'}, "lzo"},
}

// IsBzImage reports whether img starts like a bzImage: the "HdrS" magic of
// the boot header at 0x202.
func IsBzImage(img []byte) bool {
	return len(img) >= offHeaderMagic+4 && string(img[offHeaderMagic:offHeaderMagic+4]) == "HdrS"
}

// findPayload locates the compressed kernel in a bzImage through the setup
// header's payload_offset and payload_length (boot protocol >= 2.08).
func findPayload(img []byte) (payload, error) {
	if len(img) < bootHeaderEnd {
		return payload{}, fmt.Errorf("%d bytes is too short for a bzImage", len(img))
	}
	if !IsBzImage(img) {
		return payload{}, errors.New("no \"HdrS\" boot header: not a bzImage")
	}
	if v := binary.LittleEndian.Uint16(img[offVersion:]); v < 0x208 {
		return payload{}, fmt.Errorf("boot protocol %d.%02d has no payload fields (need 2.08)", v>>8, v&0xff)
	}
	sects := int64(img[offSetupSects])
	if sects == 0 {
		sects = 4
	}
	// payload_offset counts from the protected-mode code, which follows
	// the boot sector and the setup sectors.
	start := (sects + 1) * 512
	off := start + int64(binary.LittleEndian.Uint32(img[offPayloadOffset:]))
	n := int64(binary.LittleEndian.Uint32(img[offPayloadLength:]))
	if n == 0 || off+n > int64(len(img)) {
		return payload{}, fmt.Errorf("payload %d bytes at offset %d lies outside the %d-byte file: truncated", n, off, len(img))
	}
	p := payload{Offset: off, Length: n}
	for _, m := range payloadMagics {
		if bytes.HasPrefix(img[off:off+n], m.magic) {
			p.Format = m.format
			return p, nil
		}
	}
	return payload{}, fmt.Errorf("payload starts with % x: unknown compression", img[off:min(off+6, off+n)])
}

// bzImageRelease reads the kernel's version string ("6.1.0-50-cloud-amd64
// (debian-kernel@…) #1 SMP …") and returns its first word, uname -r.
func bzImageRelease(img []byte) string {
	if len(img) < bootHeaderEnd {
		return ""
	}
	ptr := int(binary.LittleEndian.Uint16(img[offKernelVersion:]))
	if ptr == 0 || ptr+0x200 >= len(img) {
		return ""
	}
	s := img[ptr+0x200:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	f := bytes.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return string(f[0])
}

// CheckBzImage checks that img, which IsBzImage, is a bzImage whose
// payload can be located, and returns its release, so that a kernel that
// cannot be booted fails before anything slow starts.
func CheckBzImage(img []byte) (string, error) {
	if _, err := findPayload(img); err != nil {
		return "", fmt.Errorf("bzImage: %w", err)
	}
	release := bzImageRelease(img)
	if release == "" {
		return "", errors.New("bzImage: no kernel version string in the boot header")
	}
	return release, nil
}

// ExtractVmlinux decompresses the kernel of img, the bzImage read from src,
// into the ELF file dst, which qemu boots through its PVH entry, skipping
// the ~3 s an XZ kernel spends decompressing itself under TCG. dst appears
// complete or not at all.
func ExtractVmlinux(ctx context.Context, img []byte, src, dst string, log io.Writer) error {
	p, err := findPayload(img)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	data := img[p.Offset : p.Offset+p.Length]
	// Every compressor but gzip is run "_with_size" by the kernel build: the
	// uncompressed size follows the stream as a little-endian uint32.
	var want int64 = -1
	if p.Format != "gzip" {
		want = int64(binary.LittleEndian.Uint32(data[len(data)-4:]))
		data = data[:len(data)-4]
	}
	r, err := decompress.FirstStream(ctx, p.Format, bytes.NewReader(data), log)
	if err != nil {
		return fmt.Errorf("%s: %s payload: %w", src, p.Format, err)
	}
	tmp := dst + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		r.Close()
		return err
	}
	n, err := io.Copy(f, r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && want >= 0 && n != want {
		err = fmt.Errorf("decompressed %d bytes, the header says %d", n, want)
	}
	if err == nil {
		err = checkELF(tmp)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %s payload: %w", src, p.Format, err)
	}
	return os.Rename(tmp, dst)
}
