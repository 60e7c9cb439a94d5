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

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/kernelimage"
)

// customForms says what the path of a custom kernel may name.
const customForms = "a bzImage, an x86-64 ELF vmlinux, or a directory holding one with its config and lib/modules/<release>"

// kernelCandidates are where a directory may hold its kernel, best first:
// what "make install" writes, then a kernel build tree's own outputs.
var kernelCandidates = []string{"bzImage", "vmlinuz", "vmlinuz-*", "arch/x86/boot/bzImage", "vmlinux"}

// CheckKernel reports whether Fetch can make a bootable kernel of name,
// reading files but fetching and writing nothing, so that bad input fails
// before anything slow starts. A catalog name passes (Host is no VM kernel
// and does not); a path must name a bzImage whose compressed payload can be
// located, an x86-64 ELF vmlinux with the PVH entry qemu boots it by, or a
// directory holding one (see fetchCustom). The error is one line naming
// name and what was expected.
func CheckKernel(name string) error {
	if _, ok := Lookup(name); ok {
		return nil
	}
	if !isPath(name) {
		return &UnknownError{Name: name}
	}
	_, _, err := inspectCustom(name)
	return err
}

// fetchCustom turns the path of a kernel built elsewhere into a Kernel.
// path is one of:
//
//   - a directory holding the kernel as bzImage, vmlinuz, vmlinuz-*,
//     arch/x86/boot/bzImage or vmlinux, its config as config, .config or
//     config-*, and its modules as lib/modules/<release> (what "make install
//     modules_install INSTALL_PATH=DIR INSTALL_MOD_PATH=DIR" produces) — the
//     complete form;
//   - a bzImage (or vmlinuz) file: the config is looked for beside it
//     (<file>.config, config-<release>, config, .config, and a kernel build
//     tree's .config for arch/x86/boot/bzImage), the modules in
//     lib/modules/<release> beside it or, for /boot/vmlinuz-<release>, in
//     /lib/modules/<release>;
//   - an ELF vmlinux (built with CONFIG_PVH, as qemu boots it by its PVH
//     entry), with config and modules looked for as for a bzImage.
//
// Config and modules are optional: without a config the harness can only
// use version-based expectations, without modules no module loads. The
// release comes from the kernel's own version string. The vmlinux
// decompressed from a bzImage is cached by the bzImage's SHA256; nothing is
// ever written to or removed from the user's files.
func fetchCustom(ctx context.Context, path string, opts Options) (*Kernel, error) {
	f, err := newFetcher(opts, false)
	if err != nil {
		return nil, err
	}
	k, img, err := inspectCustom(path)
	if err != nil {
		return nil, err
	}
	if img == nil {
		return k, nil // an ELF vmlinux boots as it is
	}
	sum := sha256.Sum256(img)
	cdir := filepath.Join(f.opts.CacheDir, "custom", hex.EncodeToString(sum[:8]))
	kf, err := f.entry(cdir, func(tmp string) (*kernelFiles, error) {
		kf := &kernelFiles{Release: k.Release, Vmlinux: "vmlinux"}
		if err := kernelimage.ExtractVmlinux(ctx, img, k.Bzimage, filepath.Join(tmp, kf.Vmlinux), f.log); err != nil {
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

// inspectCustom finds and checks what the custom kernel path names (see
// fetchCustom), reading only. It returns the kernel, with Vmlinux set only
// for an ELF vmlinux, and for a bzImage the bzImage's content.
func inspectCustom(path string) (*Kernel, []byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, fmt.Errorf("kernel %s: %v: want a catalog name (%s) or the path of %s", path, err, strings.Join(Names()[1:], ", "), customForms)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, err
	}
	dir, image, where := filepath.Dir(abs), abs, path
	if fi.IsDir() {
		dir = abs
		if image = firstFile(dir, kernelCandidates...); image == "" {
			return nil, nil, fmt.Errorf("kernel %s: the directory holds none of %s: want %s", path, strings.Join(kernelCandidates, ", "), customForms)
		}
		where = path + ": " + rel(dir, image)
	}
	k := &Kernel{Name: path}
	var img []byte
	if kernelimage.IsELF(image) {
		k.Vmlinux = image
		k.Release, err = kernelimage.CheckVmlinux(image)
	} else if img, err = os.ReadFile(image); err == nil {
		k.Bzimage = image
		k.Release, err = checkBzImage(img)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("kernel %s: %w", where, err)
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

// checkBzImage checks that img is a bzImage that boots and returns its
// release; a file that is no kernel at all is told what a custom kernel
// may be.
func checkBzImage(img []byte) (string, error) {
	if !kernelimage.IsBzImage(img) {
		return "", fmt.Errorf("starts with %q: neither a bzImage (\"HdrS\" boot header at 0x202) nor an ELF vmlinux; want %s", img[:min(len(img), 8)], customForms)
	}
	return kernelimage.CheckBzImage(img)
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
