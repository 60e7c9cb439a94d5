package vmimages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/debian"
)

// Options tune Fetch and Resolve. The zero value fetches cloud kernels
// from the mirror apt is configured with into DefaultCacheDir.
type Options struct {
	// Flavor is "cloud" (default: smallest, boots fastest) or "generic".
	Flavor string
	// CacheDir defaults to DefaultCacheDir().
	CacheDir string
	// Mirror and SecurityMirror override MirrorEnv, SecurityMirrorEnv and
	// apt's configuration.
	Mirror, SecurityMirror string
	// Log receives progress (downloads in bytes, cache decisions); nil
	// discards it.
	Log io.Writer
	// AllowFallback lets a catalog name resolve from the suites that could
	// be read and verified when another of its suites could not (a bad
	// signature, a hash mismatch, an unreachable or missing index), which
	// may yield an older kernel than the one asked for; the skipped suites
	// are recorded in Resolved.Skipped and Kernel.Skipped. Without it such
	// a name fails. AllowFallbackEnv=1 sets it too.
	AllowFallback bool
}

// AllowFallbackEnv=1 sets Options.AllowFallback for every Fetch and
// Resolve of the process, so a matrix run can opt in without a flag.
const AllowFallbackEnv = "BPFMATRIX_ALLOW_FALLBACK"

// Flavors accepted by Options.Flavor, mapped to the package name suffix.
var flavors = map[string]string{"cloud": "-cloud-amd64", "generic": "-amd64"}

// fetcher is one Fetch or Resolve call with its options settled.
type fetcher struct {
	opts    Options
	log     io.Writer
	keyring string
}

func newFetcher(opts Options, needMirror bool) (*fetcher, error) {
	if opts.Flavor == "" {
		opts.Flavor = "cloud"
	}
	if _, ok := flavors[opts.Flavor]; !ok {
		return nil, fmt.Errorf("flavor %q: want cloud or generic", opts.Flavor)
	}
	if opts.CacheDir == "" {
		opts.CacheDir = DefaultCacheDir()
	}
	if v := os.Getenv(AllowFallbackEnv); v != "" {
		allow, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: want 1 (resolve from the suites that verify) or 0", AllowFallbackEnv, v)
		}
		opts.AllowFallback = opts.AllowFallback || allow
	}
	f := &fetcher{opts: opts, log: opts.Log, keyring: archiveKeyring}
	if f.log == nil {
		f.log = io.Discard
	}
	if needMirror && (opts.Mirror == "" || opts.SecurityMirror == "") {
		m, s, err := Mirrors()
		if err != nil && opts.Mirror == "" {
			return nil, err
		}
		if f.opts.Mirror == "" {
			f.opts.Mirror = m
		}
		if f.opts.SecurityMirror == "" {
			f.opts.SecurityMirror = s
		}
	}
	f.opts.Mirror = strings.TrimRight(f.opts.Mirror, "/")
	f.opts.SecurityMirror = strings.TrimRight(f.opts.SecurityMirror, "/")
	return f, nil
}

// Resolved is what a catalog name means today: the newest matching Debian
// kernel package and the .debs that hold it.
type Resolved struct {
	Name   string
	Flavor string
	Suite  string // where the newest build was found
	// Skipped are the entry's suites that could not be read and verified,
	// left out because Options.AllowFallback allowed it; empty otherwise.
	Skipped []SkippedSuite
	Package string // linux-image-…
	Version string
	// Debs are the packages to fetch: the image itself, or, in sid and
	// experimental where linux-image-* is a meta package, its
	// linux-binary-*, linux-modules-* and linux-base-* dependencies.
	Debs []string
	// Size is the download size of Debs in bytes.
	Size int64
	// Cached reports whether the extracted kernel is in the cache and
	// still matches the manifest recorded when it was extracted.
	Cached bool

	parts []pkg
	dir   string
}

// pkg is a package of a verified index and where it was found.
type pkg struct {
	debian.Package
	Suite  string // the suite whose index lists it
	Mirror string // the archive root it was found in
}

// SkippedSuite is a suite of a catalog entry that could not be read and
// verified, and why.
type SkippedSuite struct {
	Suite, Reason string
}

// Resolve finds the newest package for a catalog name by reading the
// signed Packages indexes of the entry's suites. Nothing is downloaded but
// the indexes. It fails, naming the suite and the cause, when one of the
// suites cannot be read and verified, unless Options.AllowFallback is set.
func Resolve(ctx context.Context, name string, opts Options) (*Resolved, error) {
	e, ok := Lookup(name)
	if !ok {
		return nil, &UnknownError{Name: name}
	}
	_, r, err := resolveEntry(ctx, e, opts)
	if err != nil {
		return nil, err
	}
	_, err = loadEntry(r.dir)
	r.Cached = err == nil
	return r, nil
}

// resolveEntry settles opts and resolves e with them.
func resolveEntry(ctx context.Context, e Entry, opts Options) (*fetcher, *Resolved, error) {
	f, err := newFetcher(opts, true)
	if err != nil {
		return nil, nil, err
	}
	r, err := f.resolve(ctx, e)
	return f, r, err
}

