package vmimages

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// debData opens the data.tar member of the .deb at path and returns a
// reader of the uncompressed tar stream.
func debData(ctx context.Context, f *os.File, log io.Writer) (io.ReadCloser, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	members, err := readAr(f, fi.Size())
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if !strings.HasPrefix(m.Name, "data.tar") {
			continue
		}
		return decompress(ctx, strings.TrimPrefix(m.Name, "data.tar"), m.Data, log)
	}
	return nil, errors.New("no data.tar member")
}

// decompress returns the uncompressed stream of r, compressed with the
// method named by a file suffix (".xz", ".zst", ".gz", "" for none). xz
// and zstd go through their command-line tools: Go's standard library has
// neither.
func decompress(ctx context.Context, suffix string, r io.Reader, log io.Writer) (io.ReadCloser, error) {
	switch suffix {
	case "":
		return io.NopCloser(r), nil
	case ".gz":
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		return z, nil
	case ".xz":
		return pipeTool(ctx, "xz", "xz-utils", r, log, "-dc")
	case ".zst":
		return pipeTool(ctx, "zstd", "zstd", r, log, "-dc")
	}
	return nil, fmt.Errorf("unsupported compression %q", suffix)
}

// pipeTool runs tool with args, r as stdin, and returns its stdout; Close
// waits for the tool and reports its failure with its last stderr line.
func pipeTool(ctx context.Context, tool, debPkg string, r io.Reader, log io.Writer, args ...string) (io.ReadCloser, error) {
	path, err := lookTool(ctx, tool, debPkg, log)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = r
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &toolReader{ReadCloser: out, cmd: cmd, stderr: &stderr, name: tool}, nil
}

type toolReader struct {
	io.ReadCloser
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	name   string
}

func (t *toolReader) Close() error {
	// Drain so the tool is not killed by SIGPIPE when the reader stopped
	// early (tar streams end with zero blocks the tar reader skips).
	io.Copy(io.Discard, t.ReadCloser)
	if err := t.cmd.Wait(); err != nil {
		return fmt.Errorf("%s: %w: %s", t.name, err, lastLine(t.stderr.Bytes()))
	}
	return nil
}

// extractTar writes the regular files, directories and relative symlinks
// of a tar stream below dir. Absolute symlinks (lib/modules/*/build →
// /usr/src/…) are skipped: inside the cache they would point at the host.
func extractTar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean("/" + h.Name)
		if name == "/" {
			continue
		}
		target := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755|0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
		case tar.TypeSymlink:
			if filepath.IsAbs(h.Linkname) {
				continue
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			os.Remove(target)
			if err := os.Symlink(h.Linkname, target); err != nil {
				return err
			}
		case tar.TypeLink:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			src := filepath.Join(dir, filepath.Clean("/"+h.Linkname))
			os.Remove(target)
			if err := os.Link(src, target); err != nil {
				return err
			}
		}
	}
}
