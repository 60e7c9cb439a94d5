// Package initramfs assembles the initramfs a VM boots from: a gzip'd cpio
// archive (the kernel's "newc" format) holding the guest's /init, the suite
// binary, the kernel modules features need and the kernel's config. There is
// no busybox and no root filesystem image: the kernel unpacks the archive
// into its rootfs and runs /init.
package initramfs

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// Archive collects files (contents are read from disk only when written) and
// writes them as a newc cpio archive, optionally gzip'd.
type Archive struct {
	entries map[string]entry
}

type entry struct {
	mode uint32 // type and permission bits, as cpio wants them
	data []byte // contents, or nil when src names a file
	src  string
}

const (
	modeDir  = 0o040000
	modeFile = 0o100000
)

// New returns an empty archive.
func New() *Archive { return &Archive{entries: map[string]entry{}} }

// AddData adds a file with the given contents and permission bits. Parent
// directories are added as needed.
func (a *Archive) AddData(name string, perm os.FileMode, data []byte) error {
	return a.add(name, entry{mode: modeFile | uint32(perm.Perm()), data: data})
}

// AddFile adds the host file src as name, keeping src's permission bits.
func (a *Archive) AddFile(name, src string) error {
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("initramfs: add %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("initramfs: add %s: %s is not a regular file", name, src)
	}
	return a.add(name, entry{mode: modeFile | uint32(st.Mode().Perm()), src: src})
}

// Has reports whether the archive holds name.
func (a *Archive) Has(name string) bool {
	_, ok := a.entries[strings.TrimPrefix(path.Clean("/"+name), "/")]
	return ok
}

// AddDir adds an empty directory, such as a mount point.
func (a *Archive) AddDir(name string) error {
	return a.add(name, entry{mode: modeDir | 0o755})
}

func (a *Archive) add(name string, e entry) error {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if name == "" || name == "." {
		return fmt.Errorf("initramfs: empty file name")
	}
	if old, ok := a.entries[name]; ok && (old.mode&modeDir == 0 || e.mode&modeDir == 0) {
		return fmt.Errorf("initramfs: %s added twice", name)
	}
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if _, ok := a.entries[dir]; !ok {
			a.entries[dir] = entry{mode: modeDir | 0o755}
		}
	}
	a.entries[name] = e
	return nil
}

// WriteTo writes the archive, uncompressed, to w. Entries are sorted so
// that a directory precedes its contents and the same inputs give the same
// bytes.
func (a *Archive) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	var err error
	names := make([]string, 0, len(a.entries))
	for name := range a.entries {
		names = append(names, name)
	}
	sort.Strings(names)
	ino := uint32(1)
	for _, name := range names {
		e := a.entries[name]
		data := e.data
		if e.src != "" {
			if data, err = os.ReadFile(e.src); err != nil {
				return cw.n, fmt.Errorf("initramfs: %s: %w", name, err)
			}
		}
		if err := writeEntry(cw, ino, name, e.mode, data); err != nil {
			return cw.n, err
		}
		ino++
	}
	err = writeEntry(cw, 0, "TRAILER!!!", 0, nil)
	return cw.n, err
}

// WriteFile writes the archive to path, gzip'd if gz. An uncompressed
// archive is larger but the guest need not inflate it, which under
// emulation (TCG) is the slower side.
func (a *Archive) WriteFile(path string, gz bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	var w io.Writer = bw
	var zw *gzip.Writer
	if gz {
		zw, _ = gzip.NewWriterLevel(bw, gzip.BestSpeed)
		w = zw
	}
	_, err = a.WriteTo(w)
	if err == nil && zw != nil {
		err = zw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeEntry writes one newc header, name and data, each padded to 4 bytes
// as the format demands (see the kernel's Documentation/driver-api/early-userspace).
func writeEntry(w io.Writer, ino uint32, name string, mode uint32, data []byte) error {
	nlink := 1
	if mode&modeDir != 0 {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	buf := append([]byte(hdr), name...)
	buf = append(buf, 0)
	buf = pad(buf)
	if _, err := w.Write(buf); err != nil {
		return err
	}
	if len(data) == 0 {
		return nil
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	_, err := w.Write(make([]byte, (4-len(data)%4)%4))
	return err
}

func pad(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
