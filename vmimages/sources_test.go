package vmimages

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseSourcesList(t *testing.T) {
	const in = `# comment
deb http://mirror.example/debian bookworm main contrib
deb-src http://mirror.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://mirror.example/debian-security bookworm-security main # trailing
deb [ arch=amd64 ] https://vendor.example/apt stable main

`
	got, err := parseSourcesList(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []aptSource{
		{URI: "http://mirror.example/debian", Suites: []string{"bookworm"}, Components: []string{"main", "contrib"}},
		{URI: "http://mirror.example/debian-security", Suites: []string{"bookworm-security"}, Components: []string{"main"}},
		{URI: "https://vendor.example/apt", Suites: []string{"stable"}, Components: []string{"main"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseSourcesList(strings.NewReader("deb http://mirror.example/debian\n")); err == nil {
		t.Error("a deb line without a suite parsed")
	}
}

func TestParseDeb822(t *testing.T) {
	const in = `Types: deb deb-src
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm

Types: deb
URIs: http://off.example/debian
Suites: trixie
Enabled: no

Types: deb
URIs: http://mirror.example/debian-security
 http://second.example/debian-security
Suites: bookworm-security
Components: main
`
	got, err := parseDeb822(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []aptSource{
		{URI: "http://mirror.example/debian", Suites: []string{"bookworm", "bookworm-updates"}, Components: []string{"main"}},
		{URI: "http://mirror.example/debian-security", Suites: []string{"bookworm-security"}, Components: []string{"main"}},
		{URI: "http://second.example/debian-security", Suites: []string{"bookworm-security"}, Components: []string{"main"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestPickMirrors(t *testing.T) {
	main := []string{"main"}
	for _, tt := range []struct {
		name             string
		srcs             []aptSource
		mirror, security string
	}{
		{"both", []aptSource{
			{URI: "https://vendor.example/linux/debian", Suites: []string{"bookworm"}, Components: []string{"stable"}},
			{URI: "http://m.example/debian/", Suites: []string{"bookworm"}, Components: main},
			{URI: "http://s.example/debian-security", Suites: []string{"bookworm-security"}, Components: main},
		}, "http://m.example/debian", "http://s.example/debian-security"},
		{"security derived", []aptSource{
			{URI: "http://m.example/debian", Suites: []string{"trixie-updates"}, Components: main},
		}, "http://m.example/debian", "http://m.example/debian-security"},
		{"old security suite", []aptSource{
			{URI: "http://m.example/debian", Suites: []string{"buster"}, Components: main},
			{URI: "http://s.example/debian-security", Suites: []string{"buster/updates"}, Components: main},
		}, "http://m.example/debian", "http://s.example/debian-security"},
		{"vendor only", []aptSource{
			{URI: "https://vendor.example/apt", Suites: []string{"nodistro"}, Components: main},
		}, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, s := pickMirrors(tt.srcs)
			if m != tt.mirror || s != tt.security {
				t.Errorf("got %q, %q; want %q, %q", m, s, tt.mirror, tt.security)
			}
		})
	}
}

// TestMirrors reads a fake /etc/apt tree in both formats, ignoring the
// file names apt ignores, and honours the environment overrides.
func TestMirrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sources.list.d/a.list.disabled", "deb http://disabled.example/debian bookworm main\n")
	write("sources.list.d/debian.sources", "Types: deb\nURIs: http://m.example/debian\nSuites: bookworm\nComponents: main\n")
	write("sources.list.d/security.list", "deb http://s.example/debian-security bookworm-security main\n")
	old := aptSourcesDir
	aptSourcesDir = dir
	t.Cleanup(func() { aptSourcesDir = old })

	t.Setenv(MirrorEnv, "")
	t.Setenv(SecurityMirrorEnv, "")
	m, s, err := Mirrors()
	if err != nil || m != "http://m.example/debian" || s != "http://s.example/debian-security" {
		t.Errorf("from apt: got %q, %q, %v", m, s, err)
	}
	t.Setenv(MirrorEnv, "http://env.example/debian/")
	m, s, err = Mirrors()
	if err != nil || m != "http://env.example/debian" || s != "http://env.example/debian-security" {
		t.Errorf("with %s: got %q, %q, %v", MirrorEnv, m, s, err)
	}
	t.Setenv(SecurityMirrorEnv, "http://envsec.example/ds")
	if _, s, _ = Mirrors(); s != "http://envsec.example/ds" {
		t.Errorf("with %s: security %q", SecurityMirrorEnv, s)
	}

	aptSourcesDir = t.TempDir()
	t.Setenv(MirrorEnv, "")
	if _, _, err := Mirrors(); err == nil || !strings.Contains(err.Error(), MirrorEnv) {
		t.Errorf("no sources: error %v should name %s", err, MirrorEnv)
	}
}
