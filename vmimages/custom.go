package vmimages

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CheckKernel reports whether Fetch can make a bootable kernel of name for
// opts.Arch, reading files but fetching and writing nothing, so that bad
// input fails before anything slow starts. A catalog name passes (Host is
// no VM kernel and does not); a path must name a kernel of that
// architecture that qemu boots (see fetchCustom) or a directory holding
// one, and a kernel of the other architecture is refused as such. The
// error is one line naming name and what was expected.
func CheckKernel(name string, opts Options) error {
	arch := opts.Arch
	if arch == "" {
		arch = Arches[0]
	}
	if err := checkArch(arch); err != nil {
		return err
	}
	if _, ok := Lookup(name); ok {
		return nil
	}
	if !isPath(name) {
		return &UnknownError{Name: name}
	}
	_, _, err := inspectCustom(context.Background(), name, arch)
	return err
}

// fetchCustom turns the path of a kernel built elsewhere into a Kernel.
// path is one of:
//
//   - a directory holding the kernel (on amd64 as bzImage, vmlinuz,
//     vmlinuz-*, arch/x86/boot/bzImage or vmlinux; on arm64 as Image,
//     Image.gz, vmlinuz, vmlinuz-*, arch/arm64/boot/Image or Image.gz), its
//     config as config, .config or config-*, and its modules as
//     lib/modules/<release> (what "make install modules_install
//     INSTALL_PATH=DIR INSTALL_MOD_PATH=DIR" produces) — the complete form;
//   - the kernel file: on amd64 a bzImage, or an ELF vmlinux built with
//     CONFIG_PVH (qemu boots it by its PVH entry); on arm64 an Image, plain
//     or gzip-compressed. The config is looked for beside it
//     (<file>.config, config-<release>, config, .config, and a kernel build
//     tree's .config for arch/*/boot/*), the modules in
//     lib/modules/<release> beside it or, for /boot/vmlinuz-<release>, in
//     /lib/modules/<release>.
//
// Config and modules are optional: without a config the harness can only
// use version-based expectations, without modules no module loads. The
// release comes from the kernel's own version string. What a compressed
// kernel decompresses to (a bzImage's vmlinux, an Image.gz's Image) is
// cached by the file's SHA256; nothing is ever written to or removed from
// the user's files.
func fetchCustom(ctx context.Context, path string, opts Options) (*Kernel, error) {
	f, err := newFetcher(opts, false)
	if err != nil {
		return nil, err
	}
	k, img, err := inspectCustom(ctx, path, f.opts.Arch)
	if err != nil {
		return nil, err
	}
	if img == nil {
		return k, nil // boots as it is
	}
	ak := archKernels[f.opts.Arch]
	sum := sha256.Sum256(img)
	cdir := filepath.Join(f.opts.CacheDir, "custom", hex.EncodeToString(sum[:8]))
	kf, err := f.entry(ctx, cdir, func(tmp string) (*kernelFiles, error) {
		kf := &kernelFiles{Release: k.Release, Arch: f.opts.Arch, Vmlinux: ak.boot}
		if _, err := ak.extract(ctx, img, k.Bzimage, filepath.Join(tmp, kf.Vmlinux), f.log); err != nil {
			return nil, interrupted(ctx, "decompressing "+k.Bzimage, err)
		}
		return kf, nil
	})
	if err != nil {
		return nil, fmt.Errorf("kernel %s: %w", path, err)
	}
	k.Vmlinux = filepath.Join(cdir, kf.Vmlinux)
	return k, nil
}

// inspectCustom finds and checks what the custom kernel path names for
// arch (see fetchCustom), reading only. It returns the kernel, with Vmlinux
// set for a kernel that boots as it is, and for a compressed one its
// content, to extract.
func inspectCustom(ctx context.Context, path, arch string) (*Kernel, []byte, error) {
	forms := archKernels[arch].forms
	fi, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, fmt.Errorf("kernel %s: %v: want a catalog name (%s) or the path of %s", path, err, strings.Join(Names()[1:], ", "), forms)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, err
	}
	dir, image, where := filepath.Dir(abs), abs, path
	if fi.IsDir() {
		dir = abs
		candidates := archKernels[arch].candidates
		if image = firstFile(dir, candidates...); image == "" {
			return nil, nil, fmt.Errorf("kernel %s: the directory holds none of %s: want %s", path, strings.Join(candidates, ", "), forms)
		}
		where = path + ": " + rel(dir, image)
	}
	k := &Kernel{Name: path, Arch: arch}
	img, err := readKernelFile(image)
	var extract bool
	if err == nil {
		k.Release, extract, err = checkCustomImage(ctx, arch, image, img)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("kernel %s: %w", where, err)
	}
	if extract {
		k.Bzimage = image
	} else {
		k.Vmlinux, img = image, nil
	}
	k.Config = firstFile(dir, filepath.Base(image)+".config", "config-"+k.Release, "config", ".config",
		"boot/config-"+k.Release, "../../../.config")
	if mods := filepath.Join(dir, "lib/modules"); firstDir(mods) != "" {
		k.ModulesDir = firstDir(filepath.Join(mods, k.Release))
		if k.ModulesDir == "" {
			return nil, nil, fmt.Errorf("kernel %s: %s has no %s, the kernel's release: its modules would not load", where, mods, k.Release)
		}
	}
	if filepath.Base(dir) == "boot" {
		k.ModulesDir = firstDir(k.ModulesDir, filepath.Join(filepath.Dir(dir), "lib/modules", k.Release))
	}
	return k, img, nil
}

// firstFile returns the first pattern (relative to dir) naming a file.
func firstFile(dir string, patterns ...string) string {
	for _, p := range patterns {
		matches, _ := filepath.Glob(filepath.Join(dir, p))
		for _, m := range matches {
			if fileExists(m) {
				return filepath.Clean(m)
			}
		}
	}
	return ""
}

// firstDir returns the first of dirs that is a directory, or "".
func firstDir(dirs ...string) string {
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	return ""
}
