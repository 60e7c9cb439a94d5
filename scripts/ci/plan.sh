#!/usr/bin/env bash
# Builds bpfmatrix and resolves the kernel catalog against the Debian mirror
# (BPFMATRIX_DEBIAN_MIRROR, else the runner's apt configuration), for a
# workflow's later steps and jobs. Outputs ($GITHUB_OUTPUT):
#   bin        the built bpfmatrix
#   kernels    the catalog of both lanes, amd64 and arm64, as one line of
#              JSON (`kernels list --json` of each): a matrix job's include
#              list
#   cache-key  a key of the kernel cache that changes with any resolved
#              package version, so a new kernel build is fetched and verified
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
make -C "$here" --no-print-directory build >&2
bin=$here/bin/bpfmatrix
# The mirror's arm64 pool lacks builds its index lists: that lane alone
# falls back to the newest served one (docs/facts.md#arm64-kernels).
amd64=$("$bin" kernels list --json --arch amd64)
arm64=$(BPFMATRIX_ALLOW_FALLBACK=${BPFMATRIX_ALLOW_FALLBACK:-arm64} "$bin" kernels list --json --arch arm64)
kernels="${amd64%]},${arm64#[}"
key=bpfmatrix-kernels-${RUNNER_OS:-Linux}-$(printf '%s' "$kernels" | sha256sum | cut -c1-16)
{
  echo "bin=$bin"
  echo "kernels=$kernels"
  echo "cache-key=$key"
} >>"${GITHUB_OUTPUT:?}"
echo "plan: $(printf '%s' "$kernels" | grep -o '"kernel":"[^"]*"' | cut -d'"' -f4 | paste -sd' ') (cache key $key)" >&2
