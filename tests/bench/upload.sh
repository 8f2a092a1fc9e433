#!/usr/bin/env bash
# Upload, in one run (`./x bench`): the same synthetic files (`parse-bench --write-dir`: SPANS
# spans in traces of 1,000, 8 services, typed attributes, events) as OTLP JSON, OTLP protobuf and
# Jaeger JSON, each decoded by core's `decode_file`
#   natively   `parse-bench --decode FILE --runs 3` (one process; best run)
#   in wasm    the browser's format worker, `parse-wasm-warm.mjs` (one worker, 3 runs; best run)
# and then opened through the page's file input in headless Chromium (`upload-bench.mjs`): from
# the file being chosen to the first trace's waterfall painted. With 75,000 spans the OTLP JSON
# file is about 50 MB, the size the upload target is stated for.
# Prints a Markdown table and appends it to docs/benchmarks.md (BENCH_RECORD=0 to only print).
#
# usage: tests/bench/upload.sh [SPANS]     (default 75,000; run after `./x build`)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/common.sh
SPANS=${1:-75000}
WORK=$(mktemp -d /tmp/spanview-bench-upload.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release -q -p spanview --bin spanview -p spanview-e2e --bin parse-bench
BIN="$ROOT/target/release"
NODE_CLIENTS="$ROOT/tests/clients/node"
mkdir -p "$WORK/files"
"$BIN/parse-bench" --spans "$SPANS" --write-dir "$WORK/files" >/dev/null
"$BIN/spanview" serve --listen 127.0.0.1:4630 --grpc-listen off --data-dir "$WORK/data" \
    2>"$WORK/spanview.log" &
wait_for_port 4630

# best_ms "run 1: 305 ms, ..." lines -> the smallest
best_native_ms() {
    sed -E 's/^run [0-9]+: ([0-9]+) ms.*/\1/' | sort -n | head -1
}
json_field() {
    node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(eval("v." + process.argv[1]))' "$1"
}

ROWS=()
for file in trace.otlp.json trace.otlp.pb trace.jaeger.json; do
    path="$WORK/files/$file"
    megabytes=$(awk -v b="$(stat -c %s "$path")" 'BEGIN { printf "%.1f", b / 1e6 }')
    native=$("$BIN/parse-bench" --decode "$path" --runs 3 | best_native_ms)
    wasm=$(node "$NODE_CLIENTS/parse-wasm-warm.mjs" http://127.0.0.1:4630 "$path" 3 | json_field bestMs)
    upload=$(node "$NODE_CLIENTS/upload-bench.mjs" http://127.0.0.1:4630 "$path")
    total=$(json_field totalMs <<<"$upload")
    listed=$(json_field listedMs <<<"$upload")
    ratio=$(awk -v n="$native" -v w="$wasm" 'BEGIN { printf "%.2f", n / w }')
    rate() { awk -v mb="$megabytes" -v ms="$1" 'BEGIN { printf "%.0f MB/s", mb * 1000 / ms }'; }
    ROWS+=("| $file | $megabytes MB | $native ms ($(rate "$native")) | $wasm ms ($(rate "$wasm")) \
| ${ratio}x | $listed ms | $total ms |")
    echo "$file: native $native ms, wasm $wasm ms, upload $upload" >&2
done

table=$(
    echo "**$(date -u +%Y-%m-%d) upload** ($COMMIT, $(machine), $(thousands "$SPANS") spans per file, \
\`tests/bench/upload.sh\`; target: a 50 MB file chosen to painted in 1.5 s):"
    echo
    echo "| file | size | native decode (best of 3) | wasm worker decode (best of 3) | wasm speed / native | chosen → traces listed | chosen → waterfall painted |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
)
record "$table"
