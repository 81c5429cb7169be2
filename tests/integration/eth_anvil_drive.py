#!/usr/bin/env python3
"""Sends the scripted transaction mix to a local anvil over HTTP JSON-RPC (stdlib only)
and writes what each transaction should look like on the dashboard.

  wait URL                   until the node answers (20 s)
  deploy URL OUT             deploys the test token; OUT: {"hash": ...}
  mine URL OUT               evm_mine; OUT: {"number": n, "hash": ...} of the new head
  mix URL TOKEN OUT [--replace-later]
                             transfer, approve, WETH deposit, ETH transfer, a replaced
                             transfer and its replacement (or not yet); OUT: expectations
  replace URL MANIFEST       sends the replacement of the manifest's "replaced" entry
  send URL INDEX VALUE OUT   one plain ETH transfer from dev account INDEX; OUT: expectation
"""
import json, sys, time, urllib.request

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
GWEI = 10**9
# The test token, assembled by hand: the constructor copies the 10-byte runtime
# (PUSH1 1, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN: every call returns true) into
# memory and returns it. Enough for transfer/approve calldata to be accepted; the
# dashboard classifies by selector.
RUNTIME = "600160005260206000f3"
INIT = "600a80600b6000396000f3" + RUNTIME


def rpc(url, method, params):
    req = urllib.request.Request(url, json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                                  "params": params}).encode(),
                                 {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        out = json.load(r)
    if "error" in out:
        raise RuntimeError("%s: %s" % (method, out["error"]))
    return out["result"]


def accounts(url):
    return [a.lower() for a in rpc(url, "eth_accounts", [])]


def send(url, frm, to, value, data, max_fee, tip, nonce=None, gas=100000):
    if nonce is None:
        nonce = int(rpc(url, "eth_getTransactionCount", [frm, "pending"]), 16)
    tx = {"from": frm, "value": hex(value), "data": "0x" + data, "gas": hex(gas),
          "maxFeePerGas": hex(max_fee), "maxPriorityFeePerGas": hex(tip), "nonce": hex(nonce)}
    if to:
        tx["to"] = to
    h = rpc(url, "eth_sendTransaction", [tx])
    return {"hash": h.lower(), "from": frm, "to": to, "value": str(value), "nonce": nonce,
            "max_fee": max_fee, "max_priority_fee": tip, "gas_limit": gas}


def replace(url, out):
    """Sends the higher-fee twin of the "replaced" entry and records the link."""
    old = next(t for t in out if t["name"] == "replaced")
    new = send(url, old["from"], old["to"], 7, "", 4 * GWEI, 2 * GWEI, nonce=old["nonce"],
               gas=21000)
    new.update(name="replacement", protocol="eth-transfer", method="transfer")
    old["replaced_by"] = new["hash"]
    out.append(new)


def word(hexstr):
    return hexstr.lower().replace("0x", "").rjust(64, "0")


def main():
    cmd, url = sys.argv[1], sys.argv[2]
    if cmd == "wait":
        deadline = time.time() + 20
        while True:
            try:
                rpc(url, "eth_chainId", [])
                return
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
    acc = accounts(url)
    if cmd == "deploy":
        t = send(url, acc[1], None, 0, INIT, 3 * GWEI, 1 * GWEI, gas=200000)
        t.update(name="deploy", protocol="deploy", method="deploy", category="deploy")
        json.dump(t, open(sys.argv[3], "w"))
    elif cmd == "mine":
        rpc(url, "evm_mine", [])
        b = rpc(url, "eth_getBlockByNumber", ["latest", False])
        json.dump({"number": int(b["number"], 16), "hash": b["hash"].lower(),
                   "txs": [x.lower() for x in b["transactions"]]}, open(sys.argv[3], "w"))
    elif cmd == "receipt":
        r = rpc(url, "eth_getTransactionReceipt", [sys.argv[3]])
        print(r["contractAddress"].lower())
    elif cmd == "mix":
        token = sys.argv[3].lower()
        # The canonical WETH address gets code, so the deposit is classified as WETH's.
        rpc(url, "anvil_setCode", [WETH, "0x" + RUNTIME])
        out = []
        t = send(url, acc[0], acc[4], 10**18, "", 5 * GWEI, 2 * GWEI, gas=21000)
        t.update(name="eth-transfer", protocol="eth-transfer", method="transfer")
        out.append(t)
        t = send(url, acc[1], token, 0, "a9059cbb" + word(acc[4]) + word(hex(12345)),
                 4 * GWEI, 1 * GWEI)
        t.update(name="erc20-transfer", protocol="erc20", method="transfer")
        out.append(t)
        t = send(url, acc[1], token, 0, "095ea7b3" + word(acc[5]) + word(hex(2**64)),
                 4 * GWEI, 1 * GWEI)
        t.update(name="erc20-approve", protocol="erc20", method="approve")
        out.append(t)
        t = send(url, acc[2], WETH, 5 * 10**17, "d0e30db0", 6 * GWEI, 3 * GWEI)
        t.update(name="weth-deposit", protocol="weth", method="deposit", to=WETH)
        out.append(t)
        old = send(url, acc[3], acc[5], 7, "", 2 * GWEI, 1 * GWEI, gas=21000)
        old.update(name="replaced", protocol="eth-transfer", method="transfer")
        out.append(old)
        if "--replace-later" not in sys.argv:
            replace(url, out)
        json.dump(out, open(sys.argv[4], "w"))
    elif cmd == "replace":
        out = json.load(open(sys.argv[3]))
        replace(url, out)
        json.dump(out, open(sys.argv[3], "w"))
    elif cmd == "send":
        t = send(url, acc[int(sys.argv[3])], acc[9], int(sys.argv[4]), "", 3 * GWEI, 1 * GWEI,
                 gas=21000)
        t.update(name="after-restart", protocol="eth-transfer", method="transfer")
        json.dump(t, open(sys.argv[5], "w"))


if __name__ == "__main__":
    main()
