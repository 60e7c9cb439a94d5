#!/usr/bin/env bash
# deps.sh GROUP...: make sure the tools a make target needs are installed.
# As root on Debian/Ubuntu it installs what is missing with apt-get; anywhere
# else it stops with one line saying what to install.
#
# Groups: build (go), generate (clang, libbpf headers, sdt.h), vm (qemu, xz,
# zstd, lz4, gpgv, Debian's archive keyring), parity (bpftool), browser
# (chromium), containers (podman, runc), signing (gpg: the fetcher's tests sign
# a local mirror with a throwaway key).
set -euo pipefail

declare -A check=(
  [go]="command -v go"
  [clang]="command -v clang"
  [llvm]="command -v llvm-strip"
  [libbpf-dev]="test -e /usr/include/bpf/bpf_helpers.h"
  [systemtap-sdt-dev]="test -e /usr/include/x86_64-linux-gnu/sys/sdt.h -o -e /usr/include/sys/sdt.h"
  [libc6-dev]="test -e /usr/lib/x86_64-linux-gnu/libc.a"
  [qemu-system-x86]="command -v qemu-system-x86_64"
  [xz-utils]="command -v xz"
  [zstd]="command -v zstd"
  [lz4]="command -v lz4"
  [gpgv]="command -v gpgv"
  [debian-archive-keyring]="test -e /usr/share/keyrings/debian-archive-keyring.gpg"
  [bpftool]="command -v bpftool || test -x /usr/sbin/bpftool"
  [chromium]="command -v chromium"
  [podman]="command -v podman"
  [runc]="command -v runc || test -x /usr/sbin/runc"
  [gnupg]="command -v gpg"
)
declare -A group=(
  [build]=""
  [generate]="clang llvm libbpf-dev systemtap-sdt-dev libc6-dev"
  [vm]="qemu-system-x86 xz-utils zstd lz4 gpgv debian-archive-keyring"
  [parity]="bpftool"
  [browser]="chromium"
  [containers]="podman runc"
  [signing]="gnupg"
)

if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  echo "deps: go is at /usr/local/go/bin/go but not on PATH: export PATH=\$PATH:/usr/local/go/bin" >&2
  exit 2
fi
command -v go >/dev/null || { echo "deps: missing go (1.24 or newer): install it from https://go.dev/dl/" >&2; exit 2; }

missing=()
for g in "$@"; do
  [ -n "${group[$g]+x}" ] || { echo "deps: unknown group $g (known: ${!group[*]})" >&2; exit 2; }
  for pkg in ${group[$g]}; do
    sh -c "${check[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
  done
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  # With recommends, as measured: podman needs netavark and catatonit from them.
  apt-get install -y -q "${missing[@]}" >&2
  exit 0
fi
echo "deps: missing ${missing[*]}: run as root: apt-get install ${missing[*]}" >&2
exit 2
