#!/usr/bin/env bash
# CLI start time (BENCHMARKS.md, "CLI start"): hyperfine runs `--help`, `--version` and
# `validate` of the template with this checkout's bin/configserver and, when BEFORE names
# another checkout (built or run through tsx as it ships), with that one, in the same run.
# Usage: [BEFORE=/tmp/cs-before] bench/cliStart.sh [runs=20]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine is missing: apt-get install -y hyperfine" >&2; exit 2; }
runs=${1:-20}
template=$(mktemp -d)
table=$(mktemp)
trap 'rm -rf "$template" "$table"' EXIT
cp -r config-repo-template/. "$template"
args=()
for cmd in "--help" "--version" "validate $template"; do
  # Before this package, there was no --version.
  [[ -n "${BEFORE:-}" && "$cmd" != "--version" ]] && args+=(-n "before: $cmd" "node $BEFORE/bin/configserver $cmd")
  args+=(-n "after: $cmd" "node $PWD/bin/configserver $cmd")
done
args+=(-n "node -e 0 (floor)" "node -e 0")
hyperfine -N --warmup 3 --runs "$runs" --export-markdown "$table" "${args[@]}"
cat "$table"
