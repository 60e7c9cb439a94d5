package vmimages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/debian"
)

// Options tune Fetch, Resolve and CheckKernel. The zero value fetches
// amd64 cloud kernels from the mirror apt is configured with into
// DefaultCacheDir.
type Options struct {
	// Flavor is "cloud" (default: smallest, boots fastest) or "generic".
	Flavor string
	// Arch is the Debian architecture of the kernels, one of Arches:
	// "amd64" (default) or "arm64". It picks the Packages index
	// (main/binary-<arch>) and the package names (…-cloud-<arch>,
	// …-<arch>); a custom kernel must be of that architecture.
	Arch string
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

// AllowFallbackEnv=1 (or =<arch>, for that architecture's kernels alone)
// sets Options.AllowFallback for every Fetch and
// Resolve of the process, so a matrix run can opt in without a flag.
const AllowFallbackEnv = "BPFMATRIX_ALLOW_FALLBACK"

// Flavors accepted by Options.Flavor, mapped to the package name suffix
// before the architecture's name: linux-image-6.1.0-57-cloud-arm64.
var flavors = map[string]string{"cloud": "-cloud-", "generic": "-"}

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
	if opts.Arch == "" {
		opts.Arch = Arches[0]
	}
	if err := checkArch(opts.Arch); err != nil {
		return nil, err
	}
	if opts.CacheDir == "" {
		opts.CacheDir = DefaultCacheDir()
	}
	if v := os.Getenv(AllowFallbackEnv); v != "" {
		allow, err := strconv.ParseBool(v)
		if err != nil && !slices.Contains(Arches, v) {
			return nil, fmt.Errorf("%s=%q: want 1 (resolve from the suites that verify), 0, or an architecture (%s) to allow it for that one alone", AllowFallbackEnv, v, strings.Join(Arches, ", "))
		}
		opts.AllowFallback = opts.AllowFallback || allow || v == opts.Arch
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
	Arch   string
	Suite  string // where the build was found
	// Skipped are the entry's suites that could not be read and verified,
	// or whose newer builds the mirror does not serve, left out because
	// Options.AllowFallback allowed it; empty otherwise.
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

// SkippedSuite is a suite of a catalog entry that was left out, and why:
// it could not be read and verified, or the builds it lists that are newer
// than the one resolved are not served by the mirror (its pool answers 404
// for their .debs).
type SkippedSuite struct {
	Suite, Reason string
}

// Resolve finds the newest package for a catalog name by reading the
// signed Packages indexes of the entry's suites, and asking the mirror
// whether it serves that package's .debs (a HEAD request each, unless the
// cache holds them already): an index can list a file the pool lacks
// (docs/facts.md#arm64-kernels). Nothing is downloaded but the indexes. It
// fails, naming the suite and the cause, when one of the suites cannot be
// read and verified, or when the newest build is listed but not served,
// unless Options.AllowFallback is set: then it resolves the newest build
// that is served from the suites that verified, and records what it left
// out in Skipped.
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

// imagePattern matches the kernel image packages of a series, flavor and
// arch: linux-image-6.1.0-50-cloud-amd64, linux-image-6.12.117+deb13-arm64,
// linux-image-7.3-cloud-amd64 — but not linux-image-6.12… for series 6.1,
// nor the -dbg, -unsigned or unversioned meta packages, nor the
// bullseye-security backport linux-image-6.1.0-0.deb11.52-cloud-arm64.
func imagePattern(series, flavor, arch string) *regexp.Regexp {
	return regexp.MustCompile(`^linux-image-` + regexp.QuoteMeta(series) +
		`(\.[0-9]+)*(-[0-9]+)?(\+deb[0-9]+)?` + regexp.QuoteMeta(flavors[flavor]+arch) + `$`)
}

// candidate is a matching image package and the index that lists it.
type candidate struct {
	image pkg
	index []pkg
}

func (f *fetcher) resolve(ctx context.Context, e Entry) (*Resolved, error) {
	re := imagePattern(e.Series, f.opts.Flavor, f.opts.Arch)
	var found []candidate
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
		for _, p := range pkgs {
			if re.MatchString(p.Name) {
				found = append(found, candidate{p, pkgs})
			}
		}
	}
	if len(skipped) > 0 && (len(found) == 0 || !f.opts.AllowFallback) {
		return nil, unverifiedError(e, skipped, len(found) > 0)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("kernel %s: no package matching %s in suites %s", e.Name, re, strings.Join(e.Suites, ", "))
	}
	for _, s := range skipped {
		fmt.Fprintf(f.log, "vmimages: kernel %s: suite %s skipped (%s), as fallback is allowed\n", e.Name, s.Suite, s.Reason)
	}
	// Newest first; of equal versions, the suite listed first (a security
	// suite before its main suite), as the entry orders them.
	slices.SortStableFunc(found, func(a, b candidate) int { return debian.CompareVersions(b.image.Version, a.image.Version) })
	best, parts, unserved, err := f.newestServed(ctx, e, found)
	if err != nil {
		return nil, err
	}
	skipped = append(skipped, unserved...)
	r := &Resolved{Name: e.Name, Flavor: f.opts.Flavor, Arch: f.opts.Arch, Suite: best.Suite, Skipped: skipped, Package: best.Name, Version: best.Version}
	r.parts = parts
	for _, p := range parts {
		r.Debs = append(r.Debs, p.Name)
		r.Size += p.Size
	}
	r.dir = filepath.Join(f.opts.CacheDir, "kernels", fmt.Sprintf("%s_%s_%s", best.Name, best.Version, best.SHA256[:12]))
	return r, nil
}

// newestServed returns the first of found (sorted newest first) whose
// .debs the mirror serves, with those .debs. A build of the newest version
// served from another suite is as good as the one listed first; an older
// one is a fallback, refused naming the missing file unless
// Options.AllowFallback is set, and then recorded: one SkippedSuite per
// suite whose newer builds were not served.
func (f *fetcher) newestServed(ctx context.Context, e Entry, found []candidate) (pkg, []pkg, []SkippedSuite, error) {
	newest := found[0].image.Version
	var misses []SkippedSuite
	unservedIn := map[string]int{} // suite → how many of its builds were not served
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answers := f.probe(ctx, found)
	for i, c := range found {
		a := <-answers[i]
		parts, missing, err := a.parts, a.missing, a.err
		if err != nil {
			return pkg{}, nil, nil, fmt.Errorf("kernel %s: %w", e.Name, err)
		}
		if missing != "" {
			if unservedIn[c.image.Suite]++; unservedIn[c.image.Suite] == 1 {
				misses = append(misses, SkippedSuite{Suite: c.image.Suite,
					Reason: fmt.Sprintf("it lists %s %s, but the mirror does not serve %s", c.image.Name, c.image.Version, missing)})
			}
			continue
		}
		if c.image.Version != newest && !f.opts.AllowFallback {
			return pkg{}, nil, nil, fmt.Errorf("kernel %s: suite %s: %s; refusing to resolve the older %s %s (set %s=1, or pass --allow-fallback to bpfmatrix kernels, to allow it)",
				e.Name, misses[0].Suite, misses[0].Reason, c.image.Name, c.image.Version, AllowFallbackEnv)
		}
		for i := range misses {
			if n := unservedIn[misses[i].Suite] - 1; n > 0 {
				misses[i].Reason += fmt.Sprintf(", nor %d older build(s) it lists", n)
			}
			fmt.Fprintf(f.log, "vmimages: kernel %s: suite %s: %s; resolved %s %s from %s\n", e.Name, misses[i].Suite, misses[i].Reason, c.image.Name, c.image.Version, c.image.Suite)
		}
		if c.image.Version == newest {
			misses = nil // the newest build after all: nothing older was taken
		}
		return c.image, parts, misses, nil
	}
	return pkg{}, nil, nil, fmt.Errorf("kernel %s: suite %s: %s; the mirror serves no build of suites %s", e.Name, misses[0].Suite, misses[0].Reason, strings.Join(e.Suites, ", "))
}

// served is whether the mirror serves a candidate's .debs: its .debs, and
// the first of them the mirror does not serve ("" when it serves all).
type served struct {
	parts   []pkg
	missing string
	err     error
}

// probeAhead is how many candidates probe asks about at once: an index
// can list several builds the pool lacks (bullseye-security listed seven
// arm64 5.10 builds, one served), and one HEAD after the other took 0.7 s
// of every run that resolved 5.10 arm64.
const probeAhead = 8

// probe asks about found's candidates, probeAhead at a time, in order:
// answers[i] receives candidate i's. A candidate not asked about when ctx
// ends receives ctx's cause.
func (f *fetcher) probe(ctx context.Context, found []candidate) (answers []chan served) {
	answers = make([]chan served, len(found))
	for i := range answers {
		answers[i] = make(chan served, 1)
	}
	slots := make(chan struct{}, probeAhead)
	go func() {
		for i, c := range found {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				for _, a := range answers[i:] {
					a <- served{err: context.Cause(ctx)}
				}
				return
			}
			go func() {
				defer func() { <-slots }()
				parts, err := debsOf(c.image, c.index)
				var missing string
				if err == nil {
					missing, err = f.unserved(ctx, parts)
				}
				answers[i] <- served{parts, missing, err}
			}()
		}
	}()
	return answers
}

// unserved returns the file of the first of parts the mirror does not
// serve (it answers 404 or 410), "" when it serves them all. A .deb the
// cache holds at its listed size was served; for the others it asks with
// HEAD. A mirror that cannot be reached, or answers otherwise, is taken to
// serve the file: that never makes resolution pick an older build, and the
// download says what went wrong.
func (f *fetcher) unserved(ctx context.Context, parts []pkg) (string, error) {
	for _, p := range parts {
		if fi, err := os.Stat(f.debPath(p)); err == nil && fi.Size() == p.Size {
			continue
		}
		u := p.Mirror + "/" + p.Filename
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
		if err != nil {
			return "", err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return "", interrupted(ctx, "HEAD "+u, err)
			}
			fmt.Fprintf(f.log, "vmimages: cannot ask the mirror whether it serves %s (%v); taking it as served\n", p.Filename, err)
			continue
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusNotFound, http.StatusGone:
			return fmt.Sprintf("%s (HEAD: %s)", p.Filename, resp.Status), nil
		default:
			fmt.Fprintf(f.log, "vmimages: HEAD %s: %s; taking it as served\n", u, resp.Status)
		}
	}
	return "", nil
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
