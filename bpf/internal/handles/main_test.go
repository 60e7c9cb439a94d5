package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProgramsAreFresh regenerates programs.go from the committed objects:
// an object rebuilt without rerunning the generator fails here, without
// clang (make check-generate catches a stale object too).
func TestProgramsAreFresh(t *testing.T) {
	got, err := generate("../../gen.go")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../programs.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("bpf/programs.go is stale: run make generate (or go generate ./bpf) and commit it")
	}
}

func TestCamel(t *testing.T) {
	for in, want := range map[string]string{
		"kprobe_count":     "KprobeCount",
		"connect4_rewrite": "Connect4Rewrite",
		"bm_init":          "BmInit",
		"hits":             "Hits",
		"tp__btf_":         "TpBtf",
	} {
		if got := camel(in); got != want {
			t.Errorf("camel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadDirectives(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string // want: the idents and files found, or an error's text
	}{
		{"two objects", "//go:generate go tool bpf2go -cc clang -cflags \"-O2 -g\" -target bpfel A a.c\n//go:generate go run ./x\n//go:generate go tool bpf2go B b.c -- -DX\n", "A a.c B b.c"},
		{"no directive", "package bpf\n", "has no bpf2go directive"},
		{"no C file", "//go:generate go tool bpf2go A\n", "does not end in IDENT FILE.c"},
	} {
		path := filepath.Join(t.TempDir(), "gen.go")
		if err := os.WriteFile(path, []byte(tc.src), 0o644); err != nil {
			t.Fatal(err)
		}
		objs, err := readDirectives(path)
		var got []string
		for _, o := range objs {
			got = append(got, o.ident, o.source)
		}
		if err != nil {
			got = []string{err.Error()}
		}
		if s := strings.Join(got, " "); !strings.Contains(s, tc.want) {
			t.Errorf("%s: readDirectives = %q, want %q", tc.name, s, tc.want)
		}
	}
}
