#!/bin/sh
# Installs the system packages claude-proxy needs, if any is missing.
# Debian/Ubuntu: apt-get (with sudo when not root). macOS: Homebrew.
set -e

missing_pkgconfig() {
    for m in libh2o libuv openssl libcjson zlib sqlite3; do
        pkg-config --exists "$m" 2>/dev/null || { echo "$m"; return; }
    done
    pkg-config --exists lua5.4 2>/dev/null || pkg-config --exists lua 2>/dev/null || echo lua
}

# npm too: Debian's nodejs comes without it, and `make test` needs it for `npm ci`
if command -v pkg-config >/dev/null 2>&1 && [ -z "$(missing_pkgconfig)" ] \
   && command -v cmake >/dev/null 2>&1 && command -v node >/dev/null 2>&1 \
   && command -v npm >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 \
   && command -v ruby >/dev/null 2>&1; then
    exit 0
fi

case "$(uname -s)" in
Linux)
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        PKGS="build-essential cmake pkg-config libh2o-dev libuv1-dev libssl-dev liblua5.4-dev libcjson-dev zlib1g-dev libsqlite3-dev openssl curl"
        # headless Chromium for the dashboard's browser test; ruby parses the Homebrew formula; clang-format checks the style
        PKGS="$PKGS chromium ruby clang-format"
        # keep an existing Node.js: NodeSource's nodejs brings npm (and conflicts with Debian's
        # npm package); Debian's nodejs needs the npm package beside it
        if ! command -v node >/dev/null 2>&1; then
            PKGS="$PKGS nodejs npm"
        elif ! command -v npm >/dev/null 2>&1; then
            PKGS="$PKGS npm"
        fi
        echo "Installing build dependencies: $PKGS"
        $SUDO apt-get update -q
        # shellcheck disable=SC2086 # PKGS is a list of package names
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $PKGS
        exit 0
    fi
    echo "Please install: cmake pkg-config libh2o (2.2, libuv build) libuv openssl>=3 lua5.4 cjson zlib sqlite3 node npm" >&2
    exit 1
    ;;
Darwin)
    if command -v brew >/dev/null 2>&1; then
        brew install cmake pkg-config libuv openssl@3 lua cjson sqlite node
        if ! pkg-config --exists libh2o; then
            echo "libh2o (libuv build) is not packaged by Homebrew; install it with our formula:" >&2
            echo "  make brew-formula && brew install --build-from-source claude-proxy/local/claude-proxy" >&2
            echo "or build h2o 2.2.6 (-DWITH_BUNDLED_SSL=OFF; it builds libh2o for libuv when pkg-config finds libuv) and install it." >&2
            exit 1
        fi
        exit 0
    fi
    echo "Install Homebrew (https://brew.sh) first, then re-run." >&2
    exit 1
    ;;
*)
    echo "Unsupported OS: install cmake pkg-config libh2o libuv openssl lua5.4 cjson zlib sqlite3 node" >&2
    exit 1
    ;;
esac
