#!/usr/bin/env bash
# deps.sh GROUP...: make sure the tools a make target needs are installed.
# The table of tools and groups, and the installer (apt-get as root on
# Debian/Ubuntu, else one line saying what to install), are the Go package
# internal/tools; this script only makes sure there is a Go to run it with.
set -euo pipefail

if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  echo "deps: go is at /usr/local/go/bin/go but not on PATH: export PATH=\$PATH:/usr/local/go/bin" >&2
  exit 2
fi
command -v go >/dev/null || { echo "deps: missing go (1.24 or newer): install it from https://go.dev/dl/" >&2; exit 2; }

cd "$(dirname "$0")/.."
# Built, not run with go run, which turns every failure into exit status 1.
go build -o bin/deps ./internal/tools/cmd/deps
exec bin/deps "$@"
