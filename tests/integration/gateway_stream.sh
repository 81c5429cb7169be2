#!/usr/bin/env bash
# stream-v2 (SPEC 4.2) against a live ingest + readmodel and two gateway processes on one
# port: HELLO fields, IDENTIFY -> READY, unbroken prev_seq chains, snapshot-v2 + stream
# converging to `mempulse-shm dump` once ingest stops (ids and seqs), RESUME on the other
# process after SIGKILL of the first with no gap, credit 0 holding batches and one
# coalesced catch-up after CREDIT, close codes for bad input while a client keeps
# streaming, heartbeat and IDENTIFY deadlines, a bad token, an expired resume token, a
# stalled reader closed with 4010, CLIENT_METRICS -> ui_* gauges, the Origin allow-list,
# and SIGTERM -> RECONNECT then close 1001 (the process exits 0).
# Needs node (Debian's nodejs) and the `ws` package, installed into $WORK at test time.
. "$(dirname "$0")/lib.bash"

BIN_RM="$BUILD/readmodel/mempulse-readmodel"
BIN_GW="$BUILD/gateway/mempulse-gateway"
CLIENT="$(cd "$(dirname "$0")" && pwd)/gateway_stream_client.js"
[ -x "$BIN_GW" ] || fail "missing $BIN_GW (build first)"
command -v node >/dev/null || fail "node is not installed (apt-get install nodejs)"
npm install --silent --prefix "$WORK/npm" ws@8 >"$WORK/npm.log" 2>&1 || fail "npm install ws: $(tail -3 "$WORK/npm.log")"
export NODE_PATH="$WORK/npm/node_modules"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
PORT=$(free_port)
PORT2=$(free_port)
client() { timeout 60 node "$CLIENT" "$@"; }
healthy() { python3 -c 'import sys,urllib.request; urllib.request.urlopen("http://127.0.0.1:%s/readyz" % sys.argv[1], timeout=2)' "$1"; }

"$BIN_INGEST" --instance "$INSTANCE" --source synthetic --rate 200 --seed 7 2>"$WORK/ingest.log" &
ingest=$!
track $ingest
wait_until 10 test -e "/dev/shm/mempulse.$INSTANCE.events" || fail "ingest created no events region"
"$BIN_RM" --instance "$INSTANCE" --journal 65536 --journal-mb 16 2>"$WORK/rm.log" &
track $!
"$BIN_GW" --instance "$INSTANCE" --listen "127.0.0.1:$PORT" --static '' 2>"$WORK/gwA.log" &
gwA=$!
track $gwA
wait_until 20 healthy "$PORT" || fail "gateway A not ready: $(cat "$WORK/gwA.log")"

# The converging client starts on A (the only process on the port yet).
client converge "$PORT" "$WORK/state.json" "$WORK/stop" >"$WORK/converge.out" 2>&1 &
conv=$!
track $conv
sleep 1
"$BIN_GW" --instance "$INSTANCE" --listen "127.0.0.1:$PORT" --static '' 2>"$WORK/gwB.log" &
gwB=$!
track $gwB
wait_until 20 healthy "$PORT" || fail "gateway B not ready"
sleep 0.5

# Bad input on either process while the converging client keeps streaming.
# Binary frames close 1003 and invalid UTF-8 1007 (RFC 6455's codes for exactly those).
for c in "oversize 4002" "badjson 4002" "unknownop 4001" "second 4005" "rate 4008" \
         "binary 1003" "badutf8 1007" "unknownchannel -"; do
    set -- $c
    out=$(client close "$PORT" "$1" "$2") || fail "close case $1: $out"
done
out=$(client credit "$PORT") || fail "credit: $out"
out=$(client window "$PORT") || fail "credit window: $out"
echo "credit window: $out"
out=$(client expired "$PORT" "/dev/shm/mempulse.$INSTANCE.session-key") || fail "expired token: $out"
kill -0 $conv 2>/dev/null || fail "converging client stopped: $(cat "$WORK/converge.out")"

# SIGKILL A: the converging client (on A) RESUMEs on B without a gap.
{ kill -KILL $gwA; wait $gwA; } 2>/dev/null
sleep 3
kill -0 $conv 2>/dev/null || fail "converging client stopped after the kill: $(cat "$WORK/converge.out")"

# Ingest stops; once the journal is still the client's state must equal the dump.
kill -TERM $ingest
wait $ingest
touch "$WORK/stop"
wait $conv || fail "converging client: $(cat "$WORK/converge.out")"
python3 - "$WORK/converge.out" <<'PY' || fail "converge: $(cat "$WORK/converge.out")"
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert r["ok"] and r["batches"] > 10 and r["resumed"] == 1, r
PY
same_as_dump "$INSTANCE" "$WORK/state.json" || fail "stream state differs from the dump"

# Deadlines and auth on a third process with short timers and a token.
echo "s3cret-token" >"$WORK/token"
MEMPULSE_STREAM_HEARTBEAT_MS=400 MEMPULSE_STREAM_IDENTIFY_MS=1000 MEMPULSE_STREAM_SEND_CAP=16384 \
    "$BIN_GW" --instance "$INSTANCE" --listen "127.0.0.1:$PORT2" --static '' --token-file "$WORK/token" \
    --origin http://ok.example \
    2>"$WORK/gwC.log" &
gwC=$!
track $gwC
wait_until 20 healthy "$PORT2" || fail "gateway C not ready: $(cat "$WORK/gwC.log")"
out=$(client close "$PORT2" noidentify 4003) || fail "no IDENTIFY: $out"
out=$(client close "$PORT2" badtoken 4004) || fail "bad token: $out"
out=$(client close "$PORT2" heartbeat 4009 s3cret-token) || fail "heartbeat timeout: $out"
# Data must flow for a stalled reader's queue to grow: ingest again, faster.
"$BIN_INGEST" --instance "$INSTANCE" --source synthetic --rate 2000 --seed 8 2>"$WORK/ingest2.log" &
track $!
out=$(client stall "$PORT2" s3cret-token) || fail "stalled reader: $out"
out=$(client metrics "$PORT2" s3cret-token) || fail "CLIENT_METRICS: $out"
out=$(client origin "$PORT2" http://ok.example) || fail "Origin: $out"
client reconnect "$PORT2" "$WORK/ready" s3cret-token >"$WORK/reconnect.out" 2>&1 &
rc=$!
track $rc
wait_until 10 test -e "$WORK/ready" || fail "reconnect client not ready: $(cat "$WORK/reconnect.out")"
kill -TERM $gwC
wait $rc || fail "SIGTERM: $(cat "$WORK/reconnect.out")"
wait $gwC || fail "gateway C did not exit 0 after SIGTERM"
for log in "$WORK"/gw*.log; do
    if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$log"; then fail "sanitizer report in $log: $(grep -m3 -E 'Sanitizer|runtime error' "$log")"; fi
done
pass "stream-v2 sessions, batches, resume, credit, close codes, drain"
