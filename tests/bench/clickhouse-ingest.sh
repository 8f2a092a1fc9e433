#!/usr/bin/env bash
# Ingest into ClickHouse, side by side in one run on this machine (`./x bench`): rotel's
# ClickHouse exporter and spanview writing the same load into the same server, a current
# ClickHouse (PyPI `chdb-core` 26.9 behind `server/src/store/clickhouse/chdb_http.py`, its HTTP
# interface), which rotel's schema needs (Debian's 18.16 lacks its Map and DateTime64 columns).
# Each round runs each writer on a fresh process and database, in turn:
#   rotel                PyPI `rotel`, `--exporter clickhouse` (acknowledges on receipt)
#   spanview spooled     `--clickhouse-ack spooled` (acknowledges once the batch is fsynced)
#   spanview inserted    `--clickhouse-ack inserted` (acknowledges once ClickHouse has it)
# For each: the acknowledged rate (what the client saw), the end-to-end rate (from the first
# request until ClickHouse holds every span: the figure to compare), the writer's CPU seconds
# per million spans until then, and the bytes per span ClickHouse stores.
# Prints a Markdown table and appends it, dated with the machine and commit, to
# docs/benchmarks.md (BENCH_RECORD=0 to only print).
#
# usage: tests/bench/clickhouse-ingest.sh [SPANS] [ROUNDS]   (default 1,000,000 and 2;
#        BENCH_CLICKHOUSE_ACKS="spooled" leaves out the slow `inserted` rows)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/common.sh
SPANS=${1:-1000000}
ROUNDS=${2:-2}
CHDB_VERSION=26.9.0
PORT=18190
WORK=$(mktemp -d /tmp/spanview-bench-chingest.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release -q -p spanview --bin spanview -p spanview-e2e --bin ingest-bench
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
ROTEL=$(rotel_agent)
CHDB_VENV="$ROOT/.tools/chdb-venv"
venv_with "$CHDB_VENV" chdb "chdb-core==$CHDB_VERSION"
"$CHDB_VENV/bin/python" server/src/store/clickhouse/chdb_http.py "$PORT" "$WORK/chdb" >"$WORK/chdb.log" 2>&1 &
wait_for_port "$PORT" 600
CH_URL=http://127.0.0.1:$PORT
sql() {
    curl -sf --data-binary "$1" "$CH_URL"
}
n_spans=$(( (SPANS + 511) / 512 * 512 ))

# The columns rotel's exporter inserts (its INSERT names them; the types are those of its
# RowBinary rows), ordered as the OpenTelemetry Collector's ClickHouse schema orders them, with
# the trace-id index rotel's schema tool adds beside it.
create_rotel_tables() {
    local db=$1
    sql "CREATE DATABASE $db"
    sql "CREATE TABLE $db.otel_traces (
        Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)), TraceId String CODEC(ZSTD(1)),
        SpanId String CODEC(ZSTD(1)), ParentSpanId String CODEC(ZSTD(1)),
        TraceState String CODEC(ZSTD(1)), SpanName LowCardinality(String) CODEC(ZSTD(1)),
        SpanKind LowCardinality(String) CODEC(ZSTD(1)), ServiceName LowCardinality(String) CODEC(ZSTD(1)),
        ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
        ScopeName String CODEC(ZSTD(1)), ScopeVersion String CODEC(ZSTD(1)),
        SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
        Duration UInt64 CODEC(ZSTD(1)), StatusCode LowCardinality(String) CODEC(ZSTD(1)),
        StatusMessage String CODEC(ZSTD(1)),
        Events Nested (Timestamp DateTime64(9), Name LowCardinality(String),
            Attributes Map(LowCardinality(String), String)) CODEC(ZSTD(1)),
        Links Nested (TraceId String, SpanId String, TraceState String,
            Attributes Map(LowCardinality(String), String)) CODEC(ZSTD(1))
        ) ENGINE = MergeTree PARTITION BY toDate(Timestamp) ORDER BY (ServiceName, SpanName, Timestamp)"
    sql "CREATE TABLE $db.otel_traces_trace_id_ts (TraceId String, Start DateTime64(9), End DateTime64(9))
        ENGINE = MergeTree PARTITION BY toDate(Start) ORDER BY (TraceId, Start)"
    sql "CREATE MATERIALIZED VIEW $db.otel_traces_trace_id_ts_mv TO $db.otel_traces_trace_id_ts
        AS SELECT TraceId, min(Timestamp) AS Start, max(Timestamp) AS End FROM $db.otel_traces
        WHERE TraceId != '' GROUP BY TraceId"
}

