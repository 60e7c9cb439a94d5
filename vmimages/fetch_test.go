package vmimages

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/debian"
	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/kernelimage"
)

// needMirror skips the test, saying why, when the Debian mirror apt is
// configured with (or MirrorEnv) cannot be reached.
func needMirror(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the Debian mirror: skipped in -short mode")
	}
	m, _, err := Mirrors()
	if err != nil {
		t.Skipf("needs a Debian mirror: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodHead, m+"/dists/bookworm/InRelease", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Skipf("needs the Debian mirror %s, which is unreachable: %v", m, err)
	}
	resp.Body.Close()
}

// TestFetchDebianMirror fetches the real 6.1 cloud kernel into an empty
// cache, twice at once (the cache lock must keep the runs apart), checks
// what Fetch returns, then corrupts the cached .deb and fetches again.
func TestFetchDebianMirror(t *testing.T) {
	needMirror(t)
	ctx := context.Background()
	var log syncBuffer
	opts := Options{CacheDir: t.TempDir(), Log: &log}

	var wg sync.WaitGroup
	kernels := make([]*Kernel, 2)
	errs := make([]error, 2)
	for i := range kernels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kernels[i], errs[i] = Fetch(ctx, "6.1", opts)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	k := kernels[0]
	if !reflect.DeepEqual(kernels[1], k) {
		t.Errorf("concurrent fetches disagree: %+v vs %+v", k, kernels[1])
	}
	t.Logf("6.1 resolved to %s %s, release %s", k.Package, k.Version, k.Release)

	if !strings.HasPrefix(k.Release, "6.1.") || k.Name != "6.1" {
		t.Errorf("release %q of %q, want 6.1.*", k.Release, k.Name)
	}
	if !kernelimage.IsELF(k.Vmlinux) {
		t.Errorf("%s is not an ELF file", k.Vmlinux)
	}
	if fi, err := os.Stat(k.Vmlinux); err != nil || fi.Size() < 10<<20 {
		t.Errorf("vmlinux is suspiciously small: %v %v", fi, err)
	}
	config, err := os.ReadFile(k.Config)
	if err != nil || !bytes.Contains(config, []byte("\nCONFIG_BPF=y\n")) {
		t.Errorf("config %s lacks CONFIG_BPF=y (%v)", k.Config, err)
	}
	img, err := os.ReadFile(k.Bzimage)
	if release, cerr := kernelimage.CheckBzImage(img); err != nil || release != k.Release {
		t.Errorf("bzImage says release %q (%v), modules dir says %q (%v)", release, cerr, k.Release, err)
	}
	if filepath.Base(k.ModulesDir) != k.Release {
		t.Errorf("modules dir %s is not named after release %s", k.ModulesDir, k.Release)
	}
	clsBPF, _ := filepath.Glob(filepath.Join(k.ModulesDir, "kernel/net/sched/cls_bpf.ko*"))
	if len(clsBPF) != 1 {
		t.Errorf("no cls_bpf module under %s", k.ModulesDir)
	}
	if k.Suite != "bookworm-security" || len(k.Skipped) != 0 {
		t.Errorf("6.1 came from %s, skipping %v; want bookworm-security, nothing skipped", k.Suite, k.Skipped)
	}
	// Debian's own kernel passes the custom-kernel checks in both forms;
	// the ELF check finds the PVH note and the banner's release.
	for _, p := range []string{k.Vmlinux, k.Bzimage} {
		if err := CheckKernel(p, Options{}); err != nil {
			t.Errorf("CheckKernel(%s): %v", p, err)
		}
	}
	if rel, err := kernelimage.CheckVmlinux(k.Vmlinux); rel != k.Release {
		t.Errorf("vmlinux banner says release %q (%v), want %s", rel, err, k.Release)
	}
	logVerifyCost(t, filepath.Dir(k.Vmlinux))

	// A truncated vmlinux (a full disk) is noticed and extracted again.
	vmlinux, _ := os.ReadFile(k.Vmlinux)
	os.Truncate(k.Vmlinux, int64(len(vmlinux)/2))
	if r, err := Resolve(ctx, "6.1", opts); err != nil || r.Cached {
		t.Errorf("truncated vmlinux: cached %v, %v; want not cached", r != nil && r.Cached, err)
	}
	log.Reset()
	if _, err := Fetch(ctx, "6.1", opts); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(k.Vmlinux); !bytes.Equal(b, vmlinux) || !strings.Contains(log.String(), "corrupt, extracting it again") {
		t.Errorf("truncated vmlinux not re-extracted (%d of %d bytes); log:\n%s", len(b), len(vmlinux), log.String())
	}

	// Flip a byte of the cached .deb. The extracted kernel still matches
	// its manifest, so the next Fetch needs no .deb and reads none; once
	// the kernel must be extracted again, Fetch must notice, say so and
	// fetch the .deb again.
	debs, _ := filepath.Glob(filepath.Join(opts.CacheDir, "debs", "*.deb"))
	if len(debs) != 1 {
		t.Fatalf("cache holds %d .debs, want 1", len(debs))
	}
	b, err := os.ReadFile(debs[0])
	if err != nil {
		t.Fatal(err)
	}
	sumBefore, _, _ := sha256File(debs[0])
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(debs[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	if _, err := Fetch(ctx, "6.1", opts); err != nil {
		t.Fatal(err)
	}
	if sum, _, _ := sha256File(debs[0]); sum == sumBefore || strings.Contains(log.String(), "corrupt") {
		t.Errorf("the .deb was read although the kernel needed no extraction; log:\n%s", log.String())
	}
	os.Truncate(k.Vmlinux, int64(len(vmlinux)/2))
	log.Reset()
	again, err := Fetch(ctx, "6.1", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "corrupt, fetching it again") {
		t.Errorf("corruption not reported; log:\n%s", log.String())
	}
	if sum, _, _ := sha256File(debs[0]); sum != sumBefore {
		t.Errorf("re-fetched .deb has SHA256 %s, want %s", sum, sumBefore)
	}
	if !reflect.DeepEqual(again, k) {
		t.Errorf("fetch after repair returned %+v, want %+v", again, k)
	}

	// The signature check rejects an InRelease whose signed text changed.
	inRelease, _ := filepath.Glob(filepath.Join(opts.CacheDir, "indexes", "*", "bookworm", "InRelease"))
	if len(inRelease) != 1 {
		t.Fatalf("no cached bookworm InRelease")
	}
	text, _ := os.ReadFile(inRelease[0])
	tampered := filepath.Join(t.TempDir(), "InRelease")
	os.WriteFile(tampered, bytes.Replace(text, []byte("Origin: Debian"), []byte("Origin: Nebian"), 1), 0o644)
	if _, err := debian.VerifyInRelease(ctx, tampered, archiveKeyring, &log); err == nil || !strings.Contains(err.Error(), "BAD signature") {
		t.Errorf("tampered InRelease: error %v, want BAD signature", err)
	}

	// The same kernel given as a custom directory.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bzImage"), img, 0o644)
	os.WriteFile(filepath.Join(dir, "config"), config, 0o644)
	custom, err := Fetch(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if custom.Release != k.Release || custom.Config != filepath.Join(dir, "config") || !kernelimage.IsELF(custom.Vmlinux) {
		t.Errorf("custom kernel: %+v", custom)
	}
}

// TestFetchDebianMirrorArm64 fetches the real arm64 6.12 cloud kernel:
// Debian's vmlinuz must be the arm64 Image qemu-system-aarch64 boots, kept
// as it is, with its config and modules, and refused as a kernel for
// amd64. Then it resolves arm64 5.10, whose bullseye-security index has
// listed builds the pool did not serve (docs/facts.md#arm64-kernels):
// whatever the mirror does today, the answer must agree with what it
// serves.
func TestFetchDebianMirrorArm64(t *testing.T) {
	needMirror(t)
	ctx := context.Background()
	opts := Options{Arch: "arm64", CacheDir: t.TempDir()}
	k, err := Fetch(ctx, "6.12", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("arm64 6.12 resolved to %s %s from %s, release %s", k.Package, k.Version, k.Suite, k.Release)
	if !strings.HasPrefix(k.Release, "6.12.") || !strings.HasSuffix(k.Release, "-cloud-arm64") || k.Arch != "arm64" || k.Bzimage != "" {
		t.Errorf("fetched %+v; want a 6.12.*-cloud-arm64 release, booted as packaged", k)
	}
	img, err := os.ReadFile(k.Vmlinux)
	if err != nil || !kernelimage.IsArm64Image(img) || len(img) < 10<<20 {
		t.Fatalf("%s: %d bytes, arm64 Image %v (%v)", k.Vmlinux, len(img), kernelimage.IsArm64Image(img), err)
	}
	if rel, err := kernelimage.CheckArm64Image(ctx, img); rel != k.Release {
		t.Errorf("the Image's banner says release %q (%v), its modules dir %q", rel, err, k.Release)
	}
	if config, err := os.ReadFile(k.Config); err != nil || !bytes.Contains(config, []byte("\nCONFIG_BPF=y\n")) || !bytes.Contains(config, []byte("\nCONFIG_ARM64=y\n")) {
		t.Errorf("config %s lacks CONFIG_BPF=y or CONFIG_ARM64=y (%v)", k.Config, err)
	}
	if clsBPF, _ := filepath.Glob(filepath.Join(k.ModulesDir, "kernel/net/sched/cls_bpf.ko*")); filepath.Base(k.ModulesDir) != k.Release || len(clsBPF) != 1 {
		t.Errorf("modules dir %s: not named after %s, or no cls_bpf", k.ModulesDir, k.Release)
	}
	if err := CheckKernel(k.Vmlinux, opts); err != nil {
		t.Errorf("CheckKernel(%s, arm64): %v", k.Vmlinux, err)
	}
	if err := CheckKernel(k.Vmlinux, Options{}); err == nil || !strings.Contains(err.Error(), "a kernel for arm64, not amd64") || strings.Contains(err.Error(), "\n") {
		t.Errorf("CheckKernel(%s, amd64): %v; want one line refusing an arm64 kernel", k.Vmlinux, err)
	}
	if r, err := Resolve(ctx, "6.12", opts); err != nil || !r.Cached || r.Arch != "arm64" {
		t.Errorf("resolved again: %+v, %v; want it cached", r, err)
	}

	r, err := Resolve(ctx, "5.10", opts)
	if err == nil {
		for _, p := range r.parts {
			if code := headStatus(t, p.Mirror+"/"+p.Filename); code != http.StatusOK {
				t.Errorf("arm64 5.10 resolved to %s, which the mirror answers %d", p.Filename, code)
			}
		}
		t.Logf("arm64 5.10: %s %s from %s, served", r.Package, r.Version, r.Suite)
		return
	}
	if !strings.Contains(err.Error(), "suite bullseye-security: it lists ") || !strings.Contains(err.Error(), "(HEAD: 404 Not Found)") {
		t.Fatalf("arm64 5.10: %v; want it resolved or bullseye-security's unserved build named", err)
	}
	t.Log(err)
	opts.AllowFallback = true
	r, err = Resolve(ctx, "5.10", opts)
	if err != nil || len(r.Skipped) == 0 || r.Skipped[0].Suite != "bullseye-security" {
		t.Fatalf("arm64 5.10 with fallback: %+v, %v; want bullseye-security recorded as skipped", r, err)
	}
	if code := headStatus(t, r.parts[0].Mirror+"/"+r.parts[0].Filename); code != http.StatusOK {
		t.Errorf("the fallback %s is answered %d", r.parts[0].Filename, code)
	}
	t.Logf("arm64 5.10 with fallback: %s %s from %s; skipped %+v", r.Package, r.Version, r.Suite, r.Skipped)
}

// headStatus is the status the mirror answers a HEAD request for url with.
func headStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Head(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// logVerifyCost measures what verifying the cache entry dir costs as done
// on every use, and what hashing every file would (the numbers behind
// kernelFiles.verify's choice).
func logVerifyCost(t *testing.T, dir string) {
	t.Helper()
	start := time.Now()
	kf, err := loadEntry(dir)
	if err != nil {
		t.Fatal(err)
	}
	verify := time.Since(start)
	var all, hashed int64
	for name, h := range kf.Files {
		all += h.Size
		if name == kf.Vmlinux || name == kf.Bzimage || name == kf.Config {
			hashed += h.Size
		}
	}
	start = time.Now()
	if _, err := recordFiles(dir); err != nil {
		t.Fatal(err)
	}
	t.Logf("verify on use: %d files (%.1f MB) sized, %.1f MB hashed in %v; hashing all of them: %v",
		len(kf.Files), float64(all)/1e6, float64(hashed)/1e6, verify, time.Since(start))
}

// TestResolveDebianMirrorFailsClosed resolves 6.1 on Debian's mirror, then
// tampers with the cached bookworm-security InRelease: without the fallback
// the resolution must fail naming the suite and the bad signature; with it,
// resolve bookworm's older build and say why.
func TestResolveDebianMirrorFailsClosed(t *testing.T) {
	needMirror(t)
	ctx := context.Background()
	opts := Options{CacheDir: t.TempDir()}
	r, err := Resolve(ctx, "6.1", opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Suite != "bookworm-security" || len(r.Skipped) != 0 {
		t.Fatalf("6.1 resolved from %s, skipping %v; want bookworm-security", r.Suite, r.Skipped)
	}
	path := cachedInRelease(t, opts, "bookworm-security")
	text, _ := os.ReadFile(path)
	// The cached copy was checked against the mirror just now, so it is
	// used without asking the mirror again.
	os.WriteFile(path, bytes.Replace(text, []byte("Origin: Debian"), []byte("Origin: Nebian"), 1), 0o644)
	_, err = Resolve(ctx, "6.1", opts)
	if err == nil || !strings.Contains(err.Error(), "suite bookworm-security: ") || !strings.Contains(err.Error(), "BAD signature") {
		t.Fatalf("tampered bookworm-security: error %v, want it named with its BAD signature", err)
	}
	t.Log(err)

	// The failed check condemned and removed it; tamper again.
	os.WriteFile(path, bytes.Replace(text, []byte("Origin: Debian"), []byte("Origin: Nebian"), 1), 0o644)
	os.WriteFile(path+".checked", nil, 0o644)
	opts.AllowFallback = true
	older, err := Resolve(ctx, "6.1", opts)
	if err != nil {
		t.Fatal(err)
	}
	if older.Suite != "bookworm" || debian.CompareVersions(older.Version, r.Version) >= 0 ||
		len(older.Skipped) != 1 || !strings.Contains(older.Skipped[0].Reason, "BAD signature") {
		t.Errorf("with fallback: %s %s from %s, skipped %+v; want an older build than %s from bookworm", older.Package, older.Version, older.Suite, older.Skipped, r.Version)
	}
}

func TestFetchBadInput(t *testing.T) {
	ctx := context.Background()
	opts := Options{CacheDir: t.TempDir()}
	var unknown *UnknownError
	if _, err := Fetch(ctx, "4.19", opts); !errors.As(err, &unknown) {
		t.Errorf("4.19: error %v, want *UnknownError", err)
	}
	if _, err := Fetch(ctx, "6.1", Options{Flavor: "rt", CacheDir: opts.CacheDir}); err == nil || !strings.Contains(err.Error(), `flavor "rt"`) {
		t.Errorf("flavor rt: error %v", err)
	}
	notKernel := filepath.Join(t.TempDir(), "bzImage")
	os.WriteFile(notKernel, []byte("#!/bin/sh\n"), 0o644)
	if _, err := Fetch(ctx, notKernel, opts); err == nil || !strings.Contains(err.Error(), notKernel) {
		t.Errorf("a shell script as bzImage: error %v should name it", err)
	}
	if _, err := Fetch(ctx, "./no/such/bzImage", opts); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing path: error %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent fetches' logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