// imagePattern matches the kernel image packages of a series and flavor:
// linux-image-6.1.0-50-cloud-amd64, linux-image-6.12.117+deb13-amd64,
// linux-image-7.3-cloud-amd64 — but not linux-image-6.12… for series 6.1,
// nor the -dbg, -unsigned or unversioned meta packages.
func imagePattern(series, flavor string) *regexp.Regexp {
	return regexp.MustCompile(`^linux-image-` + regexp.QuoteMeta(series) +
		`(\.[0-9]+)*(-[0-9]+)?(\+deb[0-9]+)?` + regexp.QuoteMeta(flavors[flavor]) + `$`)
}

func (f *fetcher) resolve(ctx context.Context, e Entry) (*Resolved, error) {
	re := imagePattern(e.Series, f.opts.Flavor)
	var best *pkg
	var bestIndex []pkg
	var skipped []SkippedSuite
	for _, suite := range e.Suites {
		pkgs, err := f.suitePackages(ctx, suite)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("kernel %s: suite %s: %w", e.Name, suite, err)
			}
			skipped = append(skipped, SkippedSuite{Suite: suite, Reason: err.Error()})
			continue
		}
		for i, p := range pkgs {
			if re.MatchString(p.Name) && (best == nil || debian.CompareVersions(p.Version, best.Version) > 0) {
				best, bestIndex = &pkgs[i], pkgs
			}
		}
	}
	if len(skipped) > 0 && (best == nil || !f.opts.AllowFallback) {
		return nil, unverifiedError(e, skipped, best != nil)
	}
	if best == nil {
		return nil, fmt.Errorf("kernel %s: no package matching %s in suites %s", e.Name, re, strings.Join(e.Suites, ", "))
	}
	for _, s := range skipped {
		fmt.Fprintf(f.log, "vmimages: kernel %s: suite %s skipped (%s); resolved from %s, as fallback is allowed\n", e.Name, s.Suite, s.Reason, best.Suite)
	}
	r := &Resolved{Name: e.Name, Flavor: f.opts.Flavor, Suite: best.Suite, Skipped: skipped, Package: best.Name, Version: best.Version}
	parts, err := debsOf(*best, bestIndex)
	if err != nil {
		return nil, fmt.Errorf("kernel %s: %w", e.Name, err)
	}
	r.parts = parts
	for _, p := range parts {
		r.Debs = append(r.Debs, p.Name)
		r.Size += p.Size
	}
	r.dir = filepath.Join(f.opts.CacheDir, "kernels", fmt.Sprintf("%s_%s_%s", best.Name, best.Version, best.SHA256[:12]))
	return r, nil
}

// suitePackages returns the verified linux-* packages of suite, from the
// security archive for a security suite.
func (f *fetcher) suitePackages(ctx context.Context, suite string) ([]pkg, error) {
	root := f.opts.Mirror
	if debian.IsSecuritySuite(suite) {
		root = f.opts.SecurityMirror
		if root == "" {
			return nil, fmt.Errorf("no security mirror configured (set %s)", SecurityMirrorEnv)
		}
	}
	// A suite the mirror lacks (404) fails like any other: it may hold
	// the newest build, so its absence is no reason to quietly resolve
	// from the others.
	return f.suiteIndex(ctx, root, suite)
}

// unverifiedError is the one line of a resolution that refused to fall
// back: which suites failed and why, and how to opt in.
func unverifiedError(e Entry, skipped []SkippedSuite, others bool) error {
	var why []string
	for _, s := range skipped {
		why = append(why, "suite "+s.Suite+": "+s.Reason)
	}
	msg := fmt.Sprintf("kernel %s: %s", e.Name, strings.Join(why, "; "))
	if others {
		msg += fmt.Sprintf("; refusing to resolve from the other suites, which may hold only older builds (set %s=1, or pass --allow-fallback to bpfmatrix kernels, to allow it)", AllowFallbackEnv)
	}
	return errors.New(msg)
}

// metaParts are the dependencies that carry a meta linux-image's content.
var metaParts = []string{"linux-binary-", "linux-modules-", "linux-base-"}

// debsOf returns the packages holding image's kernel, modules and config.
func debsOf(image pkg, index []pkg) ([]pkg, error) {
	var parts []pkg
	for _, dep := range image.Depends {
		for _, prefix := range metaParts {
			if !strings.HasPrefix(dep, prefix) {
				continue
			}
			found := false
			for _, p := range index {
				if p.Name == dep && p.Version == image.Version {
					parts, found = append(parts, p), true
					break
				}
			}
			if !found {
				return nil, fmt.Errorf("%s %s depends on %s, which %s lacks at that version", image.Name, image.Version, dep, image.Suite)
			}
		}
	}
	if len(parts) == 0 {
		return []pkg{image}, nil
	}
	if len(parts) != len(metaParts) {
		return nil, fmt.Errorf("%s %s is a meta package with %d of the %d expected parts (%s*)", image.Name, image.Version, len(parts), len(metaParts), strings.Join(metaParts, "*, "))
	}
	return parts, nil
}
