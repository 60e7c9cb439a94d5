package vmimages

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// fetchCustom turns the path of a kernel built elsewhere into a Kernel.
// path is one of:
//
//   - a directory holding the kernel as bzImage, vmlinuz or vmlinuz-*, its
//     config as config, .config or config-*, and its modules as
//     lib/modules/<release> (what "make install modules_install
//     INSTALL_PATH=DIR INSTALL_MOD_PATH=DIR" produces) — the complete form;
//   - a bzImage (or vmlinuz) file: the config is looked for beside it
//     (<file>.config, config-<release>, config, .config, and a kernel build
//     tree's .config for arch/x86/boot/bzImage), the modules in
//     lib/modules/<release> beside it or, for /boot/vmlinuz-<release>, in
//     /lib/modules/<release>.
//
// Config and modules are optional: without a config the harness can only
// use version-based expectations, without modules no module loads. The
// release comes from the bzImage's own version string. The decompressed
// vmlinux is cached by the bzImage's SHA256.
func fetchCustom(ctx context.Context, path string, opts Options) (*Kernel, error) {
	f, err := newFetcher(opts, false)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("kernel %s: %w: want a catalog name (%s) or the path of a bzImage or of a directory holding one", path, err, fmt.Sprint(Names()[1:]))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	dir, image := abs, ""
	if fi.IsDir() {
		image = firstFile(dir, "bzImage", "vmlinuz", "vmlinuz-*", "arch/x86/boot/bzImage")
		if image == "" {
			return nil, fmt.Errorf("kernel %s: directory holds no bzImage, vmlinuz or vmlinuz-*", path)
		}
	} else {
		dir, image = filepath.Dir(abs), abs
	}
	img, err := os.ReadFile(image)
	if err != nil {
		return nil, fmt.Errorf("kernel %s: %w", path, err)
	}
	if _, err := findPayload(img); err != nil {
		return nil, fmt.Errorf("kernel %s: %s: %w", path, image, err)
	}
	k := &Kernel{Name: path, Bzimage: image, Release: bzImageRelease(img)}
	if k.Release == "" {
		return nil, fmt.Errorf("kernel %s: %s: no version string in the boot header", path, image)
	}
	k.Config = firstFile(dir, filepath.Base(image)+".config", "config-"+k.Release, "config", ".config",
		"boot/config-"+k.Release, "../../../.config")
	k.ModulesDir = firstDir(filepath.Join(dir, "lib/modules", k.Release))
	if filepath.Base(dir) == "boot" {
		k.ModulesDir = firstDir(k.ModulesDir, filepath.Join(filepath.Dir(dir), "lib/modules", k.Release))
	}

	sum, _, err := sha256File(image)
	if err != nil {
		return nil, err
	}
	cdir := filepath.Join(f.opts.CacheDir, "custom", sum[:16])
	unlock, err := lock(cdir+".lock", f.log)
	if err != nil {
		return nil, err
	}
	defer unlock()
	k.Vmlinux = filepath.Join(cdir, "vmlinux")
	if checkELF(k.Vmlinux) == nil {
		return k, nil
	}
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		return nil, err
	}
	if err := extractVmlinux(ctx, image, k.Vmlinux, f.log); err != nil {
		return nil, fmt.Errorf("kernel %s: %w", path, err)
	}
	return k, nil
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
