package vmimages

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/kernelimage"
	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/testfiles"
)

// TestFetchBothArches fetches 6.1 for amd64 and arm64 into one cache, from
// a mirror whose suites list both at the same version: each must come
// from its own architecture's index, be its own cache entry, and boot the
// way qemu boots that architecture (an extracted ELF vmlinux; Debian's
// arm64 vmlinuz as it is).
func TestFetchBothArches(t *testing.T) {
	m := newTestMirror(t)
	amd := testKernel{"6.1.192-3", "6.1.0-57-cloud-amd64"}
	arm := testKernel{"6.1.192-3", "6.1.0-57-cloud-arm64"}
	m.addSuite("debian", "bookworm", testKernel{"6.1.176-1", "6.1.0-50-cloud-amd64"}, testKernel{"6.1.176-1", "6.1.0-50-cloud-arm64"})
	m.addSuite("debian-security", "bookworm-security", amd, arm)
	opts := m.options(nil)
	ctx := context.Background()

	kernels := map[string]*Kernel{}
	for _, arch := range Arches {
		o := opts
		o.Arch = arch
		r, err := Resolve(ctx, "6.1", o)
		if err != nil {
			t.Fatal(err)
		}
		if r.Arch != arch || !strings.HasSuffix(r.Package, "-cloud-"+arch) || r.Version != "6.1.192-3" || r.Suite != "bookworm-security" {
			t.Errorf("%s: resolved %s %s (%s) from %s; want the %s build 6.1.192-3 from bookworm-security", arch, r.Package, r.Version, r.Arch, r.Suite, arch)
		}
		k, err := Fetch(ctx, "6.1", o)
		if err != nil {
			t.Fatal(err)
		}
		kernels[arch] = k
		if k.Arch != arch || !strings.HasSuffix(k.Release, "-"+arch) {
			t.Errorf("%s: fetched %+v", arch, k)
		}
	}
	amd64, arm64 := kernels["amd64"], kernels["arm64"]
	if filepath.Dir(amd64.ModulesDir) == filepath.Dir(arm64.ModulesDir) || amd64.Config == arm64.Config {
		t.Errorf("amd64 and arm64 share a cache entry: %s, %s", amd64.ModulesDir, arm64.ModulesDir)
	}
	if !kernelimage.IsELF(amd64.Vmlinux) || amd64.Bzimage == "" {
		t.Errorf("amd64: vmlinux %s, bzImage %q; want an extracted ELF and the bzImage kept", amd64.Vmlinux, amd64.Bzimage)
	}
	img, err := os.ReadFile(arm64.Vmlinux)
	if err != nil || !kernelimage.IsArm64Image(img) || arm64.Bzimage != "" || filepath.Base(arm64.Vmlinux) != "vmlinuz-"+arm.Release {
		t.Errorf("arm64: kernel %s (%v), bzImage %q; want Debian's vmlinuz, an arm64 Image, booted as packaged", arm64.Vmlinux, err, arm64.Bzimage)
	}
	if entries, _ := filepath.Glob(filepath.Join(opts.CacheDir, "kernels", "*", "kernel.json")); len(entries) != 2 {
		t.Errorf("%d kernel entries, want 2: %v", len(entries), entries)
	}
	for _, arch := range Arches {
		kept, _ := filepath.Glob(filepath.Join(opts.CacheDir, "indexes", "linux-*.json"))
		if len(kept) != 4 { // two suites × two architectures
			t.Errorf("%s: %d parsed indexes, want 4", arch, len(kept))
		}
	}

	// The same kernels given as custom kernels, each for its own arch and
	// for the other one.
	for _, tt := range []struct {
		path, arch, error string
	}{
		{arm64.Vmlinux, "arm64", ""},
		{arm64.Vmlinux, "amd64", "a kernel for arm64, not amd64: ask for arch arm64, or give a bzImage"},
		{amd64.Bzimage, "arm64", "a kernel for amd64, not arm64: ask for arch amd64, or give an arm64 Image"},
		{amd64.Vmlinux, "arm64", "a kernel for amd64, not arm64"},
		{amd64.Vmlinux, "amd64", ""},
	} {
		err := CheckKernel(tt.path, Options{Arch: tt.arch})
		if tt.error == "" && err != nil || tt.error != "" && (err == nil || !strings.Contains(err.Error(), tt.error) || !strings.Contains(err.Error(), tt.path)) {
			t.Errorf("CheckKernel(%s, %s): %v; want error %q", tt.path, tt.arch, err, tt.error)
		}
	}
}

