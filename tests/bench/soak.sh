#!/usr/bin/env bash
# Soak (`./x bench --full`): spanview takes a steady 10,000 spans/s (`ingest-bench --rate`,
# OTLP/HTTP protobuf) for MINUTES minutes; its resident memory and its data directory are sampled
# every minute. Then every acknowledged span must be readable (`query-bench --verify`).
# Memory is "flat" when the last quarter's highest sample is within 10 % of the second quarter's.
# Prints a Markdown table and appends it to docs/benchmarks.md (BENCH_RECORD=0 to only print).
#
# usage: tests/bench/soak.sh [MINUTES] [SPANS_PER_SECOND]    (default 60 and 10,000)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/common.sh
MINUTES=${1:-60}
RATE=${2:-10000}
SPANS=$(( MINUTES * 60 * RATE / 512 * 512 ))
WORK=$(mktemp -d /tmp/spanview-bench-soak.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release -q -p spanview --bin spanview -p spanview-e2e --bin ingest-bench --bin query-bench
BIN="$ROOT/target/release"
"$BIN/spanview" serve --listen 127.0.0.1:4640 --grpc-listen off --data-dir "$WORK/data" \
    2>"$WORK/spanview.log" &
pid=$!
wait_for_port 4640
seed=$RANDOM$RANDOM
"$BIN/ingest-bench" http://127.0.0.1:4640/v1/traces --spans "$SPANS" --rate "$RATE" \
    --connections 2 --seed "$seed" >"$WORK/ingest.out" &
load=$!

SAMPLES=()
minute=0
while kill -0 "$load" 2>/dev/null; do
    sleep 60 &
    wait $! || true
    minute=$(( minute + 1 ))
    SAMPLES+=("$minute $(rss_mb "$pid") $(du -sm "$WORK/data" | cut -f1)")
    echo "minute $minute: RSS $(rss_mb "$pid") MB, data $(du -sm "$WORK/data" | cut -f1) MB" >&2
done
wait "$load"
n_traces=$(( SPANS / 8 ))
if "$BIN/query-bench" http://127.0.0.1:4640 --seed "$seed" --traces "$n_traces" --verify >"$WORK/verify" 2>&1; then
    check="all $(thousands "$SPANS") acknowledged spans readable"
else
    check="FAILED: $(tail -1 "$WORK/verify")"
fi
kill "$pid"; wait "$pid" 2>/dev/null || true

# Highest RSS in the second and in the last quarter of the run.
quarter_peak() {
    printf '%s\n' "${SAMPLES[@]}" | awk -v from="$1" -v to="$2" -v n="${#SAMPLES[@]}" \
        '$1 > n * from && $1 <= n * to && $2 > peak { peak = $2 } END { print peak + 0 }'
}
early=$(quarter_peak 0.25 0.5)
late=$(quarter_peak 0.75 1)
flat=$(awk -v e="$early" -v l="$late" 'BEGIN { print (l <= e * 1.1) ? "flat" : "GROWING" }')
table=$(
    echo "**$(date -u +%Y-%m-%d) soak** ($COMMIT, $(machine), $MINUTES min at $(thousands "$RATE") spans/s, \
\`tests/bench/soak.sh\`): $(tail -1 "$WORK/ingest.out" | sed -E 's/.*: ([0-9.]+ s), ([0-9]+ spans\/s).*/\2 over \1/'); \
memory $flat (second quarter's peak $early MB, last quarter's $late MB); $check."
    echo
    echo "| minute | RSS | data dir |"
    echo "|---|---|---|"
    printf '%s\n' "${SAMPLES[@]}" | awk '{ printf "| %d | %d MB | %d MB |\n", $1, $2, $3 }'
)
record "$table"
[ "$flat" = flat ] && [[ "$check" != FAILED* ]]
