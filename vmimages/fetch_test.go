package vmimages

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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
	if *kernels[1] != *k {
		t.Errorf("concurrent fetches disagree: %+v vs %+v", k, kernels[1])
	}
	t.Logf("6.1 resolved to %s %s, release %s", k.Package, k.Version, k.Release)

	if !strings.HasPrefix(k.Release, "6.1.") || k.Name != "6.1" {
		t.Errorf("release %q of %q, want 6.1.*", k.Release, k.Name)
	}
	if err := checkELF(k.Vmlinux); err != nil {
		t.Error(err)
	}
	if fi, err := os.Stat(k.Vmlinux); err != nil || fi.Size() < 10<<20 {
		t.Errorf("vmlinux is suspiciously small: %v %v", fi, err)
	}
	config, err := os.ReadFile(k.Config)
	if err != nil || !bytes.Contains(config, []byte("\nCONFIG_BPF=y\n")) {
		t.Errorf("config %s lacks CONFIG_BPF=y (%v)", k.Config, err)
	}
	img, err := os.ReadFile(k.Bzimage)
	if err != nil || bzImageRelease(img) != k.Release {
		t.Errorf("bzImage says release %q, modules dir says %q (%v)", bzImageRelease(img), k.Release, err)
	}
	if filepath.Base(k.ModulesDir) != k.Release {
		t.Errorf("modules dir %s is not named after release %s", k.ModulesDir, k.Release)
	}
	clsBPF, _ := filepath.Glob(filepath.Join(k.ModulesDir, "kernel/net/sched/cls_bpf.ko*"))
	if len(clsBPF) != 1 {
		t.Errorf("no cls_bpf module under %s", k.ModulesDir)
	}

	// Flip a byte of the cached .deb: the next Fetch must notice, say so
	// and fetch it again.
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
	if *again != *k {
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
	if _, err := verifyInRelease(ctx, tampered, archiveKeyring, &log); err == nil || !strings.Contains(err.Error(), "BAD signature") {
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
	if custom.Release != k.Release || custom.Config != filepath.Join(dir, "config") || checkELF(custom.Vmlinux) != nil {
		t.Errorf("custom kernel: %+v", custom)
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
