#!/usr/bin/env bash
# Ingest, side by side in one run on this machine (`./x bench`): the same native load generator
# (`ingest-bench`: pre-encoded batches of 512 spans, 4 connections) against each receiver in turn,
# each on a fresh process:
#   spanview  OTLP/HTTP protobuf, OTLP/HTTP JSON and OTLP/gRPC into its durable store
#   rotel     (PyPI `rotel`, blackhole exporter: receive only) over OTLP/HTTP and OTLP/gRPC
#   Phoenix   (PyPI `arize-phoenix`, its SQLite store) over OTLP/HTTP protobuf: the acknowledged
#             rate, and the durable rate (until its database holds every acknowledged span), on
#             PHOENIX_SPANS spans (default 10,240: it stores about a hundred a second here)
# For each: spans/s, the receiver's CPU seconds per million spans, its peak RSS; for spanview a
# check that every acknowledged span is readable afterwards (`query-bench --verify`).
# Prints a Markdown table and appends it, dated with the machine and commit, to
# docs/benchmarks.md (BENCH_RECORD=0 to only print).
#
# usage: tests/bench/ingest.sh [SPANS]     (default 1,000,000; run after `./x build`)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/common.sh
SPANS=${1:-1000000}
CONNECTIONS=${BENCH_CONNECTIONS:-4}
WORK=$(mktemp -d /tmp/spanview-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release -q -p spanview --bin spanview -p spanview-e2e --bin ingest-bench --bin query-bench
BIN="$ROOT/target/release"
ROTEL=$(rotel_agent)
PHOENIX_VERSION=20.26.1
PHOENIX_VENV="$ROOT/.tools/phoenix-venv"
venv_with "$PHOENIX_VENV" phoenix "arize-phoenix==$PHOENIX_VERSION"
PHOENIX_SPANS=${PHOENIX_SPANS:-10240}

ROWS=()
# run LABEL PID URL ENCODING [VERIFY_BASE_URL]
run() {
    local label=$1 pid=$2 url=$3 encoding=$4 verify_base=${5:-}
    local seed=$RANDOM$RANDOM
    local before after output rate
    before=$(cpu_seconds "$pid")
    output=$("$BIN/ingest-bench" "$url" --encoding "$encoding" --spans "$SPANS" \
        --connections "$CONNECTIONS" --seed "$seed")
    after=$(cpu_seconds "$pid")
    rate=$(spans_per_second "$output")
    local cpu_per_million
    cpu_per_million=$(awk -v a="$after" -v b="$before" -v n="$SPANS" 'BEGIN { printf "%.1f", (a - b) * 1e6 / n }')
    local check="—"
    if [ -n "$verify_base" ]; then
        local n_traces=$(( (SPANS + 511) / 512 * 512 / 8 ))
        if "$BIN/query-bench" "$verify_base" --seed "$seed" --traces "$n_traces" --verify >"$WORK/verify" 2>&1; then
            check="all $(thousands $(( n_traces * 8 ))) readable"
        else
            check="FAILED: $(tail -1 "$WORK/verify")"
        fi
    fi
    ROWS+=("| $label | $(thousands "$rate") | $cpu_per_million s | $(peak_rss_mb "$pid") MB | $check |")
    echo "$label: $output" >&2
}

for encoding in protobuf json grpc; do
    "$BIN/spanview" serve --listen 127.0.0.1:4600 --grpc-listen 127.0.0.1:4601 \
        --data-dir "$WORK/spanview-$encoding" 2>"$WORK/spanview-$encoding.log" &
    pid=$!
    wait_for_port 4600
    wait_for_port 4601
    case $encoding in
        grpc) url=http://127.0.0.1:4601; label="spanview OTLP/gRPC (durable)" ;;
        json) url=http://127.0.0.1:4600/v1/traces; label="spanview OTLP/HTTP JSON (durable)" ;;
        *) url=http://127.0.0.1:4600/v1/traces; label="spanview OTLP/HTTP protobuf (durable)" ;;
    esac
    run "$label" "$pid" "$url" "$encoding" http://127.0.0.1:4600
    kill "$pid"; wait "$pid" 2>/dev/null || true
done

for encoding in protobuf grpc; do
    "$ROTEL" start --exporter blackhole --otlp-http-endpoint 127.0.0.1:4610 \
        --otlp-grpc-endpoint 127.0.0.1:4611 >"$WORK/rotel-$encoding.log" 2>&1 &
    pid=$!
    wait_for_port 4610
    wait_for_port 4611
    if [ "$encoding" = grpc ]; then
        run "rotel $ROTEL_VERSION OTLP/gRPC (blackhole: receive only)" "$pid" http://127.0.0.1:4611 grpc
    else
        run "rotel $ROTEL_VERSION OTLP/HTTP protobuf (blackhole: receive only)" "$pid" http://127.0.0.1:4610/v1/traces protobuf
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true
done

# Phoenix acknowledges a batch once it is queued and writes it to its database afterwards: the
# durable rate counts until the database holds every acknowledged span.
PHOENIX_WORKING_DIR="$WORK/phoenix" PHOENIX_PORT=4620 PHOENIX_GRPC_PORT=4621 PHOENIX_HOST=127.0.0.1 \
    "$PHOENIX_VENV/bin/phoenix" serve >"$WORK/phoenix.log" 2>&1 &
pid=$!
wait_for_port 4620 600
started=$(date +%s.%N)
before=$(cpu_seconds "$pid")
output=$("$BIN/ingest-bench" http://127.0.0.1:4620/v1/traces --spans "$PHOENIX_SPANS" \
    --connections "$CONNECTIONS" --seed 1)
acknowledged=$(spans_per_second "$output")
stored=0
for _ in $(seq 1 1200); do
    stored=$(python3 -c 'import sqlite3, sys
try:
    print(sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute("SELECT count(*) FROM spans").fetchone()[0])
except sqlite3.Error:
    print(0)' "$WORK/phoenix/phoenix.db")
    [ "$stored" -ge "$PHOENIX_SPANS" ] && break
    sleep 0.5
done
durable=$(awk -v n="$stored" -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", n / (e - s) }')
cpu_per_million=$(awk -v a="$(cpu_seconds "$pid")" -v b="$before" -v n="$PHOENIX_SPANS" \
    'BEGIN { printf "%.1f", (a - b) * 1e6 / n }')
ROWS+=("| Phoenix $PHOENIX_VERSION OTLP/HTTP protobuf ($(thousands "$PHOENIX_SPANS") spans): acknowledged \
| $(thousands "$acknowledged") | $cpu_per_million s | $(peak_rss_mb "$pid") MB | — |")
ROWS+=("| Phoenix $PHOENIX_VERSION, durable (its database holds them) | $(thousands "$durable") | | \
| $(thousands "$stored") of $(thousands "$PHOENIX_SPANS") stored |")
echo "phoenix: $output; $stored stored, $durable spans/s durable" >&2
kill "$pid"; wait "$pid" 2>/dev/null || true

table=$(
    echo "**$(date -u +%Y-%m-%d) ingest side by side** ($COMMIT, $(machine), $(thousands "$SPANS") spans \
per receiver, $CONNECTIONS connections, \`tests/bench/ingest.sh\`):"
    echo
    echo "| receiver | spans/s | receiver CPU per 1M spans | peak RSS | acknowledged spans |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
)
record "$table"
