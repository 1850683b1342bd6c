#!/bin/sh
# Service management for claude-proxy: scripts/service.sh ACTION
#   install start stop restart status logs error-logs uninstall update-token
# macOS: a LaunchAgent (launchctl). Linux: a systemd user unit (systemctl --user).
# Overridable for tests: PREFIX, CLAUDE_PROXY_CONFIG_DIR, SYSTEMCTL, LAUNCHCTL, JOURNALCTL, UNAME,
# CLAUDE_PROXY_BIN, PROXY_PORT, BUILD.
set -eu
cd "$(dirname "$0")/.."

ACTION=${1:-}
PREFIX=${PREFIX:-$HOME/.local}
BUILD=${BUILD:-build}
PORT=${PROXY_PORT:-47000}
CONFIG_DIR=${CLAUDE_PROXY_CONFIG_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/claude-proxy}
CONFIG=$CONFIG_DIR/claude-proxy.lua
TOKEN_FILE=$CONFIG_DIR/token
OS=${UNAME:-$(uname -s)}
SYSTEMCTL=${SYSTEMCTL:-systemctl}
LAUNCHCTL=${LAUNCHCTL:-launchctl}
JOURNALCTL=${JOURNALCTL:-journalctl}
BIN=${CLAUDE_PROXY_BIN:-$PREFIX/bin/claude-proxy}
UNIT_DIR=${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user
PLIST=$HOME/Library/LaunchAgents/com.claude-proxy.plist
LOG_DIR=$HOME/Library/Logs/claude-proxy

die() { echo "service: $*" >&2; exit 1; }

health() {
    curl -fsS -m 2 "http://127.0.0.1:$PORT/health" 2>/dev/null
}

# Escapes a value for the replacement side of a sed s||| command.
sed_escape() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }
# A path inside double quotes in a systemd unit: \ and " escaped, % doubled (a specifier otherwise).
systemd_quote() { printf '%s' "$1" | sed -e 's/[\\"]/\\&/g' -e 's/%/%%/g'; }
# A path as XML text in the plist.
xml_escape() { printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }

install_files() {
    # the runtime component only: the service runs with the per-user config below, and the
    # system-wide config goes to the full sysconfdir (/usr/local/etc...), not the user's to write
    cmake --install "$BUILD" --prefix "$PREFIX" --component runtime >/dev/null
    mkdir -p "$CONFIG_DIR"
    chmod 700 "$CONFIG_DIR"
    if [ ! -f "$CONFIG" ]; then
        cp etc/claude-proxy.lua "$CONFIG"
        echo "installed the config: $CONFIG"
    else
        echo "kept your config: $CONFIG"
    fi
}

case "$OS" in
Darwin)
    DOMAIN="gui/$(id -u)"
    SERVICE="$DOMAIN/com.claude-proxy"
    svc_running() { "$LAUNCHCTL" print "$SERVICE" >/dev/null 2>&1; }
    # bootout returns before launchd has let go of the label; bootstrap fails until it has
    wait_unloaded() {
        i=0
        while svc_running && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    }
    svc_install() {
        install_files
        mkdir -p "$(dirname "$PLIST")" "$LOG_DIR"
        sed -e "s|@BINDIR@|$(sed_escape "$(xml_escape "$PREFIX/bin")")|g" \
            -e "s|@CONFIG@|$(sed_escape "$(xml_escape "$CONFIG")")|g" \
            -e "s|@LOGDIR@|$(sed_escape "$(xml_escape "$LOG_DIR")")|g" -e "s|@PORT@|$PORT|g" \
            packaging/launchd/com.claude-proxy.plist >"$PLIST"
        # a loaded agent keeps its old definition: unload it so that the new plist is read
        if svc_running; then
            "$LAUNCHCTL" bootout "$SERVICE"
            wait_unloaded
        fi
        "$LAUNCHCTL" bootstrap "$DOMAIN" "$PLIST"
        echo "claude-proxy runs as a LaunchAgent (com.claude-proxy); logs: $LOG_DIR"
    }
    # `stop` boots the agent out (KeepAlive would restart a killed one), so start loads it again
    svc_start() {
        if svc_running; then "$LAUNCHCTL" kickstart "$SERVICE"; else "$LAUNCHCTL" bootstrap "$DOMAIN" "$PLIST"; fi
    }
    svc_stop() {
        if svc_running; then "$LAUNCHCTL" bootout "$SERVICE" && wait_unloaded; fi
    }
    svc_restart() {
        if svc_running; then "$LAUNCHCTL" kickstart -k "$SERVICE"; else svc_start; fi
    }
    svc_logs() { tail -n 100 -F "$LOG_DIR/claude-proxy.error.log"; }
    svc_error_logs() { grep -E ' (warn|error) ' "$LOG_DIR/claude-proxy.error.log" | tail -n 100; }
    svc_uninstall() { svc_stop 2>/dev/null || true; rm -f "$PLIST"; }
    svc_reload() { svc_running && "$LAUNCHCTL" kill HUP "$SERVICE" 2>/dev/null; }
    ;;
