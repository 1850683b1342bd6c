#!/bin/sh
# Writes Homebrew formulas from packaging/homebrew/claude-proxy.rb.in, the one template.
#
#   scripts/brew-formula.sh [--dirty] [--no-tap]     a formula for this clone (make brew-formula
#       [DIRTY=1] [NO_TAP=1]): build/homebrew/claude-proxy-<version>.tar.gz, `git archive` of HEAD,
#       and build/homebrew/claude-proxy.rb, whose url is that tarball (file://) and sha256 its own.
#       <version> is git-describe style, 0.1.0-<N>-g<commit>: N counts the commits since the last
#       vX.Y.Z tag (X.Y.Z then replaces CMakeLists.txt's version), or all commits without a tag, so
#       a later commit is a higher version and `brew upgrade` takes it. --dirty archives the work
#       tree as it is (what .gitignore ignores stays out) through a private index, and marks the
#       version -dirty. Then, when brew is on PATH, the formula goes into the local tap
#       claude-proxy/local (created if missing), because Homebrew installs formulae only from a
#       tap: brew install --build-from-source claude-proxy/local/claude-proxy. --no-tap: only
#       write the file.
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
TAP=claude-proxy/local
INSTALL="brew install --build-from-source $TAP/claude-proxy"
UNRELEASED_FIRST_LINE="# Not released yet. To install from a clone: make brew-formula, then $INSTALL"
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

# clone_version: git-describe style, so that each commit is a higher version than the one before
clone_version() {
    if d=$(git describe --tags --long --abbrev=10 --match 'v[0-9]*' HEAD 2>/dev/null); then
        echo "${d#v}"
    else
        echo "$(project_version)-$(git rev-list --count HEAD)-g$(git rev-parse --short=10 HEAD)"
    fi
}

# work_tree: the tree object of the work tree as it is (tracked changes, new files, deletions;
# what .gitignore ignores stays out), made in a private index so the user's index, stash and
# work tree are left as they were
work_tree() {
    idx_dir=$(mktemp -d "${TMPDIR:-/tmp}/brew-formula.XXXXXX")
    # git refuses an empty index file, so the index is a name in a fresh directory
    if GIT_INDEX_FILE=$idx_dir/index git read-tree HEAD &&
        GIT_INDEX_FILE=$idx_dir/index git add -A &&
        t=$(GIT_INDEX_FILE=$idx_dir/index git write-tree); then
        rm -rf "$idx_dir"
        echo "$t"
    else
        rm -rf "$idx_dir"
        die "could not read the work tree into a private index"
    fi
}

# install_in_tap FORMULA: copy it into the local tap, making the tap first. Homebrew (4.6.4 and
# later, Homebrew/brew e22af11388 "Prevent installing formulae from paths without
# HOMEBREW_DEVELOPER") refuses `brew install ./x.rb`: Utils::Path.loadable_package_path?
# (Library/Homebrew/utils/path.rb) accepts a formula file only under $HOMEBREW_LIBRARY/Taps/
# (or the Cellar) and otherwise fails with "Homebrew requires formulae to be in a tap" and
# suggests `brew tap-new`. Where this script puts it, as Homebrew reads it:
# - `brew --repository USER/REPO` prints $HOMEBREW_LIBRARY/Taps/<user>/homebrew-<repo>, lower case
#   (tap_path in Library/Homebrew/cmd/--repository.sh), the same path as Tap#path (tap.rb:
#   HOMEBREW_TAP_DIRECTORY/"user/homebrew-repo".downcase), so the script asks brew, not guesses;
# - a tap is installed when that directory exists (Tap#installed?: path.directory?), and
#   `brew tap-new --no-git` makes it with its Formula/ directory and no git repository
#   (dev-cmd/tap-new.rb: (tap.path/"Formula").mkpath; git init only without --no-git);
# - `brew install USER/REPO/NAME` loads Tap#formula_dir/NAME.rb (Formulary.find_formula_in_tap),
#   and formula_dir is the first of Formula/, HomebrewFormula/, the tap's root that exists
#   (Tap#potential_formula_dirs): Formula/claude-proxy.rb;
# - the file is copied, not linked: a copy's path and real path are both under Taps/.
# (Read in Homebrew/brew at 6.0.18-157-gaad366ffaf.)
install_in_tap() {
    if ! command -v brew >/dev/null 2>&1; then
        echo "brew is not on PATH: wrote only $1 (with Homebrew, make brew-formula also puts it in the tap $TAP)"
        return
    fi
    tap_dir=$(brew --repository "$TAP") || die "brew --repository $TAP failed"
    [ -n "$tap_dir" ] || die "brew --repository $TAP printed nothing"
    if [ ! -d "$tap_dir" ]; then
        # tap-new is one of Homebrew's developer commands: the first one run turns on its
        # developer mode (brew developer off turns it off again)
        brew tap-new --no-git "$TAP" >/dev/null || die "brew tap-new --no-git $TAP failed"
        echo "created the local tap $TAP ($tap_dir)"
    fi
    mkdir -p "$tap_dir/Formula"
    cp "$1" "$tap_dir/Formula/claude-proxy.rb.tmp.$$"
    mv -f "$tap_dir/Formula/claude-proxy.rb.tmp.$$" "$tap_dir/Formula/claude-proxy.rb"
    echo "installed it in the tap $TAP: $tap_dir/Formula/claude-proxy.rb"
}

clone_formula() {
    dirty=0 tap=1
    for a in "$@"; do
        case $a in
        --dirty) dirty=1 ;;
        --no-tap) tap=0 ;;
        *) die "usage: $0 [--dirty] [--no-tap] | --release VERSION | --unreleased | --verify FORMULA" ;;
        esac
    done
    [ "${DIRTY:-0}" = 1 ] && dirty=1
    [ "${NO_TAP:-0}" = 1 ] && tap=0
    git rev-parse --verify -q HEAD >/dev/null || die "not a git checkout with a commit (make brew-formula works in a clone)"
    tree=HEAD
    version=$(clone_version)
    if [ "$dirty" = 1 ]; then
        t=$(work_tree)
        if [ "$t" != "$(git rev-parse 'HEAD^{tree}')" ]; then
            tree=$t
            version="$version-dirty"
        fi
    elif [ -n "$(git status --porcelain --untracked-files=no)" ]; then
        die "the tree has uncommitted changes: commit them, or make brew-formula DIRTY=1 to archive the work tree as it is"
    fi
    mkdir -p build/homebrew
    tarball=$(pwd)/build/homebrew/claude-proxy-$version.tar.gz
    archive "$tree" "claude-proxy-$version" "$tarball"
    sum=$(sha256_of "$tarball")
    formula=build/homebrew/claude-proxy.rb
    render "# Homebrew formula for this clone, version $version (make brew-formula; then $INSTALL)" \
        "$version" "file://$tarball" "$sum" "$formula"
    echo "wrote $formula for $tarball (sha256 $sum)"
    [ "$tap" = 0 ] || install_in_tap "$formula"
    echo "then: $INSTALL && brew services start claude-proxy"
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
*)
    clone_formula "$@"
    ;;
esac
