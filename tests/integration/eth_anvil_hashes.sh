#!/usr/bin/env bash
# The hash-only path against anvil: `--eth-hashes-only` subscribes to pending hashes and
# fetches each body with batched eth_getTransactionByHash. The same mix as eth_anvil.sh
# must arrive with the same fields (checked through `mempulse-shm dump tx.main`), the
# replacement detected, and evm_mine marks them mined.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/eth_lib.bash"

BIN_RM="$BUILD/readmodel/mempulse-readmodel"
DRIVE="python3 $(dirname "$0")/eth_anvil_drive.py"
[ -x "$BIN_RM" ] || fail "missing $BIN_RM (build first)"
ANVIL=$(anvil_bin 2>"$WORK/npm.log") || fail "cannot install anvil from npm: $(tail -5 "$WORK/npm.log")"

NODE_PORT=$(free_port)
URL=http://127.0.0.1:$NODE_PORT
"$ANVIL" --host 127.0.0.1 --port "$NODE_PORT" --no-mining --silent >"$WORK/anvil.log" 2>&1 &
track $!
$DRIVE wait "$URL" || fail "anvil did not answer: $(tail -5 "$WORK/anvil.log")"

"$BIN_RM" --instance "$INSTANCE" --wait-events 30 2>"$WORK/rm.log" &
track $!
"$BIN_INGEST" --instance "$INSTANCE" --eth-hashes-only --source "eth:ws://127.0.0.1:$NODE_PORT/" \
    2>"$WORK/ingest.log" &
ingest=$!
track $ingest
wait_until 20 grep -q 'subscribed to pending transactions (hashes)' "$WORK/ingest.log" ||
    fail "no hash subscription: $(cat "$WORK/ingest.log")"

cat >"$WORK/check.py" <<'PY'
import json, subprocess, sys
phase, shm, inst = sys.argv[1:4]
want = []
for f in sys.argv[4:]:
    d = json.load(open(f))
    want += d if isinstance(d, list) else [d]
def shm_json(*args):
    return json.loads(subprocess.run([shm, *args, "--instance", inst, "--json"], check=True,
                                     capture_output=True, text=True).stdout)
ring = {t["hash"]: t for t in shm_json("dump", "tx.main")["items"]}
for w in want:
    t = ring.get(w["hash"]) if phase == "pending" else shm_json("tx", w["hash"])
    assert t, f"{w['name']} missing from tx.main"
    got = {k: t[k] for k in ("from", "to", "value", "nonce", "max_fee", "max_priority_fee",
                             "gas_limit", "protocol", "method")}
    assert got == {k: w[k] for k in got}, f"{w['name']}: {got}"
    if "replaced_by" in w:
        assert t["status"] == "replaced" and t["replaced_by"] == w["replaced_by"], t
    elif phase == "pending":
        assert t["status"] == "pending", t
    else:
        assert t["status"] == "mined" and t["block_number"] == int(phase), t
PY
check() { python3 "$WORK/check.py" "$1" "$BIN_SHM" "$INSTANCE" "${@:2}" >"$WORK/check.out" 2>&1; }

$DRIVE deploy "$URL" "$WORK/deploy.json" || fail "deploy failed"
wait_until 20 check pending "$WORK/deploy.json" || fail "deployment: $(cat "$WORK/check.out")"
$DRIVE mine "$URL" "$WORK/block1.json" || fail "evm_mine failed"
wait_until 20 check 1 "$WORK/deploy.json" || fail "deployment not mined: $(cat "$WORK/check.out")"
TOKEN=$($DRIVE receipt "$URL" "$(json_get "$WORK/deploy.json" hash)") || fail "no receipt"

# The replaced tx must be fetched before its replacement evicts it from anvil's pool (a
# hash-only feed cannot see a body the node no longer has): send the replacement once
# the first six are on tx.main.
$DRIVE mix "$URL" "$TOKEN" "$WORK/mix.json" --replace-later || fail "sending the mix failed"
wait_until 20 check pending "$WORK/mix.json" || fail "mix: $(cat "$WORK/check.out")"
$DRIVE replace "$URL" "$WORK/mix.json" || fail "sending the replacement failed"
wait_until 20 check pending "$WORK/mix.json" || fail "replacement: $(cat "$WORK/check.out")"
$DRIVE mine "$URL" "$WORK/block2.json" || fail "evm_mine failed"
wait_until 20 check 2 "$WORK/mix.json" || fail "mix after evm_mine: $(cat "$WORK/check.out")"

fetched() { metric_ge eth_fetches_total 9; } # 7 bodies and 2 blocks
wait_until 5 fetched || fail "eth_fetches_total $(metric eth_fetches_total) < 9"
[ "$(metric eth_rpc_errors_total)" = 0 ] || fail "rpc errors: $(cat "$WORK/ingest.log")"
[ "$(metric ingest_malformed_total)" = 0 ] || fail "malformed: $(cat "$WORK/ingest.log")"
[ "$(metric eth_fetch_latency_us_total)" -gt 0 ] || fail "fetch latency not measured"
kill -TERM $ingest
wait $ingest || fail "ingest exited non-zero on SIGTERM"
avg=$(($(metric eth_fetch_latency_us_total) / $(metric eth_fetches_total)))
pass "7 transactions through eth_getTransactionByHash; mean fetch latency ${avg} us"
