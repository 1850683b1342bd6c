#!/bin/sh
# Puts the figures of the last `make bench` (bench/out/summary.md, written by bench/run.sh) into
# README.md between the bench-figures markers, so that a new run replaces figures, not prose.
#   bench/readme-figures.sh [summary.md]
set -eu
cd "$(dirname "$0")/.."
SUMMARY=${1:-bench/out/summary.md}
[ -f "$SUMMARY" ] || { echo "no $SUMMARY: run make bench first" >&2; exit 1; }
grep -q '<!-- bench-figures:begin' README.md && grep -q '<!-- bench-figures:end' README.md ||
    { echo "README.md has no bench-figures markers" >&2; exit 1; }
awk -v f="$SUMMARY" '
/<!-- bench-figures:begin/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
/<!-- bench-figures:end/ { skip = 0 }
!skip { print }' README.md >README.md.tmp
mv README.md.tmp README.md
