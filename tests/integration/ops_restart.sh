#!/usr/bin/env bash
# Orderly restarts under load through deploy/mempulsectl (issue 6): 8 stream clients follow
# a 2,000 tx/s stack (300 in a sanitizer build); `mempulsectl restart readmodel` must cost
# them nothing (no close, no gap, no RESYNC_REQUIRED: the readmodel resumes from its
# committed state and the journal continues); `mempulsectl restart gateway` replaces both
# gateway processes one at a time: every client receives RECONNECT and RESUMEs (on the
# other process) without a gap or a rebootstrap. Finally every client equals `mempulse-shm dump`.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/ops_lib.bash"

CLIENTS=8
RATE=${RATE:-2000}
sanitized && RATE=300
need_node
write_conf RATE=$RATE SEED=5 GATEWAYS=2
ctl_up >"$OPS/up.out" 2>&1 || fail "up: $(cat "$OPS/up.out") $(tail -5 "$OPS/log/supervisor.log")"

OPS_PROGRESS_FILE="$OPS/progress.json" CLIENT_TIMEOUT_MS=150000 node "$CLIENTS_JS" "$PORT" "$CLIENTS" \
    "$BIN_SHM" "$INSTANCE" "$OPS/clients.ready" "$OPS/clients.stop" >"$OPS/clients.out" 2>"$OPS/clients.err" &
clients=$!
track $clients
wait_until 60 test -e "$OPS/clients.ready" || fail "clients not ready: $(cat "$OPS/clients.out" "$OPS/clients.err")"
wait_until 10 test -e "$OPS/progress.json" || fail "no progress file"
progress() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$OPS/progress.json" "$1"; }
batches_after() { [ "$(progress batches)" -gt "$1" ]; }
sleep 2

# ---- restart readmodel under load --------------------------------------------------------
old_rm=$(state_of readmodel pid)
b0=$(progress batches)
ctl restart readmodel >"$OPS/restart-rm.out" 2>&1 || fail "restart readmodel: $(cat "$OPS/restart-rm.out")"
new_rm=$(state_of readmodel pid)
[ "$new_rm" != "$old_rm" ] || fail "readmodel pid unchanged ($old_rm)"
grep -q "restarted readmodel: pid $old_rm -> $new_rm" "$OPS/restart-rm.out" || fail "restart output: $(cat "$OPS/restart-rm.out")"
[ "$(info_field readmodel.writer_starts)" = 2 ] || fail "readmodel writer_starts is not 2"
b1=$(progress batches)
wait_until 10 batches_after "$((b1 + 50))" || fail "the stream did not go on after the readmodel restart"
for k in closes gaps resyncs invalid errors; do
    [ "$(progress $k)" = 0 ] || fail "restart readmodel: clients saw $k=$(progress $k): $(cat "$OPS/progress.json")"
done
rm_batches=$(($(progress batches) - b0))

# ---- restart gateway: both processes, one at a time ------------------------------------
gw1=$(state_of gateway.1 pid) gw2=$(state_of gateway.2 pid)
t0=$SECONDS
ctl restart gateway >"$OPS/restart-gw.out" 2>&1 || fail "restart gateway: $(cat "$OPS/restart-gw.out")"
t_gw=$((SECONDS - t0))
grep -q "restarted gateway.1: pid $gw1 -> " "$OPS/restart-gw.out" && grep -q "restarted gateway.2: pid $gw2 -> " "$OPS/restart-gw.out" ||
    fail "restart gateway output: $(cat "$OPS/restart-gw.out")"
ready || fail "not ready after the gateway restart"
resumed_all() { [ "$(progress resumes)" -ge "$(progress closes)" ] && [ "$(progress reconnect_msgs)" -ge $CLIENTS ]; }
wait_until 20 resumed_all || fail "clients did not all RECONNECT and RESUME: $(cat "$OPS/progress.json")"
b2=$(progress batches)
wait_until 10 batches_after "$((b2 + 50))" || fail "the stream did not go on after the gateway restart"
grep -q 'drained' "$OPS/log/gateway.1.log" || fail "gateway.1 did not drain: $(tail -3 "$OPS/log/gateway.1.log")"

# ---- stop the feed; every client must equal the dump -----------------------------------
ingest=$(state_of ingest pid)
kill -TERM "$ingest"
ingest_done() { [ "$(state_of ingest state)" = exited ]; }
wait_until 20 ingest_done || fail "ingest (SIGTERM, exit 0) was not left stopped: $(ctl status)"
last=$(info_field events.last_seq)
all_applied() { [ "$(applied "$INSTANCE")" = "$last" ]; }
wait_until 30 all_applied || fail "readmodel did not apply up to $last"
touch "$OPS/clients.stop"
wait $clients
rc=$?
out=$(cat "$OPS/clients.out")
echo "clients: $out"
[ $rc -eq 0 ] || fail "clients: $out $(tail -3 "$OPS/clients.err")"
python3 - "$OPS/clients.out" $CLIENTS <<'PY' || fail "clients: $out"
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
n = int(sys.argv[2])
assert r["converged"] == n, r
assert r["gaps"] == 0 and r["resyncs"] == 0 and r["invalid_count"] == 0, r
assert r["reconnect_msgs"] >= n and r["resumes"] == r["closes"] and r["bootstraps"] == n, r
PY
no_sanitizer_reports
read -r rec res < <(python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(r["reconnect_msgs"], r["resumes"])' "$OPS/clients.out")
pass "restart readmodel under $RATE tx/s: $rm_batches batches, no close, gap or resync; restart gateway (${t_gw} s for both): $rec RECONNECT, $res RESUMED, no gap, no rebootstrap; $CLIENTS clients == dump"
