package vmimages

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/tools"
	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/testfiles"
)

// This file holds the fake Debian archive the fetcher's unit tests run
// against: an httptest server with suites whose InRelease is signed by a
// throwaway key (made with gpg, checked by the real gpgv), Packages
// indexes, and .debs holding a small kernel tree.

// signer makes and holds the test key; the first test that needs it
// creates it, TestMain stops its gpg-agent.
var signer struct {
	once     sync.Once
	home     string // GNUPGHOME, short: gpg-agent's socket path is limited
	keyring  string // the public key, for gpgv
	err      error
	signings sync.Mutex
}

func TestMain(m *testing.M) {
	code := m.Run()
	if signer.home != "" {
		cmd := exec.Command("gpgconf", "--kill", "gpg-agent")
		cmd.Env = append(os.Environ(), "GNUPGHOME="+signer.home)
		cmd.Run()
		os.RemoveAll(signer.home)
	}
	os.Exit(code)
}

// gpg runs gpg on the test key's home with stdin and returns stdout.
func gpg(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command("gpg", append([]string{"--batch", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+signer.home)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("gpg %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// useTestKeyring makes the fetcher trust the test key instead of Debian's
// and returns a function that clear-signs text with it.
func useTestKeyring(t *testing.T) (sign func(text string) []byte) {
	t.Helper()
	signer.once.Do(func() {
		if _, err := tools.Need(context.Background(), io.Discard, "gpg"); err != nil {
			signer.err = err
			return
		}
		if signer.home, signer.err = os.MkdirTemp("", "bpfmatrix-gpg"); signer.err != nil {
			return
		}
		if _, signer.err = gpg(nil, "--quick-gen-key", "bpfmatrix test archive <test@invalid>", "ed25519", "sign", "never"); signer.err != nil {
			return
		}
		pub, err := gpg(nil, "--export")
		if err != nil {
			signer.err = err
			return
		}
		signer.keyring = filepath.Join(signer.home, "archive.gpg")
		signer.err = os.WriteFile(signer.keyring, pub, 0o644)
	})
	if signer.err != nil {
		t.Skipf("needs gpg (package gnupg) to sign a test archive: %v", signer.err)
	}
	old := archiveKeyring
	archiveKeyring = signer.keyring
	t.Cleanup(func() { archiveKeyring = old })
	return func(text string) []byte {
		t.Helper()
		signer.signings.Lock()
		defer signer.signings.Unlock()
		out, err := gpg([]byte(text), "--clearsign", "--digest-algo", "SHA256")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// testMirror is a Debian archive (root /debian) and security archive
// (/debian-security) on a local HTTP server.
type testMirror struct {
	t    *testing.T
	srv  *httptest.Server
	sign func(string) []byte
	mu   sync.Mutex
	file map[string][]byte // URL path → content
	// status makes every path with this prefix answer with that status.
	status map[string]int
}

func newTestMirror(t *testing.T) *testMirror {
	t.Helper()
	m := &testMirror{t: t, sign: useTestKeyring(t), file: map[string][]byte{}, status: map[string]int{}}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *testMirror) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for prefix, code := range m.status {
		if strings.HasPrefix(r.URL.Path, prefix) {
			http.Error(w, http.StatusText(code), code)
			return
		}
	}
	b, ok := m.file[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(b)
}

// set replaces the file at path; change edits it in place.
func (m *testMirror) set(path string, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.file[path] = b
}

func (m *testMirror) change(path string, edit func([]byte) []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.file[path] = edit(bytes.Clone(m.file[path]))
}

// fail makes every path under prefix answer with code (0 undoes it).
func (m *testMirror) fail(prefix string, code int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if code == 0 {
		delete(m.status, prefix)
		return
	}
	m.status[prefix] = code
}

// options point a fetch at the mirror, with a fresh cache.
func (m *testMirror) options(log io.Writer) Options {
	return Options{Mirror: m.srv.URL + "/debian", SecurityMirror: m.srv.URL + "/debian-security", CacheDir: m.t.TempDir(), Log: log}
}

// testKernel is one linux-image package of the mirror.
type testKernel struct {
	Version, Release string
}

func (k testKernel) pkg() string { return "linux-image-" + k.Release }

// arch is the architecture the kernel's release ends in, as Debian's do.
func (k testKernel) arch() string {
	if strings.HasSuffix(k.Release, "-arm64") {
		return "arm64"
	}
	return "amd64"
}

// poolPath is where the archive serves the kernel's .deb.
func (k testKernel) poolPath() string {
	return fmt.Sprintf("pool/main/l/linux/%s_%s_%s.deb", k.pkg(), k.Version, k.arch())
}

// addSuite publishes suite on archive ("debian" or "debian-security")
// with a signed InRelease, a Packages.gz per architecture listing its
// kernels, and their .debs.
func (m *testMirror) addSuite(archive, suite string, kernels ...testKernel) {
	m.t.Helper()
	packages := map[string]*bytes.Buffer{"amd64": {}}
	for _, k := range kernels {
		deb := kernelDeb(m.t, k.Release)
		m.set("/"+archive+"/"+k.poolPath(), deb)
		sum := sha256.Sum256(deb)
		if packages[k.arch()] == nil {
			packages[k.arch()] = &bytes.Buffer{}
		}
		fmt.Fprintf(packages[k.arch()], "Package: %s\nVersion: %s\nArchitecture: %s\nDepends: kmod, linux-base\nFilename: %s\nSize: %d\nSHA256: %s\n\n",
			k.pkg(), k.Version, k.arch(), k.poolPath(), len(deb), hex.EncodeToString(sum[:]))
	}
	dists := "/" + archive + "/dists/" + suite + "/"
	release := fmt.Sprintf("Origin: Debian\nSuite: %s\nCodename: %s\nDate: %s\nValid-Until: %s\nSHA256:\n",
		suite, suite, time.Now().UTC().Format(time.RFC1123), time.Now().Add(7*24*time.Hour).UTC().Format(time.RFC1123))
	for _, arch := range Arches {
		if packages[arch] == nil {
			continue
		}
		path := "main/binary-" + arch + "/Packages.gz"
		gz := testfiles.Gzip(m.t, packages[arch].Bytes())
		m.set(dists+path, gz)
		sum := sha256.Sum256(gz)
		release += fmt.Sprintf(" %s %d %s\n", hex.EncodeToString(sum[:]), len(gz), path)
	}
	m.set(dists+"InRelease", m.sign(release))
}

// addBookworm publishes what Debian has for 6.1: an older build in
// bookworm, the newest in bookworm-security.
func (m *testMirror) addBookworm() (older, newest testKernel) {
	older = testKernel{"6.1.176-1", "6.1.0-50-cloud-amd64"}
	newest = testKernel{"6.1.192-1", "6.1.0-57-cloud-amd64"}
	m.addSuite("debian", "bookworm", older)
	m.addSuite("debian-security", "bookworm-security", newest)
	return older, newest
}

// kernelDeb is a linux-image .deb as Debian lays one out: the kernel as
// boot/vmlinuz-<release> (a bzImage on amd64, a plain Image on arm64),
// boot/config-<release>, and modules.
func kernelDeb(t *testing.T, release string) []byte {
	t.Helper()
	img := testfiles.BzImage(27, 0x100, testfiles.Gzip(t, testfiles.Vmlinux(release, true)), release+" (debian-kernel@lists.debian.org) #1 SMP")
	if (testKernel{Release: release}).arch() == "arm64" {
		img = testfiles.Arm64Image(release)
	}
	mods := "./lib/modules/" + release + "/kernel/net/sched/"
	data := testfiles.Gzip(t, testfiles.Tar(t,
		testfiles.Regular("./boot/vmlinuz-"+release, string(img)),
		testfiles.Regular("./boot/config-"+release, "CONFIG_BPF=y\nCONFIG_NET_CLS_BPF=m\n"),
		testfiles.Regular(mods+"cls_bpf.ko", strings.Repeat("cls_bpf module ", 500)),
		testfiles.Regular(mods+"sch_ingress.ko", strings.Repeat("sch_ingress module ", 300)),
	))
	return testfiles.Ar([2]string{"debian-binary", "2.0\n"}, [2]string{"control.tar.gz", ""}, [2]string{"data.tar.gz", string(data)})
}
