package debian

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/decompress"
)

// arMember is one member of an ar(5) archive: a .deb is an ar archive of
// debian-binary, control.tar.* and data.tar.*.
type arMember struct {
	Name string
	Size int64
	Data *io.SectionReader
}

const arMagic = "!<arch>\n"

// readAr lists the members of the ar archive in r (common format, as
// dpkg-deb writes it: 60-byte headers, data padded to an even size).
func readAr(r io.ReaderAt, size int64) ([]arMember, error) {
	magic := make([]byte, len(arMagic))
	if _, err := r.ReadAt(magic, 0); err != nil || string(magic) != arMagic {
		return nil, fmt.Errorf("not an ar archive (want magic %q)", arMagic)
	}
	var members []arMember
	off := int64(len(arMagic))
	hdr := make([]byte, 60)
	for off < size {
		if _, err := r.ReadAt(hdr, off); err != nil {
			return nil, fmt.Errorf("ar header at offset %d: %w", off, err)
		}
		if string(hdr[58:60]) != "`\n" {
			return nil, fmt.Errorf("ar header at offset %d: bad terminator %q", off, hdr[58:60])
		}
		name := strings.TrimRight(strings.TrimSpace(string(hdr[0:16])), "/")
		n, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("ar member %q: bad size %q", name, hdr[48:58])
		}
		off += 60
		if off+n > size {
			return nil, fmt.Errorf("ar member %q: %d bytes at offset %d run past the end (%d bytes): truncated", name, n, off, size)
		}
		members = append(members, arMember{Name: name, Size: n, Data: io.NewSectionReader(r, off, n)})
		off += n + n%2
	}
	return members, nil
}

// ExtractDeb writes the files of the .deb at path (its data.tar member)
// below dir; see extractTar for what is kept.
func ExtractDeb(ctx context.Context, path, dir string, log io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	members, err := readAr(f, fi.Size())
	if err != nil {
		return err
	}
	i := slices.IndexFunc(members, func(m arMember) bool { return strings.HasPrefix(m.Name, "data.tar") })
	if i < 0 {
		return errors.New("no data.tar member")
	}
	data, err := decompressed(ctx, strings.TrimPrefix(members[i].Name, "data.tar"), members[i].Data, log)
	if err != nil {
		return err
	}
	err = extractTar(data, dir)
	if cerr := data.Close(); err == nil {
		err = cerr
	}
	return err
}

// suffixes are the compressions of the archive's files, by file name
// suffix: indexes and .deb members alike.
var suffixes = map[string]string{"": "", ".gz": "gzip", ".xz": "xz", ".zst": "zstd"}

// decompressed returns the uncompressed stream of r, compressed as the
// file name suffix (".xz", ".zst", ".gz", "" for none) says.
func decompressed(ctx context.Context, suffix string, r io.Reader, log io.Writer) (io.ReadCloser, error) {
	format, ok := suffixes[suffix]
	if !ok {
		return nil, fmt.Errorf("unsupported compression %q", suffix)
	}
	return decompress.Reader(ctx, format, r, log)
}

// extractTar writes the regular files, directories, links and relative
// symlinks of a tar stream below dir, through an os.Root: every path, and
// every symlink an earlier entry made, is resolved inside dir, so an
// archive cannot write outside it (a link "lib/up -> ../.." followed by
// "lib/up/x" is refused). Absolute symlinks (lib/modules/*/build →
// /usr/src/…) are skipped: inside the cache they would point at the host.
func extractTar(r io.Reader, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(filepath.Clean("/"+h.Name), "/")
		if name == "" {
			continue
		}
		if err := extractEntry(root, tr, h, name); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
	}
}

func extractEntry(root *os.Root, tr *tar.Reader, h *tar.Header, name string) error {
	if parent := filepath.Dir(name); parent != "." {
		if err := root.MkdirAll(parent, 0o755); err != nil {
			return err
		}
	}
	switch h.Typeflag {
	case tar.TypeDir:
		return root.MkdirAll(name, 0o755)
	case tar.TypeReg:
		f, err := root.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755|0o644)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	case tar.TypeSymlink:
		if filepath.IsAbs(h.Linkname) {
			return nil
		}
		_ = root.Remove(name)
		return root.Symlink(h.Linkname, name)
	case tar.TypeLink:
		_ = root.Remove(name)
		return root.Link(strings.TrimPrefix(filepath.Clean("/"+h.Linkname), "/"), name)
	}
	return nil
}
