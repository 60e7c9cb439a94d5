package vmimages

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDownload exercises download against a local HTTP server standing in
// for the mirror: verification, the .part discipline and error shapes.
func TestDownload(t *testing.T) {
	body := bytes.Repeat([]byte("deb"), 100000)
	sum := sha256.Sum256(body)
	good := fileHash{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(body))}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok.deb":
			w.Write(body)
		case "/flipped.deb":
			b := bytes.Clone(body)
			b[1000] ^= 1
			w.Write(b)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	dir := t.TempDir()

	dst := filepath.Join(dir, "ok.deb")
	var log bytes.Buffer
	if err := download(ctx, srv.URL+"/ok.deb", dst, good, "test Packages", time.Time{}, &log); err != nil {
		t.Fatal(err)
	}
	if !cachedOK(dst, good, &log) {
		t.Error("fresh download is not cachedOK")
	}
	if !strings.Contains(log.String(), "0.3 MB") {
		t.Errorf("progress log %q does not say the size", log.String())
	}

	bad := filepath.Join(dir, "flipped.deb")
	err := download(ctx, srv.URL+"/flipped.deb", bad, good, "test Packages", time.Time{}, io.Discard)
	var he *HashError
	if !errors.As(err, &he) || he.Want != good.SHA256 || he.Got == good.SHA256 ||
		!strings.Contains(err.Error(), "flipped.deb") || strings.Contains(err.Error(), "\n") {
		t.Errorf("corrupt download: error %v, want a one-line *HashError naming the file and both hashes", err)
	}
	for _, p := range []string{bad, bad + ".part"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left behind after a hash mismatch", p)
		}
	}

	err = download(ctx, srv.URL+"/missing", filepath.Join(dir, "missing"), good, "", time.Time{}, io.Discard)
	if !errors.Is(err, errNotFound) {
		t.Errorf("404: error %v, want errNotFound", err)
	}

	// A cached file with a flipped byte is detected, reported and deleted.
	b, _ := os.ReadFile(dst)
	b[5] ^= 0xff
	os.WriteFile(dst, b, 0o644)
	log.Reset()
	if cachedOK(dst, good, &log) {
		t.Error("corrupted cache entry passed verification")
	}
	if _, err := os.Stat(dst); err == nil || !strings.Contains(log.String(), "corrupt") {
		t.Errorf("corrupted cache entry not deleted or not reported (log %q)", log.String())
	}
}

// TestDownloadInterrupted cancels a download halfway through the body: the
// error must say interrupted, the partial file must go, and the file the
// download would have replaced must stay as it was.
func TestDownloadInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2000000")
		w.Write(make([]byte, 1000000))
		w.(http.Flusher).Flush()
		cancel() // the user presses Ctrl-C with half the body read
		<-r.Context().Done()
	}))
	defer srv.Close()
	dst := filepath.Join(t.TempDir(), "InRelease")
	if err := os.WriteFile(dst, []byte("verified before"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := download(ctx, srv.URL+"/InRelease", dst, fileHash{}, "", time.Time{}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "interrupted") || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want an interruption wrapping context.Canceled", err)
	}
	if b, err := os.ReadFile(dst); err != nil || string(b) != "verified before" {
		t.Errorf("the file a cancelled download would replace: %q, %v", b, err)
	}
	if _, err := os.Stat(dst + ".part"); err == nil {
		t.Error("partial download left behind")
	}
}
