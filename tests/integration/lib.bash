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

# The read model's channels, in SPEC order.
CHANNELS=(tx.main feature.main opportunity.main chain.main market.main)

# dump_all INSTANCE PREFIX: `mempulse-shm dump` of every channel into PREFIX.CHANNEL.json.
dump_all() {
    local ch
    for ch in "${CHANNELS[@]}"; do
        "$BIN_SHM" dump "$ch" --instance "$1" --json >"$2.$ch.json" || fail "dump $ch of $1 failed"
    done
}

# same_channels REF_PREFIX RUN_PREFIX WHAT: the dump_all files of a run equal the
# reference's, byte for byte, and none is empty (an empty comparison proves nothing).
same_channels() {
    local ch items
    for ch in "${CHANNELS[@]}"; do
        cmp -s "$1.$ch.json" "$2.$ch.json" ||
            fail "$ch differs from $3: $(diff <(tr ',' '\n' <"$1.$ch.json") <(tr ',' '\n' <"$2.$ch.json") | head -5)"
        items=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$2.$ch.json")
        [ "$items" -gt 0 ] || fail "$ch is empty: the comparison would prove nothing"
    done
}

# same_as_dump INSTANCE STATE_JSON: a client's {channel: {id: seq}} equals mempulse-shm dump.
same_as_dump() {
    python3 - "$BIN_SHM" "$1" "$2" <<'PY'
import json, subprocess, sys
shm, inst, out = sys.argv[1:4]
got = json.load(open(out))
bad = 0
for ch, st in got.items():
    d = json.loads(subprocess.check_output([shm, "dump", ch, "--json", "--instance", inst]))
    want = {e["id"]: e["seq"] for e in d["items"]}
    if want != st:
        bad += 1
        diff = [k for k in set(want) & set(st) if want[k] != st[k]]
        print(ch, "dump", len(want), "stream", len(st), "missing", len(set(want) - set(st)),
              "extra", len(set(st) - set(want)), "seq differs", len(diff))
        missing = sorted(set(want) - set(st), key=lambda k: want[k])
        print("   e.g. missing", ", ".join("%s@%d" % (k, want[k]) for k in missing[:4]),
              "| seq differs", ", ".join("%s@%d/%d" % (k, want[k], st[k]) for k in diff[:4]))
sys.exit(1 if bad else 0)
PY
}
