package runcache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyNamesTheInputsNotTheirOrderOrJoins(t *testing.T) {
	a := Inputs{"kernel": "6.1", "seed": "any"}
	if a.Key() != (Inputs{"seed": "any", "kernel": "6.1"}).Key() {
		t.Error("the same inputs give two keys")
	}
	for _, other := range []Inputs{
		{"kernel": "6.12", "seed": "any"},
		{"kernel": "6.1", "seed": "7"},
		{"kernel": "6.1"},
		// The same bytes joined differently.
		{"kernel": "6.1seed", "": "any"},
	} {
		if other.Key() == a.Key() {
			t.Errorf("%v and %v share a key", other, a)
		}
	}
}

func TestStoreReplacesAnEntryAndRestoreChecksIt(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "runs")}
	run := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(run, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("run.json", `{"status":"ok"}`)
	write("cells.jsonl", "1\n")
	write("run.json.tmp", "half a file") // never kept
	in := Inputs{"kernel": "6.1"}
	key := in.Key()
	if err := c.Restore(key, t.TempDir()); err != ErrMiss {
		t.Fatalf("empty cache: %v, want ErrMiss", err)
	}
	for _, cells := range []string{"1\n", "1\n2\n"} {
		write("cells.jsonl", cells)
		if err := c.Store(key, in, run); err != nil {
			t.Fatal(err)
		}
		dst := t.TempDir()
		if err := c.Restore(key, dst); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(filepath.Join(dst, "cells.jsonl")); string(got) != cells {
			t.Errorf("restored %q, want %q", got, cells)
		}
		if _, err := os.Stat(filepath.Join(dst, "run.json.tmp")); err == nil {
			t.Error("a temporary file was kept")
		}
	}
	entries, _ := os.ReadDir(c.Dir)
	if len(entries) != 1 {
		t.Errorf("cache holds %d entries, want the one: %v", len(entries), entries)
	}
	if err := os.WriteFile(filepath.Join(c.Path(key), "run.json"), []byte(`{"status":"ok!"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Restore(key, t.TempDir()); err == nil || !strings.Contains(err.Error(), "run.json: SHA256") {
		t.Errorf("an edited file restored: %v", err)
	}
}

func TestHostFactsNameTheKernelAndItsMounts(t *testing.T) {
	in := HostFacts()
	for _, name := range []string{"uname", "file /proc/cmdline", "mounted tracefs", "status CapEff"} {
		if _, ok := in[name]; !ok {
			t.Errorf("no %q in %v", name, in)
		}
	}
	if !strings.Contains(in["uname"], " ") || in["file /proc/cmdline"] == "" {
		t.Errorf("uname %q, cmdline %q", in["uname"], in["file /proc/cmdline"])
	}
	in["uname"] = "changed"
	if HostFacts()["uname"] == "changed" {
		t.Error("HostFacts hands out its own map")
	}
}
