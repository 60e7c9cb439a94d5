//go:build linux

package guest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// awaitPayload waits until the payload disk holds a header, then sets the
// clock from it, mixes its seed into the entropy pool and unpacks its
// archive over the root. It returns how long the reading and unpacking took.
//
// Reads bypass the page cache (O_DIRECT): the kernel read the disk's first
// blocks while it was all zeros, when it probed for partitions, and kept
// them cached; a restored guest must see the disk as it is now.
func awaitPayload() (time.Duration, error) {
	f, err := openPayload()
	if err != nil {
		return 0, err
	}
	defer f.Close()
	block, err := alignedBuffer(PayloadHeaderSize)
	if err != nil {
		return 0, err
	}
	defer unix.Munmap(block)
	var h PayloadHeader
	for {
		if _, err := f.ReadAt(block, 0); err != nil {
			return 0, fmt.Errorf("read %s: %w", PayloadDevice, err)
		}
		var ok bool
		if h, ok, err = ParsePayloadHeader(block); err != nil {
			return 0, err
		} else if ok {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	ts := unix.NsecToTimespec(h.Now.UnixNano())
	if err := unix.ClockSettime(unix.CLOCK_REALTIME, &ts); err != nil {
		return 0, fmt.Errorf("set the clock from the payload: %w", err)
	}
	// Every restore starts from the same entropy pool; a write mixes the
	// seed in (without crediting it) so restores draw different numbers.
	if err := os.WriteFile("/dev/urandom", h.Seed, 0); err != nil {
		return 0, fmt.Errorf("seed /dev/urandom: %w", err)
	}
	const chunk = 1 << 20
	data, err := alignedBuffer(int((h.Size + chunk - 1) / chunk * chunk))
	if err != nil {
		return 0, err
	}
	defer unix.Munmap(data)
	for off := 0; off < int(h.Size); off += chunk {
		// The last chunk may reach past the disk's end: a short read.
		if n, err := f.ReadAt(data[off:off+chunk], int64(PayloadHeaderSize+off)); err != nil && !(errors.Is(err, io.EOF) && off+n >= int(h.Size)) {
			return 0, fmt.Errorf("read %s at %d: %w", PayloadDevice, PayloadHeaderSize+off, err)
		}
	}
	if err := Unpack(data[:h.Size], "/"); err != nil {
		return 0, fmt.Errorf("unpack the payload: %w", err)
	}
	return time.Since(start), nil
}

// openPayload opens the payload disk, which appears once virtio_blk has
// probed it: the module was loaded just before.
func openPayload() (*os.File, error) {
	var err error
	for range 100 {
		var f *os.File
		if f, err = os.OpenFile(PayloadDevice, os.O_RDONLY|unix.O_DIRECT, 0); err == nil {
			return f, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, fmt.Errorf("open the payload disk (the host must give qemu a virtio-blk disk, and the kernel virtio_blk): %w", err)
}

// alignedBuffer is n bytes of page-aligned memory, as O_DIRECT reads need,
// populated at once: faulting the payload's buffer in page by page cost a
// restored 7.2 amd64 guest ~45 ms under TCG (BPFMATRIX-RESTORED 204–301 ms
// → 150–184 ms).
func alignedBuffer(n int) ([]byte, error) {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap %d bytes: %w", n, err)
	}
	return b, nil
}
