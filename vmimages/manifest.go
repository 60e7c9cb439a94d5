package vmimages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// kernelFiles is kernel.json: the extracted kernel's paths relative to its
// cache directory, so the cache can move, and the manifest of the entry.
type kernelFiles struct {
	Release, Package, Version         string
	Arch                              string `json:",omitempty"`
	Vmlinux, Bzimage, Modules, Config string
	// Files is every regular file of the entry but kernel.json, by
	// slash-separated relative path, with the size and SHA256 it had when
	// it was extracted.
	Files map[string]fileHash `json:",omitempty"`
}

// kernel returns the Kernel of the entry at dir.
func (kf *kernelFiles) kernel(dir string) *Kernel {
	join := func(p string) string {
		if p == "" {
			return ""
		}
		return filepath.Join(dir, p)
	}
	return &Kernel{
		Release: kf.Release, Arch: kf.Arch, Package: kf.Package, Version: kf.Version,
		Vmlinux: join(kf.Vmlinux), Bzimage: join(kf.Bzimage), ModulesDir: join(kf.Modules), Config: join(kf.Config),
	}
}

// corruptError is a file of a cache entry that no longer matches the
// entry's manifest: a check that ran to its end and failed.
type corruptError struct{ file, why string }

func (e *corruptError) Error() string { return e.file + ": " + e.why }

// entry returns the kernel.json of the cache entry dir, verified against
// its manifest. When the entry is missing, or no longer matches (a file
// truncated by a full disk, cut short by a killed copy, edited: logged),
// build makes it again from its verified sources: it fills a fresh
// temporary directory and returns the kernel.json to write; entry records
// the manifest, writes kernel.json last (its presence marks a complete
// entry) and renames the directory into place, all under dir's lock. An
// entry that could not be checked (an I/O error) is kept.
func (f *fetcher) entry(ctx context.Context, dir string, build func(tmp string) (*kernelFiles, error)) (*kernelFiles, error) {
	unlock, err := lock(ctx, dir+".lock", f.log)
	if err != nil {
		return nil, err
	}
	defer unlock()
	kf, err := loadEntry(dir)
	var corrupt *corruptError
	switch {
	case err == nil:
		return kf, nil
	case errors.As(err, &corrupt):
		fmt.Fprintf(f.log, "vmimages: cached %s: %v: corrupt, extracting it again\n", dir, err)
	case errors.Is(err, fs.ErrNotExist):
		// Never completed: at most a directory without kernel.json.
	default:
		return nil, fmt.Errorf("check cached %s: %w", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	tmp := dir + ".tmp"
	// Left by a killed run; only ever written under the lock we hold.
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	kf, err = build(tmp)
	if err == nil {
		kf.Files, err = recordFiles(tmp)
	}
	if err == nil {
		err = writeJSON(filepath.Join(tmp, "kernel.json"), kf)
	}
	if err == nil {
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		os.RemoveAll(tmp) // incomplete, and never looked complete
		return nil, err
	}
	return kf, nil
}

// loadEntry reads the kernel.json of the cache entry dir and verifies the
// entry against it. A missing kernel.json is fs.ErrNotExist; an entry
// that does not match, a *corruptError.
func loadEntry(dir string) (*kernelFiles, error) {
	b, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		return nil, err
	}
	var kf kernelFiles
	if err := json.Unmarshal(b, &kf); err != nil {
		return nil, &corruptError{"kernel.json", err.Error()}
	}
	if len(kf.Files) == 0 {
		return nil, &corruptError{"kernel.json", "no manifest (written by an older bpfmatrix)"}
	}
	return &kf, kf.verify(dir)
}

// verify checks the entry at dir against the manifest: the size of every
// file, and the SHA256 of vmlinux, bzImage and config, which every boot
// reads whole. Measured on Debian's 6.1 cloud kernel (1145 files, 161 MB):
// that takes 0.13 s (68 MB hashed), hashing every module too 0.58 s, on
// each use of the kernel. The sizes catch what a full disk or a killed
// copy leaves; only a module edited in place to the same size escapes.
func (kf *kernelFiles) verify(dir string) error {
	for name, want := range kf.Files {
		fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(name)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return &corruptError{name, "missing"}
		case err != nil:
			return err
		case !fi.Mode().IsRegular():
			return &corruptError{name, "no longer a regular file"}
		case fi.Size() != want.Size:
			return &corruptError{name, fmt.Sprintf("%d bytes, %d when extracted", fi.Size(), want.Size)}
		}
	}
	for _, name := range []string{kf.Vmlinux, kf.Bzimage, kf.Config} {
		if name == "" {
			continue
		}
		want, ok := kf.Files[filepath.ToSlash(name)]
		if !ok {
			return &corruptError{name, "not in the manifest"}
		}
		got, _, err := sha256File(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if got != want.SHA256 {
			return &corruptError{name, fmt.Sprintf("SHA256 %s, %s when extracted", got, want.SHA256)}
		}
	}
	return nil
}

// recordFiles returns the manifest of the regular files below dir.
func recordFiles(dir string) (map[string]fileHash, error) {
	files := map[string]fileHash{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		sum, n, err := sha256File(path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel(dir, path))] = fileHash{SHA256: sum, Size: n}
		return nil
	})
	return files, err
}

// writeJSON writes v, indented, to path.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
