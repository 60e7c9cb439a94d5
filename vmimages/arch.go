package vmimages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/kernelimage"
)

// Arches are the Debian architectures Options.Arch accepts, the default
// first.
var Arches = []string{"amd64", "arm64"}

// archKernel is what differs between the architectures in the kernel file
// itself: how to make of the kernel as packaged the file qemu's -kernel
// boots, and what a custom kernel may be. Everything else differs only by
// the architecture's name in Debian's names (binary-arm64/Packages,
// linux-image-…-cloud-arm64), which includes the cache's entries.
type archKernel struct {
	// boot names the file extracted for qemu in a cache entry.
	boot string
	// extract writes the bootable kernel of img, the kernel as packaged
	// (read from src), to dst; it returns false, writing nothing, when img
	// boots as it is.
	extract func(ctx context.Context, img []byte, src, dst string, log io.Writer) (bool, error)
	// candidates are where a custom kernel directory may hold its kernel,
	// best first: what "make install" writes, then a build tree's outputs.
	candidates []string
	// forms says what the path of a custom kernel may name.
	forms string
}

var archKernels = map[string]archKernel{
	// qemu enters the ELF vmlinux through its PVH note, skipping the ~3 s
	// an XZ kernel spends decompressing itself under TCG (docs/facts.md#boot-pvh).
	"amd64": {
		boot: "vmlinux",
		extract: func(ctx context.Context, img []byte, src, dst string, log io.Writer) (bool, error) {
			return true, kernelimage.ExtractVmlinux(ctx, img, src, dst, log)
		},
		candidates: []string{"bzImage", "vmlinuz", "vmlinuz-*", "arch/x86/boot/bzImage", "vmlinux"},
		forms:      "a bzImage, an x86-64 ELF vmlinux, or a directory holding one with its config and lib/modules/<release>",
	},
	// Debian's arm64 vmlinuz is an uncompressed Image, which -kernel boots
	// as is (docs/facts.md#arm64-kernels); a build tree's Image.gz is
	// decompressed like a bzImage's payload.
	"arm64": {
		boot: "Image",
		extract: func(ctx context.Context, img []byte, src, dst string, _ io.Writer) (bool, error) {
			if !kernelimage.IsCompressedArm64(img) {
				_, err := kernelimage.CheckArm64Image(ctx, img)
				if err != nil {
					err = fmt.Errorf("%s: %w", src, err)
				}
				return false, err
			}
			return true, kernelimage.ExtractArm64Image(ctx, img, src, dst)
		},
		candidates: []string{"Image", "Image.gz", "vmlinuz", "vmlinuz-*", "arch/arm64/boot/Image", "arch/arm64/boot/Image.gz"},
		forms:      "an arm64 Image (or Image.gz), or a directory holding one with its config and lib/modules/<release>",
	},
}

// checkArch fails unless arch is one of Arches.
func checkArch(arch string) error {
	if !slices.Contains(Arches, arch) {
		return fmt.Errorf("arch %q: want %s", arch, strings.Join(Arches, " or "))
	}
	return nil
}

// wrongArch fails when img, a kernel file, is for another architecture
// than want, naming both: one line for a kernel given with the wrong arch.
func wrongArch(img []byte, want string) error {
	got := kernelimage.Arch(img)
	if got == "" || got == want {
		return nil
	}
	return fmt.Errorf("a kernel for %s, not %s: ask for arch %s, or give %s", got, want, got, archKernels[want].forms)
}

// checkCustomImage checks the kernel file at path, of content img (only
// its start for an ELF file, which is read from path), for arch and returns
// its release and whether img must be extracted before it boots.
func checkCustomImage(ctx context.Context, arch, path string, img []byte) (release string, extract bool, err error) {
	if err := wrongArch(img, arch); err != nil {
		return "", false, err
	}
	isELF := kernelimage.IsELF(path)
	switch {
	case arch == "amd64" && isELF:
		release, err = kernelimage.CheckVmlinux(path)
		return release, false, err
	case arch == "amd64" && kernelimage.IsBzImage(img):
		release, err = kernelimage.CheckBzImage(img)
		return release, true, err
	case arch == "arm64" && isELF:
		return "", false, errors.New("an ELF vmlinux, which qemu does not boot on arm64: give its arch/arm64/boot/Image or Image.gz")
	case arch == "arm64" && kernelimage.Arch(img) == "arm64":
		release, err = kernelimage.CheckArm64Image(ctx, img)
		return release, kernelimage.IsCompressedArm64(img), err
	}
	what := map[string]string{"amd64": `a bzImage ("HdrS" boot header at 0x202) nor an ELF vmlinux`, "arm64": `an arm64 Image ("ARM\x64" at 0x38) nor a gzip-compressed one`}[arch]
	return "", false, fmt.Errorf("starts with %q: neither %s; want %s", img[:min(len(img), 8)], what, archKernels[arch].forms)
}

// readKernelFile returns the content of the kernel file at path, or only
// its first 64 KiB for an ELF file, whose checks read it from path (an ELF
// vmlinux with debug info is hundreds of MB).
func readKernelFile(path string) ([]byte, error) {
	if kernelimage.IsELF(path) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		head := make([]byte, 64<<10)
		n, _ := f.Read(head)
		return head[:n], nil
	}
	return os.ReadFile(path)
}
