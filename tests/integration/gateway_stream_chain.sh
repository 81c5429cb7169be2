#!/usr/bin/env bash
# stream-v2 (SPEC 4.2) under load: (a) one client on every channel follows a 5000 tx/s
# synthetic ingest for at least 100,000 deltas with an unbroken prev_seq chain per channel,
# and once ingest stops its state equals `mempulse-shm dump` (ids and seqs); (b) with a
# 1024-delta journal, a client held at credit 0 on tx.main past the journal window gets
# RESYNC_REQUIRED {channel, since_seq}, and the client rule (snapshot-v2 since since_seq,
# then SUBSCRIBE from its snapshot_seq) yields SUBSCRIBED and a chain from that position;
# (c) UNSUBSCRIBE mid-stream: UNSUBSCRIBED, then no batch on that channel until SUBSCRIBE.
# Needs node (Debian's nodejs) and the `ws` package, installed into $WORK at test time.
. "$(dirname "$0")/lib.bash"

BIN_RM="$BUILD/readmodel/mempulse-readmodel"
BIN_GW="$BUILD/gateway/mempulse-gateway"
CLIENT="$(cd "$(dirname "$0")" && pwd)/gateway_stream_chain_client.js"
MIN_DELTAS=${MIN_DELTAS:-100000}
[ -x "$BIN_GW" ] || fail "missing $BIN_GW (build first)"
[ -x "$BIN_RM" ] || fail "missing $BIN_RM (build first)"
command -v node >/dev/null || fail "node is not installed (apt-get install nodejs)"
npm install --silent --prefix "$WORK/npm" ws@8 >"$WORK/npm.log" 2>&1 || fail "npm install ws: $(tail -3 "$WORK/npm.log")"
export NODE_PATH="$WORK/npm/node_modules"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
healthy() { python3 -c 'import sys,urllib.request; urllib.request.urlopen("http://127.0.0.1:%s/readyz" % sys.argv[1], timeout=2)' "$1"; }
alive() { kill -0 "$1" 2>/dev/null; }
exited() { ! kill -0 "$1" 2>/dev/null; }

# start_stack INST RATE SEED PORT [READMODEL ARGS...]: ingest, readmodel and one gateway on
# a private instance; sets INGEST_PID.
start_stack() {
    local inst=$1 rate=$2 seed=$3 port=$4
    shift 4
    "$BIN_INGEST" --instance "$inst" --source synthetic --rate "$rate" --seed "$seed" 2>"$WORK/$inst.ingest.log" &
    INGEST_PID=$!
    track $INGEST_PID
    wait_until 10 test -e "/dev/shm/mempulse.$inst.events" || fail "ingest ($inst) created no events region"
    "$BIN_RM" --instance "$inst" "$@" 2>"$WORK/$inst.rm.log" &
    track $!
    "$BIN_GW" --instance "$inst" --listen "127.0.0.1:$port" --static '' 2>"$WORK/$inst.gw.log" &
    track $!
    wait_until 20 healthy "$port" || fail "gateway ($inst) not ready: $(cat "$WORK/$inst.gw.log")"
}

# ---- (a) a long chain at a high rate, then state == dump ----------------------------------
PORT=$(free_port)
start_stack "$INSTANCE" 5000 11 "$PORT" --journal 262144 --journal-mb 64
ingest_a=$INGEST_PID
CLIENT_TIMEOUT_MS=150000 timeout 160 node "$CLIENT" follow "$PORT" "$MIN_DELTAS" 90 \
    "$WORK/state.json" "$WORK/reached" "$WORK/stop" >"$WORK/follow.out" 2>&1 &
follower=$!
track $follower
wait_until 95 test -e "$WORK/reached" || fail "follower: $(cat "$WORK/follow.out")"

# ---- (b) and (c) on a second instance with a small journal, while (a)'s client waits ------
# A RESUME after 3 s away at 5,000 tx/s: tens of thousands of changes, replayed in order.
out=$(CLIENT_TIMEOUT_MS=60000 timeout 70 node "$CLIENT" longresume "$PORT" 3000) || fail "long RESUME: $out"
echo "long resume: $out"
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["replayed_deltas"] > 4096, r' "$out" ||
    fail "the long RESUME replayed too little to test anything: $out"

