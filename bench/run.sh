#!/bin/sh
# Benchmark: claude-proxy beside nginx proxy_pass and the mock upstream directly, in one run.
#   bench/run.sh            (make bench builds build-release first)
# Needs wrk, nginx and taskset: as root with apt-get they are installed (wrk nginx-light), else it
# says what to install. Linux only (CPU time comes from /proc).
# Environment: DURATION (s per point and peer, default 10), ROUNDS (default 3: each peer's DURATION is
# cut into ROUNDS runs that alternate with the peer it is compared with, and a figure is the median of
# its rounds, a ratio the median of the rounds' ratios, so that a machine whose speed drifts over
# minutes moves both sides of a ratio alike), CONNS (default 32), THREADS (wrk, default 2), BIN,
# POINTS (a grep -E pattern of the points to run, default all), PROFILE=1 (perf record -g of the
# claude-proxy process during each point, to out/perf-*.data; PROFILE=dwarf for DWARF call graphs),
# LEDGER=0 (the usage ledger off; on by default, as users run it, in the run's own temporary file).
# Layout: the proxy under test (claude-proxy or nginx proxy_pass) alone on the last CPU, wrk and the
# mock upstream on the others (taskset), so that what is measured on the proxy's CPU is its own.
# Writes bench/out/results.md (everything) and bench/out/summary.md (the figures table that
# bench/docs-figures.sh puts into docs/benchmarks.md).
set -eu
cd "$(dirname "$0")"
BIN=${BIN:-../build-release/claude-proxy}
MICRO=${MICRO:-$(dirname "$BIN")/bench_json_scan}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
[ "$ROUNDS" -ge 1 ] 2>/dev/null || { echo "bench: ROUNDS must be a whole number from 1" >&2; exit 1; }
ROUND_S=$((DURATION / ROUNDS)); [ "$ROUND_S" -ge 1 ] || ROUND_S=1
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
OUT=out
mkdir -p "$OUT"

need() { # command debian-package
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bench: installing $2" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$2" >&2
    else
        echo "bench needs $1: sudo apt-get install $2 (Debian/Ubuntu)" >&2
        exit 1
    fi
}
need wrk wrk
need nginx nginx-light
need taskset util-linux
need curl curl
need openssl openssl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$BIN" ] || { echo "bench: no $BIN (make bench builds it)" >&2; exit 1; }

NCPU=$(nproc)
if [ "$NCPU" -ge 2 ]; then
    PROXY_CPU=$((NCPU - 1))
    OTHER_CPUS=0-$((NCPU - 2))
    PIN_PROXY="taskset -c $PROXY_CPU"
    PIN_OTHER="taskset -c $OTHER_CPUS"
    LAYOUT="pinned: the proxy under test alone on CPU $PROXY_CPU; wrk and the mock upstream on CPU $OTHER_CPUS"
else
    PIN_PROXY=""
    PIN_OTHER=""
    LAYOUT="not pinned (1 CPU): wrk, the upstream and the proxy share it"
fi

