// Package decompress undoes the compressions kernels and Debian archives
// use: gzip and bzip2 with Go's standard library, xz, lzma, zstd, lz4 and
// lzo with their programs (installed through internal/tools when missing),
// since the standard library lacks them and Go's xz decoders lack the x86
// BCJ filter kernels are compressed with.
package decompress

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/internal/tools"
)

// programs run each format's decompressor, writing to stdout; each
// argument list holds the arguments of a whole input, then those of the
// first stream only (see FirstStream).
var programs = map[string]struct {
	command     string
	args, first []string
}{
	"xz":   {"xz", []string{"-dc"}, []string{"-dc", "--single-stream"}},
	"lzma": {"xz", []string{"-dc", "--format=lzma"}, []string{"-dc", "--format=lzma"}},
	"zstd": {"zstd", []string{"-dc"}, []string{"-dc"}},
	"lz4":  {"lz4", []string{"-dc"}, []string{"-dc"}},
	"lzo":  {"lzop", []string{"-dc"}, []string{"-dc"}},
}

// Reader returns the uncompressed content of r, compressed in format:
// "gzip", "bzip2", "xz", "lzma", "zstd", "lz4", "lzo", or "" for none. The
// reader's Close waits for the program, if one runs, and reports its
// failure with the last line it wrote on stderr. log receives the
// installer's progress (nil discards it).
func Reader(ctx context.Context, format string, r io.Reader, log io.Writer) (io.ReadCloser, error) {
	return open(ctx, format, r, log, false)
}

// FirstStream is Reader for the first stream of r only: what follows it is
// ignored, as a bzImage's payload needs.
func FirstStream(ctx context.Context, format string, r io.Reader, log io.Writer) (io.ReadCloser, error) {
	return open(ctx, format, r, log, true)
}

func open(ctx context.Context, format string, r io.Reader, log io.Writer, first bool) (io.ReadCloser, error) {
	switch format {
	case "":
		return io.NopCloser(r), nil
	case "gzip":
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		z.Multistream(!first)
		return z, nil
	case "bzip2":
		return io.NopCloser(bzip2.NewReader(r)), nil
	}
	p, ok := programs[format]
	if !ok {
		return nil, fmt.Errorf("unsupported compression %q", format)
	}
	args := p.args
	if first {
		args = p.first
	}
	return pipe(ctx, p.command, r, log, args...)
}

// pipe runs command with args, r as stdin, and returns its stdout.
func pipe(ctx context.Context, command string, r io.Reader, log io.Writer, args ...string) (io.ReadCloser, error) {
	path, err := tools.Need(ctx, log, command)
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
	return &programReader{ReadCloser: out, cmd: cmd, stderr: &stderr, name: command}, nil
}

type programReader struct {
	io.ReadCloser
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	name   string
}

func (p *programReader) Close() error {
	// Drain so the program is not killed by SIGPIPE when the reader
	// stopped early (tar streams end with zero blocks the tar reader
	// skips).
	io.Copy(io.Discard, p.ReadCloser)
	if err := p.cmd.Wait(); err != nil {
		lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
		return fmt.Errorf("%s: %w: %s", p.name, err, strings.TrimSpace(lines[len(lines)-1]))
	}
	return nil
}
