// Package runcache keeps the directories of matrix runs that ended well,
// by the SHA256 of everything their cells depend on, so that a rerun with
// unchanged inputs copies a run's files instead of booting its kernel and
// running its suite again, the way `go test` reuses a passing package's
// result. docs/caching.md lists the inputs.
//
// An entry is a directory named by its key, holding a run's files and
// entry.json, the inputs and each file's SHA256. It is written under a
// temporary name and renamed into place whole, and every file is checked
// against entry.json as it is copied out: an entry that does not match is
// never used.
package runcache

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bpfmatrix/bpfmatrix/vmimages"
)

// Inputs name what a run's cells depend on, each with its value: a file's
// SHA256, a version, a command line. Two runs with equal inputs give the
// same cells.
type Inputs map[string]string

// Key is the SHA256, in hex, of the inputs in name order.
func (in Inputs) Key() string {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(in)) {
		// Lengths first: no two different input sets write the same bytes.
		fmt.Fprintf(h, "%d:%s%d:%s", len(name), name, len(in[name]), in[name])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Add adds every input of more to in, each name prefixed with prefix.
func (in Inputs) Add(prefix string, more Inputs) {
	for name, v := range more {
		in[prefix+name] = v
	}
}

// Cache is a directory of entries, one per key.
type Cache struct {
	Dir string
}

// DefaultDir is the cache under the user's cache directory:
// $XDG_CACHE_HOME/bpfmatrix/runs, by default ~/.cache/bpfmatrix/runs (the
// kernels' cache is its sibling).
func DefaultDir() string { return filepath.Join(vmimages.DefaultCacheDir(), "runs") }

// entryFile is the manifest of an entry, written last.
const entryFile = "entry.json"

// entry is entry.json.
type entry struct {
	Key    string    `json:"key"`
	Stored time.Time `json:"stored"`
	Inputs Inputs    `json:"inputs"`
	// Files maps each file of the entry to its SHA256.
	Files map[string]string `json:"files"`
}

// ErrMiss is a key the cache holds no entry for.
var ErrMiss = errors.New("not in the run cache")

// Path is the directory of key's entry.
func (c *Cache) Path(key string) string { return filepath.Join(c.Dir, key) }

// Restore copies the files of key's entry into dir, checking each against
// the entry's manifest. It returns ErrMiss when there is no entry, and
// another error, which says what is wrong, for an entry that is not whole
// or does not match: dir may then hold some of its files.
func (c *Cache) Restore(key, dir string) error {
	path := c.Path(key)
	data, err := os.ReadFile(filepath.Join(path, entryFile))
	if errors.Is(err, fs.ErrNotExist) {
		return ErrMiss
	}
	if err != nil {
		return err
	}
	var e entry
	if err := json.Unmarshal(data, &e); err != nil {
		return fmt.Errorf("%s: %v", entryFile, err)
	}
	if e.Key != key {
		return fmt.Errorf("%s: key %q, want %q", entryFile, e.Key, key)
	}
	if len(e.Files) == 0 {
		return fmt.Errorf("%s lists no file", entryFile)
	}
	for _, name := range slices.Sorted(maps.Keys(e.Files)) {
		if name != filepath.Base(name) || name == entryFile {
			return fmt.Errorf("%s: file name %q", entryFile, name)
		}
		sum, err := copyFile(filepath.Join(path, name), filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if sum != e.Files[name] {
			return fmt.Errorf("%s: SHA256 %s, %s when stored", name, sum, e.Files[name])
		}
	}
	return nil
}

// Store keeps the regular files of the run directory dir as key's entry,
// replacing any entry of that key.
func (c *Cache) Store(key string, in Inputs, dir string) error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(c.Dir, key+".tmp-"+randomSuffix())
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // left only when something failed
	e := entry{Key: key, Stored: time.Now().UTC(), Inputs: in, Files: map[string]string{}}
	files, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		if !f.Type().IsRegular() || f.Name() == entryFile || strings.HasSuffix(f.Name(), ".tmp") {
			continue
		}
		sum, err := copyFile(filepath.Join(dir, f.Name()), filepath.Join(tmp, f.Name()))
		if err != nil {
			return err
		}
		e.Files[f.Name()] = sum
	}
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, entryFile), append(data, '\n'), 0o644); err != nil {
		return err
	}
	// A directory cannot be renamed over one that holds files: the old
	// entry is moved aside first, and removed once the new one is in place.
	path := c.Path(key)
	old := tmp + ".old"
	if err := os.Rename(path, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	defer os.RemoveAll(old)
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	return nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// copyFile copies src to dst and returns the SHA256 of what it copied.
func copyFile(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), in); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FileSum is the SHA256 of the file at path, in hex. A file is hashed once
// per process while its size and modification time stay the same: a
// matrix hashes the same suite binary for each of its targets.
func FileSum(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	id := fmt.Sprintf("%s\x00%d\x00%d", path, fi.Size(), fi.ModTime().UnixNano())
	if sum, ok := sums.Load(id); ok {
		return sum.(string), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	sums.Store(id, sum)
	return sum, nil
}

var sums sync.Map // path, size, mtime → SHA256
