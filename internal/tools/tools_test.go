package tools

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/internal/flock"
)

// fakeApt is an apt-get on PATH that records each run and "installs" a
// package by running the snippet the test gave for it.
type fakeApt struct {
	t        *testing.T
	dir, bin string
}

// fakeAptScript records its arguments and DEBIAN_FRONTEND, then acts like
// apt-get: update marks the lists fresh; install fails with apt's words
// for a package named in lacks-until-update while the lists are stale, or
// with FAKE_APT_FAIL's words, and otherwise runs pkgs/<name> for each
// package.
const fakeAptScript = `#!/bin/sh
d=$(dirname "$0")/..
echo "$DEBIAN_FRONTEND $*" >> "$d/runs"
[ "$1" = update ] && { : > "$d/updated"; exit 0; }
[ -n "$FAKE_APT_FAIL" ] && { echo "E: $FAKE_APT_FAIL" >&2; exit 100; }
shift 3
for p in "$@"; do
  if grep -qx "$p" "$d/lacks-until-update" 2>/dev/null && [ ! -e "$d/updated" ]; then
    echo "E: Unable to locate package $p" >&2; exit 100
  fi
done
for p in "$@"; do echo "Setting up $p ..."; sh "$d/pkgs/$p"; done
`

// useFakes replaces the table with packages that only the fake apt-get
// installs: a- and b-cmd are programs, c a file, manual-tool a program
// apt cannot provide. Root and Debian are faked too; the tests may undo
// either.
func useFakes(t *testing.T) *fakeApt {
	dir := t.TempDir()
	f := &fakeApt{t: t, dir: dir, bin: filepath.Join(dir, "bin")}
	os.MkdirAll(filepath.Join(dir, "pkgs"), 0o755)
	os.MkdirAll(f.bin, 0o755)
	if err := os.WriteFile(filepath.Join(f.bin, "apt-get"), []byte(fakeAptScript), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", f.bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_APT_FAIL", "")
	cFile := filepath.Join(dir, "c-file")
	for pkg, install := range map[string]string{
		"bpfm-a": "printf '#!/bin/sh\\n' > " + f.bin + "/bpfm-a-cmd; chmod +x " + f.bin + "/bpfm-a-cmd",
		"bpfm-b": "printf '#!/bin/sh\\n' > " + f.bin + "/bpfm-b-cmd; chmod +x " + f.bin + "/bpfm-b-cmd",
		"bpfm-c": ": > " + cFile,
	} {
		os.WriteFile(filepath.Join(dir, "pkgs", pkg), []byte(install), 0o644)
	}
	debian := filepath.Join(dir, "debian_version")
	os.WriteFile(debian, []byte("12.11\n"), 0o644)

	oldTable, oldGroups, oldRoot, oldDebian, oldLock := table, groups, isRoot, debianVersion, lockPath
	table = []row{
		{pkg: "bpfm-a", commands: []string{"bpfm-a-cmd"}},
		{pkg: "bpfm-b", commands: []string{"bpfm-b-cmd"}},
		{pkg: "bpfm-c", files: []string{cFile}},
		{pkg: "bpfm-manual", commands: []string{"bpfm-manual-cmd"}, manual: "build it from source"},
		{pkg: "bpfm-present", commands: []string{"sh"}},
	}
	groups = map[string][]string{"ab": {"bpfm-a", "bpfm-b"}, "all": {"bpfm-present", "bpfm-c", "bpfm-b", "bpfm-a"}, "manual": {"bpfm-manual", "bpfm-a"}}
	isRoot, debianVersion, lockPath = func() bool { return true }, debian, filepath.Join(dir, "apt.lock")
	t.Cleanup(func() {
		table, groups, isRoot, debianVersion, lockPath = oldTable, oldGroups, oldRoot, oldDebian, oldLock
	})
	return f
}

// wantRuns checks the fake apt-get's runs so far, one "FRONTEND ARGS" each.
func (f *fakeApt) wantRuns(want ...string) {
	f.t.Helper()
	b, _ := os.ReadFile(filepath.Join(f.dir, "runs"))
	var got []string
	if s := strings.TrimSpace(string(b)); s != "" {
		got = strings.Split(s, "\n")
	}
	if !slices.Equal(got, want) {
		f.t.Errorf("apt-get runs %q, want %q", got, want)
	}
}

func TestMissingNeverInstalls(t *testing.T) {
	f := useFakes(t)
	got, err := Missing("all", "bpfm-a")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"bpfm-a", "bpfm-b", "bpfm-c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Missing = %q, want %q in table order, each once, without the installed bpfm-present", got, want)
	}
	f.wantRuns()
	var unknown *UnknownError
	if _, err := Missing("ab", "nosuch"); !errors.As(err, &unknown) || !strings.Contains(err.Error(), "known groups are ab, all, manual") {
		t.Errorf("unknown name: error %v, want an *UnknownError listing the groups", err)
	}
}

// TestEnsureInstallsWithOneCommand: everything missing goes to one apt-get
// install, non-interactive and with recommends; a second Ensure, with
// nothing missing, runs nothing.
func TestEnsureInstallsWithOneCommand(t *testing.T) {
	f := useFakes(t)
	var log bytes.Buffer
	if err := Ensure(context.Background(), &log, "all"); err != nil {
		t.Fatal(err)
	}
	f.wantRuns("noninteractive install -y -q bpfm-a bpfm-b bpfm-c")
	if missing, _ := Missing("all"); len(missing) > 0 {
		t.Errorf("still missing %q after Ensure", missing)
	}
	if !strings.Contains(log.String(), "tools: installing bpfm-a bpfm-b bpfm-c with apt-get") || !strings.Contains(log.String(), "Setting up bpfm-c") {
		t.Errorf("log does not show the install and apt-get's output:\n%s", log.String())
	}
	if err := Ensure(context.Background(), nil, "all", "ab"); err != nil {
		t.Fatal(err)
	}
	f.wantRuns("noninteractive install -y -q bpfm-a bpfm-b bpfm-c")
}

