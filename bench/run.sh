#!/bin/sh
# Benchmark: claude-proxy vs the mock upstream directly vs nginx proxy_pass, in one run.
#   bench/run.sh            (make bench)   -- needs wrk and nginx (apt-get install wrk nginx-light)
# Environment: DURATION (s, default 10), CONNS (default 32), THREADS (default 2), BIN.
# Prints a table and writes bench/out/results.md.
set -eu
cd "$(dirname "$0")"
BIN=${BIN:-../build-release/claude-proxy}
DURATION=${DURATION:-10}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
OUT=out
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "bench needs wrk: sudo apt-get install wrk" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "bench needs nginx: sudo apt-get install nginx-light" >&2; exit 1; }

# outside the ephemeral port range, so that old connections cannot hold them
UP=28101; NGX=28102; PROXY=28103
WORK=$(mktemp -d)
chmod 755 "$WORK"  # nginx workers may run as another user
cleanup() {
    [ -f "$WORK/up.pid" ] && kill "$(cat "$WORK/up.pid")" 2>/dev/null || true
    [ -f "$WORK/ngx.pid" ] && kill "$(cat "$WORK/ngx.pid")" 2>/dev/null || true
    [ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# Request bodies: a small one, and the real Claude Code request padded to 256 KiB and 2 MiB.
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
small = {"model": "claude-sonnet-5", "max_tokens": 100, "messages": [{"role": "user", "content": "Say hello"}]}
real = json.load(open("../tests/data/claude-code-request.json"))
def write(name, obj):
    open(f"{work}/{name}", "w").write(json.dumps(obj, separators=(",", ":")))
write("small-json.json", small)
write("small-sse.json", dict(small, stream=True))
for size, name in ((256 * 1024, "256k"), (2 * 1024 * 1024, "2m")):
    body = dict(real, stream=False)
    body["messages"] = list(real["messages"])
    base = len(json.dumps(body, separators=(",", ":")))
    body["messages"].append({"role": "user", "content": "x" * max(0, size - base - 40)})
    write(f"big-{name}.json", body)
# SSE answer: a realistic short stream (~1.6 KB)
evs = []
def ev(t, d): evs.append(f"event: {t}\ndata: {json.dumps(dict(type=t, **d), separators=(',', ':'))}\n\n")
ev("message_start", {"message": {"id": "msg_bench", "type": "message", "role": "assistant", "model": "claude-sonnet-5",
   "content": [], "stop_reason": None, "usage": {"input_tokens": 10, "output_tokens": 1}}})
ev("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
for w in "Hello! How can I help you with your code today? I can read files and run commands.".split():
    ev("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": w + " "}})
ev("content_block_stop", {"index": 0})
ev("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 20}})
ev("message_stop", {})
open(f"{work}/answer.sse", "w").write("".join(evs))
open(f"{work}/answer.json", "w").write(json.dumps({"id": "msg_bench", "type": "message", "role": "assistant",
  "model": "claude-sonnet-5", "content": [{"type": "text", "text": "Hello! How can I help?"}],
  "stop_reason": "end_turn", "usage": {"input_tokens": 10, "output_tokens": 8}}))
PY

# The mock upstream: nginx answering POST /v1/messages from files (JSON, or SSE when the
# request says "stream":true is not inspected: /sse/ paths answer SSE).
cat > "$WORK/up.conf" <<NGX
worker_processes 1;
pid $WORK/up.pid;
error_log $WORK/up.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_max_body_size 64m;
  client_body_buffer_size 4m;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$UP;
    location = /v1/messages { default_type application/json; if (\$arg_sse) { rewrite ^ /sse last; } rewrite ^ /json last; }
    location = /json { internal; default_type application/json; alias $WORK/answer.json; error_page 405 =200 \$uri; }
    location = /sse  { internal; default_type text/event-stream; alias $WORK/answer.sse; error_page 405 =200 \$uri; }
  }
}
NGX
cat > "$WORK/ngx.conf" <<NGX
worker_processes 1;
pid $WORK/ngx.pid;
error_log $WORK/ngx.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_max_body_size 64m;
  client_body_buffer_size 4m;
  keepalive_requests 1000000;
  upstream up { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$NGX;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off;
                 proxy_request_buffering on; }
  }
}
NGX
"$NGINX" -c "$WORK/up.conf" -p "$WORK"
"$NGINX" -c "$WORK/ngx.conf" -p "$WORK"
cat > "$WORK/proxy.lua" <<LUA
return { port = $PROXY, log_level = "warn", max_body = 64 * 1024 * 1024, order = { "anthropic" },
  providers = { anthropic = { type = "anthropic", base_url = "http://127.0.0.1:$UP" } } }
