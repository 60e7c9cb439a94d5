// Package testfiles builds small, well-formed files of the formats
// vmimages reads (gzip streams, tarballs, ar archives, bzImages, vmlinux
// ELF files, arm64 Images) for the tests of vmimages and its internal packages.
package testfiles

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
)

// Gzip compresses b.
func Gzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	z := gzip.NewWriter(&out)
	z.Write(b)
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TarEntry is a tar header and the body that follows it.
type TarEntry struct {
	Header tar.Header
	Body   string
}

// Regular is a regular file of a tarball.
func Regular(name, body string) TarEntry {
	return TarEntry{tar.Header{Name: name, Typeflag: tar.TypeReg}, body}
}

// Tar is a tar archive of entries; a zero Mode means 0644.
func Tar(t testing.TB, entries ...TarEntry) []byte {
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

// Ar builds an ar archive of {name, content} members the way dpkg-deb
// lays a .deb out.
func Ar(members ...[2]string) []byte {
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, m := range members {
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", m[0]+"/", 0, 0, 0, "100644", len(m[1]))
		b.WriteString(m[1])
		if len(m[1])%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// BzImage lays out a bzImage by the x86 boot protocol: boot sector and
// setupSects setup sectors, then the protected-mode code, in which the
// payload sits at payloadOff. Only the setup header fields a reader of
// the payload and the version string needs are set.
func BzImage(setupSects byte, payloadOff int, payload []byte, version string) []byte {
	eff := int(setupSects)
	if eff == 0 {
		eff = 4
	}
	le := binary.LittleEndian
	img := make([]byte, (eff+1)*512+payloadOff+len(payload))
	img[0x1f1] = setupSects                         // setup_sects
	copy(img[0x202:], "HdrS")                       // header magic
	le.PutUint16(img[0x206:], 0x20f)                // boot protocol 2.15
	le.PutUint32(img[0x248:], uint32(payloadOff))   // payload_offset
	le.PutUint32(img[0x24c:], uint32(len(payload))) // payload_length
	// The version string lives in the setup code; its pointer is -0x200.
	le.PutUint16(img[0x20e:], 0x300-0x200) // kernel_version
	copy(img[0x300:], version+"\x00")
	copy(img[(eff+1)*512+payloadOff:], payload)
	return img
}

// Vmlinux is a small x86-64 ELF executable shaped like a vmlinux: a
// PT_NOTE segment with the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY, when
// pvh) and a .rodata section holding the kernel's banner.
func Vmlinux(release string, pvh bool) []byte {
	le := binary.LittleEndian
	noteType := uint32(18) // XEN_ELFNOTE_PHYS32_ENTRY
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

// Arm64Image is a small arm64 Image as Debian ships it: the 64-byte header
// (Documentation/arch/arm64/booting.rst) behind an EFI stub's "MZ", with
// the "ARM\x64" magic at 0x38, then code holding the kernel's banner after
// the format string printk uses.
func Arm64Image(release string) []byte {
	le := binary.LittleEndian
	img := make([]byte, 64, 4096)
	copy(img, "MZ")                     // the EFI stub's PE signature
	le.PutUint64(img[0x10:], 0x1e80000) // image_size
	le.PutUint64(img[0x18:], 0xa)       // flags: little-endian, 4K pages
	copy(img[0x38:], "ARM\x64")         // magic
	le.PutUint32(img[0x3c:], 0x40)      // PE header offset
	img = append(img, "PE\x00\x00"...)
	img = append(img, bytes.Repeat([]byte{0x1f, 0x20, 0x03, 0xd5}, 200)...) // nop
	img = append(img, "\x00Linux version %s (%s)\x00Linux version "+release+" (debian-kernel@lists.debian.org) #1 SMP\n\x00"...)
	return img
}
