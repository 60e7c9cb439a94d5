package initramfs

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/decompress"
)

// Module is a kernel module ready for finit_module(2): decompressed, with
// its dependencies listed before it in the order Resolve returns.
type Module struct {
	// Name is the module's name as the kernel knows it ("sch_ingress").
	Name string
	// Data is the uncompressed .ko.
	Data []byte
}

// ErrNotFound is returned (wrapped) for a required module the kernel has
// neither as a file nor built in.
var ErrNotFound = errors.New("module not found")

// Modules indexes one kernel's module tree (lib/modules/<release>).
type Modules struct {
	dir     string
	paths   map[string]string // name → path of the .ko(.xz|.zst|.gz)
	builtin map[string]bool
}

// OpenModules indexes dir, a kernel's lib/modules/<release>. Debian's
// packages ship no modules.dep (depmod runs at install time), so
// dependencies come from each module's own .modinfo instead.
func OpenModules(dir string) (*Modules, error) {
	m := &Modules{dir: dir, paths: map[string]string{}, builtin: map[string]bool{}}
	err := filepath.WalkDir(filepath.Join(dir, "kernel"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name, ok := moduleName(d.Name()); ok && !d.IsDir() {
			m.paths[name] = p
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index modules in %s: %w", dir, err)
	}
	if f, err := os.Open(filepath.Join(dir, "modules.builtin")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if name, ok := moduleName(filepath.Base(sc.Text())); ok {
				m.builtin[name] = true
			}
		}
		f.Close()
	}
	return m, nil
}

// moduleName turns "sch_ingress.ko.xz" into "sch_ingress"; the kernel
// treats '-' and '_' in module names alike.
func moduleName(file string) (string, bool) {
	suffix, ok := moduleSuffix(file)
	return strings.ReplaceAll(strings.TrimSuffix(file, suffix), "-", "_"), ok
}

// Builtin reports whether name is built into the kernel, so needs no load.
func (m *Modules) Builtin(name string) bool { return m.builtin[normalize(name)] }

// Has reports whether name exists as a loadable module file.
func (m *Modules) Has(name string) bool { _, ok := m.paths[normalize(name)]; return ok }

func normalize(name string) string { return strings.ReplaceAll(name, "-", "_") }

// Resolve returns the modules named, with every dependency before the
// modules that need it and each module once. Built-in modules are left out.
// A name that is neither a file nor built in is an ErrNotFound error.
func (m *Modules) Resolve(names ...string) ([]Module, error) {
	var out []Module
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name, from string) error
	visit = func(name, from string) error {
		name = normalize(name)
		switch {
		case state[name] == 2:
			return nil
		case state[name] == 1:
			return fmt.Errorf("module %s: dependency cycle through %s", name, from)
		case m.builtin[name]:
			state[name] = 2
			return nil
		}
		p, ok := m.paths[name]
		if !ok {
			if from != "" {
				return fmt.Errorf("module %s (needed by %s): %w in %s", name, from, ErrNotFound, m.dir)
			}
			return fmt.Errorf("module %s: %w in %s", name, ErrNotFound, m.dir)
		}
		state[name] = 1
		data, err := readModule(p)
		if err != nil {
			return err
		}
		deps, err := dependencies(data)
		if err != nil {
			return fmt.Errorf("module %s: %w", p, err)
		}
		for _, dep := range deps {
			if err := visit(dep, name); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, Module{Name: name, Data: data})
		return nil
	}
	for _, name := range names {
		if err := visit(name, ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// moduleCompressions are the compressions of module files, by suffix.
// xz and zstd are undone by their programs (see decompress), so the guest
// can load every kernel's modules the same way, with no dependency on the
// kernel's own CONFIG_MODULE_DECOMPRESS.
var moduleCompressions = map[string]string{".ko": "", ".ko.gz": "gzip", ".ko.xz": "xz", ".ko.zst": "zstd"}

// moduleSuffix returns the suffix of a module file's name: ".ko", with
// its compression's.
func moduleSuffix(file string) (string, bool) {
	for suffix := range moduleCompressions {
		if strings.HasSuffix(file, suffix) {
			return suffix, true
		}
	}
	return "", false
}

// readModule returns a module file's uncompressed bytes.
func readModule(p string) ([]byte, error) {
	suffix, ok := moduleSuffix(p)
	if !ok {
		return nil, fmt.Errorf("%s: not a kernel module file", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := decompress.Reader(context.Background(), moduleCompressions[suffix], f, nil)
	if err != nil {
		return nil, fmt.Errorf("decompress %s: %w", p, err)
	}
	data, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("decompress %s: %w", p, err)
	}
	return data, nil
}

// dependencies reads "depends=" from the module's .modinfo section.
func dependencies(ko []byte) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(ko))
	if err != nil {
		return nil, fmt.Errorf("parse ELF: %w", err)
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("no .modinfo section")
	}
	info, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("read .modinfo: %w", err)
	}
	var deps []string
	for _, kv := range bytes.Split(info, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok {
			for _, d := range strings.Split(string(v), ",") {
				if d != "" {
					deps = append(deps, d)
				}
			}
		}
	}
	return deps, nil
}
