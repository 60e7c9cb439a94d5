package vmimages

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/debian"
)

// Fetch returns a bootable kernel for name: a catalog name (resolved to
// the newest Debian package, downloaded, verified and extracted into the
// cache, or taken from it after verifying the extracted files against
// their manifest), or the path of a custom kernel (see fetchCustom).
func Fetch(ctx context.Context, name string, opts Options) (*Kernel, error) {
	e, ok := Lookup(name)
	if !ok {
		if isPath(name) {
			return fetchCustom(ctx, name, opts)
		}
		return nil, &UnknownError{Name: name}
	}
	f, r, err := resolveEntry(ctx, e, opts)
	if err != nil {
		return nil, err
	}
	k, err := f.extract(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("kernel %s: %w", name, err)
	}
	k.Name, k.Arch, k.Suite, k.Skipped = name, r.Arch, r.Suite, r.Skipped
	return k, nil
}

// debPath is where the cache keeps the .deb of p. Debian's kernel package
// names carry the architecture (…-cloud-arm64), so an arm64 and an amd64
// build of one version are two files, as their SHA256 says too.
func (f *fetcher) debPath(p pkg) string {
	return filepath.Join(f.opts.CacheDir, "debs", fmt.Sprintf("%s_%s_%s.deb", p.Name, p.Version, p.SHA256[:12]))
}

// deb returns the verified cached .deb of p, downloading it if it is
// missing or no longer has the SHA256 the signed index gives.
func (f *fetcher) deb(ctx context.Context, p pkg) (string, error) {
	dst := f.debPath(p)
	unlock, err := lock(ctx, dst+".lock", f.log)
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

// extract unpacks the verified .debs of r into r.dir and makes of the
// kernel as packaged the file qemu boots (see archKernel), once: later
// calls verify the entry against its manifest and extract it again only if
// it no longer matches (see entry). Only then are the .debs needed, and
// verified (or fetched): hashing them on every use was 0.3 s of the 1.0 s
// a matrix's runner spent checking its ten cached kernels. The kernel must
// be of the fetch's architecture.
func (f *fetcher) extract(ctx context.Context, r *Resolved) (*Kernel, error) {
	kf, err := f.entry(ctx, r.dir, func(tmp string) (*kernelFiles, error) {
		var debs []string
		for _, p := range r.parts {
			path, err := f.deb(ctx, p)
			if err != nil {
				return nil, err
			}
			debs = append(debs, path)
		}
		root := filepath.Join(tmp, "root")
		for _, deb := range debs {
			if err := debian.ExtractDeb(ctx, deb, root, f.log); err != nil {
				return nil, interrupted(ctx, "extracting "+filepath.Base(deb), fmt.Errorf("%s: %w", filepath.Base(deb), err))
			}
		}
		kf, err := findKernelFiles(root)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Package, err)
		}
		arch := f.opts.Arch
		ak := archKernels[arch]
		kf.Package, kf.Version, kf.Arch, kf.Vmlinux = r.Package, r.Version, arch, ak.boot
		img, err := os.ReadFile(filepath.Join(tmp, kf.Bzimage))
		if err != nil {
			return nil, err
		}
		if err := wrongArch(img, arch); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", r.Package, kf.Bzimage, err)
		}
		extracted, err := ak.extract(ctx, img, kf.Bzimage, filepath.Join(tmp, kf.Vmlinux), f.log)
		if err != nil {
			return nil, interrupted(ctx, "decompressing "+kf.Bzimage, err)
		}
		if !extracted {
			kf.Vmlinux, kf.Bzimage = kf.Bzimage, "" // boots as packaged
		}
		return &kf, nil
	})
	if err != nil {
		return nil, err
	}
	return kf.kernel(r.dir), nil
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

func rel(root, path string) string {
	r, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return r
}

// isPath reports whether a kernel name that is not in the catalog is meant
// as a path: it has a slash or names something that exists.
func isPath(name string) bool {
	_, err := os.Stat(name)
	return strings.ContainsRune(name, '/') || err == nil
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}
