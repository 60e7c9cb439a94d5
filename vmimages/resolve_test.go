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
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/debian"
)

// cachedInRelease is the InRelease of suite in a fetch's cache.
func cachedInRelease(t *testing.T, opts Options, suite string) string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(opts.CacheDir, "indexes", "*", suite, "InRelease"))
	if len(paths) != 1 {
		t.Fatalf("%d cached InRelease files for %s, want 1", len(paths), suite)
	}
	return paths[0]
}

// TestResolveNewest resolves 6.1 from both of its suites, then again with
// the mirror gone: the verified cache alone must give the same answer.
func TestResolveNewest(t *testing.T) {
	m := newTestMirror(t)
	_, newest := m.addBookworm()
	opts := m.options(nil)
	ctx := context.Background()
	r, err := Resolve(ctx, "6.1", opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != newest.Version || r.Suite != "bookworm-security" || len(r.Skipped) != 0 || r.Cached {
		t.Errorf("resolved %+v, want %s from bookworm-security, nothing skipped, not cached", r, newest.Version)
	}
	m.srv.Close()
	t.Setenv(IndexTTLEnv, "0") // ask the mirror, which is gone
	var log bytes.Buffer
	opts.Log = &log
	offline, err := Resolve(ctx, "6.1", opts)
	if err != nil || offline.Version != newest.Version {
		t.Fatalf("offline: %+v, %v; want %s from the verified cache", offline, err, newest.Version)
	}
	if !strings.Contains(log.String(), "mirror unreachable, using the InRelease verified before") {
		t.Errorf("offline use of the cache not logged:\n%s", log.String())
	}
}

// TestResolveFailsClosed breaks bookworm-security, the suite that holds the
// newest 6.1, in each way a mirror can: resolving must fail with one line
// naming the suite and the cause, and with the fallback allowed (by option
// or environment) resolve the older bookworm build and record why.
func TestResolveFailsClosed(t *testing.T) {
	const dists = "/debian-security/dists/bookworm-security/"
	for _, tt := range []struct {
		name   string
		damage func(m *testMirror)
		cause  string
	}{
		{"bad signature", func(m *testMirror) {
			m.change(dists+"InRelease", func(b []byte) []byte { return bytes.Replace(b, []byte("Origin: Debian"), []byte("Origin: Nebian"), 1) })
		}, "BAD signature by key"},
		{"unsigned", func(m *testMirror) {
			m.change(dists+"InRelease", func(b []byte) []byte {
				_, text, _ := strings.Cut(string(b), "\n\n")
				text, _, _ = strings.Cut(text, "-----BEGIN PGP SIGNATURE-----")
				return []byte(text)
			})
		}, "no valid signature"},
		{"hash mismatch", func(m *testMirror) {
			m.change(dists+"main/binary-amd64/Packages.gz", func(b []byte) []byte { return append(b, 0) })
		}, "(from bookworm-security InRelease)"},
		{"missing index", func(m *testMirror) { m.fail(dists+"main/", http.StatusNotFound) }, "not found on the mirror"},
		{"suite not on the mirror", func(m *testMirror) { m.fail(dists, http.StatusNotFound) }, "InRelease: not found on the mirror"},
		{"unreachable", func(m *testMirror) { m.fail("/debian-security/", http.StatusServiceUnavailable) }, "503 Service Unavailable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestMirror(t)
			older, _ := m.addBookworm()
			tt.damage(m)
			ctx := context.Background()
			opts := m.options(nil)

			_, err := Resolve(ctx, "6.1", opts)
			if err == nil {
				t.Fatal("resolved 6.1 with bookworm-security broken")
			}
			msg := err.Error()
			if !strings.Contains(msg, "kernel 6.1: suite bookworm-security: ") || !strings.Contains(msg, tt.cause) ||
				!strings.Contains(msg, AllowFallbackEnv+"=1") || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line naming suite bookworm-security, %q and %s", msg, tt.cause, AllowFallbackEnv)
			}
			if _, err := os.Stat(filepath.Join(opts.CacheDir, "kernels")); err == nil {
				t.Error("a kernel was cached although resolution failed")
			}

			opts.AllowFallback = true
			var log bytes.Buffer
			opts.Log = &log
			r, err := Resolve(ctx, "6.1", opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Version != older.Version || r.Suite != "bookworm" || len(r.Skipped) != 1 ||
				r.Skipped[0].Suite != "bookworm-security" || !strings.Contains(r.Skipped[0].Reason, tt.cause) {
				t.Errorf("with fallback: %+v; want %s from bookworm, bookworm-security skipped for %q", r, older.Version, tt.cause)
			}
			if !strings.Contains(log.String(), "suite bookworm-security skipped") {
				t.Errorf("fallback not logged:\n%s", log.String())
			}

			t.Setenv(AllowFallbackEnv, "1")
			opts.AllowFallback = false
			k, err := Fetch(ctx, "6.1", opts)
			if err != nil {
				t.Fatal(err)
			}
			if k.Version != older.Version || k.Suite != "bookworm" || !reflect.DeepEqual(k.Skipped, r.Skipped) {
				t.Errorf("Fetch with %s=1: %+v; want %s from bookworm, skipped %+v", AllowFallbackEnv, k, older.Version, r.Skipped)
			}
		})
	}
}

