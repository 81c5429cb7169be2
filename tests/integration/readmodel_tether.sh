#!/usr/bin/env bash
# Tethering with the real readmodel: it is stopped (SIGSTOP) for 3 s while ingest runs at
# 10,000 tx/s over a ring that fills in well under that. Nothing may be lost: applied
# seq continuous (no ring gap counted), ring_overruns_total 0, everything applied.
. "$(dirname "$0")/lib.bash"

BIN_RM="$BUILD/readmodel/mempulse-readmodel"
info() { "$BIN_SHM" info --instance "$INSTANCE" --json 2>/dev/null; }
field() { info | python3 -c 'import json,sys; v=json.load(sys.stdin); exec("for k in sys.argv[1].split(\".\"): v=(v or {}).get(k, 0)"); print(v)' "$1"; }
applied_over() { [ "$(field readmodel.applied_seq)" -gt "$1" ]; }
caught_up() { [ "$(field readmodel.applied_seq)" = "$(field events.last_seq)" ]; }

"$BIN_RM" --instance "$INSTANCE" 2>"$WORK/rm.log" &
rm_pid=$!
track $rm_pid
"$BIN_INGEST" --instance "$INSTANCE" --source synthetic --rate 10000 --seed 8 --ring-mb 1 2>"$WORK/ingest.log" &
ingest=$!
track $ingest
wait_until 30 applied_over 5000 || fail "readmodel is not applying"
kill -STOP $rm_pid
sleep 3
waits=$(field events.metrics.ring_tether_waits_total)
kill -CONT $rm_pid
sleep 1
kill -TERM $ingest
wait $ingest || fail "ingest exit code"
wait_until 30 caught_up || fail "readmodel did not catch up"
overruns=$(field events.metrics.ring_overruns_total)
gaps=$(field readmodel.metrics.readmodel_ring_gap_events_total)
last=$(field events.last_seq)
[ "$waits" -gt 0 ] || fail "ingest never waited for the stopped readmodel"
[ "$overruns" = "0" ] || fail "ring_overruns_total is $overruns"
[ "$gaps" = "0" ] || fail "the readmodel lost $gaps events to the ring"
grep -q "events lost" "$WORK/rm.log" && fail "readmodel logged lost events"
pass "stopped 3 s at 10,000 tx/s: $last events applied, 0 overruns, 0 gaps, $waits tether waits"
