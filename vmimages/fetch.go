package vmimages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
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
}

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
	Name    string
	Flavor  string
	Suite   string // where the newest build was found
	Package string // linux-image-…
	Version string
	// Debs are the packages to fetch: the image itself, or, in sid and
	// experimental where linux-image-* is a meta package, its
	// linux-binary-*, linux-modules-* and linux-base-* dependencies.
	Debs []string
	// Size is the download size of Debs in bytes.
	Size int64
	// Cached reports whether the extracted kernel is in the cache.
	Cached bool

	parts []pkg
	dir   string
}

// Resolve finds the newest package for a catalog name by reading the
// signed Packages indexes of the entry's suites. Nothing is downloaded but
// the indexes.
func Resolve(ctx context.Context, name string, opts Options) (*Resolved, error) {
	e, ok := Lookup(name)
	if !ok {
		return nil, &UnknownError{Name: name}
	}
	f, err := newFetcher(opts, true)
	if err != nil {
		return nil, err
	}
	return f.resolve(ctx, e)
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
	var errs []string
	for _, suite := range e.Suites {
		root := f.opts.Mirror
		if isSecuritySuite(suite) {
			root = f.opts.SecurityMirror
			if root == "" {
				errs = append(errs, suite+": no security mirror configured (set "+SecurityMirrorEnv+")")
				continue
			}
		}
		pkgs, err := f.suiteIndex(ctx, root, suite)
		if errors.Is(err, errNotFound) {
			fmt.Fprintf(f.log, "vmimages: %s: not on %s, skipped\n", suite, root)
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			errs = append(errs, err.Error())
			continue
		}
		for i, p := range pkgs {
			if re.MatchString(p.Name) && (best == nil || compareVersions(p.Version, best.Version) > 0) {
				best, bestIndex = &pkgs[i], pkgs
			}
		}
	}
	if best == nil {
		if len(errs) > 0 {
			return nil, fmt.Errorf("kernel %s: %s", e.Name, strings.Join(errs, "; "))
		}
		return nil, fmt.Errorf("kernel %s: no package matching %s in suites %s", e.Name, re, strings.Join(e.Suites, ", "))
	}
	if len(errs) > 0 {
		fmt.Fprintf(f.log, "vmimages: kernel %s: ignoring %s\n", e.Name, strings.Join(errs, "; "))
	}
	r := &Resolved{Name: e.Name, Flavor: f.opts.Flavor, Suite: best.Suite, Package: best.Name, Version: best.Version}
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
	_, err = os.Stat(filepath.Join(r.dir, "kernel.json"))
	r.Cached = err == nil
	return r, nil
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

// Fetch returns a bootable kernel for name: a catalog name (resolved to
// the newest Debian package, downloaded, verified and extracted into the
// cache, or taken from it after re-verifying the cached .debs), or the path
// of a custom kernel (see fetchCustom).
func Fetch(ctx context.Context, name string, opts Options) (*Kernel, error) {
	e, ok := Lookup(name)
	if !ok {
		if strings.ContainsRune(name, '/') || fileExists(name) {
			return fetchCustom(ctx, name, opts)
		}
		return nil, &UnknownError{Name: name}
	}
	f, err := newFetcher(opts, true)
	if err != nil {
		return nil, err
	}
	r, err := f.resolve(ctx, e)
	if err != nil {
		return nil, err
	}
	var debs []string
	for _, p := range r.parts {
		path, err := f.deb(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("kernel %s: %w", name, err)
		}
		debs = append(debs, path)
	}
	k, err := f.extract(ctx, r, debs)
	if err != nil {
		return nil, fmt.Errorf("kernel %s: %w", name, err)
	}
	k.Name = name
	return k, nil
}

// deb returns the verified cached .deb of p, downloading it if it is
// missing or no longer has the SHA256 the signed index gives.
func (f *fetcher) deb(ctx context.Context, p pkg) (string, error) {
	dst := filepath.Join(f.opts.CacheDir, "debs", fmt.Sprintf("%s_%s_%s.deb", p.Name, p.Version, p.SHA256[:12]))
	unlock, err := lock(dst+".lock", f.log)
	if err != nil {
		return "", err
	}
	defer unlock()
	want := fileHash{SHA256: p.SHA256, Size: p.Size}
	if cachedOK(dst, want, f.log) {
		return dst, nil
	}
	url := p.Mirror + "/" + p.Filename
	if err := download(ctx, url, dst, want, p.Suite+" Packages", time.Time{}, f.log); err != nil {
		return "", err
	}
	return dst, nil
}

// kernelFiles is kernel.json: the extracted kernel's paths relative to its
// cache directory, so the cache can move.
type kernelFiles struct {
	Release, Package, Version         string
	Vmlinux, Bzimage, Modules, Config string
}

// extract unpacks the .debs of r into r.dir (once: later calls read
// kernel.json) and decompresses vmlinux from the bzImage.
func (f *fetcher) extract(ctx context.Context, r *Resolved, debs []string) (*Kernel, error) {
	unlock, err := lock(r.dir+".lock", f.log)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if k, err := loadKernel(r.dir); err == nil {
		return k, nil
	}
	tmp := r.dir + ".tmp"
	os.RemoveAll(tmp)
	os.RemoveAll(r.dir)
	root := filepath.Join(tmp, "root")
	for _, deb := range debs {
		if err := extractDeb(ctx, deb, root, f.log); err != nil {
			os.RemoveAll(tmp)
			return nil, fmt.Errorf("%s: %w", filepath.Base(deb), err)
		}
	}
	kf, err := findKernelFiles(root)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("%s: %w", r.Package, err)
	}
	kf.Package, kf.Version = r.Package, r.Version
	if err := extractVmlinux(ctx, filepath.Join(tmp, kf.Bzimage), filepath.Join(tmp, "vmlinux"), f.log); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	kf.Vmlinux = "vmlinux"
	b, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return nil, err
	}
	// kernel.json is written last: its presence marks a complete entry.
	if err := os.WriteFile(filepath.Join(tmp, "kernel.json"), b, 0o644); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := os.Rename(tmp, r.dir); err != nil {
		return nil, err
	}
	return loadKernel(r.dir)
}

