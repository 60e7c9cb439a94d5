package vmimages

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
