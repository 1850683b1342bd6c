#!/bin/sh
# Puts the figures of the last `make bench` (bench/out/summary.md, written by bench/run.sh) into
# docs/benchmarks.md between the bench-figures markers, so that a new run replaces figures, not prose.
#   bench/docs-figures.sh [summary.md]
set -eu
cd "$(dirname "$0")/.."
SUMMARY=${1:-bench/out/summary.md}
PAGE=docs/benchmarks.md
[ -f "$SUMMARY" ] || { echo "no $SUMMARY: run make bench first" >&2; exit 1; }
grep -q '<!-- bench-figures:begin' "$PAGE" && grep -q '<!-- bench-figures:end' "$PAGE" ||
    { echo "$PAGE has no bench-figures markers" >&2; exit 1; }
awk -v f="$SUMMARY" '
/<!-- bench-figures:begin/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
/<!-- bench-figures:end/ { skip = 0 }
!skip { print }' "$PAGE" >"$PAGE.tmp"
mv "$PAGE.tmp" "$PAGE"