func extractDeb(ctx context.Context, path, dir string, log io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := debData(ctx, f, log)
	if err != nil {
		return err
	}
	err = extractTar(data, dir)
	if cerr := data.Close(); err == nil {
		err = cerr
	}
	return err
}

// findKernelFiles locates the kernel, its config and modules in an
// unpacked package tree. Older packages put them in /boot and /lib/modules;
// sid's linux-binary-* puts the kernel in /usr/lib/modules/<release>/.
func findKernelFiles(root string) (kernelFiles, error) {
	var kf kernelFiles
	mods, _ := filepath.Glob(filepath.Join(root, "lib", "modules", "*"))
	umods, _ := filepath.Glob(filepath.Join(root, "usr", "lib", "modules", "*"))
	mods = append(mods, umods...)
	if len(mods) != 1 {
		return kf, fmt.Errorf("want one lib/modules/<release> directory, found %d", len(mods))
	}
	kf.Release = filepath.Base(mods[0])
	kf.Modules = rel(root, mods[0])
	for _, c := range []string{"boot/vmlinuz-" + kf.Release, kf.Modules + "/vmlinuz"} {
		if fileExists(filepath.Join(root, c)) {
			kf.Bzimage = c
			break
		}
	}
	for _, c := range []string{"boot/config-" + kf.Release, kf.Modules + "/config"} {
		if fileExists(filepath.Join(root, c)) {
			kf.Config = c
			break
		}
	}
	if kf.Bzimage == "" {
		return kf, fmt.Errorf("no vmlinuz for release %s (looked in boot/ and %s/)", kf.Release, kf.Modules)
	}
	if kf.Config == "" {
		return kf, fmt.Errorf("no config for release %s (looked in boot/ and %s/)", kf.Release, kf.Modules)
	}
	kf.Modules = filepath.Join("root", kf.Modules)
	kf.Bzimage = filepath.Join("root", kf.Bzimage)
	kf.Config = filepath.Join("root", kf.Config)
	return kf, nil
}

// loadKernel reads a complete cache entry, checking that vmlinux is still
// an ELF file.
func loadKernel(dir string) (*Kernel, error) {
	b, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		return nil, err
	}
	var kf kernelFiles
	if err := json.Unmarshal(b, &kf); err != nil {
		return nil, fmt.Errorf("%s/kernel.json: %w", dir, err)
	}
	k := &Kernel{
		Release: kf.Release, Package: kf.Package, Version: kf.Version,
		Vmlinux: filepath.Join(dir, kf.Vmlinux), Bzimage: filepath.Join(dir, kf.Bzimage),
		ModulesDir: filepath.Join(dir, kf.Modules), Config: filepath.Join(dir, kf.Config),
	}
	if err := checkELF(k.Vmlinux); err != nil {
		return nil, err
	}
	return k, nil
}

func rel(root, path string) string {
	r, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return r
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}
