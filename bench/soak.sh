#!/bin/sh
# Soak: many requests, mixed JSON / SSE / fallback, through one long-running proxy; reports RSS
# growth and, with the ASan build, LeakSanitizer's verdict at exit.
#   bench/soak.sh                       200k requests against build-asan/claude-proxy
#   REQUESTS=20000 BIN=build-release/claude-proxy bench/soak.sh
# Needs wrk and nginx (apt-get install wrk nginx-light). The primary upstream answers 429 to
# about one request in ten (fallback with a zero cooldown), the backup always answers.
set -eu
cd "$(dirname "$0")"
BIN=${BIN:-../build-asan/claude-proxy}
REQUESTS=${REQUESTS:-200000}
CONNS=${CONNS:-16}
[ -x "$BIN" ] || { echo "soak: build $BIN first (make test-asan, or set BIN)" >&2; exit 1; }
WORK=$(mktemp -d)
chmod 755 "$WORK"
UP=28301; PROXY=28303 # outside the ephemeral port range
cleanup() {
    [ -f "$WORK/up.pid" ] && kill "$(cat "$WORK/up.pid")" 2>/dev/null || true
    [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
open(f"{w}/answer.json", "w").write(json.dumps({"id": "msg_soak", "type": "message", "role": "assistant",
    "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 1}}))
evs = ["event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\n"]
evs += ["event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"word \"}}\n\n"] * 20
evs += ["event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"]
open(f"{w}/answer.sse", "w").write("".join(evs))
open(f"{w}/429.json", "w").write('{"type":"error","error":{"type":"rate_limit_error","message":"rate limit exceeded"}}')
PY
cat >"$WORK/up.conf" <<NGX
worker_processes 1;
pid $WORK/up.pid;
error_log $WORK/up.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  split_clients "\$request_id" \$limited { 10% 1; * 0; }
  server {
    listen 127.0.0.1:$UP;
    location = /primary/v1/messages { if (\$limited) { return 429 '{"type":"error","error":{"type":"rate_limit_error","message":"rate limit exceeded"}}'; } rewrite ^ /answer last; }
    location = /backup/v1/messages { rewrite ^ /answer last; }
    location = /answer { internal; if (\$arg_sse) { rewrite ^ /sse last; } default_type application/json; alias $WORK/answer.json; error_page 405 =200 \$uri; }
    location = /sse { internal; default_type text/event-stream; alias $WORK/answer.sse; error_page 405 =200 \$uri; }
  }
}
NGX
nginx -c "$WORK/up.conf" -p "$WORK"
cat >"$WORK/proxy.lua" <<LUA
return { port = $PROXY, log_level = "error", cooldown_min = 0, order = { "primary", "backup" }, providers = {
  primary = { type = "anthropic", base_url = "http://127.0.0.1:$UP/primary", cooldown = 0 },
  backup = { type = "anthropic", base_url = "http://127.0.0.1:$UP/backup" } } }
LUA
"$BIN" --config "$WORK/proxy.lua" 2>"$WORK/proxy.log" &
PID=$!
sleep 1
printf '{"model":"claude-sonnet-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}' >"$WORK/body.json"
rss() { awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }
# warm-up, then three equal rounds: RSS must not keep growing after the first
BODY="$WORK/body.json" wrk -t1 -c"$CONNS" -d2s -s post.lua "http://127.0.0.1:$PROXY/v1/messages" >/dev/null
START=$(rss)
per_round=$((REQUESTS / 3))
for round in 1 2 3; do
    for q in "" "?sse=1"; do
        half=$((per_round / 2))
        # wrk has no request count: run for as long as half a round takes at the measured rate
        BODY="$WORK/body.json" wrk -t1 -c"$CONNS" -d"$(( half / 2000 + 1 ))s" -s post.lua \
            "http://127.0.0.1:$PROXY/v1/messages$q" | awk '/requests in/ {print "  " $0}'
    done
    echo "round $round: RSS $(rss) KiB (after warm-up: $START KiB)"
done
curl -s "http://127.0.0.1:$PROXY/metrics" | grep -E '^claude_proxy_(requests_total|fallbacks_total)' | head -8
kill -TERM "$PID"
wait "$PID" && status=0 || status=$?
PID=
echo "proxy exit status: $status (non-zero under ASan means LeakSanitizer found a leak)"
grep -E "LeakSanitizer|ERROR: AddressSanitizer" "$WORK/proxy.log" || echo "no sanitizer report"
exit "$status"
