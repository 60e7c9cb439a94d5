#!/usr/bin/env bash
# merge.sh IN SITE: the matrix workflow's final job. Merges every
# report.json under IN into SITE/report.json, renders SITE/index.html and
# SITE/summary.md (against the last published report at $BASELINE_URL, when
# there is one), appends the summary to the job summary and says the verdict
# in $GITHUB_OUTPUT: pass, or unexpected / regression / error, which the
# workflow turns into a failed job after the site is uploaded.
set -uo pipefail
[ $# -eq 2 ] || { echo "usage: scripts/ci/merge.sh IN SITE" >&2; exit 2; }
in=$1 site=$2
here=$(cd "$(dirname "$0")/../.." && pwd)
make -C "$here" --no-print-directory build || exit 2
bin=$here/bin/bpfmatrix
mapfile -t inputs < <(find "$in" -name report.json | sort)
if [ ${#inputs[@]} -eq 0 ]; then
  echo "merge: no report.json under $in" >&2
  echo "rendered=false" >>"${GITHUB_OUTPUT:?}"; echo "verdict=error" >>"$GITHUB_OUTPUT"
  exit 0
fi
mkdir -p "$site"
render=(report render "${inputs[@]}" --out "$site")
diffed=0
baseline=${RUNNER_TEMP:-/tmp}/bpfmatrix-baseline.json
if [ -n "${BASELINE_URL:-}" ] && curl -fsSL --retry 3 -o "$baseline" "$BASELINE_URL"; then
  render+=(--baseline "$baseline")
else
  baseline=
  echo "merge: no published report to diff against (first run?)" >&2
fi
"$bin" "${render[@]}"
rendered=$?
if [ -n "$baseline" ] && [ $rendered -eq 0 ]; then
  "$bin" report diff "$baseline" "$site/report.json"
  diffed=$?
fi
unexpected=0
if [ $rendered -eq 0 ]; then
  "$bin" report check "$site/report.json"
  unexpected=$?
fi
verdict=pass
if [ $rendered -ne 0 ] || [ $diffed -gt 1 ] || [ $unexpected -gt 1 ]; then
  verdict=error
elif [ $unexpected -eq 1 ]; then
  verdict=unexpected
elif [ $diffed -eq 1 ]; then
  verdict=regression
fi
[ -f "$site/summary.md" ] && cat "$site/summary.md" >>"${GITHUB_STEP_SUMMARY:?}"
{
  echo "rendered=$([ $rendered -eq 0 ] && echo true || echo false)"
  echo "verdict=$verdict"
} >>"${GITHUB_OUTPUT:?}"
echo "merge: ${#inputs[@]} reports, verdict $verdict" >&2
