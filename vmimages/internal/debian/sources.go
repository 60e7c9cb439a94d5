package debian

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Source is one "deb" entry of apt's configuration, from either format.
type Source struct {
	URI        string
	Suites     []string
	Components []string
}

// parseSourcesList parses apt's one-line format (sources.list(5)):
// "deb [options] uri suite [component...]". deb-src lines are skipped.
func parseSourcesList(r io.Reader) ([]Source, error) {
	var out []Source
	s := bufio.NewScanner(r)
	for s.Scan() {
		line := s.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "deb" {
			continue
		}
		fields = fields[1:]
		// Options are "[key=value ...]", possibly split over fields.
		if len(fields) > 0 && strings.HasPrefix(fields[0], "[") {
			for len(fields) > 0 {
				f := fields[0]
				fields = fields[1:]
				if strings.HasSuffix(f, "]") {
					break
				}
			}
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("line %q: want deb URI SUITE [COMPONENT...]", s.Text())
		}
		out = append(out, Source{URI: fields[0], Suites: []string{fields[1]}, Components: fields[2:]})
	}
	return out, s.Err()
}

// parseDeb822 parses apt's deb822 format (.sources files): stanzas of
// "Field: value" lines separated by blank lines, continuation lines
// starting with white space, "#" comment lines.
func parseDeb822(r io.Reader) ([]Source, error) {
	stanzas, err := parseStanzas(r)
	if err != nil {
		return nil, err
	}
	var out []Source
	for _, st := range stanzas {
		if strings.EqualFold(st["Enabled"], "no") {
			continue
		}
		if !contains(strings.Fields(st["Types"]), "deb") {
			continue
		}
		suites := strings.Fields(st["Suites"])
		comps := strings.Fields(st["Components"])
		for _, uri := range strings.Fields(st["URIs"]) {
			out = append(out, Source{URI: uri, Suites: suites, Components: comps})
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ReadSources reads every source apt would: sources.list and the
// *.list and *.sources files of sources.list.d (apt ignores other names,
// such as "foo.list.disabled").
func ReadSources(dir string) ([]Source, error) {
	files := []string{filepath.Join(dir, "sources.list")}
	entries, err := os.ReadDir(filepath.Join(dir, "sources.list.d"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.HasSuffix(n, ".list") || strings.HasSuffix(n, ".sources") {
			files = append(files, filepath.Join(dir, "sources.list.d", n))
		}
	}
	var all []Source
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		parse := parseSourcesList
		if strings.HasSuffix(f, ".sources") {
			parse = parseDeb822
		}
		srcs, err := parse(strings.NewReader(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		all = append(all, srcs...)
	}
	return all, nil
}

// debianSuites are the suite names (and aliases) of Debian's main archive;
// a source carrying one of them is a Debian mirror, not some vendor's repo.
var debianSuites = map[string]bool{
	"buster": true, "bullseye": true, "bookworm": true, "trixie": true, "forky": true, "duke": true,
	"sid": true, "experimental": true, "oldoldstable": true, "oldstable": true, "stable": true,
	"testing": true, "unstable": true,
}

// IsSecuritySuite reports whether suite lives in the security archive
// ("bookworm-security", or "buster/updates" before bullseye).
func IsSecuritySuite(suite string) bool {
	return strings.HasSuffix(suite, "-security") || strings.HasSuffix(suite, "/updates")
}

// PickMirrors chooses the Debian archive and security-archive URIs from
// apt's sources: the first source with a Debian suite and component main,
// and the first with a security suite and component main (third-party
// repositories reuse Debian's suite names, e.g. "bookworm stable").
// Without a security source, the security archive is assumed to sit beside the main one ("…/debian" → "…/debian-security"),
// as it does on Debian's own mirror network.
func PickMirrors(srcs []Source) (mirror, security string) {
	for _, s := range srcs {
		if !contains(s.Components, "main") {
			continue
		}
		for _, suite := range s.Suites {
			base, _, _ := strings.Cut(suite, "-")
			switch {
			case IsSecuritySuite(suite):
				if security == "" {
					security = s.URI
				}
			case debianSuites[base]:
				if mirror == "" {
					mirror = s.URI
				}
			}
		}
	}
	mirror = strings.TrimRight(mirror, "/")
	security = strings.TrimRight(security, "/")
	if security == "" && strings.HasSuffix(mirror, "/debian") {
		security = mirror + "-security"
	}
	return mirror, security
}
