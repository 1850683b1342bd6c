#!/bin/sh
# Builds the libFuzzer targets (clang) and runs each briefly: FUZZ_SECONDS (default 20) per
# target, seeded from tests/data. For a longer run: FUZZ_SECONDS=3600 scripts/fuzz-smoke.sh,
# or run one target by hand: build-fuzz/fuzz_eventstream -max_total_time=3600 corpus/
set -eu
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-20}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
command -v clang >/dev/null || { echo "fuzz: clang is not installed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
CC=clang cmake -S . -B build-fuzz -DCP_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc 2>/dev/null || echo 2)" --target fuzz_eventstream fuzz_sse fuzz_json_scan fuzz_openai fuzz_headers
seed() { # target -> corpus dir
    dir=build-fuzz/corpus-$1
    mkdir -p "$dir"
    case $1 in
    fuzz_eventstream)
        cp tests/data/eventstream/encoded/positive/* "$dir/"
        # a decoded event as the delta reader takes it
        printf '%s' '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a \"b\"\n"}}' \
            >"$dir/delta-event"
        ;;
    fuzz_json_scan | fuzz_openai) cp tests/data/claude-code-request.json "$dir/" ;;
    fuzz_sse) printf 'event: message_start\ndata: {"type":"message_start","message":{"id":"m"}}\n\n' >"$dir/seed" ;;
    fuzz_headers) printf '120Bearer sk-ant-oat01-x' >"$dir/seed" ;;
    esac
    # inputs that once found a bug run first, every time
    for f in tests/fuzz/regressions/"$1"-*; do [ -e "$f" ] && cp "$f" "$dir/"; done
    echo "$dir"
}
for t in fuzz_eventstream fuzz_sse fuzz_json_scan fuzz_openai fuzz_headers; do
    corpus=$(seed $t)
    echo "== $t for ${SECONDS_EACH}s"
    if ! build-fuzz/$t -max_total_time="$SECONDS_EACH" -max_len=262144 -print_final_stats=1 \
        -artifact_prefix=build-fuzz/ "$corpus" >build-fuzz/$t.log 2>&1; then
        tail -40 build-fuzz/$t.log >&2
        echo "fuzz: $t found a problem (input saved under build-fuzz/)" >&2
        exit 1
    fi
    grep -E "stat::number_of_executed_units" build-fuzz/$t.log
done
