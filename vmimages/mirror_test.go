package vmimages

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
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
		return nil, fmt.Errorf("gpg %s: %w: %s", strings.Join(args, " "), err, lastLine(stderr.Bytes()))
	}
	return out, nil
}

// useTestKeyring makes the fetcher trust the test key instead of Debian's
// and returns a function that clear-signs text with it.
func useTestKeyring(t *testing.T) (sign func(text string) []byte) {
	t.Helper()
	signer.once.Do(func() {
		if _, err := lookTool(context.Background(), "gpg", "gnupg", io.Discard); err != nil {
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

// addSuite publishes suite on archive ("debian" or "debian-security")
// with a signed InRelease, a Packages.gz listing kernels, and their .debs.
func (m *testMirror) addSuite(archive, suite string, kernels ...testKernel) {
	m.t.Helper()
	var packages bytes.Buffer
	for _, k := range kernels {
		deb := kernelDeb(m.t, k.Release)
		pool := fmt.Sprintf("pool/main/l/linux/%s_%s_amd64.deb", k.pkg(), k.Version)
		m.set("/"+archive+"/"+pool, deb)
		sum := sha256.Sum256(deb)
		fmt.Fprintf(&packages, "Package: %s\nVersion: %s\nDepends: kmod, linux-base\nFilename: %s\nSize: %d\nSHA256: %s\n\n",
			k.pkg(), k.Version, pool, len(deb), hex.EncodeToString(sum[:]))
	}
	gz := gzipped(m.t, packages.Bytes())
	dists := "/" + archive + "/dists/" + suite + "/"
	m.set(dists+"main/binary-amd64/Packages.gz", gz)
	sum := sha256.Sum256(gz)
	release := fmt.Sprintf("Origin: Debian\nSuite: %s\nCodename: %s\nDate: %s\nValid-Until: %s\nSHA256:\n %s %d main/binary-amd64/Packages.gz\n",
		suite, suite, time.Now().UTC().Format(time.RFC1123), time.Now().Add(7*24*time.Hour).UTC().Format(time.RFC1123),
		hex.EncodeToString(sum[:]), len(gz))
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

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	z := gzip.NewWriter(&out)
	z.Write(b)
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// tarball is a tar archive of headers, each followed by its body.
func tarball(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := e.Header
		h.Size = int64(len(e.Body))
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.Body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type tarEntry struct {
	Header tar.Header
	Body   string
}

func regular(name, body string) tarEntry {
	return tarEntry{tar.Header{Name: name, Typeflag: tar.TypeReg}, body}
}

// kernelDeb is a linux-image .deb as Debian lays one out: the bzImage as
// boot/vmlinuz-<release>, boot/config-<release>, and modules.
func kernelDeb(t *testing.T, release string) []byte {
	t.Helper()
	img := fakeBzImage(27, 0x100, gzipped(t, fakeVmlinux(release, true)), release+" (debian-kernel@lists.debian.org) #1 SMP")
	mods := "./lib/modules/" + release + "/kernel/net/sched/"
	data := gzipped(t, tarball(t,
		regular("./boot/vmlinuz-"+release, string(img)),
		regular("./boot/config-"+release, "CONFIG_BPF=y\nCONFIG_NET_CLS_BPF=m\n"),
		regular(mods+"cls_bpf.ko", strings.Repeat("cls_bpf module ", 500)),
		regular(mods+"sch_ingress.ko", strings.Repeat("sch_ingress module ", 300)),
	))
	return arArchive([2]string{"debian-binary", "2.0\n"}, [2]string{"control.tar.gz", ""}, [2]string{"data.tar.gz", string(data)})
}

// fakeVmlinux is a small x86-64 ELF executable shaped like a vmlinux: a
// PT_NOTE segment with the PVH entry note (when pvh) and a .rodata
// section holding the kernel's banner.
func fakeVmlinux(release string, pvh bool) []byte {
	le := binary.LittleEndian
	noteType := uint32(xenElfnotePhys32Entry)
	if !pvh {
		noteType = 1 // XEN_ELFNOTE_INFO: present, but not the entry
	}
	var note bytes.Buffer
	for _, v := range []uint32{4, 4, noteType} {
		binary.Write(&note, le, v)
	}
	note.WriteString("Xen\x00\x00\x00\x00\x01")
	rodata := []byte("\x00%s version %s\x00Linux version " + release + " (test@invalid) #1 SMP\n\x00")
	shstr := []byte("\x00.note\x00.rodata\x00.shstrtab\x00")

	const ehdr, phdr, shdr = 64, 56, 64
	noteOff := uint64(ehdr + phdr)
	rodataOff := noteOff + uint64(note.Len())
	shstrOff := rodataOff + uint64(len(rodata))
	shOff := (shstrOff + uint64(len(shstr)) + 7) &^ 7

	var b bytes.Buffer
	binary.Write(&b, le, elf.Header64{
		Ident:   [16]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)},
		Type:    uint16(elf.ET_EXEC),
		Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Entry: 0x1000000, Phoff: ehdr, Shoff: shOff,
		Ehsize: ehdr, Phentsize: phdr, Phnum: 1, Shentsize: shdr, Shnum: 4, Shstrndx: 3,
	})
	binary.Write(&b, le, elf.Prog64{Type: uint32(elf.PT_NOTE), Flags: uint32(elf.PF_R), Off: noteOff,
		Filesz: uint64(note.Len()), Memsz: uint64(note.Len()), Align: 4})
	b.Write(note.Bytes())
	b.Write(rodata)
	b.Write(shstr)
	b.Write(make([]byte, shOff-uint64(b.Len())))
	for _, s := range []elf.Section64{
		{},
		{Name: 1, Type: uint32(elf.SHT_NOTE), Flags: uint64(elf.SHF_ALLOC), Off: noteOff, Size: uint64(note.Len()), Addralign: 4},
		{Name: 7, Type: uint32(elf.SHT_PROGBITS), Flags: uint64(elf.SHF_ALLOC), Off: rodataOff, Size: uint64(len(rodata)), Addralign: 1},
		{Name: 15, Type: uint32(elf.SHT_STRTAB), Off: shstrOff, Size: uint64(len(shstr)), Addralign: 1},
	} {
		binary.Write(&b, le, s)
	}
	return b.Bytes()
}
