package vmimages

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/tools"
	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/debian"
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

// inRelease returns the signed text of suite's InRelease on the archive at
// root. The last copy that verified is kept at path; a download replaces it
// only once it verified in turn, so neither a tampered mirror nor an
// interrupted check costs the cache its good copy. The mirror is asked
// again (conditionally, so an unchanged file costs one round trip) once the
// copy was checked against it more than indexTTL ago; when it cannot be
// reached, the kept copy is used, with a note on the log. The kept copy is
// verified again on every use, and deleted only when a check that ran to
// its end condemns it.
func (f *fetcher) inRelease(ctx context.Context, root, suite, path string) ([]byte, error) {
	checked := path + ".checked"
	fresh := false
	if fi, err := os.Stat(checked); err == nil && time.Since(fi.ModTime()) < indexTTL() {
		fresh = fileExists(path)
	}
	if !fresh {
		var since time.Time
		if fi, err := os.Stat(path); err == nil {
			since = fi.ModTime()
		}
		candidate := path + ".new"
		err := download(ctx, root+"/dists/"+suite+"/InRelease", candidate, fileHash{}, "", since, f.log)
		switch {
		case err == nil:
			signed, err := f.verify(ctx, candidate)
			if err != nil {
				os.Remove(candidate) // never verified: nothing of it is trusted
				return nil, err
			}
			if err := os.Rename(candidate, path); err != nil {
				return nil, err
			}
			return signed, writeFileAtomic(checked, nil)
		case errors.Is(err, errNotModified):
			if err := writeFileAtomic(checked, nil); err != nil {
				return nil, err
			}
		case since.IsZero(), ctx.Err() != nil, errors.Is(err, errNotFound):
			return nil, err
		default:
			fmt.Fprintf(f.log, "vmimages: %s: mirror unreachable, using the InRelease verified before (%v)\n", suite, err)
		}
	}
	signed, err := f.verify(ctx, path)
	var bad *debian.SignatureError
	if errors.As(err, &bad) && bad.Condemns {
		// The check ran to its end and the file is at fault: fetch it anew
		// next time. A check that was interrupted keeps it.
		os.Remove(checked)
		os.Remove(path)
	}
	return signed, err
}

// archiveKeyring is the keyring InRelease files must be signed with; a
// variable for tests, which sign their own mirror.
var archiveKeyring = tools.DebianArchiveKeyring

// verify checks an InRelease file with the archive keyring, installing
// Debian's first when it is missing (tests trust a keyring of their own).
func (f *fetcher) verify(ctx context.Context, path string) ([]byte, error) {
	if f.keyring == tools.DebianArchiveKeyring {
		if err := tools.Ensure(ctx, f.log, "debian-archive-keyring"); err != nil {
			return nil, err
		}
	}
	return debian.VerifyInRelease(ctx, path, f.keyring, f.log)
}

// packagesPaths are the Packages indexes of arch tried, in order, relative
// to dists/<suite>/: xz is smallest, gz the fallback every mirror has.
func packagesPaths(arch string) []string {
	return []string{"main/binary-" + arch + "/Packages.xz", "main/binary-" + arch + "/Packages.gz"}
}

// suiteIndex returns the linux-* packages of the fetch's architecture in
// suite on the archive at root, verified like apt does: the suite's
// InRelease (see inRelease) must carry a good signature by a key of the
// Debian archive keyring, and the Packages index must have the SHA256
// InRelease lists. Indexes are cached by that hash, which differs between
// architectures as their indexes do (the InRelease, which lists them all,
// is shared). Its errors do not name the suite: the caller does.
func (f *fetcher) suiteIndex(ctx context.Context, root, suite string) ([]pkg, error) {
	dir := filepath.Join(f.opts.CacheDir, "indexes", escapePath(root), suite)
	unlock, err := lock(ctx, filepath.Join(dir, "lock"), f.log)
	if err != nil {
		return nil, err
	}
	defer unlock()

	signed, err := f.inRelease(ctx, root, suite, filepath.Join(dir, "InRelease"))
	if err != nil {
		return nil, err
	}
	rel, err := debian.ParseRelease(bytes.NewReader(signed))
	if err != nil {
		return nil, fmt.Errorf("InRelease: %w", err)
	}
	if t, err := time.Parse(time.RFC1123, strings.Replace(rel.ValidUntil, "UTC", "GMT", 1)); err == nil && time.Now().After(t) {
		// apt refuses expired indexes; a matrix over a frozen mirror still
		// wants its kernels, so only say so.
		fmt.Fprintf(f.log, "vmimages: %s: InRelease expired on %s (the mirror is stale); using it anyway\n", suite, t.Format(time.DateOnly))
	}

	var rp string
	var want fileHash
	paths := packagesPaths(f.opts.Arch)
	for _, p := range paths {
		if h, ok := rel.SHA256[p]; ok {
			rp, want = p, fileHash(h)
			break
		}
	}
	if rp == "" {
		return nil, fmt.Errorf("InRelease lists none of %s", strings.Join(paths, ", "))
	}
	parsed := filepath.Join(f.opts.CacheDir, "indexes", "linux-"+want.SHA256+".json")
	if b, err := os.ReadFile(parsed); err == nil {
		var pkgs []debian.Package
		if json.Unmarshal(b, &pkgs) == nil {
			return withOrigin(pkgs, root, suite), nil
		}
	}
	u := root + "/dists/" + suite + "/" + rp
	if rel.AcquireByHash {
		// by-hash URLs stay valid while the mirror updates under us.
		u = root + "/dists/" + suite + "/" + filepath.Dir(rp) + "/by-hash/SHA256/" + want.SHA256
	}
	// A verified index left by a run interrupted while parsing it is
	// parsed again, not fetched again; each architecture's under its own
	// name (binary-arm64_Packages.xz).
	compressed := filepath.Join(dir, filepath.Base(filepath.Dir(rp))+"_"+filepath.Base(rp))
	if !cachedOK(compressed, want, f.log) {
		if err := download(ctx, u, compressed, want, suite+" InRelease", time.Time{}, f.log); err != nil {
			return nil, err
		}
	}
	pkgs, err := debian.ReadPackagesFile(ctx, compressed, isLinux, f.log)
	if err != nil {
		return nil, interrupted(ctx, "reading "+rp, fmt.Errorf("%s: %w", rp, err))
	}
	b, err := json.Marshal(pkgs)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(parsed, b); err != nil {
		return nil, err
	}
	// Its linux-* entries are all a kernel needs, and now kept as parsed.
	os.Remove(compressed)
	return withOrigin(pkgs, root, suite), nil
}

// isLinux keeps the linux-* entries of a Packages index: the only ones a
// kernel needs, and a few hundred of ~60000.
func isLinux(name string) bool { return strings.HasPrefix(name, "linux-") }

// withOrigin records where the packages of an index were found.
func withOrigin(pkgs []debian.Package, root, suite string) []pkg {
	out := make([]pkg, len(pkgs))
	for i, p := range pkgs {
		out[i] = pkg{Package: p, Suite: suite, Mirror: root}
	}
	return out
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
	err := os.WriteFile(tmp, b, 0o644)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp) // ours alone (the name holds our pid), and incomplete
	}
	return err
}