# outside the ephemeral port range, so that old connections cannot hold them
UP=28101; NGX=28102; PROXY=28103; PROXY_BEDROCK=28104; PROXY_BEDROCK_KEY=28105
# the same peers with the upstream over HTTPS, as api.anthropic.com and Bedrock are
UPS=28106; NGXS=28107; PROXYS=28108; PROXYS_BEDROCK=28109; PROXYS_BEDROCK_KEY=28110
WORK=$(mktemp -d)
chmod 755 "$WORK"  # nginx workers may run as another user
cleanup() {
    [ -f "$WORK/up.pid" ] && kill "$(cat "$WORK/up.pid")" 2>/dev/null || true
    [ -f "$WORK/ngx.pid" ] && kill "$(cat "$WORK/ngx.pid")" 2>/dev/null || true
    [ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null || true
    [ -n "${BEDROCK_PID:-}" ] && kill "$BEDROCK_PID" 2>/dev/null || true
    [ -n "${BEDROCK_KEY_PID:-}" ] && kill "$BEDROCK_KEY_PID" 2>/dev/null || true
    for p in ${TLS_PIDS:-}; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# Request bodies (small, the real Claude Code request, a 1 MiB conversation) and the answers:
# the same 56 events as SSE and as a Bedrock event-stream.
python3 bodies.py "$WORK"

# The mock upstream: nginx answering from files (bench/mock-upstream.sh), over HTTP and, with a CA
# made for the run, over HTTPS.
. ./mock-upstream.sh
make_test_ca "$WORK"
mock_upstream_conf "$WORK" "$UP" "$UPS"
cat > "$WORK/ngx.conf" <<NGX
worker_processes 1;
pid $WORK/ngx.pid;
error_log $WORK/ngx.err warn;
events { worker_connections 4096; }
http {
$(nginx_http_settings)
  upstream up { server 127.0.0.1:$UP; keepalive 64; }
  upstream ups { server 127.0.0.1:$UPS; keepalive 64; }
  server {
    listen 127.0.0.1:$NGX;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off;
                 proxy_request_buffering on; }
  }
  server {
    listen 127.0.0.1:$NGXS;
    location / { proxy_pass https://ups; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off;
                 proxy_request_buffering on; proxy_ssl_verify on; proxy_ssl_trusted_certificate $WORK/ca.pem;
                 proxy_ssl_name localhost; proxy_ssl_server_name on; proxy_ssl_session_reuse on;
                 proxy_ssl_protocols TLSv1.2 TLSv1.3; }
  }
}
NGX
$PIN_OTHER "$NGINX" -c "$WORK/up.conf" -p "$WORK"
$PIN_PROXY "$NGINX" -c "$WORK/ngx.conf" -p "$WORK"
# The usage ledger as users run it (on, in a file of its own here), or off with LEDGER=0.
if [ "${LEDGER:-1}" = 0 ]; then USAGE_DB=false; else USAGE_DB="\"$WORK/usage.db\""; fi
cat > "$WORK/proxy.lua" <<LUA
return { port = $PROXY, log_level = "warn", max_body = 64 * 1024 * 1024, order = { "anthropic" }, usage_db = $USAGE_DB,
  providers = { anthropic = { type = "anthropic", base_url = "http://127.0.0.1:$UP" } } }
LUA
cat > "$WORK/bedrock.lua" <<LUA
return { port = $PROXY_BEDROCK, log_level = "warn", max_body = 64 * 1024 * 1024, order = { "bedrock" },
  usage_db = "$WORK/usage-bedrock.db",
  providers = { bedrock = { type = "bedrock", region = "us-west-2", endpoint = "http://127.0.0.1:$UP" } } }
LUA
# the same with a Bedrock API key (Authorization: Bearer, no SigV4)
cat > "$WORK/bedrock-key.lua" <<LUA
return { port = $PROXY_BEDROCK_KEY, log_level = "warn", max_body = 64 * 1024 * 1024, order = { "bedrock" },
  usage_db = "$WORK/usage-bedrock-key.db",
  providers = { bedrock = { type = "bedrock", region = "us-west-2", endpoint = "http://127.0.0.1:$UP",
    api_key = "bench-api-key-not-a-secret" } } }
LUA
# the three over HTTPS: the same configs, the upstream https://localhost with the run's CA
for c in proxy bedrock bedrock-key; do
    sed -e 's|http://127.0.0.1:'"$UP"'"|https://localhost:'"$UPS"'", ca_file = "'"$WORK"'/ca.pem"|' \
        -e "s/port = $PROXY,/port = $PROXYS,/; s/port = $PROXY_BEDROCK,/port = $PROXYS_BEDROCK,/" \
        -e "s/port = $PROXY_BEDROCK_KEY,/port = $PROXYS_BEDROCK_KEY,/; s/usage\([-a-z]*\)\.db/usage\1-tls.db/" \
        "$WORK/$c.lua" > "$WORK/$c-tls.lua"
    grep -q "https://localhost:$UPS" "$WORK/$c-tls.lua" || { echo "bench: $c-tls.lua has no HTTPS upstream" >&2; exit 1; }
done
$PIN_PROXY "$BIN" --config "$WORK/proxy.lua" 2>"$WORK/proxy.log" &
PROXY_PID=$!
AWS_ACCESS_KEY_ID=AKIDBENCHMARKEXAMPLE AWS_SECRET_ACCESS_KEY=bench-secret-not-a-secret AWS_REGION=us-west-2 \
    AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    $PIN_PROXY "$BIN" --config "$WORK/bedrock.lua" 2>"$WORK/bedrock.log" &
BEDROCK_PID=$!
AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    $PIN_PROXY "$BIN" --config "$WORK/bedrock-key.lua" 2>"$WORK/bedrock-key.log" &
BEDROCK_KEY_PID=$!
$PIN_PROXY "$BIN" --config "$WORK/proxy-tls.lua" 2>"$WORK/proxy-tls.log" &
PROXYS_PID=$!; TLS_PIDS=$PROXYS_PID
AWS_ACCESS_KEY_ID=AKIDBENCHMARKEXAMPLE AWS_SECRET_ACCESS_KEY=bench-secret-not-a-secret AWS_REGION=us-west-2 \
    AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    $PIN_PROXY "$BIN" --config "$WORK/bedrock-tls.lua" 2>"$WORK/bedrock-tls.log" &
BEDROCKS_PID=$!; TLS_PIDS="$TLS_PIDS $BEDROCKS_PID"
AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    $PIN_PROXY "$BIN" --config "$WORK/bedrock-key-tls.lua" 2>"$WORK/bedrock-key-tls.log" &
BEDROCKS_KEY_PID=$!; TLS_PIDS="$TLS_PIDS $BEDROCKS_KEY_PID"
sleep 0.5
# warm-up, and a check that each path answers what it should
check() { # port body query expected-text
    got=$(curl -s -XPOST -H 'content-type: application/json' --data-binary @"$WORK/$2" "http://127.0.0.1:$1/v1/messages$3")
    case $got in *"$4"*) ;; *)
        echo "port $1 ($2$3) answered: $(echo "$got" | head -c 300)" >&2
        cat "$WORK"/*.err "$WORK"/*.log >&2
        exit 1 ;;
    esac
}
for port in $UP $NGX $PROXY $NGXS $PROXYS; do
    check $port small-json.json "" '"msg_bench"'
    check $port small-sse.json "?sse=1" 'event: message_stop'
done
for port in $PROXY_BEDROCK $PROXY_BEDROCK_KEY $PROXYS_BEDROCK $PROXYS_BEDROCK_KEY; do
    check $port bedrock-real-json.json "" '"msg_bench"'
    check $port bedrock-real-sse.json "" 'event: message_stop'
done
n_events=$(curl -s -XPOST -H "content-type: application/json" --data-binary @"$WORK/bedrock-real-sse.json" "http://127.0.0.1:$PROXY_BEDROCK/v1/messages" | grep -c "^event: ")
[ "$n_events" = 56 ] ||
    { echo "the Bedrock stream arrived as $n_events SSE events, not 56" >&2; exit 1; }

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# CPU time (user + system, clock ticks) a process has used
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sys_ticks() { awk '{print $15}' "/proc/$1/stat"; }
CLK_TCK=$(getconf CLK_TCK)
NGX_WORKER=$(pgrep -P "$(cat "$WORK/ngx.pid")" | head -n 1)
IDLE_RSS=$(rss_kib "$PROXY_PID")
# sample the proxy's RSS while the load runs
(while kill -0 "$PROXY_PID" 2>/dev/null; do rss_kib "$PROXY_PID"; sleep 0.1; done) >"$WORK/rss.log" 2>/dev/null &

# Busy CPU time of the whole machine (clock ticks)
machine_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat; }
machine_idle() { awk '/^cpu / {print $5 + $6; exit}' /proc/stat; }

# run NAME PORT QUERY BODY CONNS [PID] (PORT: of http://127.0.0.1, or a whole base URL)
#   -> "rps p50_ms p99_ms cpu_us_per_request kernel_us_per_request machine_busy_us_per_request busy_share"
run() {
    t=$THREADS; [ "$5" -lt "$t" ] && t=$5
    c0=0; s0=0; [ -n "${6:-}" ] && { c0=$(cpu_ticks "$6"); s0=$(sys_ticks "$6"); }
    b0=$(machine_busy); i0=$(machine_idle)
    perf_pid=
    if [ -n "${PROFILE:-}" ] && [ -n "${6:-}" ] && [ "$6" != "$NGX_WORKER" ]; then
        # perf runs on the other CPUs; the profile is out/perf-<point>.data (perf report -i ...)
        graph=-g; [ "$PROFILE" = dwarf ] && graph="--call-graph dwarf,16384"
        $PIN_OTHER perf record -q $graph -p "$6" -o "$OUT/perf-$(echo "$1" | tr -c 'A-Za-z0-9\n' _).data" >/dev/null 2>&1 &
        perf_pid=$!
        sleep 0.2
    fi
    out=$(BODY="$WORK/$4" $PIN_OTHER wrk -t"$t" -c"$5" -d"${RUN_S:-$DURATION}s" --latency -s "$SCRIPT" \
        "$(base_url "$2")/v1/messages$3" 2>&1)
    b1=$(machine_busy); i1=$(machine_idle)
    [ -n "$perf_pid" ] && { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
    n=$(echo "$out" | awk '/requests in/ {print $1}')
    per_req() { echo "$1 $2 $n" | awk -v hz="$CLK_TCK" '{ printf "%.1f", ($1 - $2) * 1e6 / hz / $3 }'; }
    cpu=-; sys=-; [ -n "${6:-}" ] && { cpu=$(per_req "$(cpu_ticks "$6")" "$c0"); sys=$(per_req "$(sys_ticks "$6")" "$s0"); }
    busy=$(per_req "$b1" "$b0")
    share=$(echo "$b0 $b1 $i0 $i1" | awk '{ printf "%.0f", 100 * ($2 - $1) / ($2 - $1 + $4 - $3) }')
    echo "$out" | grep -qE "Non-2xx|Socket errors" && { echo "$1: errors" >&2; echo "$out" >&2; }
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    echo "$rps $(to_ms "$p50") $(to_ms "$p99") $cpu $sys $busy $share"
}
base_url() { case $1 in *://*) echo "$1" ;; *) echo "http://127.0.0.1:$1" ;; esac; }
to_ms() { echo "$1" | awk '{ v=$1; if (v ~ /us$/) { sub(/us$/,"",v); v=v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v) } else if (v ~ /s$/) { sub(/s$/,"",v); v=v*1000 }; printf "%.3f", v }'; }
# µs per request -> s per 10k requests
per10k() { echo "$1" | awk '{ printf "%.2f", $1 / 100 }'; }
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "-" }'; }

BODY_REAL=$(wc -c <"$WORK/real-json.json")
BODY_CONV=$(wc -c <"$WORK/conv-json.json")
HEAD="claude-proxy benchmark, $(date -u +%Y-%m-%dT%H:%MZ): $NCPU CPUs, $((ROUND_S * ROUNDS))s per point and peer ($ROUNDS alternating rounds of ${ROUND_S}s), wrk -t$THREADS; $LAYOUT; load average before the run $(cut -d' ' -f1-3 /proc/loadavg)"
{
echo "# $HEAD"
echo
echo "Each peer's figures are the medians of $ROUNDS runs of ${ROUND_S}s that alternate with the peer compared (nginx and the proxy; the passthrough and Bedrock); the last column is the proxy's CPU over its peer's in each round."
echo
echo "| workload | conns | direct rps | nginx rps | proxy rps | proxy/nginx | proxy/direct | p50 ms (direct/nginx/proxy) | p99 ms (direct/nginx/proxy) | CPU µs/req (nginx/proxy) | nginx/proxy CPU | proxy/nginx CPU by round (Bedrock/passthrough) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
} > "$OUT/results.md"
{
echo "Run of $(date -u '+%Y-%m-%d %H:%M') UTC ($NCPU CPUs, $LAYOUT; load average $(cut -d' ' -f1-3 /proc/loadavg) before the run; $((ROUND_S * ROUNDS))s per point and peer, in $ROUNDS alternating rounds of ${ROUND_S}s)."
echo "CPU is the proxy process's user + system time, in seconds per 10k requests: the median of the rounds; a ratio is the median of the rounds' ratios."
echo
echo "| workload | conns | nginx rps | proxy rps | nginx CPU s/10k | proxy CPU s/10k | proxy/nginx CPU |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
} > "$OUT/summary.md"
: > "$OUT/budget.md"
{
echo
echo "Bedrock: the same requests to a mock InvokeModel that answers the same 56 events (a JSON message, or an"
echo "event-stream of base64 \`chunk\` frames that the proxy turns into SSE), beside the Anthropic passthrough;"
echo "signed with SigV4, or with a Bedrock API key (no signature); \"varying last message\": each request's last"
echo "message differs (post-vary.lua), as a session's consecutive requests do, beside the passthrough's same point."
echo
echo "| Bedrock workload | conns | proxy rps | proxy CPU s/10k | passthrough CPU s/10k | Bedrock/passthrough CPU |"
echo "| --- | --- | --- | --- | --- | --- |"
} > "$OUT/bedrock.md"

SCRIPT=post.lua # the wrk script: post.lua, or post-vary.lua for the varying points
selected() { [ -z "${POINTS:-}" ] || echo "$1" | grep -qE "$POINTS"; }
# median of each column of the lines of a file
medians() {
    awk '{ for (i = 1; i <= NF; i++) v[i, NR] = $i; if (NF > nf) nf = NF }
         END { for (i = 1; i <= nf; i++) { n = 0; for (r = 1; r <= NR; r++) a[++n] = v[i, r]
                 for (x = 1; x <= n; x++) for (y = x + 1; y <= n; y++) if (a[y] + 0 < a[x] + 0) { t = a[x]; a[x] = a[y]; a[y] = t }
                 m = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
                 printf "%s%s", m, (i < nf ? " " : "\n") } }' "$1"
}
# median over rounds of column $3 of file $1 divided by the same column of file $2, line by line
median_ratio() {
    paste -d' ' "$1" "$2" | awk -v c="$3" '{ h = NF / 2; if ($(h + c) > 0) print $c / $(h + c) }' > "$WORK/ratios"
    [ -s "$WORK/ratios" ] && medians "$WORK/ratios" | awk '{ printf "%.2f", $1 }' || echo -
}
# rounds of their run ... A (NAME PORT QUERY BODY CONNS PID) and then B (the same), alternating;
# each side's runs to $WORK/a.rounds and $WORK/b.rounds, and the ratios' spread to $WORK/spread
alternate() {
    : > "$WORK/a.rounds"; : > "$WORK/b.rounds"
    r=0
    RUN_S=$ROUND_S # run's length while alternating; unset after, for the points' other runs
    while [ "$r" -lt "$ROUNDS" ]; do
        run "$1" "$2" "$3" "$4" "$5" "$6" >> "$WORK/a.rounds"
        run "$7" "$8" "$9" "${10}" "${11}" "${12}" >> "$WORK/b.rounds"
        r=$((r + 1))
    done
    RUN_S=
    paste -d' ' "$WORK/b.rounds" "$WORK/a.rounds" | awk '{ h = NF / 2; if ($(h + 4) > 0) printf "%s%.2f", (NR > 1 ? " " : ""), $4 / $(h + 4) }' > "$WORK/spread"
}
point() { # NAME QUERY BODY CONNS [TARGET]
    selected "$1" || return 0
    d=$(run "$1 direct" $P_UP "$2" "$3" "$4")
    alternate "$1 nginx" $P_NGX "$2" "$3" "$4" "$NGX_WORKER" "$1 proxy" $P_PROXY "$2" "$3" "$4" "$P_PROXY_PID"
    n=$(medians "$WORK/a.rounds")
    p=$(medians "$WORK/b.rounds")
    cpu_ratio=$(median_ratio "$WORK/b.rounds" "$WORK/a.rounds" 4)
    [ -n "${5:-}" ] && budget "$1" "$5" $n $p
    set -- "$1" "$4" $d $n $p
    # $3..$9 direct (rps p50 p99 cpu sys busy share), $10..$16 nginx, $17..$23 proxy
    echo "| $1 | $2 | $3 | ${10} | ${17} | $(ratio "${17}" "${10}") | $(ratio "${17}" "$3") | $4 / ${11} / ${18} | $5 / ${12} / ${19} | ${13} / ${20} | $(ratio "${13}" "${20}") | $(cat "$WORK/spread") |" >> "$OUT/results.md"
    echo "| $1 | $2 | ${10} | ${17} | $(per10k "${13}") | $(per10k "${20}") | $cpu_ratio |" >> "$OUT/summary.md"
}
bedrock_point() { # NAME BODY CONNS PASSTHROUGH_QUERY PASSTHROUGH_BODY [PORT PID]: beside the passthrough's same point
    selected "$1" || return 0
    alternate "$1 passthrough" $P_PROXY "$4" "$5" "$3" "$P_PROXY_PID" "$1" "${6:-$P_BEDROCK}" "" "$2" "$3" "${7:-$P_BEDROCK_PID}"
    pass=$(medians "$WORK/a.rounds")
    p=$(medians "$WORK/b.rounds")
    cpu_ratio=$(median_ratio "$WORK/b.rounds" "$WORK/a.rounds" 4)
    set -- "$1" "$3" "$(echo "$pass" | cut -d' ' -f4)" $p
    echo "| $1 | $2 | - | - | $4 | - | - | - / - / $5 | - / - / $6 | - / $7 | - | $(cat "$WORK/spread") |" >> "$OUT/results.md"
    echo "| $1 | $2 | $4 | $(per10k "$7") | $(per10k "$3") | $cpu_ratio |" >> "$OUT/bedrock.md"
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
# which peers a point measures: those of the plain upstream, or of the same answers over HTTPS
# (the direct run then goes to the mock's HTTPS port; nginx is the same worker, another server{})
use_upstream() { # http | https
    if [ "$1" = https ]; then
        P_UP=https://127.0.0.1:$UPS; P_NGX=$NGXS; P_PROXY=$PROXYS; P_PROXY_PID=$PROXYS_PID
        P_BEDROCK=$PROXYS_BEDROCK; P_BEDROCK_PID=$BEDROCKS_PID
    else
        P_UP=$UP; P_NGX=$NGX; P_PROXY=$PROXY; P_PROXY_PID=$PROXY_PID
        P_BEDROCK=$PROXY_BEDROCK; P_BEDROCK_PID=$BEDROCK_PID
    fi
}
use_upstream http
point "JSON, small body" "" small-json.json "$CONNS" 1.1
point "SSE, small body" "?sse=1" small-sse.json "$CONNS" 1.5
point "JSON, 1 connection (added latency)" "" small-json.json 1
point "SSE, 1 connection (added latency)" "?sse=1" small-sse.json 1
point "JSON, Claude Code body ($((BODY_REAL / 1024)) KiB)" "" real-json.json 8
point "SSE, Claude Code body ($((BODY_REAL / 1024)) KiB)" "?sse=1" real-sse.json 8
point "JSON, conversation ($((BODY_CONV / 1024)) KiB)" "" conv-json.json 4
point "SSE, conversation ($((BODY_CONV / 1024)) KiB)" "?sse=1" conv-sse.json 4
# a session's requests: the same tools and system, the last message different each time
SCRIPT=post-vary.lua
point "SSE, Claude Code body, varying last message" "?sse=1" real-sse-vary.json 8
point "SSE, Claude Code body, new tools and system each request" "?sse=1" real-sse-cold.json 8
SCRIPT=post.lua
bedrock_point "Bedrock JSON, Claude Code body" bedrock-real-json.json 8 "" real-json.json
bedrock_point "Bedrock SSE (event-stream translated), Claude Code body" bedrock-real-sse.json 8 "?sse=1" real-sse.json
SCRIPT=post-vary.lua
bedrock_point "Bedrock SSE (translated), varying last message" bedrock-real-sse-vary.json 8 "?sse=1" real-sse-vary.json
SCRIPT=post.lua
bedrock_point "Bedrock API key JSON, Claude Code body" bedrock-real-json.json 8 "" real-json.json \
    $PROXY_BEDROCK_KEY "$BEDROCK_KEY_PID"
bedrock_point "Bedrock API key SSE (translated), Claude Code body" bedrock-real-sse.json 8 "?sse=1" real-sse.json \
    $PROXY_BEDROCK_KEY "$BEDROCK_KEY_PID"
SCRIPT=post-vary.lua
bedrock_point "Bedrock API key SSE (translated), varying last message" bedrock-real-sse-vary.json 8 "?sse=1" \
    real-sse-vary.json $PROXY_BEDROCK_KEY "$BEDROCK_KEY_PID"
SCRIPT=post.lua
# As deployed: api.anthropic.com and Bedrock are HTTPS, so the proxy encrypts each 112 KiB body and
# decrypts each answer; nginx proxy_pass beside it does the same (proxy_ssl_verify, session reuse).
use_upstream https
point "JSON, Claude Code body, HTTPS upstream" "" real-json.json 8
point "SSE, Claude Code body, HTTPS upstream" "?sse=1" real-sse.json 8
bedrock_point "Bedrock SSE (translated), Claude Code body, HTTPS upstream" bedrock-real-sse.json 8 "?sse=1" real-sse.json
bedrock_point "Bedrock API key SSE (translated), Claude Code body, HTTPS upstream" bedrock-real-sse.json 8 "?sse=1" \
    real-sse.json $PROXYS_BEDROCK_KEY "$BEDROCKS_KEY_PID"
use_upstream http
cat "$OUT/bedrock.md" >> "$OUT/summary.md"
MAX_RSS=$(sort -n "$WORK/rss.log" | tail -n 1)
sleep 12 # the proxy hands freed heap pages back on its first two idle 5-second ticks
{
echo
echo "proxy RSS: idle $IDLE_RSS KiB, max under load $MAX_RSS KiB, idle again after the load $(rss_kib "$PROXY_PID") KiB"
echo
echo "Throughput targets as CPU budgets:"
cat "$OUT/budget.md"
} >> "$OUT/results.md"
if [ -x "$MICRO" ]; then
    {
    echo
    echo "Request scanner alone (\`bench_json_scan\`, best of 100 batches, pinned like the proxy):"
    echo '```'
    $PIN_PROXY "$MICRO" -r 100 "$WORK/real-json.json" "$WORK/conv-json.json"
    echo '```'
    } | tee -a "$OUT/results.md" >> "$OUT/summary.md"
fi
cat "$OUT/results.md"