LUA
"$BIN" --config "$WORK/proxy.lua" 2>"$WORK/proxy.log" &
PROXY_PID=$!
sleep 0.5
# warm-up (and a check that each path answers)
for port in $UP $NGX $PROXY; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'content-type: application/json' \
        --data-binary @"$WORK/small-json.json" "http://127.0.0.1:$port/v1/messages")
    [ "$code" = 200 ] || { echo "port $port answered $code" >&2; cat "$WORK"/*.err "$WORK/proxy.log" >&2; exit 1; }
done

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# CPU time (user + system, clock ticks) a process has used: on a 2-core machine shared by wrk,
# the upstream and the proxy, CPU per request is the fairer measure of a proxy's own cost.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sys_ticks() { awk '{print $15}' "/proc/$1/stat"; }
CLK_TCK=$(getconf CLK_TCK)
NGX_WORKER=$(pgrep -P "$(cat "$WORK/ngx.pid")" | head -n 1)
IDLE_RSS=$(rss_kib "$PROXY_PID")
# sample the proxy's RSS while the load runs
(while kill -0 "$PROXY_PID" 2>/dev/null; do rss_kib "$PROXY_PID"; sleep 0.1; done) >"$WORK/rss.log" 2>/dev/null &

# Busy CPU time of the whole machine (clock ticks): what wrk, the upstream and the proxy share.
machine_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat; }
machine_idle() { awk '/^cpu / {print $5 + $6; exit}' /proc/stat; }

# run NAME PORT QUERY BODY CONNS [PID]
#   -> "rps p50_ms p99_ms cpu_us_per_request kernel_us_per_request machine_busy_us_per_request busy_share"
run() {
    t=$THREADS; [ "$5" -lt "$t" ] && t=$5
    c0=0; s0=0; [ -n "${6:-}" ] && { c0=$(cpu_ticks "$6"); s0=$(sys_ticks "$6"); }
    b0=$(machine_busy); i0=$(machine_idle)
    out=$(BODY="$WORK/$4" wrk -t"$t" -c"$5" -d"${DURATION}s" --latency -s post.lua \
        "http://127.0.0.1:$2/v1/messages$3" 2>&1)
    b1=$(machine_busy); i1=$(machine_idle)
    n=$(echo "$out" | awk '/requests in/ {print $1}')
    per_req() { echo "$1 $2 $n" | awk -v hz="$CLK_TCK" '{ printf "%.1f", ($1 - $2) * 1e6 / hz / $3 }'; }
    cpu=-; sys=-; [ -n "${6:-}" ] && { cpu=$(per_req "$(cpu_ticks "$6")" "$c0"); sys=$(per_req "$(sys_ticks "$6")" "$s0"); }
    busy=$(per_req "$b1" "$b0")
    share=$(echo "$b0 $b1 $i0 $i1" | awk '{ printf "%.0f", 100 * ($2 - $1) / ($2 - $1 + $4 - $3) }')
    echo "$out" | grep -q "Non-2xx" && { echo "$1: non-2xx answers" >&2; echo "$out" >&2; }
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    echo "$rps $(to_ms "$p50") $(to_ms "$p99") $cpu $sys $busy $share"
}
to_ms() { echo "$1" | awk '{ v=$1; if (v ~ /us$/) { sub(/us$/,"",v); v=v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v) } else if (v ~ /s$/) { sub(/s$/,"",v); v=v*1000 }; printf "%.3f", v }'; }

{
echo "# claude-proxy benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ${DURATION}s per point, wrk -t$THREADS)"
echo
echo "| workload | conns | direct rps | nginx rps | proxy rps | proxy/nginx | proxy/direct | p50 ms (direct/nginx/proxy) | p99 ms (direct/nginx/proxy) | CPU µs/req (nginx/proxy) | nginx/proxy CPU |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
} > "$OUT/results.md"
: > "$OUT/budget.md"

point() { # NAME QUERY BODY CONNS [TARGET]
    d=$(run "$1 direct" $UP "$2" "$3" "$4")
    n=$(run "$1 nginx" $NGX "$2" "$3" "$4" "$NGX_WORKER")
    p=$(run "$1 proxy" $PROXY "$2" "$3" "$4" "$PROXY_PID")
    [ -n "${5:-}" ] && budget "$1" "$5" $n $p
    set -- "$1" "$4" $d $n $p
    # $3..$9 direct (rps p50 p99 cpu sys busy share), $10..$16 nginx, $17..$23 proxy
    echo "| $1 | $2 | $3 | ${10} | ${17} | $(echo "${17} ${10}" | awk '{printf "%.2f", $1/$2}') | $(echo "${17} $3" | awk '{printf "%.2f", $1/$2}') | $4 / ${11} / ${18} | $5 / ${12} / ${19} | ${13} / ${20} | $(echo "${13} ${20}" | awk '{printf "%.2f", $1/$2}') |" >> "$OUT/results.md"
}
# What a throughput target leaves the proxy. With the machine saturated, requests/s is its busy CPU
# divided by the CPU all processes spend per request; to serve TARGET times nginx's requests/s the
# proxy may spend nginx's CPU per request minus (1 - 1/TARGET) of the machine's per request.
# budget NAME TARGET nginx(rps p50 p99 cpu sys busy share) proxy(...)
budget() {
    name=$1; target=$2; shift 2
    # nginx: $1 rps $2 p50 $3 p99 $4 cpu $5 kernel $6 machine $7 share; proxy: $8 .. $14
    echo "$@" | awk -v name="$name" -v target="$target" '{
      b = $4 - $6 * (1 - 1 / target)
      printf "- %s: %.1fx nginx leaves the proxy %.1f µs of CPU per request (the machine was %s%% busy, %.1f µs per request in all); nginx spent %.1f µs, %.1f of them in the kernel; the proxy %.1f, %.1f in the kernel.\n", name, target, b, $7, $6, $4, $5, $11, $12
    }' >> "$OUT/budget.md"
}
point "JSON, small body" "" small-json.json "$CONNS" 1.1
point "SSE, small body" "?sse=1" small-sse.json "$CONNS" 1.5
point "JSON, 1 connection (added latency)" "" small-json.json 1
point "SSE, 1 connection (added latency)" "?sse=1" small-sse.json 1
point "JSON, 256 KiB body" "" big-256k.json 8
point "JSON, 2 MiB body" "" big-2m.json 4
MAX_RSS=$(sort -n "$WORK/rss.log" | tail -n 1)
sleep 6 # the proxy hands freed heap pages back after a few idle seconds
{
echo
echo "proxy RSS: idle $IDLE_RSS KiB, max under load $MAX_RSS KiB, idle again after the load $(rss_kib "$PROXY_PID") KiB"
echo
echo "Throughput targets as CPU budgets:"
cat "$OUT/budget.md"
} >> "$OUT/results.md"
cat "$OUT/results.md"
