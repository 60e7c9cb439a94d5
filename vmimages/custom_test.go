package vmimages

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/kernelimage"
	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/testfiles"
)

// TestCheckKernel checks every form a kernel name can take, and that
// Fetch agrees: CheckKernel passes exactly the paths Fetch can boot, so
// "run --check" fails where the run would.
func TestCheckKernel(t *testing.T) {
	const release = "1.0-test"
	bz := testfiles.BzImage(27, 0x100, testfiles.Gzip(t, testfiles.Vmlinux(release, true)), release+" (test@invalid) #1")
	parent := t.TempDir()
	files := map[string]string{
		"notakernel":        "hello, I am a text file\n",
		"bzImage.truncated": string(bz[:len(bz)-10]),
		"bzImage":           string(bz),
		"vmlinux":           string(testfiles.Vmlinux(release, true)),
		"vmlinux.nopvh":     string(testfiles.Vmlinux(release, false)),
		"tree/bzImage":      string(bz),
		"tree/config":       "CONFIG_BPF=y\n",
		"tree/lib/modules/" + release + "/kernel/veth.ko": "veth",
		"elftree/vmlinux":                          string(testfiles.Vmlinux(release, true)),
		"elftree/.config":                          "CONFIG_BPF=y\n",
		"othermods/bzImage":                        string(bz),
		"othermods/lib/modules/9.9/kernel/veth.ko": "veth",
		"empty/README":                             "no kernel here",
	}
	for name, body := range files {
		p := filepath.Join(parent, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	at := func(name string) string { return filepath.Join(parent, name) }
	for _, tt := range []struct {
		name  string
		error string // "" for a kernel that boots
		// For a kernel that boots: where Fetch finds its config and modules.
		config, modules string
	}{
		{name: "6.1"},
		{name: "host", error: `unknown kernel "host"`},
		{name: "9.99", error: `unknown kernel "9.99"`},
		{name: at("notakernel"), error: `starts with "hello, I": neither a bzImage ("HdrS" boot header at 0x202) nor an ELF vmlinux; want a bzImage, an x86-64 ELF vmlinux`},
		{name: at("bzImage.truncated"), error: "lies outside the"},
		{name: at("vmlinux.nopvh"), error: "no PVH entry note"},
		{name: at("missing"), error: "no such file or directory: want a catalog name"},
		{name: at("empty"), error: "the directory holds none of bzImage"},
		{name: at("othermods"), error: "has no " + release + ", the kernel's release"},
		{name: at("bzImage")},
		{name: at("vmlinux")},
		{name: at("tree"), config: at("tree/config"), modules: at("tree/lib/modules/" + release)},
		{name: at("elftree"), config: at("elftree/.config")},
	} {
		t.Run(filepath.Base(tt.name), func(t *testing.T) {
			err := CheckKernel(tt.name, Options{})
			if tt.error != "" {
				if err == nil || !strings.Contains(err.Error(), tt.error) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("CheckKernel: error %v, want one line containing %q", err, tt.error)
				}
				if !strings.Contains(err.Error(), tt.name) {
					t.Errorf("error %q does not name %s", err, tt.name)
				}
				_, ferr := Fetch(context.Background(), tt.name, Options{CacheDir: t.TempDir()})
				if ferr == nil || !strings.Contains(ferr.Error(), tt.error) {
					t.Errorf("Fetch disagrees with CheckKernel: %v", ferr)
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckKernel: %v", err)
			}
			if _, ok := Lookup(tt.name); ok {
				return
			}
			k, err := Fetch(context.Background(), tt.name, Options{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatalf("CheckKernel passed, Fetch failed: %v", err)
			}
			if k.Release != release || !kernelimage.IsELF(k.Vmlinux) || k.Config != tt.config || k.ModulesDir != tt.modules {
				t.Errorf("Fetch: %+v; want release %s, an ELF vmlinux, config %q, modules %q", k, release, tt.config, tt.modules)
			}
		})
	}
}

// TestFetchCustomWritesNothingOfTheUsers fetches custom kernels of every
// form twice (the second time from the cache, after damaging the cached
// vmlinux) and checks that the user's directory and its parent are exactly
// as before: every write goes to the cache.
func TestFetchCustomWritesNothingOfTheUsers(t *testing.T) {
	const release = "2.0-test"
	parent := t.TempDir()
	user := filepath.Join(parent, "kernel")
	bz := testfiles.BzImage(27, 0x100, testfiles.Gzip(t, testfiles.Vmlinux(release, true)), release)
	for name, body := range map[string][]byte{
		"bzImage": bz, "config": []byte("CONFIG_BPF=y\n"), "lib/modules/" + release + "/veth.ko": []byte("veth"),
		"build/vmlinux": testfiles.Vmlinux(release, true), "build/arch/x86/boot/bzImage": bz,
	} {
		p := filepath.Join(user, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, body, 0o644)
	}
	before := snapshot(t, parent)
	var log bytes.Buffer
	opts := Options{CacheDir: t.TempDir(), Log: &log}
	for _, path := range []string{user, filepath.Join(user, "bzImage"), filepath.Join(user, "build"), filepath.Join(user, "build/vmlinux")} {
		k, err := Fetch(context.Background(), path, opts)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(k.Vmlinux, opts.CacheDir) {
			// Damage the cached vmlinux: the next fetch must notice and
			// decompress it again, in the cache.
			os.Truncate(k.Vmlinux, 100)
			log.Reset()
			if _, err := Fetch(context.Background(), path, opts); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log.String(), "corrupt, extracting it again") {
				t.Errorf("%s: damaged cached vmlinux not noticed:\n%s", path, log.String())
			}
		}
	}
	if after := snapshot(t, parent); after != before {
		t.Errorf("the user's files changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// snapshot describes every file and directory below dir: path, mode,
// size, modification time and content hash.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		sum := [32]byte{}
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum = sha256.Sum256(data)
		}
		fmt.Fprintf(&b, "%s %v %d %d %x\n", rel(dir, path), fi.Mode(), fi.Size(), fi.ModTime().UnixNano(), sum[:4])
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return b.String()
}
