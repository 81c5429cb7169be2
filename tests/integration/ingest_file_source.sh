#!/usr/bin/env bash
# The file source end to end: JSONL of RPC transaction objects with malformed lines mixed
# in, from a file and from stdin, and a mempool-dumpster CSV. Good lines become TX_SEEN
# events in order, bad ones are counted in ingest_malformed_total and logged with their
# line number, and ingest exits 0 at the end of the input.
. "$(dirname "$0")/lib.bash"

tx() { # tx N: one RPC transaction object (anvil's shape) on one line
    printf '{"type":"0x2","chainId":"0x1","nonce":"0x%x","gas":"0x5208","maxFeePerGas":"0x77359400","maxPriorityFeePerGas":"0x3b9aca00","to":"0x7a250d5630b4cf539739df2c5dacb4c659f2488d","value":"0x%x","input":"0xa9059cbb","hash":"0x%064x","from":"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266","gasPrice":"0x77359400"}\n' "$1" "$1" "$1"
}
{
    tx 1
    echo '{"this is": not json'
    tx 2
    echo '{"hash":"0x12"}'
    printf '{"params":{"result":%s}}\n' "$(tx 3)"
} >"$WORK/feed.jsonl"

"$BIN_INGEST" --instance "$INSTANCE" --source "file:$WORK/feed.jsonl" 2>"$WORK/ingest.log" ||
    fail "ingest exited non-zero at the end of the file: $(cat "$WORK/ingest.log")"
[ "$(info_field events.metrics.ingest_malformed_total)" = "2" ] || fail "malformed count is not 2"
grep -q "line 2" "$WORK/ingest.log" || fail "the bad line 2 is not logged with its number: $(cat "$WORK/ingest.log")"
grep -q "line 4" "$WORK/ingest.log" || fail "the bad line 4 is not logged with its number"
"$BIN_SHM" tail --instance "$INSTANCE" --from 1 -n 100 >"$WORK/tail.txt"
python3 - "$WORK/tail.txt" <<'PY' || fail "events: $(cat "$WORK/tail.txt")"
import json, sys
txs = [e for e in map(json.loads, open(sys.argv[1])) if e.get("type") == "TX_SEEN"]
assert [int(t["hash"], 16) for t in txs] == [1, 2, 3], txs
assert all(t["source"] == "file" and t["to"] == "0x7a250d5630b4cf539739df2c5dacb4c659f2488d" for t in txs)
assert [t["nonce"] for t in txs] == [1, 2, 3]
PY

# stdin: the same lines through a pipe, appended to the same ring.
last=$(info_field events.last_seq)
"$BIN_INGEST" --instance "$INSTANCE" --source file:- <"$WORK/feed.jsonl" 2>"$WORK/stdin.log" ||
    fail "ingest from stdin failed: $(cat "$WORK/stdin.log")"
[ "$(info_field events.metrics.ingest_malformed_total)" = "4" ] || fail "stdin: malformed count is not 4"
"$BIN_SHM" tail --instance "$INSTANCE" --from $((last + 1)) -n 100 >"$WORK/tail2.txt"
n=$(grep -c '"type":"TX_SEEN"' "$WORK/tail2.txt")
[ "$n" = "3" ] || fail "stdin: $n TX_SEEN events, expected 3"

# mempool-dumpster CSV, unpaced.
cat >"$WORK/feed.csv" <<'CSV'
timestamp_ms,hash,chain_id,from,to,value,nonce,gas,gas_price,gas_tip_cap,gas_fee_cap,data_size,data_4bytes,sources,included_at_block_height,included_block_timestamp_ms,inclusion_delay_ms,tx_type
1700000000000,0x00000000000000000000000000000000000000000000000000000000000000aa,1,0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266,0x7a250d5630b4cf539739df2c5dacb4c659f2488d,1000,7,21000,30000000000,1000000000,30000000000,4,0xa9059cbb,local,0,0,0,2
not,a,row
CSV
last=$(info_field events.last_seq)
"$BIN_INGEST" --instance "$INSTANCE" --source "file:$WORK/feed.csv" --speed 0 2>"$WORK/csv.log" ||
    fail "CSV ingest failed: $(cat "$WORK/csv.log")"
[ "$(info_field events.metrics.ingest_malformed_total)" = "5" ] || fail "CSV: malformed count is not 5"
"$BIN_SHM" tail --instance "$INSTANCE" --from $((last + 1)) -n 100 >"$WORK/tail3.txt"
grep -q '"hash":"0x00000000000000000000000000000000000000000000000000000000000000aa"' "$WORK/tail3.txt" ||
    fail "CSV row missing: $(cat "$WORK/tail3.txt")"
pass "JSONL from a file and stdin and CSV: good lines in order, 5 malformed counted and logged"
