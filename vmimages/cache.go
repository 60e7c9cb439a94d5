package vmimages

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/flock"
)

// DefaultCacheDir is where fetched kernels are kept between runs:
// $XDG_CACHE_HOME/bpfmatrix, by default ~/.cache/bpfmatrix.
func DefaultCacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "bpfmatrix")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cache", "bpfmatrix")
	}
	return filepath.Join(os.TempDir(), "bpfmatrix-cache")
}

// lock takes the lock of a cache entry, so two bpfmatrix processes sharing
// a cache never write the same entry at once.
func lock(ctx context.Context, path string, log io.Writer) (unlock func(), err error) {
	return flock.Lock(ctx, path, "vmimages", log)
}

// interrupted returns err, or, when ctx is done, an error saying step was
// interrupted and wrapping ctx's cause (so errors.Is(err, context.Canceled)
// holds). A tool or request cut short by the cancellation fails with
// "signal: killed" or a read error, which must never read as a verdict on
// the data: no caller deletes a verified file over an interrupted check.
func interrupted(ctx context.Context, step string, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("%s interrupted: %w", step, context.Cause(ctx))
}

// errNotFound is an HTTP 404: the suite or file is not on this mirror.
var errNotFound = errors.New("not found on the mirror")

// HashError is a download or cached file whose SHA256 is not the one the
// signed index promises. The file has been deleted.
type HashError struct {
	File      string
	Got, Want string
	Source    string // where Want came from
}

func (e *HashError) Error() string {
	return fmt.Sprintf("%s: SHA256 %s, expected %s (from %s); deleted it", e.File, e.Got, e.Want, e.Source)
}

// fileHash is what a signed index promises of a file, and what a cache
// entry's manifest records of each of its files.
type fileHash struct {
	SHA256 string
	Size   int64
}

// sha256File hashes a whole file.
func sha256File(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// cachedOK reports whether dst exists with the wanted hash. A file with
// another hash (a corrupted or stale cache entry) is deleted and reported
// on log, so the caller fetches it again.
func cachedOK(dst string, want fileHash, log io.Writer) bool {
	got, _, err := sha256File(dst)
	if err != nil {
		return false
	}
	if got == want.SHA256 {
		return true
	}
	fmt.Fprintf(log, "vmimages: cached %s has SHA256 %s, expected %s: corrupt, fetching it again\n", dst, got, want.SHA256)
	os.Remove(dst)
	return false
}

// download fetches url into dst through dst.part, so a partial download
// never looks cached. With a non-empty want.SHA256 the file is verified
// before it is renamed into place; a mismatch deletes it and returns a
// *HashError. modSince, when not zero, makes the request conditional and
// a "304 Not Modified" returns errNotModified. Callers hold dst's lock.
func download(ctx context.Context, url, dst string, want fileHash, source string, modSince time.Time, log io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if !modSince.IsZero() {
		req.Header.Set("If-Modified-Since", modSince.UTC().Format(http.TimeFormat))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// net/http's *url.Error repeats the method and URL; keep one copy.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return interrupted(ctx, "GET "+url, fmt.Errorf("GET %s: %w", url, err))
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		return errNotModified
	case http.StatusNotFound:
		return fmt.Errorf("GET %s: %w", url, errNotFound)
	default:
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	part := dst + ".part"
	f, err := os.Create(part)
	if err != nil {
		return err
	}
	total := want.Size
	if total == 0 {
		total = resp.ContentLength
	}
	h := sha256.New()
	pr := &progress{w: log, label: filepath.Base(dst), total: total, start: time.Now()}
	n, err := io.Copy(io.MultiWriter(f, h, pr), resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(part) // incomplete: never looks cached
		return interrupted(ctx, "GET "+url, fmt.Errorf("GET %s: %w", url, err))
	}
	pr.done()
	got := hex.EncodeToString(h.Sum(nil))
	if want.SHA256 != "" && (got != want.SHA256 || (want.Size > 0 && n != want.Size)) {
		os.Remove(part) // the whole body arrived and is not what the index promises
		return &HashError{File: filepath.Base(dst), Got: got, Want: want.SHA256, Source: source}
	}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		os.Chtimes(part, t, t)
	}
	return os.Rename(part, dst)
}

var errNotModified = errors.New("not modified")

// progress reports the bytes of a download on a log at most every two
// seconds, and once at the end.
type progress struct {
	w            io.Writer
	label        string
	n, total     int64
	start, shown time.Time
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if now := time.Now(); now.Sub(p.shown) >= 2*time.Second && now.Sub(p.start) >= 2*time.Second {
		p.shown = now
		fmt.Fprintf(p.w, "vmimages: %s %s / %s\n", p.label, mb(p.n), mb(p.total))
	}
	return len(b), nil
}

func (p *progress) done() {
	secs := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "vmimages: fetched %s (%s in %.1fs, %.1f MB/s)\n", p.label, mb(p.n), secs, float64(p.n)/1e6/max(secs, 0.001))
}

func mb(n int64) string {
	if n <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