// TestResolveKeepsVerifiedInRelease: once an InRelease verified, a mirror
// that later serves a tampered one makes resolution fail closed, and the
// cache keeps its verified copy rather than the tampered one.
func TestResolveKeepsVerifiedInRelease(t *testing.T) {
	m := newTestMirror(t)
	m.addBookworm()
	ctx := context.Background()
	opts := m.options(nil)
	if _, err := Resolve(ctx, "6.1", opts); err != nil {
		t.Fatal(err)
	}
	path := cachedInRelease(t, opts, "bookworm-security")
	good, _ := os.ReadFile(path)

	m.change("/debian-security/dists/bookworm-security/InRelease", func(b []byte) []byte {
		return bytes.Replace(b, []byte("Origin: Debian"), []byte("Origin: Nebian"), 1)
	})
	t.Setenv(IndexTTLEnv, "0")
	_, err := Resolve(ctx, "6.1", opts)
	if err == nil || !strings.Contains(err.Error(), "suite bookworm-security: ") || !strings.Contains(err.Error(), "BAD signature") {
		t.Fatalf("tampered mirror: error %v, want bookworm-security's BAD signature", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, good) {
		t.Error("the verified InRelease was replaced or removed")
	}
	if _, err := os.Stat(path + ".new"); err == nil {
		t.Error("the tampered download was kept")
	}
}

// TestInReleaseInterrupted reproduces Ctrl-C while a queued kernel's
// signature check runs (the cached InRelease is fresh, so gpgv is the
// first thing to see the cancelled context): the error must say
// "interrupted", the cached InRelease must stay, and the next, offline,
// resolution must still give the newest kernel.
func TestInReleaseInterrupted(t *testing.T) {
	m := newTestMirror(t)
	_, newest := m.addBookworm()
	opts := m.options(nil)
	if _, err := Resolve(context.Background(), "6.1", opts); err != nil {
		t.Fatal(err)
	}
	path := cachedInRelease(t, opts, "bookworm-security")
	want, _ := os.ReadFile(path)

	// gpgv killed while it runs: a gpgv that says it started, then hangs.
	bin := t.TempDir()
	started := filepath.Join(bin, "started")
	script := "#!/bin/sh\n: > " + started + "\nexec sleep 600\n"
	if err := os.WriteFile(filepath.Join(bin, "gpgv"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	hanging := func(t *testing.T) context.Context {
		t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			for !fileExists(started) {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
		}()
		return ctx
	}
	cancelled := func(*testing.T) context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	for _, tt := range []struct {
		name string
		ctx  func(*testing.T) context.Context
	}{
		{"cancelled before gpgv starts", cancelled},
		{"cancelled while gpgv runs", hanging},
	} {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(started)
			_, err := Resolve(tt.ctx(t), "6.1", opts)
			if err == nil || !strings.Contains(err.Error(), "interrupted") || !errors.Is(err, context.Canceled) ||
				strings.Contains(err.Error(), "signature by") || strings.Contains(err.Error(), "no valid signature") {
				t.Fatalf("error %v: want an interruption wrapping context.Canceled, no verdict on the signature", err)
			}
			if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("cached InRelease changed or removed by an interrupted check (%v)", err)
			}
		})
	}

	m.srv.Close()
	r, err := Resolve(context.Background(), "6.1", opts)
	if err != nil || r.Version != newest.Version || r.Suite != "bookworm-security" {
		t.Errorf("offline after the interruptions: %+v, %v; want %s from bookworm-security", r, err, newest.Version)
	}
}

func TestAllowFallbackEnv(t *testing.T) {
	t.Setenv(AllowFallbackEnv, "yes please")
	_, err := Resolve(context.Background(), "6.1", Options{Mirror: "http://127.0.0.1:1/debian", CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), AllowFallbackEnv+`="yes please"`) {
		t.Errorf("bad %s: error %v, want one naming it", AllowFallbackEnv, err)
	}
}

