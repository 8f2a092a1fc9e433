# Shared by the benchmark scripts in this folder (sourced, from the repository's root).
ROOT=$(pwd)
COMMIT=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- server core app || echo "+changes")

# venv_with DIR MODULE PACKAGE: a virtualenv in DIR whose python imports MODULE, PACKAGE
# installed into it from PyPI when it does not yet.
venv_with() {
    if ! "$1/bin/python" -c "import $2" 2>/dev/null; then
        python3 -m venv "$1"
        "$1/bin/pip" install -q --disable-pip-version-check "$3"
    fi
}
ROTEL_VERSION=0.0.1a15
# The path of PyPI rotel's agent binary (installed into .tools/bench-venv when missing).
rotel_agent() {
    venv_with "$ROOT/.tools/bench-venv" rotel "rotel==$ROTEL_VERSION" >&2
    "$ROOT/.tools/bench-venv/bin/python" -c \
        'import os, rotel; print(os.path.join(os.path.dirname(rotel.__file__), "rotel-agent"))'
}

# 1234567 -> 1,234,567
thousands() {
    sed -E ':a; s/^([0-9]+)([0-9]{3})/\1,\2/; ta' <<<"$1"
}
# The spans/s figure of an `ingest-bench` report line.
spans_per_second() {
    sed -E 's/.* ([0-9]+) spans\/s.*/\1/' <<<"$1"
}
# CPU seconds (user + system) a process has used so far.
cpu_seconds() {
    awk -v ticks="$(getconf CLK_TCK)" '{ print ($14 + $15) / ticks }' "/proc/$1/stat"
}
peak_rss_mb() {
    awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"
}
rss_mb() {
    awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"
}
# wait_for_port PORT [TENTHS_OF_A_SECOND]
wait_for_port() {
    for _ in $(seq 1 "${2:-100}"); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}
# "2 cores Intel(R) Xeon(R) ..., 24 GiB, load 0.4": the load average when the table is written
# says whether other work shared the cores during the run.
machine() {
    echo "$(nproc) cores $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), \
$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load $(cut -d' ' -f1 /proc/loadavg)"
}
# Prints a table and appends it to docs/benchmarks.md (unless BENCH_RECORD=0).
record() {
    echo
    echo "$1"
    if [ "${BENCH_RECORD:-1}" = 1 ]; then
        printf '\n%s\n' "$1" >>docs/benchmarks.md
        echo "(appended to docs/benchmarks.md)" >&2
    fi
}