*)
    svc_install() {
        install_files
        mkdir -p "$UNIT_DIR"
        # the config path is written in as the plist's is: the unit cannot know XDG_CONFIG_HOME
        sed -e "s|@BINDIR@|$(sed_escape "$(systemd_quote "$PREFIX/bin")")|g" \
            -e "s|@CONFIG@|$(sed_escape "$(systemd_quote "$CONFIG")")|g" -e "s|@PORT@|$PORT|g" \
            packaging/systemd/claude-proxy.service >"$UNIT_DIR/claude-proxy.service"
        "$SYSTEMCTL" --user daemon-reload
        "$SYSTEMCTL" --user enable claude-proxy.service
        # restart, not start: a running proxy must pick up a new binary or unit
        "$SYSTEMCTL" --user restart claude-proxy.service
        echo "claude-proxy runs as a systemd user service; logs: journalctl --user -u claude-proxy"
    }
    svc_start() { "$SYSTEMCTL" --user start claude-proxy.service; }
    svc_stop() { "$SYSTEMCTL" --user stop claude-proxy.service; }
    svc_restart() { "$SYSTEMCTL" --user restart claude-proxy.service; }
    svc_running() { "$SYSTEMCTL" --user is-active --quiet claude-proxy.service; }
    svc_logs() { "$JOURNALCTL" --user -u claude-proxy.service -f -n 100; }
    svc_error_logs() { "$JOURNALCTL" --user -u claude-proxy.service --no-pager -n 1000 | grep -E ' (warn|error) ' | tail -n 100; }
    svc_uninstall() {
        "$SYSTEMCTL" --user disable --now claude-proxy.service 2>/dev/null || true
        rm -f "$UNIT_DIR/claude-proxy.service"
        "$SYSTEMCTL" --user daemon-reload 2>/dev/null || true
    }
    # only when the unit runs: `systemctl reload` of a stopped unit fails anyway, and a proxy
    # started by hand is then reached by `claude-proxy reload` below
    svc_reload() { svc_running && "$SYSTEMCTL" --user reload claude-proxy.service 2>/dev/null; }
    ;;
esac

update_token() {
    mkdir -p "$CONFIG_DIR"
    chmod 700 "$CONFIG_DIR"
    token=${TOKEN:-}
    if [ -z "$token" ]; then
        if [ -t 0 ]; then
            printf "Paste your Claude Code OAuth token (from 'claude setup-token'): " >&2
            stty -echo 2>/dev/null || true
            IFS= read -r token || true
            stty echo 2>/dev/null || true
            echo >&2
        else
            IFS= read -r token || true
        fi
    fi
    case "$token" in
    sk-ant-*) ;;
    "") die "no token given" ;;
    *) echo "service: warning: the token does not look like sk-ant-oat01-... (saved anyway)" >&2 ;;
    esac
    # written with a private umask and renamed into place: never readable by others, never half-written
    tmp="$TOKEN_FILE.tmp.$$"
    (umask 077 && printf '%s\n' "$token" >"$tmp")
    chmod 600 "$tmp"
    mv -f "$tmp" "$TOKEN_FILE"
    echo "saved the token to $TOKEN_FILE (mode 0600)"
    # the proxy of the service first; else one started by hand with the same config (its pid_file)
    if svc_reload || "$BIN" reload --config "$CONFIG" 2>/dev/null; then
        echo "asked the running proxy to reload"
    else
        echo "no running proxy to reload; it will use the token when it starts"
    fi
}

case "$ACTION" in
install) svc_install ;;
start) svc_start ;;
stop) svc_stop ;;
restart) svc_restart ;;
status)
    if svc_running; then echo "claude-proxy service: running"; else echo "claude-proxy service: not running"; fi
    if out=$(health); then echo "health: $out"; else echo "health: no answer on http://127.0.0.1:$PORT/health"; fi
    ;;
logs) svc_logs ;;
error-logs) svc_error_logs ;;
uninstall)
    svc_uninstall
    rm -f "$PREFIX/bin/claude-proxy" "$PREFIX/bin/proxy-claude"
    rm -rf "$PREFIX/share/claude-proxy" "$PREFIX/share/doc/claude-proxy"
    echo "uninstalled (kept $CONFIG_DIR: your config and token)"
    ;;
update-token) update_token ;;
*) die "usage: scripts/service.sh install|start|stop|restart|status|logs|error-logs|uninstall|update-token" ;;
esac
