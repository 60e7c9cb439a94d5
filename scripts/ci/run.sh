#!/usr/bin/env bash
# run.sh KERNEL TARGET OUT [ARCH]: one job of the matrix workflow. Runs the suites
# on one kernel and target and leaves OUT/report.json for the merge job,
# which judges it: unexpected cells (exit 1) do not fail this job, so its
# report is always uploaded; bad input or a harness failure (exit 2 and up)
# does.
set -uo pipefail
[ $# -eq 3 ] || [ $# -eq 4 ] || { echo "usage: scripts/ci/run.sh KERNEL TARGET OUT [ARCH]" >&2; exit 2; }
kernel=$1 target=$2 out=$3 lane=${4:-amd64}
here=$(cd "$(dirname "$0")/../.." && pwd)
args=(--kernel "$kernel" --arch "$lane")
if [ "$lane" = arm64 ]; then
  export BPFMATRIX_ALLOW_FALLBACK=${BPFMATRIX_ALLOW_FALLBACK:-arm64}
fi
case $target in
  vm|host) ;;
  *) args+=(--target "$target") ;;
esac
make -C "$here" --no-print-directory build
"$here/bin/bpfmatrix" run "${args[@]}" --check || exit $?
scripts=("$here/scripts/deps.sh" parity)
case $target in
  vm) scripts+=(vm); [ "$lane" = arm64 ] && scripts+=(vm-arm64) ;;
  containers|container/*) scripts+=(containers) ;;
esac
"${scripts[@]}" || exit $?
"$here/bin/bpfmatrix" run "${args[@]}" --module "$here" --out "$out"
code=$?
echo "bpfmatrix run ${args[*]}: exit $code" >&2
[ "$code" -le 1 ]
