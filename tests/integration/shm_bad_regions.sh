#!/usr/bin/env bash
# Wrong or missing regions: mempulse-shm and ingest refuse with a message naming the
# file and the difference and exit 2, and overwrite nothing unless asked (--reinit).
. "$(dirname "$0")/lib.bash"

region="/dev/shm/mempulse.$INSTANCE.events"

# Missing region.
"$BIN_SHM" info --instance "$INSTANCE" 2>"$WORK/err"; rc=$?
[ $rc -eq 2 ] || fail "missing region: exit $rc"
grep -q "$region does not exist" "$WORK/err" || fail "missing region message: $(cat "$WORK/err")"
"$BIN_SHM" tail --instance "$INSTANCE" 2>/dev/null; [ $? -eq 2 ] || fail "tail on a missing region is not exit 2"
"$BIN_SHM" stats --instance "$INSTANCE" --count 1 2>/dev/null; [ $? -eq 2 ] || fail "stats on a missing region is not exit 2"

# A region of another layout version.
"$BIN_INGEST" --instance "$INSTANCE" --rate 1000 --duration 0.2 2>/dev/null || fail "ingest failed"
python3 - "$region" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(8); f.write(struct.pack("<I", 99))
PY
before=$(md5sum <"$region")
"$BIN_SHM" info --instance "$INSTANCE" 2>"$WORK/err"; rc=$?
[ $rc -eq 2 ] || fail "wrong version: mempulse-shm exit $rc"
grep -q "has layout version 99, this build expects 1" "$WORK/err" || fail "wrong version message: $(cat "$WORK/err")"
grep -q "mempulse-shm reset --instance $INSTANCE" "$WORK/err" || fail "message does not name the fix"
"$BIN_INGEST" --instance "$INSTANCE" --rate 1000 --duration 0.2 2>"$WORK/err"; rc=$?
[ $rc -eq 2 ] || fail "wrong version: ingest exit $rc"
grep -q "layout version 99" "$WORK/err" || fail "ingest message: $(cat "$WORK/err")"
[ "$(md5sum <"$region")" = "$before" ] || fail "the region was modified without --reinit"
"$BIN_INGEST" --instance "$INSTANCE" --rate 1000 --duration 0.2 --reinit 2>"$WORK/err" || fail "--reinit failed: $(cat "$WORK/err")"
"$BIN_SHM" info --instance "$INSTANCE" --json >/dev/null || fail "region unusable after --reinit"

# A region of another ring size: refused unless --reinit.
"$BIN_INGEST" --instance "$INSTANCE" --ring-mb 2 --duration 0.1 2>"$WORK/err"; rc=$?
[ $rc -eq 2 ] || fail "ring size change: exit $rc"
grep -q "configuration asks for" "$WORK/err" || fail "ring size message: $(cat "$WORK/err")"

# A foreign file.
head -c 10000 /dev/urandom >"$region"
"$BIN_SHM" info --instance "$INSTANCE" 2>"$WORK/err"; rc=$?
[ $rc -eq 2 ] || fail "foreign file: exit $rc"
grep -q "not a mempulse region" "$WORK/err" || fail "foreign file message: $(cat "$WORK/err")"

# reset: refused while a writer runs, then removes the regions so a writer recreates them.
"$BIN_INGEST" --instance "$INSTANCE" --rate 100 --reinit 2>/dev/null &
writer=$!
track $writer
wait_until 10 sh -c "$BIN_SHM info --instance $INSTANCE --json | grep -q '\"writer_alive\": true'" || fail "writer did not start"
"$BIN_SHM" reset --instance "$INSTANCE" 2>"$WORK/err"; rc=$?
[ $rc -eq 1 ] || fail "reset with a live writer: exit $rc"
grep -q "has a live writer" "$WORK/err" || fail "reset message: $(cat "$WORK/err")"
[ -e "$region" ] || fail "reset removed a region with a live writer"
kill -TERM $writer
wait $writer
head -c 10000 /dev/urandom >"$region" # even a foreign file is removed
"$BIN_SHM" reset --instance "$INSTANCE" >"$WORK/out" || fail "reset failed: $(cat "$WORK/out")"
[ ! -e "$region" ] || fail "reset left $region"
grep -q "removed $region" "$WORK/out" || fail "reset output: $(cat "$WORK/out")"
"$BIN_INGEST" --instance "$INSTANCE" --rate 1000 --duration 0.2 2>/dev/null || fail "ingest after reset failed"
"$BIN_SHM" info --instance "$INSTANCE" --json >/dev/null || fail "region unusable after reset"

# Usage errors.
"$BIN_SHM" frobnicate 2>/dev/null; [ $? -eq 2 ] || fail "unknown command is not exit 2"
"$BIN_SHM" info --instance '../etc' 2>"$WORK/err"; [ $? -eq 2 ] || fail "bad instance name is not exit 2"
"$BIN_INGEST" --rate abc 2>/dev/null; [ $? -eq 2 ] || fail "bad --rate is not exit 2"
"$BIN_INGEST" --instance "$INSTANCE" --source nosuch --reinit 2>"$WORK/err"; [ $? -eq 2 ] || fail "unknown source is not exit 2"
grep -q "unknown source 'nosuch'" "$WORK/err" || fail "unknown source message: $(cat "$WORK/err")"
pass
