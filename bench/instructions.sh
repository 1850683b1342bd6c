#!/bin/sh
# Instructions per request of the proxy, under callgrind: a deterministic measure where CPU time is
# not (a shared machine, other builds running). The mock upstream is nginx answering from files,
# as in bench/run.sh; the client (instr_client.py) sends the requests one at a time on one
# keep-alive connection. Per point: WARM requests first, then callgrind's counters are zeroed, N
# requests sent, and the counters dumped, so startup and warm-up are not counted.
#   bench/instructions.sh                 all points
#   POINTS='bedrock' bench/instructions.sh   (a grep -E pattern of point names)
# Environment: BIN (default ../build-release/claude-proxy), N (requests per point, default 40),
# WARM (default 3), LEDGER=0 (the passthrough proxy's usage ledger off; on by default, as in
# bench/run.sh: its writer thread's SQLite inserts are counted too, in batches of whatever arrived
# within its one-second flush, so they vary a little from run to run).
# Writes out/instructions.md and out/callgrind-<point>.out
# (callgrind_annotate out/callgrind-<point>.out shows where).
set -eu
cd "$(dirname "$0")"
BIN=${BIN:-../build-release/claude-proxy}
N=${N:-40}
WARM=${WARM:-3}
OUT=out
mkdir -p "$OUT"
for c in valgrind callgrind_control nginx python3; do
    command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] ||
        { echo "instructions.sh needs $c (apt-get install valgrind nginx-light python3)" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$BIN" ] || { echo "instructions.sh: no $BIN" >&2; exit 1; }
UP=28111; PROXY=28112; SIGV4=28113; APIKEY=28114
WORK=$(mktemp -d)
chmod 755 "$WORK"
PIDS=
cleanup() {
    [ -f "$WORK/up.pid" ] && kill "$(cat "$WORK/up.pid")" 2>/dev/null || true
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
python3 bodies.py "$WORK"
. ./mock-upstream.sh
mock_upstream_conf "$WORK" "$UP"
"$NGINX" -c "$WORK/up.conf" -p "$WORK"
if [ "${LEDGER:-1}" = 0 ]; then USAGE_DB=false; else USAGE_DB="\"$WORK/usage.db\""; fi
cat > "$WORK/anthropic.lua" <<LUA
return { port = $PROXY, log_level = "warn", max_body = 64 * 1024 * 1024, order = { "anthropic" },
  usage_db = $USAGE_DB,
  providers = { anthropic = { type = "anthropic", base_url = "http://127.0.0.1:$UP" } } }
LUA
for kind in sigv4 apikey; do
    port=$SIGV4; key=
    [ $kind = apikey ] && { port=$APIKEY; key='api_key = "bench-api-key-not-a-secret",'; }
    cat > "$WORK/$kind.lua" <<LUA
return { port = $port, log_level = "warn", max_body = 64 * 1024 * 1024, order = { "bedrock" },
  usage_db = "$WORK/usage-$kind.db",
  providers = { bedrock = { type = "bedrock", region = "us-west-2", $key endpoint = "http://127.0.0.1:$UP" } } }
LUA
done
start() { # NAME CONFIG -> the proxy's pid in $started
    AWS_ACCESS_KEY_ID=AKIDBENCHMARKEXAMPLE AWS_SECRET_ACCESS_KEY=bench-secret-not-a-secret AWS_REGION=us-west-2 \
        AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
        valgrind --tool=callgrind --callgrind-out-file="$WORK/cg-$1.out" "$BIN" --config "$WORK/$2" \
        2>"$WORK/$1.log" &
    started=$!
    PIDS="$PIDS $started"
}
wait_port() { # PORT
    i=0
    until curl -s -o /dev/null "http://127.0.0.1:$1/"; do
        i=$((i + 1)); [ $i -gt 600 ] && { echo "port $1 never answered" >&2; cat "$WORK"/*.log >&2; exit 1; }
        sleep 0.1
    done
}
selected() { [ -z "${POINTS:-}" ] || echo "$1" | grep -qE "$POINTS"; }
# point NAME PID PORT QUERY BODY [vary]
point() {
    selected "$1" || return 0
    python3 instr_client.py "$3" "$4" "$WORK/$5" "$WARM" ${6:-} || { cat "$WORK"/*.log >&2; exit 1; }
    callgrind_control -z "$2" >/dev/null 2>&1
    python3 instr_client.py "$3" "$4" "$WORK/$5" "$N" ${6:-} || { cat "$WORK"/*.log >&2; exit 1; }
    before=$(ls "$WORK"/cg-*.out.* 2>/dev/null | wc -l)
    callgrind_control -d "$2" >/dev/null 2>&1
    dump=$(ls -t "$WORK"/cg-*.out.* | head -n 1)
    key=$(echo "$1" | tr -c 'A-Za-z0-9\n' _)
    cp "$dump" "$OUT/callgrind-$key.out"
    ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")
    per=$(echo "$ir $N" | awk '{ printf "%.0f", $1 / $2 }')
    echo "| $1 | $N | $per |" | tee -a "$OUT/instructions.md"
    eval "IR_$key=$per"
}
{
echo "Instructions per request (callgrind, $N requests per point after $WARM warm-up requests; usage ledger $([ "${LEDGER:-1}" = 0 ] && echo off || echo on); $(date -u '+%Y-%m-%d %H:%M') UTC, $(cd .. && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo
echo "| point | requests | instructions/request |"
echo "| --- | --- | --- |"
} > "$OUT/instructions.md"
cat "$OUT/instructions.md"
start anthropic anthropic.lua; A=$started
start sigv4 sigv4.lua; S=$started
start apikey apikey.lua; K=$started
wait_port $PROXY; wait_port $SIGV4; wait_port $APIKEY
point "passthrough JSON, small body" $A $PROXY "" small-json.json
point "passthrough SSE, small body" $A $PROXY "?sse=1" small-sse.json
point "passthrough JSON" $A $PROXY "" real-json.json
point "passthrough SSE" $A $PROXY "?sse=1" real-sse.json
point "passthrough SSE, varying last message" $A $PROXY "?sse=1" real-sse.json vary
point "Bedrock SigV4 JSON" $S $SIGV4 "" bedrock-real-json.json
point "Bedrock SigV4 SSE" $S $SIGV4 "" bedrock-real-sse.json
point "Bedrock SigV4 SSE, varying last message" $S $SIGV4 "" bedrock-real-sse.json vary
point "Bedrock API key JSON" $K $APIKEY "" bedrock-real-json.json
point "Bedrock API key SSE" $K $APIKEY "" bedrock-real-sse.json
point "Bedrock API key SSE, varying last message" $K $APIKEY "" bedrock-real-sse.json vary
ratio() { [ -n "${1:-}" ] && [ -n "${2:-}" ] && echo "$1 $2" | awk '{ printf "%.2f", $1 / $2 }' || echo -; }
{
echo
echo "Bedrock / passthrough: SigV4 JSON $(ratio "${IR_Bedrock_SigV4_JSON:-}" "${IR_passthrough_JSON:-}"),"\
" SigV4 SSE $(ratio "${IR_Bedrock_SigV4_SSE:-}" "${IR_passthrough_SSE:-}"),"\
" SigV4 SSE varying $(ratio "${IR_Bedrock_SigV4_SSE__varying_last_message:-}" "${IR_passthrough_SSE__varying_last_message:-}"),"\
" API key JSON $(ratio "${IR_Bedrock_API_key_JSON:-}" "${IR_passthrough_JSON:-}"),"\
" API key SSE $(ratio "${IR_Bedrock_API_key_SSE:-}" "${IR_passthrough_SSE:-}")"
} | tee -a "$OUT/instructions.md"