// TestResolveUnserved publishes a security suite whose index lists builds
// its pool does not serve, as bullseye-security's arm64 index did
// (docs/facts.md#arm64-kernels): resolution must not quietly take an older
// build. Without the fallback it fails naming the suite and the missing
// file; with it, it resolves the newest build served and records what it
// left out.
func TestResolveUnserved(t *testing.T) {
	newest := testKernel{"5.10.262-1", "5.10.0-46-cloud-arm64"}
	next := testKernel{"5.10.259-1", "5.10.0-45-cloud-arm64"}
	main := testKernel{"5.10.223-1", "5.10.0-32-cloud-arm64"}
	setup := func(t *testing.T) (*testMirror, Options) {
		m := newTestMirror(t)
		m.addSuite("debian-security", "bullseye-security", newest, next)
		m.addSuite("debian", "bullseye", main)
		opts := m.options(nil)
		opts.Arch = "arm64"
		return m, opts
	}
	ctx := context.Background()

	t.Run("served", func(t *testing.T) {
		_, opts := setup(t)
		r, err := Resolve(ctx, "5.10", opts)
		if err != nil || r.Version != newest.Version || len(r.Skipped) != 0 {
			t.Errorf("resolved %+v, %v; want %s, nothing skipped", r, err, newest.Version)
		}
	})
	t.Run("newest not served", func(t *testing.T) {
		m, opts := setup(t)
		m.fail("/debian-security/"+newest.poolPath(), http.StatusNotFound)
		_, err := Resolve(ctx, "5.10", opts)
		if err == nil {
			t.Fatal("resolved 5.10 although its newest build is not served")
		}
		for _, want := range []string{"kernel 5.10: suite bullseye-security: it lists " + newest.pkg() + " " + newest.Version,
			"does not serve " + newest.poolPath() + " (HEAD: 404 Not Found)", "refusing to resolve the older " + next.pkg(), AllowFallbackEnv + "=1"} {
			if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line containing %q", err, want)
			}
		}
		opts.AllowFallback = true
		var log bytes.Buffer
		opts.Log = &log
		k, err := Fetch(ctx, "5.10", opts)
		if err != nil {
			t.Fatal(err)
		}
		if k.Version != next.Version || k.Suite != "bullseye-security" || len(k.Skipped) != 1 ||
			k.Skipped[0].Suite != "bullseye-security" || !strings.Contains(k.Skipped[0].Reason, newest.poolPath()) {
			t.Errorf("with fallback: %s from %s, skipped %+v; want %s from bullseye-security, %s recorded", k.Version, k.Suite, k.Skipped, next.Version, newest.poolPath())
		}
		if !strings.Contains(log.String(), "resolved "+next.pkg()+" "+next.Version+" from bullseye-security") {
			t.Errorf("fallback not logged:\n%s", log.String())
		}
	})
	t.Run("no build of the suite served", func(t *testing.T) {
		m, opts := setup(t)
		m.fail("/debian-security/pool/", http.StatusNotFound)
		opts.AllowFallback = true
		r, err := Resolve(ctx, "5.10", opts)
		if err != nil || r.Version != main.Version || r.Suite != "bullseye" || len(r.Skipped) != 1 ||
			!strings.Contains(r.Skipped[0].Reason, "nor 1 older build(s) it lists") {
			t.Errorf("with fallback: %+v, %v; want %s from bullseye, bullseye-security's 2 builds recorded", r, err, main.Version)
		}
		m.fail("/debian/pool/", http.StatusNotFound)
		if _, err := Resolve(ctx, "5.10", opts); err == nil || !strings.Contains(err.Error(), "the mirror serves no build of suites bullseye-security, bullseye") {
			t.Errorf("nothing served: error %v", err)
		}
	})
	t.Run("newest served by another suite", func(t *testing.T) {
		m := newTestMirror(t)
		m.addSuite("debian-security", "trixie-security", testKernel{"6.12.117-1", "6.12.117+deb13-cloud-arm64"})
		m.addSuite("debian", "trixie", testKernel{"6.12.117-1", "6.12.117+deb13-cloud-arm64"})
		m.fail("/debian-security/pool/", http.StatusNotFound)
		m.fail("/debian/dists/bookworm-backports/", http.StatusNotFound)
		opts := m.options(nil)
		opts.Arch, opts.AllowFallback = "arm64", true
		r, err := Resolve(ctx, "6.12", opts)
		if err != nil || r.Suite != "trixie" || r.Version != "6.12.117-1" || len(r.Skipped) != 1 || r.Skipped[0].Suite != "bookworm-backports" {
			t.Errorf("resolved %+v, %v; want trixie's 6.12.117-1, only the missing bookworm-backports skipped", r, err)
		}
	})
	t.Run("cached .deb needs no asking", func(t *testing.T) {
		m, opts := setup(t)
		if _, err := Fetch(ctx, "5.10", opts); err != nil {
			t.Fatal(err)
		}
		m.fail("/debian-security/pool/", http.StatusNotFound)
		if r, err := Resolve(ctx, "5.10", opts); err != nil || r.Version != newest.Version || !r.Cached {
			t.Errorf("cached: %+v, %v; want %s, cached", r, err, newest.Version)
		}
	})
}

