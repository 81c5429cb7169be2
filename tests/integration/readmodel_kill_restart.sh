#!/usr/bin/env bash
# Crash safety of the readmodel (SPEC 2.3): a fixed-seed synthetic run of 300,000 events;
# the readmodel is SIGKILLed at 50 random moments while it applies and restarted each
# time. Afterwards applied_seq and the dump of all five channels must be byte-for-byte
# identical to an uninterrupted run over the same events, and verify must pass.
. "$(dirname "$0")/lib.bash"

BIN_RM="$BUILD/readmodel/mempulse-readmodel"
KILLS=${KILLS:-50}
EVENTS=300000
feed=(--source synthetic --rate 5000 --seed 11 --start-time-ms 1700000000000 --max-seq $EVENTS --ring-mb 128)

applied() {
    "$BIN_SHM" info --instance "$1" --json 2>/dev/null |
        python3 -c 'import json,sys
try: r = json.load(sys.stdin)["readmodel"]
except ValueError: r = None
print(r["applied_seq"] if r else 0)'
}
all_applied() { [ "$(applied "$1")" = "$EVENTS" ]; }

# Reference: uninterrupted, the whole feed at once.
REF="$INSTANCE-ref"
"$BIN_INGEST" --instance "$REF" "${feed[@]}" --speed 0 2>"$WORK/ref-ingest.log" || fail "reference ingest failed"
"$BIN_RM" --instance "$REF" 2>"$WORK/ref-rm.log" &
ref_rm=$!
track $ref_rm
wait_until 120 all_applied "$REF" || fail "reference readmodel did not apply $EVENTS events"
kill -TERM $ref_rm
wait $ref_rm || fail "reference readmodel exit code"
dump_all "$REF" "$WORK/ref"

# The same events, all published first; rm-crasher then starts the readmodel again and
# again and kills it each time a random instant after it committed a batch: in the
# middle of applying, with the backlog still large.
"$BIN_INGEST" --instance "$INSTANCE" "${feed[@]}" --speed 0 2>"$WORK/ingest.log" || fail "ingest failed"
"$BUILD/tests/integration/rm-crasher" --instance "$INSTANCE" --readmodel "$BIN_RM" --kills "$KILLS" \
    --target $EVENTS --seed 77 >"$WORK/crash.json" 2>"$WORK/crash.log" || fail "rm-crasher failed"
kills=$(json_get "$WORK/crash.json" kills)
mid_apply=$(json_get "$WORK/crash.json" mid_apply)
"$BIN_RM" --instance "$INSTANCE" 2>>"$WORK/rm.log" &
rm_pid=$!
track $rm_pid
wait_until 120 all_applied "$INSTANCE" || fail "readmodel did not finish after the kills"
"$BIN_SHM" verify --instance "$INSTANCE" >"$WORK/verify.txt" 2>&1 || fail "verify: $(cat "$WORK/verify.txt")"
kill -TERM $rm_pid
wait $rm_pid || fail "readmodel exit code"
dump_all "$INSTANCE" "$WORK/run"

[ "$kills" -ge "$KILLS" ] || fail "only $kills kills: the readmodel applied everything first ($(cat "$WORK/crash.json"))"
[ "$mid_apply" -ge "$KILLS" ] || fail "only $mid_apply of $KILLS kills landed while applying"
rolled=$(grep -c "rolled back an unfinished batch" "$WORK/crash.log")
[ "$rolled" -ge $((KILLS / 2)) ] || fail "only $rolled restarts rolled a batch back: the kills did not land mid-batch"
starts=$("$BIN_SHM" info --instance "$INSTANCE" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["readmodel"]["writer_starts"])')
[ "$starts" -ge $((KILLS + 1)) ] || fail "readmodel started $starts times, expected $((KILLS + 1))"
same_channels "$WORK/ref" "$WORK/run" "the uninterrupted run"
pass "$kills kills while applying ($rolled rolled back a batch), all five channels and applied_seq identical to the uninterrupted run"
