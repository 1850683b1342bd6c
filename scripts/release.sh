#!/bin/sh
# scripts/release.sh VERSION (make release VERSION=x.y.z): the versioned source tarball
# build/release/claude-proxy-VERSION.tar.gz and its checksum in the committed Homebrew formula
# (packaging/homebrew/claude-proxy.rb), from a clean tree whose CMakeLists.txt says VERSION.
# Then commit the formula, tag vVERSION and attach the tarball to that GitHub release.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 VERSION (x.y.z, the version in CMakeLists.txt)" >&2; exit 2; }
exec "$(dirname "$0")/brew-formula.sh" --release "$1"
