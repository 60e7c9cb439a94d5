package usertarget

import (
	"debug/elf"
	"testing"
)

// TestFindUSDTInBundledTarget reads the real target binary that the suite
// embeds: its bpfmatrix:tick probe and semaphore must map into the file.
func TestFindUSDTInBundledTarget(t *testing.T) {
	path, err := Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := findUSDT(path, "bpfmatrix", "tick")
	if err != nil {
		t.Fatal(err)
	}
	if p.Offset == 0 || p.SemaphoreOffset == 0 {
		t.Fatalf("probe %+v: want a probe offset and a semaphore offset", p)
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
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
}
