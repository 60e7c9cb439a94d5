#!/usr/bin/env bash
# thirdparty-objects.sh DIR: puts into DIR the eBPF objects that other
# projects ship in Debian's packages, for `bpfmatrix run --object`: objects
# written and built by someone else, not for bpfmatrix.
#
#   libxdp1       every eBPF object it installs: the XDP dispatcher, the
#                 xdp-filter filters, xdpdump's XDP and fentry/fexit programs,
#                 the AF_XDP default program
#   libbpf-tools  the objects that vfsstat, klockstat, readahead and
#                 tcpconnlat embed as libbpf skeletons: fentry/fexit tracers
#                 with kprobe variants
#
# Debian ships no fentry/fexit tracer as a .o file: libbpf-tools compiles each
# tool's object into the binary (bpftool gen skeleton), byte for byte the ELF
# that libbpf opens at run time. The script cuts that ELF out of the binary:
# it starts at an ELF header whose e_machine is EM_BPF (247) and ends with its
# section header table (e_shoff + e_shnum * e_shentsize), which is where
# LLVM's and libbpf's linkers put it.
#
# The packages come from the machine's own apt sources (apt-get download:
# no root needed, but `apt-get update` must have run). One line per object on
# stdout: the object's path, its package and version, and where the package
# has it.
set -euo pipefail

die() { echo "thirdparty-objects: $*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: scripts/thirdparty-objects.sh DIR (the directory to put the objects in)"
out=$1
for tool in apt-get dpkg-deb od dd grep; do
  command -v "$tool" >/dev/null || die "missing $tool: this script needs Debian's apt and dpkg"
done

EM_BPF=247

# le FILE OFFSET SIZE prints the little-endian unsigned integer of SIZE bytes
# at OFFSET.
le() { od -An -t u"$3" -j "$2" -N "$3" "$1" | tr -d ' '; }

# is_bpf FILE: a 64-bit little-endian ELF for EM_BPF.
is_bpf() {
  [ "$(head -c 6 "$1" | od -An -t x1 | tr -d ' ')" = 7f454c460201 ] && [ "$(le "$1" 18 2)" = "$EM_BPF" ]
}

# embedded FILE DEST writes the one EM_BPF ELF embedded in FILE to DEST.
embedded() {
  local offsets off found=0
  offsets=$(LC_ALL=C grep -obUaP '\x7fELF\x02\x01\x01' "$1" | cut -d: -f1)
  for off in $offsets; do
    [ "$(le "$1" $((off + 18)) 2)" = "$EM_BPF" ] || continue
    [ $found -eq 0 ] || die "$1 embeds more than one eBPF object: expected one skeleton"
    local shoff shentsize shnum
    shoff=$(le "$1" $((off + 40)) 8)
    shentsize=$(le "$1" $((off + 58)) 2)
    shnum=$(le "$1" $((off + 60)) 2)
    dd if="$1" of="$2" iflag=skip_bytes,count_bytes skip="$off" count=$((shoff + shnum * shentsize)) bs=64K status=none
    found=1
  done
  [ $found -eq 1 ] || die "$1 embeds no eBPF object: expected a libbpf skeleton"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fetch PKG downloads and unpacks PKG into $tmp/PKG and sets version.
fetch() {
  if ! (cd "$tmp" && apt-get download -q "$1") >"$tmp/$1.log" 2>&1; then
    die "apt-get download $1 failed ($(grep -m1 '^E:' "$tmp/$1.log" || tail -n1 "$tmp/$1.log")): it is in Debian 12 (bookworm) and newer; run apt-get update"
  fi
  local deb
  deb=$(echo "$tmp/$1"_*.deb)
  version=$(dpkg-deb -f "$deb" Version)
  dpkg-deb -x "$deb" "$tmp/$1"
}

mkdir -p "$out/libxdp1" "$out/libbpf-tools"

fetch libxdp1
n=0
while IFS= read -r -d '' f; do
  is_bpf "$f" || continue
  cp "$f" "$out/libxdp1/"
  echo "$out/libxdp1/$(basename "$f") libxdp1 $version /${f#"$tmp/libxdp1/"}"
  n=$((n + 1))
done < <(find "$tmp/libxdp1" -type f -name '*.o' -print0 | sort -z)
[ $n -gt 0 ] || die "libxdp1 $version installs no eBPF object: expected them under /usr/lib/<arch>/bpf"

fetch libbpf-tools
for tool in vfsstat klockstat readahead tcpconnlat; do
  bin=$tmp/libbpf-tools/usr/sbin/$tool
  [ -f "$bin" ] || die "libbpf-tools $version has no /usr/sbin/$tool"
  embedded "$bin" "$out/libbpf-tools/$tool.bpf.o"
  echo "$out/libbpf-tools/$tool.bpf.o libbpf-tools $version /usr/sbin/$tool (embedded skeleton)"
done
