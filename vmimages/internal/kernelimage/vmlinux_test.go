package kernelimage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/testfiles"
)

func TestCheckVmlinux(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name  string
		data  []byte
		error string // "" for a vmlinux qemu boots
	}{
		{"pvh", testfiles.Vmlinux("6.1.0-57-cloud-amd64", true), ""},
		{"no pvh note", testfiles.Vmlinux("6.1.0-57-cloud-amd64", false), "no PVH entry note"},
		{"not ELF", []byte(strings.Repeat("#!/bin/sh\n", 10)), "ELF vmlinux: bad magic number"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			if err := os.WriteFile(p, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			release, err := CheckVmlinux(p)
			if IsELF(p) != (tt.name != "not ELF") {
				t.Errorf("IsELF = %v", IsELF(p))
			}
			if tt.error != "" {
				if err == nil || !strings.Contains(err.Error(), tt.error) {
					t.Errorf("error %v, want one containing %q", err, tt.error)
				}
				return
			}
			if err != nil || release != "6.1.0-57-cloud-amd64" {
				t.Errorf("release %q, %v; want the banner's 6.1.0-57-cloud-amd64, not the format string before it", release, err)
			}
		})
	}
}

func TestCheckBzImage(t *testing.T) {
	payload := testfiles.Gzip(t, []byte("\x7fELF"))
	for _, tt := range []struct {
		name    string
		img     []byte
		release string
		error   string
	}{
		{"good", testfiles.BzImage(27, 0x100, payload, "7.2.13 (x) #1"), "7.2.13", ""},
		{"no version string", testfiles.BzImage(27, 0x100, payload, ""), "", "no kernel version string"},
		{"truncated", testfiles.BzImage(27, 0x100, payload, "7.2.13")[:28*512+0x100+4], "", "truncated"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !IsBzImage(tt.img) {
				t.Fatal("IsBzImage = false")
			}
			release, err := CheckBzImage(tt.img)
			if release != tt.release || (err == nil) != (tt.error == "") || err != nil && !strings.Contains(err.Error(), tt.error) {
				t.Errorf("CheckBzImage = %q, %v; want %q, error %q", release, err, tt.release, tt.error)
			}
		})
	}
	if IsBzImage([]byte("MZ")) || IsBzImage(make([]byte, 4096)) {
		t.Error("IsBzImage accepts a file without the HdrS magic")
	}
}
