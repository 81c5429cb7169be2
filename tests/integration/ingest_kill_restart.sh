#!/usr/bin/env bash
# ingest at full speed is SIGKILLed at 20 random moments and restarted each time; a
# reader following the ring (tethered, so never lapped) must see seq 1..N exactly once,
# every payload decodable; and the payload stream must be byte-identical to an
# uninterrupted run with the same seed (the synthetic source resumes from its checkpoint).
. "$(dirname "$0")/lib.bash"

KILLS=${KILLS:-20}
START_MS=1700000000000
ingest_args=(--source synthetic --rate 0 --seed 42 --start-time-ms $START_MS --ring-mb 16)

"$BIN_FOLLOW" --instance "$INSTANCE" >"$WORK/follow.json" 2>"$WORK/follow.log" &
follow=$!
track $follow
wait_until 10 test -e "/dev/shm/mempulse.$INSTANCE.readmodel" || fail "follower did not start"

RANDOM=4242
for i in $(seq 1 "$KILLS"); do
    "$BIN_INGEST" --instance "$INSTANCE" "${ingest_args[@]}" 2>>"$WORK/ingest.log" &
    pid=$!
    track $pid
    # A random moment 50..550 ms into the run.
    sleep "0.$(printf '%03d' $((50 + RANDOM % 500)))"
    kill -KILL $pid
    wait $pid 2>/dev/null
done
"$BIN_INGEST" --instance "$INSTANCE" "${ingest_args[@]}" --duration 0.5 2>>"$WORK/ingest.log" ||
    fail "final ingest run failed: $(tail -3 "$WORK/ingest.log")"

starts=$(info_field events.writer_starts)
[ "$starts" -eq $((KILLS + 1)) ] || fail "writer_starts is $starts, expected $((KILLS + 1))"
last=$(info_field events.last_seq)
kill -TERM $follow
wait $follow
follow_rc=$?
cat "$WORK/follow.json"
[ "$follow_rc" -eq 0 ] || fail "follower saw gaps, duplicates or bad payloads: $(cat "$WORK/follow.json") $(tail -5 "$WORK/follow.log")"
[ "$(json_get "$WORK/follow.json" last_seq)" = "$last" ] || fail "follower stopped at $(json_get "$WORK/follow.json" last_seq), ring at $last"
[ "$(json_get "$WORK/follow.json" count)" = "$last" ] || fail "follower counted $(json_get "$WORK/follow.json" count) of $last"
resumed=$(grep -c 'resumed the synthetic source' "$WORK/ingest.log")
[ "$resumed" -ge "$KILLS" ] || fail "only $resumed of $KILLS restarts resumed from a checkpoint"

# Reference: the same seed, uninterrupted, up to the same seq.
REF="$INSTANCE-ref"
"$BIN_FOLLOW" --instance "$REF" --until "$last" >"$WORK/ref.json" 2>"$WORK/ref.log" &
ref_follow=$!
track $ref_follow
wait_until 10 test -e "/dev/shm/mempulse.$REF.readmodel" || fail "reference follower did not start"
"$BIN_INGEST" --instance "$REF" "${ingest_args[@]}" 2>"$WORK/ref-ingest.log" &
ref_ingest=$!
track $ref_ingest
wait $ref_follow || fail "reference follower failed: $(cat "$WORK/ref.json")"
kill -TERM $ref_ingest
wait $ref_ingest
want=$(json_get "$WORK/ref.json" payload_hash)
got=$(json_get "$WORK/follow.json" payload_hash)
[ "$want" = "$got" ] || fail "payload stream differs from the uninterrupted run ($got vs $want)"
pass "$KILLS kills, seq 1..$last each once, stream identical to an uninterrupted run"
