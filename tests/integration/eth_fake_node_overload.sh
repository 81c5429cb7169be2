#!/usr/bin/env bash
# The hash-only path when a node announces pending hashes faster than it answers the
# fetches (hashflood: 20,000 hashes, no eth_getTransactionByHash answered). ingest keeps
# reading (the answers share the socket), holds 128 fetches in flight and 16,384 hashes
# queued, and drops the rest: counted in eth_fetch_dropped_total and logged; it stays up
# and connected.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/eth_lib.bash"

FLOOD=20000
IN_FLIGHT=128 # MAX_TX_INFLIGHT in ingest/eth_source.c
QUEUE=16384   # FETCH_QUEUE
start_fake_node --script hashflood --flood $FLOOD

"$BIN_INGEST" --instance "$INSTANCE" --eth-hashes-only --source "eth:ws://127.0.0.1:$FAKE_NODE_PORT" \
    2>"$WORK/ingest.log" &
ingest=$!
track $ingest
dropped=$((FLOOD - IN_FLIGHT - QUEUE))
wait_until 30 metric_eq eth_fetch_dropped_total $dropped ||
    fail "dropped $(metric eth_fetch_dropped_total), expected $dropped: $(tail -5 "$WORK/ingest.log")"
grep -q "hashflood sent $FLOOD" "$WORK/node.log" || fail "the node did not finish the flood"
grep -q "fetch queue full (16384 hashes waiting for bodies): 1 announced hashes dropped" "$WORK/ingest.log" ||
    fail "the first drop is not logged: $(tail -5 "$WORK/ingest.log")"
metric_ge eth_notifications_total $FLOOD || fail "notifications $(metric eth_notifications_total) < $FLOOD"
sleep 1
metric_eq eth_fetch_dropped_total $dropped || fail "drops went on: $(metric eth_fetch_dropped_total)"
metric_eq eth_upstream_connected 1 || fail "not connected after the flood"
metric_eq eth_reconnects_total 0 || fail "the flood caused a reconnect"
kill -0 $ingest 2>/dev/null || fail "ingest died"
kill -TERM $ingest
wait $ingest || fail "ingest exited non-zero on SIGTERM: $(tail -5 "$WORK/ingest.log")"
pass "$FLOOD hashes announced, none answered: $IN_FLIGHT in flight, $QUEUE queued, $dropped dropped, counted and logged; still connected"
