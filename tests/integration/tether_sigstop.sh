#!/usr/bin/env bash
# Tethering: the consumer standing in for the readmodel is stopped (SIGSTOP) for 3 s
# while ingest runs at 10,000 tx/s over a ring that fills in well under a second.
# Ingest must wait rather than overwrite: no gap for the consumer, no overrun counted.
. "$(dirname "$0")/lib.bash"

"$BIN_FOLLOW" --instance "$INSTANCE" >"$WORK/follow.json" 2>"$WORK/follow.log" &
follow=$!
track $follow
wait_until 10 test -e "/dev/shm/mempulse.$INSTANCE.readmodel" || fail "follower did not start"
"$BIN_INGEST" --instance "$INSTANCE" --source synthetic --rate 10000 --seed 5 --ring-mb 1 2>"$WORK/ingest.log" &
ingest=$!
track $ingest
sleep 1
kill -STOP $follow
sleep 3
waits=$(info_field events.metrics.ring_tether_waits_total)
kill -CONT $follow
sleep 1
kill -TERM $ingest
wait $ingest || fail "ingest exit code"
overruns=$(info_field events.metrics.ring_overruns_total)
kill -TERM $follow
wait $follow || fail "consumer saw a gap: $(cat "$WORK/follow.json") $(tail -3 "$WORK/follow.log")"
[ "$overruns" = "0" ] || fail "ring_overruns_total is $overruns"
[ "$waits" -gt 0 ] || fail "ingest never waited for the stopped consumer"
last=$(info_field events.last_seq)
[ "$(json_get "$WORK/follow.json" count)" = "$last" ] || fail "consumer saw $(json_get "$WORK/follow.json" count) of $last"
pass "consumer stopped 3 s: $last events, no gap, 0 overruns, $waits tether waits"