// TestCheckKernelArm64 checks the custom forms an arm64 kernel can take:
// an Image (booted as it is), an Image.gz (decompressed into the cache),
// a directory with either, and what is refused.
func TestCheckKernelArm64(t *testing.T) {
	const release = "6.12.0-test-arm64"
	img := testfiles.Arm64Image(release)
	parent := t.TempDir()
	for name, body := range map[string][]byte{
		"Image":                          img,
		"Image.gz":                       testfiles.Gzip(t, img),
		"vmlinux":                        testfiles.Vmlinux(release, true),
		"tree/arch/arm64/boot/Image.gz":  testfiles.Gzip(t, img),
		"tree/.config":                   []byte("CONFIG_BPF=y\n"),
		"install/vmlinuz-" + release:     img,
		"install/config-" + release:      []byte("CONFIG_BPF=y\n"),
		"install/lib/modules/" + release: nil,
		"x86tree/bzImage":                testfiles.BzImage(27, 0x100, testfiles.Gzip(t, testfiles.Vmlinux(release, true)), release),
	} {
		p := filepath.Join(parent, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if body == nil {
			os.MkdirAll(p, 0o755)
			continue
		}
		os.WriteFile(p, body, 0o644)
	}
	at := func(name string) string { return filepath.Join(parent, name) }
	opts := Options{Arch: "arm64", CacheDir: t.TempDir()}
	for _, tt := range []struct {
		path, error     string
		cached          bool // the kernel booted is decompressed into the cache
		config, modules string
	}{
		{path: at("Image")},
		{path: at("Image.gz"), cached: true},
		{path: at("tree"), cached: true, config: at("tree/.config")},
		{path: at("install"), config: at("install/config-" + release), modules: at("install/lib/modules/" + release)},
		{path: at("vmlinux"), error: "a kernel for amd64, not arm64"},
		{path: at("x86tree"), error: "the directory holds none of Image, Image.gz"},
		{path: at("missing"), error: "want a catalog name (5.10, 6.1, 6.12, 7.2, 7.3) or the path of an arm64 Image"},
	} {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			err := CheckKernel(tt.path, opts)
			if tt.error != "" {
				if err == nil || !strings.Contains(err.Error(), tt.error) || !strings.Contains(err.Error(), tt.path) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("CheckKernel: error %v, want one line naming the path with %q", err, tt.error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			k, err := Fetch(context.Background(), tt.path, opts)
			if err != nil {
				t.Fatalf("CheckKernel passed, Fetch failed: %v", err)
			}
			b, _ := os.ReadFile(k.Vmlinux)
			if !bytes.Equal(b, img) || k.Release != release || k.Arch != "arm64" || strings.HasPrefix(k.Vmlinux, opts.CacheDir) != tt.cached ||
				k.Config != tt.config || k.ModulesDir != tt.modules {
				t.Errorf("Fetch: %+v; want release %s, the Image (cached: %v), config %q, modules %q", k, release, tt.cached, tt.config, tt.modules)
			}
		})
	}
	if err := CheckKernel(at("Image"), Options{Arch: "riscv64"}); err == nil || !strings.Contains(err.Error(), `arch "riscv64": want amd64 or arm64`) {
		t.Errorf("bad arch: error %v", err)
	}
}
