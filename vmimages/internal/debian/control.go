package debian

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// stanza is one paragraph of a Debian control file: field name → value,
// continuation lines joined with "\n".
type stanza map[string]string

// scanStanzas calls fn for each paragraph of a Debian control file
// (deb822(5): Packages, Release, .sources). Lines starting with "#" are
// comments; lines starting with white space continue the previous field.
func scanStanzas(r io.Reader, fn func(stanza) error) error {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 4<<20)
	cur := stanza{}
	last := ""
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		err := fn(cur)
		cur, last = stanza{}, ""
		return err
	}
	for s.Scan() {
		line := s.Text()
		switch {
		case strings.TrimSpace(line) == "":
			if err := flush(); err != nil {
				return err
			}
		case line[0] == '#':
		case line[0] == ' ' || line[0] == '\t':
			if last == "" {
				return fmt.Errorf("continuation line %q outside a field", line)
			}
			cur[last] += "\n" + strings.TrimSpace(line)
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				return fmt.Errorf("line %q: want Field: value", line)
			}
			last = strings.TrimSpace(name)
			cur[last] = strings.TrimSpace(value)
		}
	}
	if err := s.Err(); err != nil {
		return err
	}
	return flush()
}

func parseStanzas(r io.Reader) ([]stanza, error) {
	var out []stanza
	err := scanStanzas(r, func(s stanza) error { out = append(out, s); return nil })
	return out, err
}

// Package is the part of a Packages entry that fetching it takes.
type Package struct {
	Name     string
	Version  string
	Filename string // path under the archive's root
	Size     int64
	SHA256   string
	Depends  []string // package names only, alternatives flattened
}

// ParsePackages reads a Packages index, keeping the entries keep accepts.
func ParsePackages(r io.Reader, keep func(name string) bool) ([]Package, error) {
	var out []Package
	err := scanStanzas(r, func(s stanza) error {
		name := s["Package"]
		if name == "" || !keep(name) {
			return nil
		}
		p := Package{Name: name, Version: s["Version"], Filename: s["Filename"], SHA256: s["SHA256"]}
		if p.Version == "" || p.Filename == "" || len(p.SHA256) != 64 {
			return fmt.Errorf("package %s: entry lacks Version, Filename or SHA256", name)
		}
		size, err := strconv.ParseInt(s["Size"], 10, 64)
		if err != nil {
			return fmt.Errorf("package %s: Size %q: %w", name, s["Size"], err)
		}
		p.Size = size
		p.Depends = dependNames(s["Depends"])
		out = append(out, p)
		return nil
	})
	return out, err
}

// dependNames extracts package names from a Depends field:
// "a (>= 1) | b, c:any" → [a b c].
func dependNames(field string) []string {
	var names []string
	for _, alt := range strings.FieldsFunc(field, func(r rune) bool { return r == ',' || r == '|' }) {
		alt = strings.TrimSpace(alt)
		if i := strings.IndexAny(alt, " (["); i >= 0 {
			alt = alt[:i]
		}
		alt, _, _ = strings.Cut(alt, ":")
		if alt != "" {
			names = append(names, alt)
		}
	}
	return names
}

// Release is the part of a suite's Release (or InRelease) file that
// verifying its indexes takes.
type Release struct {
	Suite, Codename string
	Date            string
	ValidUntil      string
	AcquireByHash   bool
	// SHA256 maps a path relative to dists/<suite>/ to its hash and size.
	SHA256 map[string]Hash
}

// Hash is a file's SHA256 and size, as an index lists them.
type Hash struct {
	SHA256 string
	Size   int64
}

// ParseRelease parses the text of a Release file; an InRelease file must
// have been verified first (see VerifyInRelease), and only its signed
// text passed.
func ParseRelease(r io.Reader) (*Release, error) {
	st, err := parseStanzas(r)
	if err != nil {
		return nil, err
	}
	if len(st) == 0 {
		return nil, fmt.Errorf("empty Release file")
	}
	s := st[0]
	rel := &Release{
		Suite: s["Suite"], Codename: s["Codename"], Date: s["Date"], ValidUntil: s["Valid-Until"],
		AcquireByHash: strings.EqualFold(s["Acquire-By-Hash"], "yes"),
		SHA256:        map[string]Hash{},
	}
	for _, line := range strings.Split(s["SHA256"], "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		size, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || len(f[0]) != 64 {
			return nil, fmt.Errorf("SHA256 line %q of the release file: want HASH SIZE PATH", line)
		}
		rel.SHA256[f[2]] = Hash{SHA256: f[0], Size: size}
	}
	if len(rel.SHA256) == 0 {
		return nil, fmt.Errorf("release file of %q lists no SHA256 sums", rel.Codename)
	}
	return rel, nil
}

// ReadPackagesFile reads the Packages index at path, compressed as its
// name's suffix says (Packages.xz, Packages.gz, Packages), keeping the
// entries keep accepts.
func ReadPackagesFile(ctx context.Context, path string, keep func(name string) bool, log io.Writer) ([]Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := decompressed(ctx, filepath.Ext(path), f, log)
	if err != nil {
		return nil, err
	}
	pkgs, err := ParsePackages(r, keep)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	return pkgs, err
}
