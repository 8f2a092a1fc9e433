#!/usr/bin/env bash
# The trace view with big traces (`./x bench big-trace`): a release spanview on a fresh data
# directory, the benchmark traces of `bench-traces --million` (100,000 and 1,000,000 spans of the
# synthetic shape, 100,001 and 1,000,001 shaped like real work), each opened RUNS times by
# `tests/clients/node/big-trace-bench.mjs` in headless Chromium: navigation and data to painted
# rows, the long tasks before and after the first paint, and frame times while scrolling. Prints
# the JSON of every run; docs/benchmarks.md ("Big traces") explains the figures.
#
# usage: tests/bench/big-trace.sh [RUNS]     (default 3; run after `./x build`)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
RUNS=${1:-3}
PORT=${BENCH_PORT:-4398}
WORK=$(mktemp -d /tmp/spanview-big-trace.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release -q -p spanview --bin spanview -p spanview-e2e --bin bench-traces
BIN="$ROOT/target/release"
"$BIN/spanview" serve --listen "127.0.0.1:$PORT" --grpc-listen off --data-dir "$WORK/data" \
    >"$WORK/spanview.log" 2>&1 &
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
    sleep 0.2
done
echo "loading the benchmark traces (2.2 million spans)" >&2
"$BIN/bench-traces" "http://127.0.0.1:$PORT" --million >/dev/null
urls=()
for id in 12 16 15 17; do
    urls+=("http://127.0.0.1:$PORT/trace/$(printf "$id%.0s" $(seq 16))")
done
node tests/clients/node/big-trace-bench.mjs --runs "$RUNS" "${urls[@]}"