func TestEnsureUpdatesWhenListsLackAPackage(t *testing.T) {
	f := useFakes(t)
	os.WriteFile(filepath.Join(f.dir, "lacks-until-update"), []byte("bpfm-b\n"), 0o644)
	var log bytes.Buffer
	if err := Ensure(context.Background(), &log, "ab"); err != nil {
		t.Fatal(err)
	}
	f.wantRuns("noninteractive install -y -q bpfm-a bpfm-b", "noninteractive update -q", "noninteractive install -y -q bpfm-a bpfm-b")
	if !strings.Contains(log.String(), "running apt-get update") {
		t.Errorf("the update is not on the log:\n%s", log.String())
	}
}

// TestEnsureCannotInstall: without root, without apt-get or Debian, or for
// a package apt lacks, Ensure runs nothing and says in one line what to
// install.
func TestEnsureCannotInstall(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(*fakeApt)
		names []string
		want  string
	}{
		{"not root", func(*fakeApt) { isRoot = func() bool { return false } }, []string{"ab"},
			"missing bpfm-a bpfm-b: run as root: apt-get install bpfm-a bpfm-b"},
		{"not Debian", func(f *fakeApt) { debianVersion = filepath.Join(f.dir, "nosuch") }, []string{"bpfm-c"},
			"missing bpfm-c: install the Debian packages bpfm-c or your system's equivalents (there is no apt-get here)"},
		{"no apt-get", func(f *fakeApt) { os.Remove(filepath.Join(f.bin, "apt-get")); t.Setenv("PATH", f.bin) }, []string{"bpfm-a"},
			"missing bpfm-a: install the Debian packages bpfm-a or your system's equivalents (there is no apt-get here)"},
		{"apt cannot provide it", func(*fakeApt) {}, []string{"manual"},
			"missing bpfm-a bpfm-manual: build it from source; run as root: apt-get install bpfm-a"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := useFakes(t)
			tt.setup(f)
			err := Ensure(context.Background(), nil, tt.names...)
			var me *MissingError
			if !errors.As(err, &me) || err.Error() != tt.want {
				t.Errorf("error %v, want a *MissingError %q", err, tt.want)
			}
			f.wantRuns()
		})
	}
}

func TestEnsureAptFails(t *testing.T) {
	f := useFakes(t)
	t.Setenv("FAKE_APT_FAIL", "Sub-process /usr/bin/dpkg returned an error code (1)")
	err := Ensure(context.Background(), nil, "bpfm-a")
	if err == nil || err.Error() != "apt-get install bpfm-a: exit status 100: E: Sub-process /usr/bin/dpkg returned an error code (1)" {
		t.Errorf("error %v, want one line naming the package and apt's last words", err)
	}
	f.wantRuns("noninteractive install -y -q bpfm-a")
}

// TestEnsureSerialised: Ensures at once in one process install once; an
// Ensure that finds another process installing waits for it, then finds
// the package installed and runs nothing.
func TestEnsureSerialised(t *testing.T) {
	f := useFakes(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := Ensure(context.Background(), nil, "ab"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	f.wantRuns("noninteractive install -y -q bpfm-a bpfm-b")

	// Another process holds the lock and is installing bpfm-c.
	unlock, err := flock.Lock(context.Background(), lockPath, "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	log, logw := io.Pipe()
	done := make(chan error)
	go func() { done <- Ensure(context.Background(), logw, "bpfm-c") }()
	if line, _ := bufio.NewReader(log).ReadString('\n'); !strings.Contains(line, "tools: waiting for "+lockPath) {
		t.Errorf("Ensure said %q, want that it waits for %s", line, lockPath)
	}
	log.Close()
	os.WriteFile(filepath.Join(f.dir, "c-file"), nil, 0o644)
	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.wantRuns("noninteractive install -y -q bpfm-a bpfm-b")
}

func TestNeed(t *testing.T) {
	f := useFakes(t)
	p, err := Need(context.Background(), nil, "bpfm-b-cmd")
	if err != nil || p != filepath.Join(f.bin, "bpfm-b-cmd") {
		t.Errorf("Need = %q, %v; want the installed %s", p, err, filepath.Join(f.bin, "bpfm-b-cmd"))
	}
	f.wantRuns("noninteractive install -y -q bpfm-b")
	if _, err := Need(context.Background(), nil, "nosuch-cmd"); err == nil || !strings.Contains(err.Error(), "not in the tool table") {
		t.Errorf("a program outside the table: error %v", err)
	}
}

// TestTable checks the real table: every group names packages of it, and
// every package says how to tell it is installed.
func TestTable(t *testing.T) {
	for g, pkgs := range groups {
		for _, p := range pkgs {
			if _, ok := lookup(p); !ok {
				t.Errorf("group %s names %s, which the table lacks", g, p)
			}
		}
	}
	for _, r := range table {
		if len(r.commands)+len(r.files) == 0 {
			t.Errorf("package %s has no check", r.pkg)
		}
	}
	if missing, err := Missing(Build); err != nil || len(missing) > 0 {
		t.Errorf("Missing(Build) = %q, %v; the go running this test is missing?", missing, err)
	}
}