// TestResolveReparsesKeptIndex: a verified Packages index left in the cache
// by a run interrupted while parsing it is parsed again with the mirror
// gone, not fetched again.
func TestResolveReparsesKeptIndex(t *testing.T) {
	m := newTestMirror(t)
	_, newest := m.addBookworm()
	opts := m.options(nil)
	if _, err := Resolve(context.Background(), "6.1", opts); err != nil {
		t.Fatal(err)
	}
	parsed, _ := filepath.Glob(filepath.Join(opts.CacheDir, "indexes", "linux-*.json"))
	for _, p := range parsed {
		os.Remove(p)
	}
	for _, suite := range []string{"bookworm", "bookworm-security"} {
		archive := map[bool]string{false: "debian", true: "debian-security"}[debian.IsSecuritySuite(suite)]
		m.mu.Lock()
		gz := m.file["/"+archive+"/dists/"+suite+"/main/binary-amd64/Packages.gz"]
		m.mu.Unlock()
		os.WriteFile(filepath.Join(filepath.Dir(cachedInRelease(t, opts, suite)), "binary-amd64_Packages.gz"), gz, 0o644)
	}
	m.srv.Close()
	r, err := Resolve(context.Background(), "6.1", opts)
	if err != nil || r.Version != newest.Version {
		t.Fatalf("from the kept indexes: %+v, %v; want %s", r, err, newest.Version)
	}
	if kept, _ := filepath.Glob(filepath.Join(opts.CacheDir, "indexes", "*", "*", "*Packages.gz")); len(kept) != 0 {
		t.Errorf("indexes still kept after parsing: %v", kept)
	}
}

func TestImagePattern(t *testing.T) {
	for _, tt := range []struct {
		series, flavor, name string
		want                 bool
	}{
		{"6.1", "cloud", "linux-image-6.1.0-50-cloud-amd64", true},
		{"6.1", "generic", "linux-image-6.1.0-50-amd64", true},
		{"6.1", "generic", "linux-image-6.1.0-50-cloud-amd64", false},
		{"6.1", "cloud", "linux-image-6.12.117+deb13-cloud-amd64", false},
		{"6.1", "cloud", "linux-image-6.1.0-50-cloud-amd64-unsigned", false},
		{"6.1", "cloud", "linux-image-6.1.0-50-cloud-amd64-dbg", false},
		{"6.1", "generic", "linux-image-6.1.0-50-rt-amd64", false},
		{"6.12", "cloud", "linux-image-6.12.117+deb13-cloud-amd64", true},
		{"7.2", "cloud", "linux-image-7.2.13+deb14-cloud-amd64", true},
		{"7.3", "cloud", "linux-image-7.3-cloud-amd64", true},
		{"7.3", "cloud", "linux-image-cloud-amd64", false},
		{"5.10", "generic", "linux-image-5.10.0-46-amd64", true},
		{"5.10", "cloud", "linux-image-5.10.0-46-cloud-arm64", true},
		{"6.12", "generic", "linux-image-6.12.118+deb13-arm64", true},
		{"6.12", "cloud", "linux-image-6.12.118+deb13-rt-arm64", false},
		{"6.1", "cloud", "linux-image-6.1.0-0.deb11.52-cloud-arm64", false},
	} {
		arch := "amd64"
		if strings.HasSuffix(tt.name, "-arm64") {
			arch = "arm64"
		}
		if got := imagePattern(tt.series, tt.flavor, arch).MatchString(tt.name); got != tt.want {
			t.Errorf("series %s flavor %s: %s matched %v, want %v", tt.series, tt.flavor, tt.name, got, tt.want)
		}
	}
}

// TestDebsOf resolves sid's meta linux-image, whose content is in three
// packages of the same version, and a plain image, which is its own
// content.
func TestDebsOf(t *testing.T) {
	const v = "7.2.13-1"
	part := func(name string) pkg {
		return pkg{Package: debian.Package{Name: name + "-7.2.13+deb14-cloud-amd64", Version: v, SHA256: strings.Repeat("2", 64)}}
	}
	meta := pkg{Package: debian.Package{Name: "linux-image-7.2.13+deb14-cloud-amd64", Version: v, Depends: []string{
		"dracut", "initramfs-tools", "linux-base-7.2.13+deb14-cloud-amd64", "linux-binary-7.2.13+deb14-cloud-amd64", "linux-modules-7.2.13+deb14-cloud-amd64"}}}
	index := []pkg{meta, part("linux-binary")}
	// The meta image names three parts; the index lacks two.
	if _, err := debsOf(meta, index); err == nil || !strings.Contains(err.Error(), "linux-base-7.2.13+deb14-cloud-amd64") {
		t.Errorf("missing parts: error %v should name linux-base-…", err)
	}
	older := part("linux-base")
	older.Version = "7.2.12-1"
	if _, err := debsOf(meta, append(index, older, part("linux-modules"))); err == nil || !strings.Contains(err.Error(), "lacks at that version") {
		t.Errorf("a part at another version: error %v", err)
	}
	index = append(index, part("linux-base"), part("linux-modules"))
	parts, err := debsOf(meta, index)
	if err != nil || len(parts) != 3 {
		t.Errorf("meta package: parts %v, %v", parts, err)
	}
	plain := pkg{Package: debian.Package{Name: "linux-image-6.1.0-50-cloud-amd64", Version: "6.1.176-1", Depends: []string{"kmod", "linux-base"}}}
	if parts, err := debsOf(plain, index); err != nil || len(parts) != 1 || parts[0].Name != plain.Name {
		t.Errorf("plain package: parts %v, %v", parts, err)
	}
}
