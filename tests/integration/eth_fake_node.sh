#!/usr/bin/env bash
# The eth source against a scripted node (eth_fake_node.py) that misbehaves on its first
# connections: a wrong Sec-WebSocket-Accept, malformed JSON-RPC messages, a message over
# the 4 MiB limit, a close in the middle of a frame. Each is counted (malformed, oversize,
# protocol errors, reconnects) and logged, ingest reconnects with backoff and stays up;
# the final well-behaved connection then proves the data path: dedupe of a repeated
# notification, a replacement, a hash-only notification fetched in a batch, an RPC error
# counted, and a head whose block marks its transactions mined.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/eth_lib.bash"

start_fake_node --script badaccept,garbage,oversize,midframe,good

"$BIN_INGEST" --instance "$INSTANCE" --source "eth:ws://127.0.0.1:$FAKE_NODE_PORT/rpc" 2>"$WORK/ingest.log" &
ingest=$!
track $ingest

mined_twice() { [ "$("$BIN_SHM" tail --instance "$INSTANCE" --from 1 -n 1000 | grep -c '"type":"TX_MINED"')" = 2 ]; }
wait_until 40 mined_twice ||
    fail "no TX_MINED pair; node log: $(cat "$WORK/node.log"); ingest log: $(cat "$WORK/ingest.log")"
kill -0 $ingest 2>/dev/null || fail "ingest died: $(cat "$WORK/ingest.log")"
# Metrics are mirrored every 100 ms: give the last ones a moment.
fetched() { [ "$(metric eth_fetches_total)" -ge 2 ]; }
wait_until 5 fetched || fail "fetches not counted: $(metric eth_fetches_total) $(cat "$WORK/ingest.log")"

[ "$(metric eth_upstream_connected)" = 1 ] || fail "eth_upstream_connected is not 1"
[ "$(metric eth_reconnects_total)" -ge 4 ] || fail "reconnects $(metric eth_reconnects_total) < 4"
[ "$(metric eth_oversize_messages_total)" = 1 ] || fail "oversize count $(metric eth_oversize_messages_total)"
[ "$(metric eth_protocol_errors_total)" -ge 2 ] ||
    fail "protocol errors (bad accept, mid-frame close) $(metric eth_protocol_errors_total) < 2"
[ "$(metric ingest_malformed_total)" = 7 ] ||
    fail "malformed count $(metric ingest_malformed_total), expected 7: $(cat "$WORK/ingest.log")"
[ "$(metric eth_rpc_errors_total)" = 1 ] || fail "rpc errors $(metric eth_rpc_errors_total), expected 1"
[ "$(metric eth_duplicates_total)" -ge 1 ] || fail "the repeated notification was not counted as a duplicate"
[ "$(metric eth_replacements_total)" = 1 ] || fail "replacements $(metric eth_replacements_total)"
[ "$(metric eth_notifications_total)" -ge 6 ] || fail "notifications $(metric eth_notifications_total)"

grep -q "invalid JSON" "$WORK/ingest.log" || fail "malformed message not logged"
grep -q "message" "$WORK/ingest.log" || fail "malformed position not logged"
grep -q "Sec-WebSocket-Accept" "$WORK/ingest.log" || fail "bad handshake not logged"
grep -q "larger than" "$WORK/ingest.log" || fail "oversize not logged"
grep -q "middle of a frame" "$WORK/ingest.log" || fail "mid-frame close not logged"
grep -q "unmasked" "$WORK/node.log" && fail "the client sent unmasked frames"
if [ "${MEMPULSE_NO_URING:-}" = 1 ]; then
    grep -q "connected (connection [0-9]*, poll(2))" "$WORK/ingest.log" ||
        fail "MEMPULSE_NO_URING=1 did not select the poll(2) path"
fi
grep -q 'subscribe \["newPendingTransactions", true\]' "$WORK/node.log" ||
    fail "full objects not requested: $(cat "$WORK/node.log")"

"$BIN_SHM" tail --instance "$INSTANCE" --from 1 -n 1000 >"$WORK/tail.txt"
python3 - "$WORK/tail.txt" <<'PY' || fail "events: $(grep -v TICK "$WORK/tail.txt")"
import json, sys
ev = [e for e in map(json.loads, open(sys.argv[1])) if e["type"] != "TICK"]
h = lambda n: "0x%064x" % n
seen = [e for e in ev if e["type"] == "TX_SEEN"]
assert [e["hash"] for e in seen] == [h(1), h(2), h(3)], seen
t1 = seen[0]
assert t1["from"] == "0x" + "ab" * 20 and t1["to"] == "0x" + "cd" * 20, t1
assert t1["nonce"] == 7 and t1["max_fee"] == 2000000000 and t1["max_priority_fee"] == 1000000000, t1
assert t1["value"] == "100" and t1["chain_id"] == 1 and t1["source"] == "eth", t1
assert seen[2]["nonce"] == 8, seen[2]
rep = [e for e in ev if e["type"] == "TX_REPLACED"]
assert len(rep) == 1 and rep[0]["hash"] == h(1) and rep[0]["replaced_by"] == h(2), rep
blocks = [e for e in ev if e["type"] == "BLOCK"]
assert len(blocks) == 1 and blocks[0]["number"] == 16 and blocks[0]["tx_count"] == 2, blocks
assert blocks[0]["hash"] == h(0xb10c) and blocks[0]["base_fee"] == 7, blocks
mined = [e for e in ev if e["type"] == "TX_MINED"]
assert [m["hash"] for m in mined] == [h(2), h(3)] and all(m["block_number"] == 16 for m in mined)
# Order: the block before its TX_MINED, the replacement before the replacing TX_SEEN.
idx = {id(e): i for i, e in enumerate(ev)}
assert idx[id(blocks[0])] < idx[id(mined[0])]
assert idx[id(rep[0])] < idx[id(seen[1])]
PY

kill -TERM $ingest
wait $ingest
rc=$?
[ "$rc" = 0 ] || fail "ingest exited $rc on SIGTERM: $(tail -5 "$WORK/ingest.log")"
[ "$(metric eth_upstream_connected)" = 0 ] || fail "eth_upstream_connected still 1 after exit"
pass "$(metric eth_reconnects_total) reconnects, $(metric ingest_malformed_total) malformed, 1 oversize; data path intact"
