package usertarget

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"runtime"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/internal/arch"
)

// machines are the ELF machines of the architectures, and nops their
// nop instruction: what a USDT probe's address must hold.
var (
	machines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	nops     = map[string][]byte{"amd64": {0x90}, "arm64": binary.LittleEndian.AppendUint32(nil, 0xd503201f)}
)

// TestBundledTargets reads the committed target of every architecture, so
// the host's test covers the ones it cannot run: each must be a static
// executable for its machine with Func, and its bpfmatrix:tick probe must
// point at a nop and its semaphore into .probes.
func TestBundledTargets(t *testing.T) {
	for _, a := range arch.All {
		t.Run(a.Name, func(t *testing.T) {
			path := "testdata/target-" + a.Name
			f, err := elf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if want, ok := machines[a.Name]; !ok || f.Machine != want {
				t.Errorf("%s is for %s, want %s", path, f.Machine, want)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
					t.Errorf("%s has a %s segment: it must be static, a VM guest has no C library", path, p.Type)
				}
			}
			if _, err := symbolOffset(path, Func); err != nil {
				t.Error(err)
			}

			p, err := findUSDT(path, "bpfmatrix", "tick")
			if err != nil {
				t.Fatal(err)
			}
			if p.Offset == 0 || p.SemaphoreOffset == 0 {
				t.Fatalf("probe %+v: want a probe offset and a semaphore offset", p)
			}
			image, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if nop := nops[a.Name]; !bytes.HasPrefix(image[p.Offset:], nop) {
				t.Errorf("the probe's file offset %#x holds % x, want the nop % x", p.Offset, image[p.Offset:p.Offset+4], nop)
			}
			// The semaphore lives in .probes; its file offset must fall inside it.
			probes := f.Section(".probes")
			if probes == nil {
				t.Fatal("target has no .probes section")
			}
			if p.SemaphoreOffset < probes.Offset || p.SemaphoreOffset >= probes.Offset+probes.Size {
				t.Errorf("semaphore offset %#x is outside .probes [%#x, %#x)", p.SemaphoreOffset, probes.Offset, probes.Offset+probes.Size)
			}
			if _, err := findUSDT(path, "bpfmatrix", "nope"); err == nil {
				t.Error("a missing probe must be an error")
			}
		})
	}
}

// TestEmbedsTheTargetOfItsArch checks that the suite binary carries the
// target built for its own GOARCH.
func TestEmbedsTheTargetOfItsArch(t *testing.T) {
	want, err := os.ReadFile("testdata/target-" + runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	path, err := Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
		t.Errorf("Write wrote %d bytes (%v), want testdata/target-%s's %d", len(got), err, runtime.GOARCH, len(want))
	}
}
