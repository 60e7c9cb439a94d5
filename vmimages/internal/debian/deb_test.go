package debian

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/testfiles"
)

func TestReadAr(t *testing.T) {
	data := testfiles.Ar([2]string{"debian-binary", "2.0\n"}, [2]string{"control.tar.xz", "odd"}, [2]string{"data.tar.gz", "payload"})
	for _, tt := range []struct {
		name  string
		data  []byte
		want  []string // member names, or nil for an error
		error string
	}{
		{"deb", data, []string{"debian-binary", "control.tar.xz", "data.tar.gz"}, ""},
		{"truncated", data[:len(data)-3], nil, "truncated"},
		{"not ar", []byte("PK\x03\x04 a zip file"), nil, "not an ar archive"},
		{"bad header", append([]byte(arMagic), bytes.Repeat([]byte{' '}, 60)...), nil, "bad terminator"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			members, err := readAr(bytes.NewReader(tt.data), int64(len(tt.data)))
			if tt.want == nil {
				if err == nil || !strings.Contains(err.Error(), tt.error) {
					t.Fatalf("error %v, want one containing %q", err, tt.error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, m := range members {
				names = append(names, m.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Errorf("members %q, want %q", names, tt.want)
			}
			b, _ := io.ReadAll(members[1].Data)
			if string(b) != "odd" {
				t.Errorf("odd-sized member read %q", b)
			}
			b, _ = io.ReadAll(members[2].Data)
			if string(b) != "payload" {
				t.Errorf("member after padding read %q", b)
			}
		})
	}
}

// TestExtractDeb unpacks a .deb whose data.tar.gz holds a file, a
// directory, a relative and an absolute symlink, and a path trying to
// escape the target directory.
func TestExtractDeb(t *testing.T) {
	data := testfiles.Gzip(t, testfiles.Tar(t,
		testfiles.TarEntry{Header: tar.Header{Name: "./boot/", Typeflag: tar.TypeDir, Mode: 0o755}},
		testfiles.Regular("./boot/config-1.0", "CONFIG_BPF=y\n"),
		testfiles.TarEntry{Header: tar.Header{Name: "./boot/config", Typeflag: tar.TypeSymlink, Linkname: "config-1.0"}},
		testfiles.TarEntry{Header: tar.Header{Name: "./lib/modules/1.0/build", Typeflag: tar.TypeSymlink, Linkname: "/usr/src/linux-headers-1.0"}},
		testfiles.Regular("../../escape", "x"),
	))
	deb := filepath.Join(t.TempDir(), "x.deb")
	if err := os.WriteFile(deb, testfiles.Ar([2]string{"debian-binary", "2.0\n"}, [2]string{"data.tar.gz", string(data)}), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "root")
	if err := ExtractDeb(context.Background(), deb, dir, io.Discard); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "boot/config")); err != nil || string(b) != "CONFIG_BPF=y\n" {
		t.Errorf("boot/config through its symlink: %q, %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "lib/modules/1.0/build")); err == nil {
		t.Error("absolute symlink was created")
	}
	if _, err := os.Stat(filepath.Join(dir, "escape")); err != nil {
		t.Errorf("../../escape should land inside the target as escape: %v", err)
	}
}

// TestExtractTarStaysInsideItsDirectory: an archive whose symlink points
// out of the extraction directory cannot write through it, however many
// ".." it takes, and the files beside the directory stay untouched.
func TestExtractTarStaysInsideItsDirectory(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "root")
	// lib/up -> .. stays inside (root/lib/.. is root); these leave it.
	for _, link := range []string{"../..", "../../..", "../../../../../../.."} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(tw.WriteHeader(&tar.Header{Name: "lib/up", Typeflag: tar.TypeSymlink, Linkname: link}))
		must(tw.WriteHeader(&tar.Header{Name: "lib/up/ESCAPED", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2}))
		_, err := tw.Write([]byte("x\n"))
		must(err)
		must(tw.Close())
		if err := extractTar(&buf, dir); err == nil {
			t.Errorf("link %q: an entry through it was written without error", link)
		}
		escaped, _ := filepath.Glob(filepath.Join(base, "..", "*", "ESCAPED"))
		if found, _ := filepath.Glob(filepath.Join(base, "ESCAPED")); len(found)+len(escaped) > 0 {
			t.Errorf("link %q: %v written outside %s", link, append(found, escaped...), dir)
		}
	}
}