INST_B="$INSTANCE-small"
PORT_B=$(free_port)
start_stack "$INST_B" 2000 12 "$PORT_B" --journal 1024 --journal-mb 1
out=$(CLIENT_TIMEOUT_MS=60000 timeout 70 node "$CLIENT" resync "$PORT_B" "$BIN_SHM" "$INST_B") ||
    fail "RESYNC_REQUIRED: $out"
echo "resync: $out"
# The gateway says why: the held channel's next change left the journal window.
python3 - "$PORT_B" <<'PY' || fail "stream_v2_resyncs_total after the held channel's resync"
import sys, urllib.request
m = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
v = {l.split()[0]: float(l.split()[1]) for l in m.splitlines() if l and not l.startswith("#")}
assert v['stream_v2_resyncs_total{reason="window"}'] >= 1, v
assert v["stream_v2_lazy_floor_misses_total"] == 0, v
total = sum(x for k, x in v.items() if k.startswith("stream_v2_resyncs_total{"))
assert total == v["stream_v2_gap_events_total"], (total, v["stream_v2_gap_events_total"])
PY
out=$(CLIENT_TIMEOUT_MS=60000 timeout 70 node "$CLIENT" subscribe "$PORT_B") || fail "SUBSCRIBE/UNSUBSCRIBE: $out"
echo "subscribe: $out"

# ---- (a) continued: ingest stops; once the journal is still the state must equal the dump -
kill -TERM $ingest_a
wait_until 20 exited $ingest_a || fail "ingest did not exit after SIGTERM"
touch "$WORK/stop"
wait $follower || fail "follower: $(cat "$WORK/follow.out")"
echo "follow: $(cat "$WORK/follow.out")"
python3 - "$WORK/follow.out" "$MIN_DELTAS" <<'PY' || fail "follow: $(cat "$WORK/follow.out")"
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert r["ok"] and r["deltas"] >= int(sys.argv[2]), r
PY
same_as_dump "$INSTANCE" "$WORK/state.json" || fail "stream state differs from the dump"

# ---- (d) clients in every credit state on one gateway converge: a wide window (shared
# lazy batches), the default 64 (paced) and a stingy one (held on zero credit most of the
# time: its channels leave the shared path and coalesce on their own), at the same time.
# Each crowd client traces its snapshot and batches into $WORK (KEEP_WORK=1 keeps them).
INST_C="$INSTANCE-crowd"
PORT_C=$(free_port)
start_stack "$INST_C" 300 13 "$PORT_C"
ingest_c=$INGEST_PID
crowd=()
for spec in "256 1000 inf" "64 1000 inf" "3 700 3"; do
    read -r window refill_ms refill_max <<<"$spec"
    tag="crowd-$window"
    FOLLOW_CREDIT=$window FOLLOW_REFILL_MS=$refill_ms FOLLOW_REFILL_MAX=${refill_max/inf/Infinity} FOLLOW_QUIET_MS=6000 FOLLOW_TRACE="$WORK/$tag.trace" \
        CLIENT_TIMEOUT_MS=90000 timeout 100 node "$CLIENT" follow "$PORT_C" 3000 60 \
        "$WORK/$tag.json" "$WORK/$tag.reached" "$WORK/crowd.stop" >"$WORK/$tag.out" 2>&1 &
    crowd+=($!)
    track $!
done
for window in 256 64 3; do
    wait_until 65 test -e "$WORK/crowd-$window.reached" || fail "crowd client (credit $window): $(cat "$WORK/crowd-$window.out")"
done
kill -TERM $ingest_c
wait_until 20 exited $ingest_c || fail "ingest ($INST_C) did not exit after SIGTERM"
touch "$WORK/crowd.stop"
for i in 0 1 2; do
    wait "${crowd[$i]}" || fail "crowd client $i: $(cat "$WORK"/crowd-*.out)"
