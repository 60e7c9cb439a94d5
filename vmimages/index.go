package vmimages

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// IndexTTLEnv overrides how long a fetched InRelease is trusted to be the
// newest before the mirror is asked again (a Go duration; 0 asks every time).
const IndexTTLEnv = "BPFMATRIX_INDEX_TTL"

// defaultIndexTTL keeps a second run within the hour off the network
// entirely: kernels move by days, not minutes.
const defaultIndexTTL = time.Hour

func indexTTL() time.Duration {
	if d, err := time.ParseDuration(os.Getenv(IndexTTLEnv)); err == nil {
		return d
	}
	return defaultIndexTTL
}

// refreshInRelease downloads suite's InRelease into path unless the copy
// there was checked against the mirror less than indexTTL ago.
func (f *fetcher) refreshInRelease(ctx context.Context, root, suite, path string) error {
	checked := path + ".checked"
	if fi, err := os.Stat(checked); err == nil && time.Since(fi.ModTime()) < indexTTL() {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
	}
	var since time.Time
	if fi, err := os.Stat(path); err == nil {
		since = fi.ModTime()
	}
	err := download(ctx, root+"/dists/"+suite+"/InRelease", path, fileHash{}, "", since, f.log)
	switch {
	case err == nil, errors.Is(err, errNotModified):
		return writeFileAtomic(checked, nil)
	case errors.Is(err, errNotFound):
		return fmt.Errorf("suite %s: %w", suite, err)
	case !since.IsZero() && ctx.Err() == nil:
		fmt.Fprintf(f.log, "vmimages: %s: mirror unreachable, using the cached InRelease (%v)\n", suite, err)
		return nil
	default:
		return err
	}
}

// packagesPaths are the Packages indexes tried, in order, relative to
// dists/<suite>/: xz is smallest, gz the fallback every mirror has.
var packagesPaths = []string{"main/binary-amd64/Packages.xz", "main/binary-amd64/Packages.gz"}

// suiteIndex returns the linux-* packages of suite on the archive at root,
// verified like apt does: the suite's InRelease must carry a good signature
// by a key of the Debian archive keyring, and the Packages index must have
// the SHA256 InRelease lists. Indexes are cached by that hash; InRelease is
// fetched again once it is older than IndexTTL (conditionally, so an
// unchanged one costs one round trip), and when the mirror cannot be
// reached the last verified one is used, with a note on the log. It is
// verified again on every use.
func (f *fetcher) suiteIndex(ctx context.Context, root, suite string) ([]pkg, error) {
	dir := filepath.Join(f.opts.CacheDir, "indexes", escapePath(root), suite)
	unlock, err := lock(filepath.Join(dir, "lock"), f.log)
	if err != nil {
		return nil, err
	}
	defer unlock()

	inRelease := filepath.Join(dir, "InRelease")
	if err := f.refreshInRelease(ctx, root, suite, inRelease); err != nil {
		return nil, err
	}
	if err := needKeyring(ctx, f.log); err != nil {
		return nil, err
	}
	signed, err := verifyInRelease(ctx, inRelease, f.keyring, f.log)
	if err != nil {
		os.Remove(inRelease)
		return nil, fmt.Errorf("suite %s: %w", suite, err)
	}
	rel, err := parseRelease(bytes.NewReader(signed))
	if err != nil {
		return nil, fmt.Errorf("suite %s: InRelease: %w", suite, err)
	}
	if t, err := time.Parse(time.RFC1123, strings.Replace(rel.ValidUntil, "UTC", "GMT", 1)); err == nil && time.Now().After(t) {
		// apt refuses expired indexes; a matrix over a frozen mirror still
		// wants its kernels, so only say so.
		fmt.Fprintf(f.log, "vmimages: %s: InRelease expired on %s (the mirror is stale); using it anyway\n", suite, t.Format(time.DateOnly))
	}

	var rp string
	var want fileHash
	for _, p := range packagesPaths {
		if h, ok := rel.SHA256[p]; ok {
			rp, want = p, h
			break
		}
	}
	if rp == "" {
		return nil, fmt.Errorf("suite %s: InRelease lists none of %s", suite, strings.Join(packagesPaths, ", "))
	}
	parsed := filepath.Join(f.opts.CacheDir, "indexes", "linux-"+want.SHA256+".json")
	if b, err := os.ReadFile(parsed); err == nil {
		var pkgs []pkg
		if json.Unmarshal(b, &pkgs) == nil {
			return withOrigin(pkgs, root, suite), nil
		}
	}
	u := root + "/dists/" + suite + "/" + rp
	if rel.AcquireByHash {
		// by-hash URLs stay valid while the mirror updates under us.
		u = root + "/dists/" + suite + "/" + filepath.Dir(rp) + "/by-hash/SHA256/" + want.SHA256
	}
	compressed := filepath.Join(dir, filepath.Base(rp))
	if err := download(ctx, u, compressed, want, suite+" InRelease", time.Time{}, f.log); err != nil {
		return nil, fmt.Errorf("suite %s: %w", suite, err)
	}
	defer os.Remove(compressed)
	pkgs, err := readPackagesFile(ctx, compressed, f.log)
	if err != nil {
		return nil, fmt.Errorf("suite %s: %s: %w", suite, rp, err)
	}
	b, err := json.Marshal(pkgs)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(parsed, b); err != nil {
		return nil, err
	}
	return withOrigin(pkgs, root, suite), nil
}

// readPackagesFile decompresses a Packages index and keeps the linux-*
// entries: the only ones a kernel needs, and a few hundred of ~60000.
func readPackagesFile(ctx context.Context, path string, log io.Writer) ([]pkg, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := decompress(ctx, filepath.Ext(path), f, log)
	if err != nil {
		return nil, err
	}
	pkgs, err := parsePackages(r, func(name string) bool { return strings.HasPrefix(name, "linux-") })
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	return pkgs, err
}

func withOrigin(pkgs []pkg, root, suite string) []pkg {
	for i := range pkgs {
		pkgs[i].Mirror, pkgs[i].Suite = root, suite
	}
	return pkgs
}

// escapePath turns a URL into one directory name.
func escapePath(u string) string {
	if p, err := url.Parse(u); err == nil {
		u = p.Host + p.Path
	}
	return strings.NewReplacer("/", "_", ":", "_").Replace(strings.Trim(u, "/"))
}

func writeFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d.part", path, os.Getpid())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
