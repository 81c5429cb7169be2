#!/usr/bin/env bash
# The eth source against a real node: anvil (npm @foundry-rs/anvil) with --no-mining on
# loopback. A scripted mix (contract deployment, ETH transfer, ERC-20 transfer and approve
# to the deployed token, a WETH deposit, a transfer replaced by a higher-fee one) must
# show on tx.main, through `mempulse-shm dump` and the gateway's snapshot-v2, with the
# right from, to, value, nonce, fees, method and protocol, the replaced one as replaced;
# evm_mine marks them mined and moves chain.main; killing anvil and starting it again
# makes ingest reconnect and carry on.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/eth_lib.bash"

BIN_RM="$BUILD/readmodel/mempulse-readmodel"
BIN_GW="$BUILD/gateway/mempulse-gateway"
DRIVE="python3 $(dirname "$0")/eth_anvil_drive.py"
[ -x "$BIN_RM" ] || fail "missing $BIN_RM (build first)"
[ -x "$BIN_GW" ] || fail "missing $BIN_GW (build first)"
ANVIL=$(anvil_bin 2>"$WORK/npm.log") || fail "cannot install anvil from npm: $(tail -5 "$WORK/npm.log")"

NODE_PORT=$(free_port)
GW_PORT=$(free_port)
URL=http://127.0.0.1:$NODE_PORT

start_anvil() {
    "$ANVIL" --host 127.0.0.1 --port "$NODE_PORT" --no-mining --silent >>"$WORK/anvil.log" 2>&1 &
    anvil_pid=$!
    track $anvil_pid
    $DRIVE wait "$URL" || fail "anvil did not answer on $URL: $(tail -5 "$WORK/anvil.log")"
}
start_anvil

"$BIN_RM" --instance "$INSTANCE" --wait-events 30 2>"$WORK/rm.log" &
track $!
"$BIN_INGEST" --instance "$INSTANCE" --source "eth:ws://127.0.0.1:$NODE_PORT" 2>"$WORK/ingest.log" &
ingest=$!
track $ingest
mkdir -p "$WORK/static" && echo '<!doctype html>' >"$WORK/static/index.html"
"$BIN_GW" --instance "$INSTANCE" --listen "127.0.0.1:$GW_PORT" --static "$WORK/static" 2>"$WORK/gw.log" &
track $!

subscribed() { [ "$(grep -c 'subscribed to pending' "$WORK/ingest.log")" -ge "$1" ]; }
wait_until 20 subscribed 1 || fail "ingest never subscribed: $(cat "$WORK/ingest.log")"

# check.py PHASE MANIFEST...: asserts tx.main (dump and snapshot-v2) against expectations.
cat >"$WORK/check.py" <<'PY'
# Each expected tx is looked up in tx.main (dump and snapshot-v2) and in its detail
# (mempulse-shm tx and GET /transactions/HASH). Mined txs leave tx.main (SPEC 2.3) and
# keep their status in the detail; replaced ones stay on tx.main as replaced.
import http.client, json, subprocess, sys
phase, shm, inst, gw_port = sys.argv[1:5]
want = []
for f in sys.argv[5:]:
    d = json.load(open(f))
    want += d if isinstance(d, list) else [d]
