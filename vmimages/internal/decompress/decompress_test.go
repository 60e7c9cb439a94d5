package decompress

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// compress runs command -c on b, skipping the test when it is missing.
func compress(t *testing.T, command string, b []byte) []byte {
	t.Helper()
	if _, err := exec.LookPath(command); err != nil {
		t.Skipf("needs %s to compress the test input", command)
	}
	cmd := exec.Command(command, "-c")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gzipped(b []byte) []byte {
	var out bytes.Buffer
	z := gzip.NewWriter(&out)
	z.Write(b)
	z.Close()
	return out.Bytes()
}

// TestStreams decompresses two concatenated streams of each format: Reader
// reads both, FirstStream the first only where the format has a stream
// end to stop at (zstd -dc reads every frame; plain data has none).
func TestStreams(t *testing.T) {
	one, two := []byte(strings.Repeat("first ", 1000)), []byte("second")
	for _, tt := range []struct {
		format string
		make   func(*testing.T, []byte) []byte
		stops  bool
	}{
		{"gzip", func(_ *testing.T, b []byte) []byte { return gzipped(b) }, true},
		{"xz", func(t *testing.T, b []byte) []byte { return compress(t, "xz", b) }, true},
		{"zstd", func(t *testing.T, b []byte) []byte { return compress(t, "zstd", b) }, false},
		{"", func(_ *testing.T, b []byte) []byte { return b }, false},
	} {
		t.Run(tt.format, func(t *testing.T) {
			in := append(tt.make(t, one), tt.make(t, two)...)
			first := one
			if !tt.stops {
				first = append(bytes.Clone(one), two...)
			}
			for _, c := range []struct {
				name string
				open func(context.Context, string, io.Reader, io.Writer) (io.ReadCloser, error)
				want []byte
			}{
				{"Reader", Reader, append(bytes.Clone(one), two...)},
				{"FirstStream", FirstStream, first},
			} {
				r, err := c.open(context.Background(), tt.format, bytes.NewReader(in), nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(r)
				if cerr := r.Close(); err == nil {
					err = cerr
				}
				if err != nil || !bytes.Equal(got, c.want) {
					t.Errorf("%s: %d bytes, %v; want %d bytes", c.name, len(got), err, len(c.want))
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	if _, err := Reader(context.Background(), "rar", strings.NewReader("x"), nil); err == nil || !strings.Contains(err.Error(), `unsupported compression "rar"`) {
		t.Errorf("unknown format: error %v", err)
	}
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("needs xz")
	}
	r, err := Reader(context.Background(), "xz", strings.NewReader("not xz at all"), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(r)
	if err := r.Close(); err == nil || !strings.HasPrefix(err.Error(), "xz: exit status 1: ") || !strings.Contains(err.Error(), "format not recognized") {
		t.Errorf("garbage: Close error %v, want xz's exit status and its last words", err)
	}
}
