package guest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/vmimages/initramfs"
)

// TestUnpackReadsWhatTheHostWrites unpacks an archive as the host's
// initramfs writer makes a payload's: files with their modes, nested
// directories, an empty file.
func TestUnpackReadsWhatTheHostWrites(t *testing.T) {
	files := map[string]string{
		SuitePath:                     "\x7fELF suite",
		PlanPath:                      `{"args":["-ginkgo.v"]}`,
		ObjectsDir + "/probe.bpf.o":   "\x7fELF object",
		"/boot/config-7.2.13-cloud":   "CONFIG_BPF=y\n",
		ObjectsDir + "/empty/trigger": "",
	}
	a := initramfs.New()
	for name, data := range files {
		if err := a.AddData(name, 0o750, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := a.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := Unpack(buf.Bytes(), root); err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		path := filepath.Join(root, name)
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
			continue
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != 0o750 {
			t.Errorf("%s: mode %v, want 0750", name, st.Mode().Perm())
		}
	}
}

func TestUnpackRefusesBrokenArchives(t *testing.T) {
	a := initramfs.New()
	if err := a.AddData("bin/x", 0o755, []byte("data")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := a.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	whole := buf.Bytes()
	escape := bytes.Replace(bytes.Clone(whole), []byte("bin/x\x00"), []byte("../xx\x00"), 1)
	for name, data := range map[string][]byte{
		"not cpio":    []byte("PK\x03\x04 a zip file"),
		"cut short":   whole[:len(whole)/2],
		"no trailer":  whole[:bytes.Index(whole, []byte("TRAILER!!!"))-110],
		"leaves root": escape,
	} {
		if err := Unpack(data, t.TempDir()); err == nil {
			t.Errorf("%s: unpacked", name)
		}
	}
}

func TestPayloadHeaderRoundTrip(t *testing.T) {
	now := time.Date(2026, 12, 2, 23, 10, 8, 0, time.UTC)
	h := NewPayloadHeader(20<<20, now)
	block, err := h.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(block) != PayloadHeaderSize {
		t.Fatalf("header block of %d bytes, want %d", len(block), PayloadHeaderSize)
	}
	got, ok, err := ParsePayloadHeader(block)
	if err != nil || !ok || got.Size != h.Size || !got.Now.Equal(now) || !bytes.Equal(got.Seed, h.Seed) || len(got.Seed) == 0 {
		t.Errorf("ParsePayloadHeader = %+v, %v, %v; want %+v", got, ok, err, h)
	}
	if bytes.Equal(NewPayloadHeader(1, now).Seed, h.Seed) {
		t.Error("two headers carry the same seed")
	}
	// A snapshot's disk is all zeros: no header yet, and no error.
	if _, ok, err := ParsePayloadHeader(make([]byte, PayloadHeaderSize)); ok || err != nil {
		t.Errorf("zeros: ok %v, err %v; want no header and no error", ok, err)
	}
	for name, b := range map[string]string{
		"not json":  "\x7fELF",
		"not ours":  `{"magic":"other/1","size":10}`,
		"too large": `{"magic":"` + payloadMagic + `","size":` + strings.Repeat("9", 12) + `}`,
	} {
		if _, ok, err := ParsePayloadHeader([]byte(b)); ok || err == nil {
			t.Errorf("%s: ok %v, err %v; want an error", name, ok, err)
		}
	}
}
