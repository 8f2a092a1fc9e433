#!/usr/bin/env bash
# UI in headless Chromium (`./x bench`): the trace view on synthetic traces of 1,000 to 100,000
# spans (`bench-traces`), timed by `render-bench.mjs` inside the page: navigation to painted rows,
# the trace's data arriving to painted rows, frame times while scrolling (p95 and the longest),
# long tasks while scrolling, the tab's JS heap; then the page's bundle, gzipped.
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
"$BIN/bench-traces" http://127.0.0.1:4650 >"$WORK/urls"
mapfile -t URLS < <(grep -E '/trace/1[012]' "$WORK/urls")
node tests/clients/node/render-bench.mjs "${URLS[@]}" >"$WORK/render.json"

ROWS=$(node -e '
const results = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const thousands = (n) => n.toLocaleString("en-US");
for (const r of results) {
  const heap = r.jsHeapMb === undefined ? "—" : `${r.jsHeapMb} MB`;
  console.log(`| ${thousands(r.rows)} | ${r.navigationToPaintMs} ms | ${r.dataToPaintMs} ms | ` +
    `${r.scrollFrameP95Ms} ms | ${r.scrollFrameMaxMs} ms | ${r.scrollLongTasks} | ${heap} |`);
}' "$WORK/render.json")

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
\`tests/bench/ui.sh\`): bundle $(kb "$page_bytes") gzipped (wasm + JS; budget 550 KB), the format \
worker $(kb "$worker_bytes") (loaded when a file is opened)."
    echo
    echo "| spans | navigation → painted | data → painted | scroll frame p95 | longest scroll frame | long tasks while scrolling | JS heap |"
    echo "|---|---|---|---|---|---|---|"
    echo "$ROWS"
)
record "$table"
