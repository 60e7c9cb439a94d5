package debian

import (
	"reflect"
	"strings"
	"testing"
)

const packagesText = `Package: linux-image-7.2.13+deb14-cloud-amd64
Version: 7.2.13-1
Depends: dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, linux-base-7.2.13+deb14-cloud-amd64 (= 7.2.13-1), linux-binary-7.2.13+deb14-cloud-amd64 (= 7.2.13-1), linux-modules-7.2.13+deb14-cloud-amd64 (= 7.2.13-1)
Description: Linux 7.2.13 for x86-64 cloud
 A second line.
Filename: pool/main/l/linux-signed-amd64/linux-image-7.2.13+deb14-cloud-amd64_7.2.13-1_amd64.deb
Size: 1916
SHA256: 100ec8efc7e14271719aee6e50424ad2f92c5573723bb33134c391c4f4fe5b7b

Package: zsh
Version: 5.9-4
Filename: pool/main/z/zsh/zsh_5.9-4_amd64.deb
Size: 1
SHA256: 0000000000000000000000000000000000000000000000000000000000000000

Package: linux-binary-7.2.13+deb14-cloud-amd64
Version: 7.2.13-1
Filename: pool/main/l/linux/linux-binary-7.2.13+deb14-cloud-amd64_7.2.13-1_amd64.deb
Size: 14000000
SHA256: 1111111111111111111111111111111111111111111111111111111111111111
`

func TestParsePackages(t *testing.T) {
	got, err := ParsePackages(strings.NewReader(packagesText), func(n string) bool { return strings.HasPrefix(n, "linux-") })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("kept %d packages, want the 2 linux-* ones", len(got))
	}
	p := got[0]
	if p.Name != "linux-image-7.2.13+deb14-cloud-amd64" || p.Version != "7.2.13-1" || p.Size != 1916 ||
		!strings.HasPrefix(p.Filename, "pool/main/l/") || p.SHA256[:4] != "100e" {
		t.Errorf("first entry: %+v", p)
	}
	wantDeps := []string{"dracut", "initramfs-tools", "linux-initramfs-tool", "linux-base-7.2.13+deb14-cloud-amd64",
		"linux-binary-7.2.13+deb14-cloud-amd64", "linux-modules-7.2.13+deb14-cloud-amd64"}
	if !reflect.DeepEqual(p.Depends, wantDeps) {
		t.Errorf("Depends = %q, want %q", p.Depends, wantDeps)
	}
	if _, err := ParsePackages(strings.NewReader("Package: linux-x\nVersion: 1\n"), func(string) bool { return true }); err == nil {
		t.Error("an entry without Filename/SHA256 parsed")
	}
}

func TestParseRelease(t *testing.T) {
	const in = `Origin: Debian
Suite: unstable
Codename: sid
Date: Fri, 30 Oct 2026 08:08:01 UTC
Valid-Until: Fri, 06 Nov 2026 08:08:01 UTC
Acquire-By-Hash: yes
MD5Sum:
 d70654e4ff73403c5076a564041f1484 10824484 main/binary-amd64/Packages.xz
SHA256:
 db5df6f8c6ff9c8e2e90907c9c7bd55512715433e978d3b94600842e74c3d31b 64988655 main/binary-amd64/Packages
 28476c952cd0732e0ba28e3c14fbb9a8beb412eb2b3cb96bf9d067d54caacf1b 10824484 main/binary-amd64/Packages.xz
`
	rel, err := ParseRelease(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Hash{SHA256: "28476c952cd0732e0ba28e3c14fbb9a8beb412eb2b3cb96bf9d067d54caacf1b", Size: 10824484}
	if rel.Codename != "sid" || !rel.AcquireByHash || rel.SHA256["main/binary-amd64/Packages.xz"] != want || len(rel.SHA256) != 2 {
		t.Errorf("got %+v", rel)
	}
	if _, err := ParseRelease(strings.NewReader("Codename: sid\n")); err == nil {
		t.Error("a Release without SHA256 parsed")
	}
}
