#!/usr/bin/env bash
# SIGTERM: ingest finishes the record in hand and exits 0, clears its pid; a restart
# continues at last seq + 1; tail shows decoded events with their seqs.
. "$(dirname "$0")/lib.bash"

"$BIN_INGEST" --instance "$INSTANCE" --source synthetic --rate 2000 --seed 3 2>"$WORK/ingest.log" &
pid=$!
track $pid
wait_until 10 test -e "/dev/shm/mempulse.$INSTANCE.events" || fail "no region"
wait_until 10 sh -c "[ \$($BIN_SHM info --instance $INSTANCE --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"events\"][\"last_seq\"])') -ge 500 ]" ||
    fail "ingest published nothing"
[ "$(info_field events.writer_pid)" = "$pid" ] || fail "writer_pid is not the ingest pid"
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 0 ] || fail "ingest exited $rc on SIGTERM"
[ "$(info_field events.writer_pid)" = "0" ] || fail "writer_pid not cleared on clean exit"
[ "$(info_field events.writer_alive)" = "False" ] || fail "writer still reported alive"
last=$(info_field events.last_seq)

"$BIN_SHM" tail --instance "$INSTANCE" -n 5 >"$WORK/tail.txt" || fail "tail failed"
[ "$(wc -l <"$WORK/tail.txt")" -eq 5 ] || fail "tail -n 5 printed $(wc -l <"$WORK/tail.txt") lines"
python3 - "$WORK/tail.txt" "$last" <<'PY' || fail "tail output is wrong: $(head -c 600 "$WORK/tail.txt")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
last = int(sys.argv[2])
assert [l["seq"] for l in lines] == list(range(last - 4, last + 1)), [l["seq"] for l in lines]
assert all(l["type"] in ("TX_SEEN", "TX_REPLACED", "TX_DROPPED", "TX_MINED", "BLOCK", "PRICE", "TICK") for l in lines)
PY

"$BIN_INGEST" --instance "$INSTANCE" --source synthetic --rate 2000 --seed 3 --duration 0.3 2>>"$WORK/ingest.log" ||
    fail "restart failed"
"$BIN_SHM" tail --instance "$INSTANCE" --from $((last + 1)) -n 1 >"$WORK/next.txt"
first=$(head -1 "$WORK/next.txt" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["seq"])')
[ "$first" = "$((last + 1))" ] || fail "restart continued at $first, expected $((last + 1))"
[ "$(info_field events.writer_starts)" = "2" ] || fail "writer_starts not 2"
pass "exit 0 on SIGTERM, restart continued at seq $((last + 1))"
