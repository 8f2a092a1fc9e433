#!/usr/bin/env bash
# UI in headless Chromium (`./x bench`): the trace view on synthetic traces of 1,000 to 1,000,000
# spans and on 100,001 and 1,000,001 spans shaped like real work (`bench-traces --million`),
# timed inside the page by `big-trace-bench.mjs`: navigation to painted rows, the trace's data
# arriving to painted rows, the longest main-thread task before and after the first paint (a
# scroll runs from the first paint on), frame times of settled scrolls, the tab's JS heap; then
# the page's bundle, gzipped. `tests/bench/big-trace.sh` runs the same with several runs per trace.
# Prints a Markdown table and appends it to docs/benchmarks.md (BENCH_RECORD=0 to only print).
#
# usage: tests/bench/ui.sh     (run after `./x build`)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/common.sh
WORK=$(mktemp -d /tmp/spanview-bench-ui.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release -q -p spanview --bin spanview -p spanview-e2e --bin bench-traces
BIN="$ROOT/target/release"
"$BIN/spanview" serve --listen 127.0.0.1:4650 --grpc-listen off --data-dir "$WORK/data" \
    2>"$WORK/spanview.log" &
wait_for_port 4650
echo "loading the benchmark traces (2.2 million spans)" >&2
"$BIN/bench-traces" http://127.0.0.1:4650 --million >/dev/null
urls=()
for id in 10 11 12 15 16 17; do
    urls+=("http://127.0.0.1:4650/trace/$(printf "$id%.0s" $(seq 16))")
done
node tests/clients/node/big-trace-bench.mjs "${urls[@]}" >"$WORK/ui.json"

ROWS=$(node -e '
const results = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
// The traces of `bench-traces --million`, by the byte their id repeats.
const spans = { "10": 1000, "11": 10000, "12": 100000, "15": 1000000, "16": 100001, "17": 1000001 };
const id = (url) => url.slice(-2);
const shape = (url) => ["16", "17"].includes(id(url)) ? "like real work" : "synthetic";
const ms = (value) => value === null || value === undefined ? "—" : `${value} ms`;
for (const r of results) {
  console.log(`| ${spans[id(r.url)].toLocaleString("en-US")} spans, ${shape(r.url)} ` +
    `(${r.rows.toLocaleString("en-US")} rows) | ${ms(r.navigationToPaintMs)} | ` +
    `${ms(r.responseToPaintMs)} | ${ms(r.longTasksBeforePaintMs[0] ?? 0)} | ${ms(r.maxLongTaskAfterPaintMs)} | ` +
    `${ms(r.settledWheelFramesMs.p95)} | ${ms(r.settledFlingFramesMs.p95)} | ` +
    `${r.jsHeapMb === null ? "—" : r.jsHeapMb + " MB"} |`);
}' "$WORK/ui.json")

gz() {
    local total=0
    for file in "$@"; do total=$(( total + $(gzip -9c "$file" | wc -c) )); done
    echo "$total"
}
page_bytes=$(gz dist/spanview-app-*_bg.wasm dist/spanview-app-*.js)
worker_bytes=$(gz dist/parse-worker_bg.wasm dist/parse-worker.js)
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1000 }'; }

table=$(
    echo "**$(date -u +%Y-%m-%d) UI** ($COMMIT, $(machine), $(chromium --version 2>/dev/null || echo Chromium), \
\`tests/bench/ui.sh\`): the page's bundle $(kb "$page_bytes") gzipped (wasm + JS; budget 550 KB), the \
format worker $(kb "$worker_bytes") (loaded when a file is opened). Targets: no task over 100 ms after \
the first paint at 100k spans; at 1M, painted within 3 s of the data and no task over 200 ms."
    echo
    echo "| trace | navigation → painted | response → painted | longest task before paint | longest task after paint (scrolling) | wheel scroll frame p95 | fling frame p95 | JS heap (without wasm memory) |"
    echo "|---|---|---|---|---|---|---|---|"
    echo "$ROWS"
)
record "$table"
