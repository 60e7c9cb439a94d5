package vmimages

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/debian"
	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/kernelimage"
	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/testfiles"
)

// TestExtractedKernelVerified damages an extracted kernel in the cache in
// the ways a full disk, a killed copy or a stray edit do: the entry must
// then read as not cached, and the next Fetch must say so and extract it
// again from the verified .deb, byte for byte.
func TestExtractedKernelVerified(t *testing.T) {
	m := newTestMirror(t)
	m.addBookworm()
	ctx := context.Background()
	var log bytes.Buffer
	opts := m.options(&log)
	k, err := Fetch(ctx, "6.1", opts)
	if err != nil {
		t.Fatal(err)
	}
	module := filepath.Join(k.ModulesDir, "kernel/net/sched/cls_bpf.ko")
	kernelJSON := filepath.Join(filepath.Dir(k.Vmlinux), "kernel.json")
	original := map[string][]byte{}
	for _, p := range []string{k.Vmlinux, k.Bzimage, k.Config, module} {
		if original[p], err = os.ReadFile(p); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := Resolve(ctx, "6.1", opts); err != nil || !r.Cached {
		t.Fatalf("after Fetch: cached %v, %v; want cached", r != nil && r.Cached, err)
	}

	edit := func(path string, change func([]byte) []byte) func(*testing.T) {
		return func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, change(b), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	half := func(b []byte) []byte { return b[:len(b)/2] }
	flip := func(b []byte) []byte { b[len(b)/2] ^= 1; return b }
	for _, tt := range []struct {
		name   string
		damage func(*testing.T)
		why    string // in the log line
	}{
		{"truncated vmlinux", edit(k.Vmlinux, half), "bytes,"},
		{"flipped byte in vmlinux", edit(k.Vmlinux, flip), "SHA256"},
		{"flipped byte in config", edit(k.Config, flip), "SHA256"},
		{"flipped byte in bzImage", edit(k.Bzimage, flip), "SHA256"},
		{"truncated module", edit(module, half), "bytes,"},
		{"missing module", func(t *testing.T) { os.Remove(module) }, "missing"},
		{"kernel.json cut short", edit(kernelJSON, half), "kernel.json"},
		{"kernel.json without manifest", edit(kernelJSON, func(b []byte) []byte {
			before, _, _ := strings.Cut(string(b), `"Files"`)
			return []byte(strings.TrimSuffix(strings.TrimSpace(before), ",") + "}")
		}), "no manifest"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.damage(t)
			if r, err := Resolve(ctx, "6.1", opts); err != nil || r.Cached {
				t.Errorf("damaged entry: cached %v, %v; want not cached", r != nil && r.Cached, err)
			}
			log.Reset()
			again, err := Fetch(ctx, "6.1", opts)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log.String(), "corrupt, extracting it again") || !strings.Contains(log.String(), tt.why) {
				t.Errorf("re-extraction not logged with %q:\n%s", tt.why, log.String())
			}
			for p, want := range original {
				if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s after re-extraction: %d bytes (%v), want the original %d", p, len(got), err, len(want))
				}
			}
			if again.Vmlinux != k.Vmlinux {
				t.Errorf("re-extracted to %s, want %s", again.Vmlinux, k.Vmlinux)
			}
			if r, err := Resolve(ctx, "6.1", opts); err != nil || !r.Cached {
				t.Errorf("after re-extraction: cached %v, %v; want cached", r != nil && r.Cached, err)
			}
		})
	}
}

// TestExtractInterrupted cancels the context before an extraction whose
// .deb needs xz: the error must say interrupted and leave neither the entry
// nor its temporary directory; a complete entry is kept by a later
// cancelled call, which needs no tool to verify it.
func TestExtractInterrupted(t *testing.T) {
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("needs xz (package xz-utils) to build a .deb with data.tar.xz")
	}
	release := "1.0-test"
	tar := testfiles.Tar(t,
		testfiles.Regular("./boot/vmlinuz-"+release, string(testfiles.BzImage(27, 0x100, testfiles.Gzip(t, testfiles.Vmlinux(release, true)), release))),
		testfiles.Regular("./boot/config-"+release, "CONFIG_BPF=y\n"),
		testfiles.Regular("./lib/modules/"+release+"/kernel/veth.ko", "veth"),
	)
	cmd := exec.Command("xz", "-c")
	cmd.Stdin = bytes.NewReader(tar)
	xz, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	f, err := newFetcher(Options{CacheDir: t.TempDir()}, false)
	if err != nil {
		t.Fatal(err)
	}
	// The .deb is in the cache, as a download leaves it.
	debData := testfiles.Ar([2]string{"debian-binary", "2.0\n"}, [2]string{"data.tar.xz", string(xz)})
	p := pkg{Package: debian.Package{Name: "linux-image-" + release, Version: "1.0-1", Size: int64(len(debData)), SHA256: fmt.Sprintf("%x", sha256.Sum256(debData))}}
	os.MkdirAll(filepath.Dir(f.debPath(p)), 0o755)
	os.WriteFile(f.debPath(p), debData, 0o644)
	r := &Resolved{Package: p.Name, Version: p.Version, parts: []pkg{p}, dir: filepath.Join(f.opts.CacheDir, "kernels", "test")}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = f.extract(cancelled, r)
	if err == nil || !strings.Contains(err.Error(), "interrupted") || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled extraction: error %v, want an interruption", err)
	}
	for _, p := range []string{r.dir, r.dir + ".tmp"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left by an interrupted extraction", p)
		}
	}
	k, err := f.extract(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.extract(cancelled, r)
	if err != nil || again.Vmlinux != k.Vmlinux || !kernelimage.IsELF(k.Vmlinux) {
		t.Errorf("complete entry under a cancelled context: %+v, %v; want %s kept", again, err, k.Vmlinux)
	}
}
