#!/usr/bin/env bash
# The hash-only path against a node that refuses JSON-RPC batches: `--eth-hashes-only`
# subscribes without full objects, the first batched eth_getTransactionByHash is refused
# (error with a null id), ingest counts it, switches to one request per message and
# fetches the refused hashes again: both transactions arrive, once each.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/eth_lib.bash"

start_fake_node --script nobatch

"$BIN_INGEST" --instance "$INSTANCE" --eth-hashes-only --source "eth:ws://127.0.0.1:$FAKE_NODE_PORT" \
    2>"$WORK/ingest.log" &
ingest=$!
track $ingest
two_seen() { [ "$("$BIN_SHM" tail --instance "$INSTANCE" --from 1 -n 100 | grep -c '"type":"TX_SEEN"')" = 2 ]; }
wait_until 20 two_seen || fail "the refused fetches were not retried: $(cat "$WORK/node.log") $(cat "$WORK/ingest.log")"
grep -q 'subscribe \["newPendingTransactions"\]' "$WORK/node.log" || fail "subscribed with full objects"
grep -q "batch refused" "$WORK/node.log" || fail "no batch was sent first"
grep -q "single fetch 0x0*51" "$WORK/node.log" || fail "0x51 not fetched singly"
grep -q "one request per message" "$WORK/ingest.log" || fail "the switch is not logged"
"$BIN_SHM" tail --instance "$INSTANCE" --from 1 -n 100 >"$WORK/tail.txt"
python3 - "$WORK/tail.txt" <<'PY' || fail "events: $(cat "$WORK/tail.txt")"
import json, sys
seen = sorted(int(e["hash"], 16) for e in map(json.loads, open(sys.argv[1])) if e["type"] == "TX_SEEN")
assert seen == [0x51, 0x52], seen
PY
wait_until 5 metric_eq eth_rpc_errors_total 1 || fail "rpc errors $(metric eth_rpc_errors_total), expected 1"
metric_ge eth_fetches_total 2 || fail "fetches not counted"
kill -0 $ingest || fail "ingest died"
pass "batch refused, counted, fetched again one by one"