def get(path):
    c = http.client.HTTPConnection("127.0.0.1", int(gw_port), timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, json.loads(r.read())
def shm_json(*args):
    return json.loads(subprocess.run([shm, *args, "--instance", inst, "--json"], check=True,
                                     capture_output=True, text=True).stdout)
st, snap = get("/dashboard/snapshot-v2?channels=tx.main,chain.main")
assert st == 200, (st, snap)
rings = {"dump": {t["hash"]: t for t in shm_json("dump", "tx.main")["items"]},
         "snapshot": {t["hash"]: t for t in snap["channels"]["tx.main"]["items"]}}
for w in want:
    st, detail = get("/transactions/" + w["hash"])
    assert st == 200, f"{w['name']}: /transactions: {st} {detail}"
    views = {"detail": detail, "shm tx": shm_json("tx", w["hash"])}
    for where, ring in rings.items():
        on_ring = w["hash"] in ring
        if phase == "pending" or "replaced_by" in w:
            assert on_ring, f"{where}: {w['name']} {w['hash']} not on tx.main"
            views[where] = ring[w["hash"]]
        else:
            assert not on_ring, f"{where}: {w['name']} mined but still on tx.main"
    for where, t in views.items():
        got = {k: t[k] for k in ("from", "to", "value", "nonce", "max_fee", "max_priority_fee",
                                 "gas_limit", "protocol", "method")}
        exp = {k: w[k] for k in got}
        assert got == exp, f"{where}: {w['name']}: got {got}, want {exp}"
        assert t["chain_id"] == 31337 and t["tx_type"] == 2, t
        if "replaced_by" in w:
            assert t["status"] == "replaced" and t["replaced_by"] == w["replaced_by"], \
                f"{where}: {w['name']} not replaced: {t}"
        elif phase == "pending":
            assert t["status"] == "pending", f"{where}: {w['name']}: {t['status']}"
        else:
            assert t["status"] == "mined" and t["block_number"] == int(phase), \
                f"{where}: {w['name']}: {t['status']} {t.get('block_number')}"
PY
check() { python3 "$WORK/check.py" "$1" "$BIN_SHM" "$INSTANCE" "$GW_PORT" "${@:2}" >"$WORK/check.out" 2>&1; }
head_is() { # head_is NUMBER HASH: chain.main's head in the snapshot
    python3 - "$GW_PORT" "$1" "$2" <<'PY'
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("GET", "/dashboard/snapshot-v2?channels=chain.main")
items = [i for i in json.loads(c.getresponse().read())["channels"]["chain.main"]["items"]
         if i["chain_id"] == 31337]
assert items and items[0]["head_number"] == int(sys.argv[2]) and items[0]["head_hash"] == sys.argv[3], items
PY
}

# 1. The token deployment, then a block, so the token has an address.
$DRIVE deploy "$URL" "$WORK/deploy.json" || fail "deploy failed"
wait_until 20 check pending "$WORK/deploy.json" || fail "deployment not on tx.main: $(cat "$WORK/check.out")"
$DRIVE mine "$URL" "$WORK/block1.json" || fail "evm_mine failed"
wait_until 20 check 1 "$WORK/deploy.json" || fail "deployment not mined: $(cat "$WORK/check.out")"
TOKEN=$($DRIVE receipt "$URL" "$(json_get "$WORK/deploy.json" hash)") || fail "no receipt for the deployment"

# 2. The mix, pending; the replaced transfer shows as replaced.
$DRIVE mix "$URL" "$TOKEN" "$WORK/mix.json" || fail "sending the mix failed"
wait_until 20 check pending "$WORK/mix.json" || fail "mix while pending: $(cat "$WORK/check.out")"

# 3. A block marks them mined and moves chain.main to it.
$DRIVE mine "$URL" "$WORK/block2.json" || fail "evm_mine failed"
wait_until 20 check 2 "$WORK/mix.json" || fail "mix after evm_mine: $(cat "$WORK/check.out")"
wait_until 10 head_is 2 "$(json_get "$WORK/block2.json" hash)" || fail "chain.main head is not block 2"
python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); m=json.load(open(sys.argv[2]));
assert len(b["txs"]) == 5 and {t["hash"] for t in m if "replaced_by" not in t} == set(b["txs"]), b' \
    "$WORK/block2.json" "$WORK/mix.json" || fail "block 2 does not hold the expected transactions"

# 4. anvil killed and started again (a fresh chain): ingest reconnects and carries on.
reconnects=$(metric eth_reconnects_total)
kill -KILL $anvil_pid
wait $anvil_pid 2>/dev/null
wait_until 10 metric_eq eth_upstream_connected 0 || fail "eth_upstream_connected still 1 with anvil gone"
sleep 1 # a few failed attempts while the node is down
kill -0 $ingest 2>/dev/null || fail "ingest died while anvil was down: $(tail -5 "$WORK/ingest.log")"
start_anvil
wait_until 20 subscribed 2 || fail "ingest did not resubscribe: $(tail -5 "$WORK/ingest.log")"
metric_ge eth_reconnects_total $((reconnects + 1)) || fail "reconnect not counted"
metric_eq eth_upstream_connected 1 || fail "eth_upstream_connected is not 1 after the reconnect"
$DRIVE send "$URL" 6 3 "$WORK/after.json" || fail "send after restart failed"
wait_until 20 check pending "$WORK/after.json" || fail "tx after restart: $(cat "$WORK/check.out")"
$DRIVE mine "$URL" "$WORK/block1b.json" || fail "evm_mine after restart failed"
wait_until 20 check 1 "$WORK/after.json" || fail "tx after restart not mined: $(cat "$WORK/check.out")"
# The readmodel keeps the higher head of the old chain (it ignores lower numbers), so
# the new chain shows once it passes block 2.
$DRIVE mine "$URL" "$WORK/block3.json" && $DRIVE mine "$URL" "$WORK/block3.json" ||
    fail "evm_mine after restart failed"
wait_until 10 head_is 3 "$(json_get "$WORK/block3.json" hash)" || fail "chain.main did not follow the new chain"

kill -0 $ingest 2>/dev/null || fail "ingest died"
[ "$(metric ingest_malformed_total)" = 0 ] || fail "malformed input from anvil: $(cat "$WORK/ingest.log")"
kill -TERM $ingest
wait $ingest || fail "ingest exited non-zero on SIGTERM: $(tail -5 "$WORK/ingest.log")"
pass "8 transactions with fields, methods, protocols, replacement and mining; reconnect after an anvil restart"
