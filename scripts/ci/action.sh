#!/usr/bin/env bash
# The body of the bpfmatrix GitHub Action (action.yml): runs bpfmatrix on
# the caller's objects, writes the job summary, sets the outputs and fails
# on unexpected cells or regressions against a baseline. It reads the
# action's inputs from the environment, so that it runs the same way outside
# GitHub (the test in cmd/bpfmatrix simulates an Actions runner):
#
#   INPUT_KERNELS   kernels to run (default 6.1): 5.10,6.1,host,...
#   INPUT_TARGETS   targets beside the kernels' own (vm, host): containers, bpf-token, ...
#   INPUT_OBJECTS   a glob of the objects to prove ("" proves the catalog)
#   INPUT_MANIFEST  the objects' manifest (default: bpfmatrix.json beside them)
#   INPUT_BASELINE  a report.json (a path or an http(s) URL) to diff against
#   BPFMATRIX_BIN   a built bpfmatrix (default: build it from the action's tree)
#
# and GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, RUNNER_TEMP as the runner sets them.
# Outputs: report (the report.json path), summary, verdict (pass, unexpected,
# regression or error).
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
out=${RUNNER_TEMP:?}/bpfmatrix
bin=${BPFMATRIX_BIN:-}
if [ -z "$bin" ]; then
  make -C "$here" --no-print-directory build >&2 || exit 2
  bin=$here/bin/bpfmatrix
fi

args=(run --kernel "${INPUT_KERNELS:-6.1}" --module "$here" --out "$out")
[ -n "${INPUT_TARGETS:-}" ] && args+=(--target "$INPUT_TARGETS")
if [ -n "${INPUT_OBJECTS:-}" ]; then
  shopt -s nullglob
  # shellcheck disable=SC2206 # the input is a glob, expanded here
  objects=($INPUT_OBJECTS)
  shopt -u nullglob
  if [ ${#objects[@]} -eq 0 ]; then
    echo "bpfmatrix action: objects input ${INPUT_OBJECTS@Q} matches no file" >&2
    echo "verdict=error" >>"${GITHUB_OUTPUT:?}"
    exit 2
  fi
  for o in "${objects[@]}"; do args+=(--object "$o"); done
fi
[ -n "${INPUT_MANIFEST:-}" ] && args+=(--manifest "$INPUT_MANIFEST")

"$bin" "${args[@]}"
run=$?

render=(report render "$out/report.json" --out "$out")
diffed=0
if [ -n "${INPUT_BASELINE:-}" ] && [ -f "$out/report.json" ]; then
  baseline=$INPUT_BASELINE
  case $baseline in
    http://*|https://*)
      baseline=$RUNNER_TEMP/bpfmatrix-baseline.json
      if ! curl -fsSL --retry 3 -o "$baseline" "$INPUT_BASELINE"; then
        echo "bpfmatrix action: cannot download the baseline $INPUT_BASELINE" >&2
        baseline=
      fi
      ;;
  esac
  if [ -n "$baseline" ]; then
    render+=(--baseline "$baseline")
    "$bin" report diff "$baseline" "$out/report.json" >"$out/diff.txt"
    diffed=$?
    cat "$out/diff.txt"
  fi
fi
[ -f "$out/report.json" ] && "$bin" "${render[@]}"

verdict=pass
case $run in
  0) ;;
  1) verdict=unexpected ;;
  *) verdict=error ;;
esac
case $diffed in
  0) ;;
  1) [ "$verdict" = pass ] && verdict=regression ;;
  *) verdict=error ;;
esac
if [ -f "$out/summary.md" ]; then
  cat "$out/summary.md" >>"${GITHUB_STEP_SUMMARY:?}"
else
  echo "bpfmatrix: no report (exit $run); see the step's log" >>"${GITHUB_STEP_SUMMARY:?}"
fi
{
  echo "report=$out/report.json"
  echo "summary=$out/summary.md"
  echo "verdict=$verdict"
} >>"${GITHUB_OUTPUT:?}"
echo "bpfmatrix: verdict $verdict (run exit $run, diff exit $diffed)" >&2
[ "$verdict" = pass ]
