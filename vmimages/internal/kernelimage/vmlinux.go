package kernelimage

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
)

// IsELF reports whether path starts with the ELF magic.
func IsELF(path string) bool { return checkELF(path) == nil }

// checkELF fails unless path starts with the ELF magic.
func checkELF(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil || string(magic) != "\x7fELF" {
		return fmt.Errorf("%s is not an ELF file (starts with % x)", path, magic)
	}
	return nil
}

// xenElfnotePhys32Entry is XEN_ELFNOTE_PHYS32_ENTRY: the ELF note of a
// vmlinux built with CONFIG_PVH, whose entry qemu's -kernel boots.
const xenElfnotePhys32Entry = 18

// CheckVmlinux checks that path is an x86-64 ELF vmlinux qemu can boot and
// returns its release, from the "Linux version" banner.
func CheckVmlinux(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("ELF vmlinux: %w", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		return "", fmt.Errorf("ELF %s for %s: want an x86-64 executable (a linked vmlinux)", f.Type, f.Machine)
	}
	if !hasNote(f, "Xen", xenElfnotePhys32Entry) {
		return "", errors.New("ELF vmlinux has no PVH entry note, which qemu boots it by: build it with CONFIG_PVH=y, or give its bzImage")
	}
	release, err := elfRelease(f)
	if err != nil {
		return "", fmt.Errorf("ELF vmlinux: %w", err)
	}
	return release, nil
}

// hasNote reports whether a PT_NOTE segment of f holds a note of that
// owner and type (elf(5): namesz, descsz, type, then name and desc, each
// padded to 4 bytes).
func hasNote(f *elf.File, owner string, typ uint32) bool {
	pad := func(n uint32) uint64 { return (uint64(n) + 3) &^ 3 }
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		b, err := io.ReadAll(p.Open())
		if err != nil {
			return false
		}
		for len(b) >= 12 {
			namesz, descsz, t := f.ByteOrder.Uint32(b), f.ByteOrder.Uint32(b[4:]), f.ByteOrder.Uint32(b[8:])
			b = b[12:]
			if uint64(len(b)) < pad(namesz)+pad(descsz) {
				break
			}
			if t == typ && string(bytes.TrimRight(b[:namesz], "\x00")) == owner {
				return true
			}
			b = b[pad(namesz)+pad(descsz):]
		}
	}
	return false
}

// elfRelease returns the release from the kernel's banner, "Linux version
// 6.1.0-57-cloud-amd64 (debian-kernel@…) …", in f's read-only data.
func elfRelease(f *elf.File) (string, error) {
	for _, s := range f.Sections {
		if s.Type != elf.SHT_PROGBITS || s.Flags&elf.SHF_ALLOC == 0 || s.Flags&elf.SHF_EXECINSTR != 0 {
			continue
		}
		b, err := s.Data()
		if err != nil {
			return "", fmt.Errorf("section %s: %w", s.Name, err)
		}
		if release := bannerRelease(b); release != "" {
			return release, nil
		}
	}
	return "", errors.New(`no "Linux version" banner in its data`)
}
