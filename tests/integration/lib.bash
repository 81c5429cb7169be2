# Shared helpers for integration tests: a private instance, processes we start tracked
# by pid and stopped on exit, deadline-bound waits, assertions. Source it; it expects
# BUILD (the meson build directory) in the environment.
set -uo pipefail

BUILD=${BUILD:-build}
BIN_INGEST="$BUILD/ingest/mempulse-ingest"
BIN_SHM="$BUILD/tools/mempulse-shm"
BIN_FOLLOW="$BUILD/tests/integration/ring-follow"
TEST_NAME=$(basename "$0" .sh)
INSTANCE="it-${TEST_NAME//_/-}-$$"
WORK=$(mktemp -d "/tmp/mempulse-it.XXXXXX")
STARTED_PIDS=()

cleanup() {
    local pid
    for pid in "${STARTED_PIDS[@]:-}"; do
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    done
    for pid in "${STARTED_PIDS[@]:-}"; do
        [ -n "$pid" ] && wait "$pid" 2>/dev/null
    done
    rm -f "/dev/shm/mempulse.$INSTANCE."* "/dev/shm/mempulse.$INSTANCE-"*
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK" # KEEP_WORK=1 keeps logs for a post-mortem
}
trap cleanup EXIT

fail() {
    echo "FAIL $TEST_NAME: $*"
    exit 1
}

pass() {
    echo "PASS $TEST_NAME${1:+: $1}"
    exit 0
}

# track PID: remember a process we started so cleanup stops it.
track() {
    STARTED_PIDS+=("$1")
}

# wait_until SECONDS COMMAND...: polls COMMAND every 50 ms until it succeeds or the
# deadline passes (returns 1).
wait_until() {
    local limit=$1
    shift
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.05
    done
    return 0
}

# info_field JQ-PATH: a number from `mempulse-shm info --json` (python3 reads the JSON).
info_field() {
    "$BIN_SHM" info --instance "${2:-$INSTANCE}" --json |
        python3 -c 'import json,sys; v=json.load(sys.stdin); exec("for k in sys.argv[1].split(\".\"): v=v[k]"); print(v)' "$1"
}

# json_get FILE KEY: a top-level field of a one-line JSON document.
json_get() {
    python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])[sys.argv[2]])' "$1" "$2"
}

for b in "$BIN_INGEST" "$BIN_SHM"; do
    [ -x "$b" ] || fail "missing $b (build first)"
done
