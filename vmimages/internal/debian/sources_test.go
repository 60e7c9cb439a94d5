package debian

import (
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
	want := []Source{
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
	want := []Source{
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
		srcs             []Source
		mirror, security string
	}{
		{"both", []Source{
			{URI: "https://vendor.example/linux/debian", Suites: []string{"bookworm"}, Components: []string{"stable"}},
			{URI: "http://m.example/debian/", Suites: []string{"bookworm"}, Components: main},
			{URI: "http://s.example/debian-security", Suites: []string{"bookworm-security"}, Components: main},
		}, "http://m.example/debian", "http://s.example/debian-security"},
		{"security derived", []Source{
			{URI: "http://m.example/debian", Suites: []string{"trixie-updates"}, Components: main},
		}, "http://m.example/debian", "http://m.example/debian-security"},
		{"old security suite", []Source{
			{URI: "http://m.example/debian", Suites: []string{"buster"}, Components: main},
			{URI: "http://s.example/debian-security", Suites: []string{"buster/updates"}, Components: main},
		}, "http://m.example/debian", "http://s.example/debian-security"},
		{"vendor only", []Source{
			{URI: "https://vendor.example/apt", Suites: []string{"nodistro"}, Components: main},
		}, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, s := PickMirrors(tt.srcs)
			if m != tt.mirror || s != tt.security {
				t.Errorf("got %q, %q; want %q, %q", m, s, tt.mirror, tt.security)
			}
		})
	}
}
