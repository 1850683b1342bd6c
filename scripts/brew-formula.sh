#!/bin/sh
# Writes Homebrew formulas from packaging/homebrew/claude-proxy.rb.in, the one template.
#
#   scripts/brew-formula.sh [--dirty]     a formula for this clone (make brew-formula [DIRTY=1]):
#       build/homebrew/claude-proxy-<version>-<commit>.tar.gz, `git archive` of HEAD (with --dirty:
#       of HEAD plus the work tree's changes to tracked files; untracked files never go in), and
#       build/homebrew/claude-proxy.rb, whose url is that tarball (file://) and sha256 its own.
#   scripts/brew-formula.sh --release VERSION     (scripts/release.sh, make release VERSION=...)
#       build/release/claude-proxy-VERSION.tar.gz, the tarball to attach to the GitHub release
#       vVERSION, and packaging/homebrew/claude-proxy.rb rewritten with its URL and checksum.
#   scripts/brew-formula.sh --verify FORMULA     exit 0 when FORMULA is the template written with
#       the version, url and sha256 it holds, and carries no placeholder unless it is the
#       committed formula of a tree that was never released.
set -eu
cd "$(dirname "$0")/.."
TEMPLATE=packaging/homebrew/claude-proxy.rb.in
COMMITTED=packaging/homebrew/claude-proxy.rb
RELEASE_URL=https://github.com/claude-proxy/claude-proxy/releases/download
UNRELEASED_FIRST_LINE="# Not released yet. To install from a clone: make brew-formula, then brew install --build-from-source ./build/homebrew/claude-proxy.rb"
UNRELEASED_SHA=0000000000000000000000000000000000000000000000000000000000000000

die() { echo "brew-formula: $*" >&2; exit 1; }

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# render FIRST_LINE VERSION URL SHA256 OUT: the template with its four fields filled
render() {
    tmp="$5.tmp.$$"
    # the values hold no '|' (a version, a checksum, a URL or path built here, a fixed comment)
    sed -e "s|@FIRST_LINE@|$1|" -e "s|@VERSION@|$2|" -e "s|@URL@|$3|" -e "s|@SHA256@|$4|" "$TEMPLATE" >"$tmp"
    if grep -n '@[A-Z0-9_]*@' "$tmp" >&2; then
        rm -f "$tmp"
        die "the template has a field this script does not fill (above)"
    fi
    mv "$tmp" "$5"
}

# archive TREEISH PREFIX OUT: a reproducible .tar.gz (git archive stamps the commit's time)
archive() {
    git archive --format=tar --prefix="$2/" "$1" | gzip -n -9 >"$3"
}

project_version() {
    sed -n 's/^project(claude-proxy VERSION \([0-9][0-9.]*\).*/\1/p' CMakeLists.txt
}

field() { # field NAME FILE: the string value of `  NAME "..."` in a formula
    sed -n "s/^  $1 \"\\(.*\\)\"\$/\\1/p" "$2" | head -n 1
}

verify() {
    f=$1
    [ -f "$f" ] || die "no $f"
    v=$(field version "$f"); u=$(field url "$f"); s=$(field sha256 "$f")
    [ -n "$v" ] && [ -n "$u" ] && [ -n "$s" ] || die "$f lacks a version, url or sha256 line"
    first=$(head -n 1 "$f")
    out=$(mktemp)
    render "$first" "$v" "$u" "$s" "$out"
    if ! cmp -s "$out" "$f"; then
        diff -u "$out" "$f" >&2 || true
        rm -f "$out"
        die "$f is not what $TEMPLATE writes for version $v (edit the template, then rewrite it)"
    fi
    rm -f "$out"
    if [ "$s" = "$UNRELEASED_SHA" ] || [ "$first" = "$UNRELEASED_FIRST_LINE" ]; then
        [ "$f" = "$COMMITTED" ] && [ "$s" = "$UNRELEASED_SHA" ] && [ "$first" = "$UNRELEASED_FIRST_LINE" ] ||
            die "$f carries the unreleased placeholder"
        echo "$f: the template's, not released yet (install from a clone: make brew-formula)"
        return
    fi
    echo "$s" | grep -Eq '^[0-9a-f]{64}$' || die "$f: sha256 is not a SHA-256"
    case $u in
    file://*)
        [ -f "${u#file://}" ] || die "$f: $u does not exist"
        [ "$(sha256_of "${u#file://}")" = "$s" ] || die "$f: the sha256 is not the tarball's"
        ;;
    esac
    echo "$f: the template's, version $v"
}

case "${1:-}" in
--verify)
    [ $# -eq 2 ] || die "usage: $0 --verify FORMULA"
    verify "$2"
    ;;
--release)
    [ $# -eq 2 ] || die "usage: $0 --release VERSION"
    version=$2
    echo "$version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' || die "VERSION is x.y.z, not '$version'"
    [ "$version" = "$(project_version)" ] ||
        die "CMakeLists.txt says version $(project_version): set project(... VERSION $version) first, commit, then release"
    [ -z "$(git status --porcelain --untracked-files=no)" ] || die "the tree has uncommitted changes: a release is made from a commit"
    mkdir -p build/release
    tarball=build/release/claude-proxy-$version.tar.gz
    archive HEAD "claude-proxy-$version" "$tarball"
    sum=$(sha256_of "$tarball")
    render "# Homebrew formula for claude-proxy $version (the release tarball's checksum, written by scripts/release.sh)" \
        "$version" "$RELEASE_URL/v$version/claude-proxy-$version.tar.gz" "$sum" "$COMMITTED"
    echo "wrote $tarball (sha256 $sum) and $COMMITTED"
    echo "next: git commit $COMMITTED, tag v$version, and attach $tarball to the GitHub release v$version"
    ;;
--unreleased)
    # the committed formula as it stands between releases
    render "$UNRELEASED_FIRST_LINE" "$(project_version)" \
        "$RELEASE_URL/v$(project_version)/claude-proxy-$(project_version).tar.gz" "$UNRELEASED_SHA" "$COMMITTED"
    echo "wrote $COMMITTED (unreleased)"
    ;;
"" | --dirty)
    git rev-parse --verify -q HEAD >/dev/null || die "not a git checkout with a commit (make brew-formula works in a clone)"
    tree=HEAD
    commit=$(git rev-parse --short=10 HEAD)
    if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
        [ "${1:-}" = --dirty ] || [ "${DIRTY:-0}" = 1 ] ||
            die "the tree has uncommitted changes: commit them, or make brew-formula DIRTY=1 to include them (untracked files are never included)"
        # a commit object of HEAD plus the work tree's tracked changes, made without touching
        # the work tree, the index or the stash list
        tree=$(git stash create "brew-formula")
        commit="$commit-dirty"
    fi
    version=$(project_version)-$commit
    mkdir -p build/homebrew
    tarball=$(pwd)/build/homebrew/claude-proxy-$version.tar.gz
    archive "$tree" "claude-proxy-$version" "$tarball"
    sum=$(sha256_of "$tarball")
    render "# Homebrew formula for this clone at $commit: brew install --build-from-source ./build/homebrew/claude-proxy.rb" \
        "$version" "file://$tarball" "$sum" build/homebrew/claude-proxy.rb
    echo "wrote build/homebrew/claude-proxy.rb for $tarball (sha256 $sum)"
    echo "then: brew install --build-from-source ./build/homebrew/claude-proxy.rb && brew services start claude-proxy"
    ;;
*)
    die "usage: $0 [--dirty] | --release VERSION | --verify FORMULA"
    ;;
esac
