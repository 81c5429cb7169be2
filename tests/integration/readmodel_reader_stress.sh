#!/usr/bin/env bash
# Readers never see a torn entity and never hang: rm-stress lists every channel in a
# tight loop (each entity's check verified) while the readmodel applies at full speed,
# and keeps reading after the readmodel is SIGKILLed mid-write.
. "$(dirname "$0")/lib.bash"

BIN_RM="$BUILD/readmodel/mempulse-readmodel"
BIN_STRESS="$BUILD/tests/integration/rm-stress"
"$BIN_INGEST" --instance "$INSTANCE" --source synthetic --rate 5000 --speed 0 --seed 21 --ring-mb 64 2>"$WORK/ingest.log" &
ingest=$!
track $ingest
"$BIN_RM" --instance "$INSTANCE" 2>"$WORK/rm.log" &
rm_pid=$!
track $rm_pid
applied() {
    "$BIN_SHM" info --instance "$INSTANCE" --json 2>/dev/null |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["readmodel"]; print(r["applied_seq"] if r else 0)'
}
applied_over() { [ "$(applied)" -gt "$1" ]; }
wait_until 30 applied_over 100000 || fail "readmodel did not start applying"

timeout 30 "$BIN_STRESS" --instance "$INSTANCE" --seconds 4 >"$WORK/live.json" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "reader during full-speed apply: rc $rc $(cat "$WORK/live.json")"
a1=$(applied)
# A reader that starts now races the kill below.
timeout 30 "$BIN_STRESS" --instance "$INSTANCE" --seconds 2 >"$WORK/killed.json" 2>&1 &
stress=$!
sleep 0.5
kill -KILL $rm_pid
wait $rm_pid 2>/dev/null
wait $stress
rc=$?
[ $rc -eq 0 ] || fail "reader across the writer's SIGKILL: rc $rc (124 = hung) $(cat "$WORK/killed.json")"
timeout 30 "$BIN_STRESS" --instance "$INSTANCE" --seconds 1 >"$WORK/after.json" 2>&1 ||
    fail "reader after the kill: $(cat "$WORK/after.json")"
python3 - "$WORK/live.json" "$WORK/killed.json" "$WORK/after.json" <<'PY' || fail "stress figures: $(cat "$WORK"/*.json)"
import json, sys
live, killed, after = (json.loads(open(p).read().strip().splitlines()[-1]) for p in sys.argv[1:])
for r in (live, killed, after):
    assert r["torn"] == 0, r
    assert r["passes"] > 0 and r["entities"] > 0, r
    assert r["max_pass_ms"] < 1000, r
PY
pass "$(cat "$WORK/live.json") while applying (applied $a1); $(cat "$WORK/killed.json") across the kill"
