#!/usr/bin/env bash
# `./x bench [--full]`: spanview measured against its peers, side by side in one run on this
# machine, each section printing a dated table and appending it to docs/benchmarks.md:
#   ingest   spanview (HTTP protobuf, HTTP JSON, gRPC; durable) vs rotel (receive only) and Phoenix
#   store    bytes per span, trace by id and search latency, SQLite and ClickHouse (when
#            SPANVIEW_BENCH_CLICKHOUSE_URL names a server)
#   clickhouse ingest  rotel's ClickHouse exporter vs spanview into the same current ClickHouse
#            (chdb-core behind chdb_http.py), 1M spans, two rounds
#   ui       headless Chromium on 1k to 1M-span traces; the bundle size
#   upload   parse throughput native vs the wasm worker; a 50 MB file from chosen to painted
#   soak     (--full only) an hour at 10k spans/s, memory and disk every minute
# Quick mode (the default) runs 1M spans for ingest, store and the ClickHouse ingest, about 20
# minutes on 2 cores (the ClickHouse ingest section alone about 5, with `inserted` at ~10k spans/s);
# --full runs 10M for ingest and store, and the soak.
set -euo pipefail
cd "$(dirname "$0")/../.."
FULL=0
[ "${1:-}" = --full ] && FULL=1
SPANS=1000000
[ "$FULL" = 1 ] && SPANS=10000000
started=$(date +%s)
section() {
    echo
    echo "==> $1 ($(( $(date +%s) - started )) s into the run)"
}
section ingest; tests/bench/ingest.sh "$SPANS"
section store; tests/bench/store.sh "$SPANS"
section "clickhouse ingest"; tests/bench/clickhouse-ingest.sh 1000000 2
section ui; tests/bench/ui.sh
section upload; tests/bench/upload.sh
if [ "$FULL" = 1 ]; then
    section soak; tests/bench/soak.sh 60 10000
fi
echo
echo "==> done in $(( $(date +%s) - started )) s"
