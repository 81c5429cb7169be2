# Helpers for the operations tests (ops_*.sh): a stack run by deploy/mempulsectl on a
# private instance, port, run and log directory, stopped on exit. Source after lib.bash.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CTL="$ROOT/deploy/mempulsectl"

# fail, on one line (messages quote logs and client reports): the verdict stays the last line.
fail() {
    local m="$*"
    echo "FAIL $TEST_NAME: ${m//$'\n'/ | }"
    exit 1
}
BIN_RM="$BUILD/readmodel/mempulse-readmodel"
BIN_GW="$BUILD/gateway/mempulse-gateway"
CLIENTS_JS="$ROOT/tests/integration/ops_stream_clients.js"
# Our own directory (not lib.bash's WORK): config, run and log directories, client files.
OPS=$(mktemp -d "/tmp/mempulse-ops.XXXXXX")
CONF="$OPS/mempulse.conf"
[ -x "$BIN_RM" ] || fail "missing $BIN_RM (build first)"
[ -x "$BIN_GW" ] || fail "missing $BIN_GW (build first)"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# A sanitizer build is 2-3x slower: the heavy tests scale their load down there.
sanitized() {
    python3 - "$BUILD/meson-info/intro-buildoptions.json" <<'PY' 2>/dev/null
import json, sys
opts = {o["name"]: o["value"] for o in json.load(open(sys.argv[1]))}
sys.exit(0 if opts.get("b_sanitize", "none") not in ("none", "") else 1)
PY
}

# write_conf KEY=VALUE...: the test's mempulse.conf (private everything, no build, no UI).
write_conf() {
    PORT=${PORT:-$(free_port)}
    {
        echo "INSTANCE=$INSTANCE"
        echo "LISTEN=127.0.0.1:$PORT"
        echo "BUILD_DIR=$(cd "$BUILD" && pwd)"
        echo "BUILD_ON_UP=no"
        echo "WEB_UI=no"
        echo "RUN_DIR=$OPS/run"
        echo "LOG_DIR=$OPS/log"
        local kv
        for kv in "$@"; do echo "$kv"; done
    } >"$CONF"
}

ctl() { "$CTL" --config "$CONF" "$@"; }

# ctl up, remembering the supervisor's pid: cleanup can stop it (SIGTERM makes it stop its
# processes) even if the run directory is gone.
SUPERVISORS=()
ctl_up() {
    ctl up "$@"
    local rc=$? pid
    pid=$(cat "$OPS/run/supervisor.pid" 2>/dev/null) && SUPERVISORS+=("$pid")
    return $rc
}

# ops_cleanup: `down` (by the supervisor's pid files), then any pid we still know of.
ops_cleanup() {
    if [ -f "$CONF" ]; then timeout 90 "$CTL" --config "$CONF" down >/dev/null 2>&1; fi
    local f pid i live=()
    # Only a pid that is still our supervisor (its command line names our config).
    for pid in "${SUPERVISORS[@]:-}"; do
        [ -n "$pid" ] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$CONF" && live+=("$pid")
    done
    for pid in "${live[@]:-}"; do
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${live[@]:-}"; do
        [ -n "$pid" ] || continue
        for ((i = 0; i < 300; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    done
    for f in "$OPS"/run/*.pid; do
        pid=$(cat "$f" 2>/dev/null)
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    done
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$OPS" # KEEP_WORK=1 keeps logs for a post-mortem
    cleanup
}
trap ops_cleanup EXIT

# status_field NAME KEY: a field of one process in `mempulsectl status --json`.
status_field() {
    ctl status --json | python3 -c 'import json,sys
s = json.load(sys.stdin)
p = [p for p in s["processes"] if p["name"] == sys.argv[1]][0]
print(p[sys.argv[2]])' "$1" "$2"
}

state_of() { cat "$OPS/run/state/$1" 2>/dev/null | sed -n "s/^$2=//p"; }

# wait_restarted NAME OLD_PID SECONDS: the supervisor runs NAME again under a new pid.
wait_restarted() {
    local n=$1 old=$2 limit=$3
    wait_until "$limit" restarted_check "$n" "$old"
}
restarted_check() {
    local pid
    pid=$(state_of "$1" pid)
    [ "$(state_of "$1" state)" = running ] && [ -n "$pid" ] && [ "$pid" != "$2" ] && kill -0 "$pid" 2>/dev/null
}

ready() { python3 -c 'import sys,urllib.request; urllib.request.urlopen("http://127.0.0.1:%s/readyz" % sys.argv[1], timeout=2)' "$PORT"; }

applied() {
    "$BIN_SHM" info --instance "$1" --json 2>/dev/null | python3 -c 'import json,sys
try: r = json.load(sys.stdin)["readmodel"]
except ValueError: r = None
print(r["applied_seq"] if r else 0)'
}

need_node() {
    command -v node >/dev/null || fail "node is not installed (deploy/install-deps --web)"
    npm install --silent --prefix "$OPS/npm" ws@8 >"$OPS/npm.log" 2>&1 || fail "npm install ws: $(tail -3 "$OPS/npm.log")"
    export NODE_PATH="$OPS/npm/node_modules"
}

no_sanitizer_reports() {
    local log
    for log in "$OPS"/log/*.log; do
        if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$log"; then
            fail "sanitizer report in $log: $(grep -m3 -E 'Sanitizer|runtime error' "$log")"
        fi
    done
}
