#!/usr/bin/env bash
# Store, side by side in one run (`./x bench`): each configured store gets the same SPANS spans
# from the native load generator (`ingest-bench`, OTLP/HTTP protobuf, 4 connections), then the
# same queries (`query-bench`: trace by id and seven searches, one request after another, HTTP and
# JSON included). Reports bytes per span on disk and each query's p50/p99 per store.
#   SQLite      always (a fresh data dir)
#   ClickHouse  when SPANVIEW_BENCH_CLICKHOUSE_URL is set (a fresh database on that server);
#               SPANVIEW_BENCH_CLICKHOUSE_ACK=spooled runs it with `--clickhouse-ack spooled`
#               (the ingest rate is then the acknowledged one; the queries wait until
#               ClickHouse holds every span)
# Prints a Markdown table and appends it, dated with the machine and commit, to
# docs/benchmarks.md (BENCH_RECORD=0 to only print).
#
# usage: tests/bench/store.sh [SPANS]     (default 1,000,000; run after `./x build`)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/common.sh
SPANS=${1:-1000000}
CH_URL=${SPANVIEW_BENCH_CLICKHOUSE_URL:-}
CH_ACK=${SPANVIEW_BENCH_CLICKHOUSE_ACK:-inserted}
WORK=$(mktemp -d /tmp/spanview-bench-store.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release -q -p spanview --bin spanview -p spanview-e2e --bin ingest-bench --bin query-bench
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"

STORES=(sqlite)
[ -n "$CH_URL" ] && STORES+=(clickhouse)
declare -A RESULT  # RESULT[store,label] = "p50 / p99"
declare -A BYTES_PER_SPAN INGEST_RATE
LABELS=()

for store in "${STORES[@]}"; do
    seed=$RANDOM$RANDOM
    args=(serve --listen 127.0.0.1:4620 --grpc-listen off --data-dir "$WORK/$store")
    database="spanview_bench_$seed"
    if [ "$store" = clickhouse ]; then
        args+=(--store clickhouse --clickhouse-url "$CH_URL" --clickhouse-database "$database"
            --clickhouse-ack "$CH_ACK")
    fi
    "$BIN/spanview" "${args[@]}" 2>"$WORK/$store.log" &
    pid=$!
    wait_for_port 4620 300
    output=$("$BIN/ingest-bench" http://127.0.0.1:4620/v1/traces --spans "$SPANS" --seed "$seed")
    INGEST_RATE[$store]=$(spans_per_second "$output")
    n_traces=$(( (SPANS + 511) / 512 * 512 / 8 ))
    if [ "$store" = clickhouse ]; then
        # Acknowledged is not yet inserted with --clickhouse-ack spooled: wait for every span.
        for _ in $(seq 600); do
            stored=$(curl -sf --data-binary "SELECT count() FROM $database.spans" "$CH_URL" || echo 0)
            [ "$stored" -ge "$(( n_traces * 8 ))" ] && break
            sleep 1
        done
        # Merges shrink parts for a while after the writes: measure what a reader will see.
        sleep 10
        bytes=$(curl -sf --data-binary \
            "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = '$database' AND active" "$CH_URL")
    else
        bytes=$(du -sb "$WORK/$store" | cut -f1)
    fi
    BYTES_PER_SPAN[$store]=$(awk -v b="$bytes" -v n="$(( n_traces * 8 ))" 'BEGIN { printf "%.0f", b / n }')
    while IFS= read -r line; do
        label=$(sed -E 's/ +p50 .*//' <<<"$line")
        p50=$(sed -E 's/.*p50 +([0-9.]+) ms.*/\1/' <<<"$line")
        p99=$(sed -E 's/.*p99 +([0-9.]+) ms.*/\1/' <<<"$line")
        [[ " ${LABELS[*]} " == *" $label "* ]] || LABELS+=("$label")
        RESULT[$store,$label]="$p50 / $p99 ms"
        echo "$store: $line" >&2
    done < <("$BIN/query-bench" http://127.0.0.1:4620 --seed "$seed" --traces "$n_traces" | grep ' p50 ')
    kill "$pid"; wait "$pid" 2>/dev/null || true
    if [ "$store" = clickhouse ]; then
        curl -sf --data-binary "DROP DATABASE IF EXISTS $database" "$CH_URL" >/dev/null || true
    fi
done

header="| | $(printf '%s | ' "${STORES[@]}")"
rule="|---|$(printf -- '---|%.0s' "${STORES[@]}")"
row() {
    local label=$1 line="| $1 |"
    shift
    for value in "$@"; do line+=" $value |"; done
    echo "$line"
}
table=$(
    echo "**$(date -u +%Y-%m-%d) store side by side** ($COMMIT, $(machine), $(thousands "$SPANS") spans \
in traces of 8, \`tests/bench/store.sh\`; queries: p50 / p99 over HTTP, JSON included):"
    echo
    echo "$header"
    echo "$rule"
    values=(); for s in "${STORES[@]}"; do values+=("$(thousands "${INGEST_RATE[$s]}") spans/s"); done
    row "ingest (OTLP/HTTP protobuf, 4 connections; ClickHouse: --clickhouse-ack $CH_ACK)" "${values[@]}"
    values=(); for s in "${STORES[@]}"; do values+=("${BYTES_PER_SPAN[$s]} B"); done
    row "bytes on disk per span" "${values[@]}"
    for label in "${LABELS[@]}"; do
        values=(); for s in "${STORES[@]}"; do values+=("${RESULT[$s,$label]:-—}"); done
        row "$label" "${values[@]}"
    done
)
record "$table"
