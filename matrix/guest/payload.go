package guest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A snapshot's guest (Plan.Snapshot) has booted, loaded its modules and run
// bpftool's probe, but holds no suite: every run restores it and hands it
// that run's files on a virtio disk, the payload. The disk is PayloadSize
// bytes, the same size at the snapshot and at each restore because the
// guest's kernel keeps the size it probed: a header in the first
// PayloadHeaderSize bytes, then a newc cpio archive unpacked over the
// guest's root, its plan at PlanPath included. While the disk is all zeros
// (at the snapshot) the guest waits for a header.
const (
	// PayloadDevice is the guest's only virtio disk.
	PayloadDevice = "/dev/vda"
	// PayloadHeaderSize is the header's block; the archive follows it.
	PayloadHeaderSize = 4096
	// PayloadSize bounds the archive: a suite binary is ~20 MB, and the
	// guest unpacks the archive into its memory.
	PayloadSize  = 512 << 20
	payloadMagic = "bpfmatrix-payload/1"
)

// PayloadHeader starts the payload disk.
type PayloadHeader struct {
	Magic string `json:"magic"`
	// Size is the archive's length in bytes.
	Size int64 `json:"size"`
	// Now is the host's clock when it wrote the payload; the restored
	// guest's clock is the snapshot's until it sets it from Now.
	Now time.Time `json:"now"`
	// Seed is mixed into the guest's entropy pool, which is the
	// snapshot's at every restore.
	Seed []byte `json:"seed"`
}

// NewPayloadHeader is the header of an archive of size bytes written now.
func NewPayloadHeader(size int64, now time.Time) PayloadHeader {
	seed := make([]byte, 32)
	_, _ = rand.Read(seed) // never fails (crypto/rand)
	return PayloadHeader{Magic: payloadMagic, Size: size, Now: now, Seed: seed}
}

// Marshal returns the header's block: JSON padded with zeros.
func (h PayloadHeader) Marshal() ([]byte, error) {
	b, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	if len(b) >= PayloadHeaderSize {
		return nil, fmt.Errorf("payload header of %d bytes: more than %d", len(b), PayloadHeaderSize)
	}
	return append(b, make([]byte, PayloadHeaderSize-len(b))...), nil
}

// ParsePayloadHeader reads a header block; ok is false while the disk holds
// none (zeros) and err says why one is malformed.
func ParsePayloadHeader(block []byte) (h PayloadHeader, ok bool, err error) {
	b, _, _ := bytes.Cut(block, []byte{0})
	if len(b) == 0 {
		return h, false, nil
	}
	if err := json.Unmarshal(b, &h); err != nil || h.Magic != payloadMagic {
		return h, false, fmt.Errorf("payload header %.80q: not a %s header", b, payloadMagic)
	}
	if h.Size <= 0 || h.Size > PayloadSize-PayloadHeaderSize {
		return h, false, fmt.Errorf("payload header: archive of %d bytes does not fit a %d-byte disk", h.Size, PayloadSize)
	}
	return h, true, nil
}

// Unpack writes the newc cpio archive in data (the format
// vmimages/initramfs writes: directories and regular files) under root.
// Names may not leave root.
func Unpack(data []byte, root string) error {
	for len(data) > 0 {
		const hdrLen = 110
		if len(data) < hdrLen || string(data[:6]) != "070701" {
			return fmt.Errorf("cpio: no newc header at %d bytes from the end", len(data))
		}
		field := func(i int) (int, error) {
			n, err := strconv.ParseUint(string(data[6+8*i:14+8*i]), 16, 32)
			return int(n), err
		}
		mode, err1 := field(1)
		size, err2 := field(6)
		nameLen, err3 := field(11)
		if err := errors.Join(err1, err2, err3); err != nil {
			return fmt.Errorf("cpio header: %w", err)
		}
		nameEnd := hdrLen + nameLen
		dataStart := align4(nameEnd)
		dataEnd := dataStart + size
		if nameLen < 1 || dataEnd > len(data) {
			return fmt.Errorf("cpio: entry of %d bytes past the archive's end", size)
		}
		name := string(data[hdrLen : nameEnd-1])
		if name == "TRAILER!!!" {
			return nil
		}
		clean := filepath.Clean("/" + name)
		if clean == "/" || clean != "/"+strings.TrimPrefix(name, "/") {
			return fmt.Errorf("cpio: name %q is not a plain path under the root", name)
		}
		dst := filepath.Join(root, clean)
		perm := os.FileMode(mode & 0o7777)
		switch mode & 0o170000 {
		case 0o040000:
			if err := os.MkdirAll(dst, perm); err != nil {
				return err
			}
		case 0o100000:
			if err := os.WriteFile(dst, data[dataStart:dataEnd], perm); err != nil {
				return err
			}
		default:
			return fmt.Errorf("cpio: %s: mode %o is neither a directory nor a file", name, mode)
		}
		data = data[align4(dataEnd):]
	}
	return fmt.Errorf("cpio: no trailer")
}

func align4(n int) int { return (n + 3) &^ 3 }