ROWS=()
# measure LABEL PID INGEST_URL DATABASE COUNT_TABLE: sends the load, then waits for ClickHouse
# to hold every span.
measure() {
    local label=$1 pid=$2 url=$3 db=$4 table=$5
    local before started output stored=0 ended
    before=$(cpu_seconds "$pid")
    started=$(date +%s.%N)
    output=$("$BIN/ingest-bench" "$url" --spans "$SPANS" --seed "$RANDOM$RANDOM")
    for _ in $(seq 1 2400); do
        stored=$(sql "SELECT count() FROM $db.$table" || echo 0)
        [ "$stored" -ge "$n_spans" ] && break
        sleep 0.25
    done
    ended=$(date +%s.%N)
    local end_to_end cpu_per_million bytes
    end_to_end=$(awk -v n="$stored" -v s="$started" -v e="$ended" 'BEGIN { printf "%.0f", n / (e - s) }')
    cpu_per_million=$(awk -v a="$(cpu_seconds "$pid")" -v b="$before" -v n="$n_spans" \
        'BEGIN { printf "%.1f", (a - b) * 1e6 / n }')
    sleep 5  # let merges settle before sizing
    bytes=$(sql "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = '$db' AND active")
    ROWS+=("| $label | $(thousands "$(spans_per_second "$output")") | **$(thousands "$end_to_end")** \
| $cpu_per_million s | $(( bytes / n_spans )) B | $(thousands "$stored") of $(thousands "$n_spans") |")
    echo "$label: $output; $stored stored, $end_to_end spans/s end to end" >&2
}

for round in $(seq 1 "$ROUNDS"); do
    db=rotel_$round
    create_rotel_tables "$db"
    "$ROTEL" start --exporter clickhouse --clickhouse-exporter-endpoint "$CH_URL" \
        --clickhouse-exporter-database "$db" --clickhouse-exporter-compression none \
        --otlp-http-endpoint 127.0.0.1:4640 --otlp-grpc-endpoint 127.0.0.1:4641 \
        >"$WORK/rotel-$round.log" 2>&1 &
    pid=$!
    wait_for_port 4640
    measure "rotel $ROTEL_VERSION, round $round" "$pid" http://127.0.0.1:4640/v1/traces "$db" otel_traces
    kill "$pid"; wait "$pid" 2>/dev/null || true

    for ack in ${BENCH_CLICKHOUSE_ACKS:-spooled inserted}; do
        db=spanview_${ack}_$round
        "$BIN/spanview" serve --listen 127.0.0.1:4642 --grpc-listen off --data-dir "$WORK/$db" \
            --store clickhouse --clickhouse-url "$CH_URL" --clickhouse-database "$db" \
            --clickhouse-ack "$ack" 2>"$WORK/$db.log" &
        pid=$!
        wait_for_port 4642 600
        measure "spanview \`$ack\`, round $round" "$pid" http://127.0.0.1:4642/v1/traces "$db" spans
        kill "$pid"; wait "$pid" 2>/dev/null || true
    done
done

table=$(
    echo "**$(date -u +%Y-%m-%d) ingest into ClickHouse side by side** ($COMMIT, $(machine), \
$(thousands "$n_spans") spans per writer, 4 connections, ClickHouse $(sql 'SELECT version()') (chdb-core \
$CHDB_VERSION behind \`chdb_http.py\`), \`tests/bench/clickhouse-ingest.sh\`):"
    echo
    echo "| writer | acknowledged spans/s | end to end spans/s (until ClickHouse holds all) \
| writer CPU per 1M spans | bytes per span in ClickHouse | stored |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
)
record "$table"