done
# The gateway's snapshot counters (sections built, reused, slots skipped while written):
# quoted when a client differs, with the client's snapshot_seq and snapshot sizes.
snapshot_counters() {
    python3 -c 'import sys,urllib.request; print(" ".join(l for l in urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode().splitlines() if l.startswith("gateway_snapshot")))' "$PORT_C"
}
for window in 256 64 3; do
    same_as_dump "$INST_C" "$WORK/crowd-$window.json" ||
        fail "crowd client (credit $window) differs from the dump; gateway: $(snapshot_counters); the client: $(tail -1 "$WORK/crowd-$window.out"); channel seqs: $(for ch in tx.main feature.main opportunity.main chain.main market.main; do "$BIN_SHM" dump $ch --json --instance "$INST_C" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["channel"], d["seq"], end="; ")'; done)"
done
echo "crowd: $(tail -qn1 "$WORK"/crowd-*.out | tr '\n' ' ')"

# ---- (e) a client that bootstraps before the read model committed anything: snapshot
# seq 0, then every change from the first one on (a fresh stack, or a browser that is
# quicker than the first commit). The readmodel and gateway run before ingest exists.
INST_E="$INSTANCE-early"
PORT_E=$(free_port)
"$BIN_RM" --instance "$INST_E" 2>"$WORK/$INST_E.rm.log" &
track $!
wait_until 10 test -e "/dev/shm/mempulse.$INST_E.readmodel" || fail "readmodel ($INST_E) created no region"
"$BIN_GW" --instance "$INST_E" --listen "127.0.0.1:$PORT_E" --static '' 2>"$WORK/$INST_E.gw.log" &
track $!
empty_snapshot() {
    python3 -c 'import json,sys,urllib.request; d=json.load(urllib.request.urlopen("http://127.0.0.1:%s/dashboard/snapshot-v2" % sys.argv[1], timeout=2)); sys.exit(d["snapshot_seq"] != 0)' "$PORT_E"
}
wait_until 20 empty_snapshot || fail "no snapshot with seq 0 from the gateway ($INST_E): $(cat "$WORK/$INST_E.gw.log")"
FOLLOW_QUIET_MS=3000 FOLLOW_TRACE="$WORK/early.trace" CLIENT_TIMEOUT_MS=60000 timeout 70 node "$CLIENT" follow "$PORT_E" 2000 50 \
    "$WORK/early.json" "$WORK/early.reached" "$WORK/early.stop" >"$WORK/early.out" 2>&1 &
early=$!
track $early
wait_until 10 grep -q snapshot_seq "$WORK/early.trace" || fail "early client: no snapshot: $(cat "$WORK/early.out")"
sleep 1 # IDENTIFY at snapshot_seq 0 and READY, before the first event exists
"$BIN_INGEST" --instance "$INST_E" --source synthetic --rate 300 --seed 14 2>"$WORK/$INST_E.ingest.log" &
ingest_e=$!
track $ingest_e
wait_until 40 test -e "$WORK/early.reached" || fail "early client: $(cat "$WORK/early.out")"
kill -TERM $ingest_e
wait_until 20 exited $ingest_e || fail "ingest ($INST_E) did not exit after SIGTERM"
touch "$WORK/early.stop"
wait $early || fail "early client: $(cat "$WORK/early.out")"
python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); assert r["snapshot_seq"] == 0, r' "$WORK/early.out" ||
    fail "the early client's snapshot was not taken before the first commit: $(cat "$WORK/early.out")"
same_as_dump "$INST_E" "$WORK/early.json" ||
    fail "a client that bootstrapped at seq 0 differs from the dump: $(tail -1 "$WORK/early.out")"
echo "early: $(tail -1 "$WORK/early.out")"
for log in "$WORK"/*.gw.log "$WORK"/*.rm.log "$WORK"/*.ingest.log; do
    if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$log"; then fail "sanitizer report in $log: $(grep -m3 -E 'Sanitizer|runtime error' "$log")"; fi
done
pass "100k-delta chain == dump, RESYNC_REQUIRED + client rule, SUBSCRIBE/UNSUBSCRIBE, clients in every credit state converge, a client from seq 0 converges, RESUME after a long gap"
