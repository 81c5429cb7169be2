#!/usr/bin/env bash
# The gateway's HTTP side (SPEC 4.1, 4.3) against a live ingest + readmodel: snapshot-v2
# full and delta shapes, channel filter and query hardening, transaction details, metrics,
# health and readiness (before and after the readmodel starts), legacy routes, methods,
# static files without traversal, slowloris and stuck-reader bounds, SO_REUSEPORT across
# two gateway processes, bearer token and CORS, the connection cap, a read-only mapping,
# and a SIGTERM drain that exits 0.
. "$(dirname "$0")/lib.bash"

BIN_RM="$BUILD/readmodel/mempulse-readmodel"
BIN_GW="$BUILD/gateway/mempulse-gateway"
[ -x "$BIN_GW" ] || fail "missing $BIN_GW (build first)"
[ -x "$BIN_RM" ] || fail "missing $BIN_RM (build first)"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
PORT=$(free_port)
PORT3=$(free_port)
GW=127.0.0.1:$PORT

# Client helpers (one module, used by the checks below).
cat >"$WORK/h.py" <<'PY'
import json, os, socket, sys, time, http.client

def get(port, path, method="GET", headers=None, body=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, data

def raw(port, request, timeout=10):
    """Sends request bytes as is; returns (status, body) of the answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(request)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
        if b"\r\n\r\n" in data:
            head, _, rest = data.partition(b"\r\n\r\n")
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:") and len(rest) >= int(line.split(b":")[1]):
                    s.close()
                    return int(head.split(b" ")[1]), rest
    s.close()
    if not data:
        return 0, b""
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), rest

def error_code(data):
    e = json.loads(data)["error"]
    assert set(e) == {"code", "message"} and e["message"], e
    return e["code"]
PY
export PYTHONPATH="$WORK"

# get PORT PATH [METHOD]: prints the status; body in $WORK/body, headers in $WORK/headers.
get() {
    python3 - "$1" "$2" "${3:-GET}" "$WORK" <<'PY'
import sys, json, h
st, hd, data = h.get(int(sys.argv[1]), sys.argv[2], sys.argv[3])
open(sys.argv[4] + "/body", "wb").write(data)
open(sys.argv[4] + "/headers", "w").write(json.dumps(hd))
print(st)
PY
}
status_is() { [ "$(get "$PORT" "$1")" = "$2" ]; }

mkdir -p "$WORK/static/assets"
echo '<!doctype html><title>mempulse</title><p>INDEX-MARKER' >"$WORK/static/index.html"
echo 'console.log("ASSET-MARKER")' >"$WORK/static/assets/app.js"
echo 'SECRET-MARKER' >"$WORK/secret.txt"

# --- ingest first: the gateway starts without a read model -------------------------
"$BIN_INGEST" --instance "$INSTANCE" --source synthetic --rate 200 --seed 5 2>"$WORK/ingest.log" &
ingest=$!
track $ingest
wait_until 10 test -e "/dev/shm/mempulse.$INSTANCE.events" || fail "ingest created no events region"

"$BIN_GW" --instance "$INSTANCE" --listen "$GW" --static "$WORK/static" --header-timeout-ms 1500 \
    2>"$WORK/gw1.log" &
gw1=$!
track $gw1
wait_until 10 status_is /healthz 200 || fail "gateway not healthy: $(cat "$WORK/gw1.log")"
[ "$(get "$PORT" /readyz)" = 503 ] || fail "readyz is not 503 without a read model"
python3 -c 'import h,sys; assert h.error_code(open(sys.argv[1],"rb").read()) == "not_ready"' "$WORK/body" ||
    fail "readyz 503 body: $(cat "$WORK/body")"
grep -q "readmodel" "$WORK/body" || fail "readyz does not name the read model: $(cat "$WORK/body")"
[ "$(get "$PORT" /dashboard/snapshot-v2)" = 503 ] || fail "snapshot without a read model is not 503"

# A small journal, so the window moves within the test (out-of-window fallback).
"$BIN_RM" --instance "$INSTANCE" --journal 4096 --journal-mb 1 2>"$WORK/rm.log" &
rm_pid=$!
track $rm_pid
wait_until 20 status_is /readyz 200 || fail "readyz never 200 after the readmodel started: $(cat "$WORK/body")"
has_txs() {
    get "$PORT" "/dashboard/snapshot-v2?channels=tx.main" >/dev/null
    python3 -c 'import json,sys; assert len(json.load(open(sys.argv[1]))["channels"]["tx.main"]["items"]) >= 20' "$WORK/body"
}
wait_until 20 has_txs || fail "no transactions in the snapshot"

# --- snapshot-v2 full ----------------------------------------------------------------
[ "$(get "$PORT" /dashboard/snapshot-v2)" = 200 ] || fail "snapshot status"
cp "$WORK/body" "$WORK/full.json"
python3 - "$WORK/full.json" "$WORK/headers" <<'PY' || fail "full snapshot shape"
import json, re, sys
d = json.load(open(sys.argv[1]))
hd = json.load(open(sys.argv[2]))
assert hd["content-type"] == "application/json", hd
assert list(d) == ["revision", "snapshot_seq", "resume_token_ttl_ms", "server_time_unix_ms",
                   "mode", "channels", "watermark"], list(d)
assert d["mode"] == "full" and d["resume_token_ttl_ms"] == 120000
assert abs(d["server_time_unix_ms"] / 1000 - __import__("time").time()) < 60
shape = {"tx.main": ["seq", "items"], "feature.main": ["seq", "top", "recent"],
         "opportunity.main": ["seq", "items"], "chain.main": ["seq", "items"],
         "market.main": ["seq", "items"]}
assert {k: list(v) for k, v in d["channels"].items()} == shape, d["channels"].keys()
w = d["watermark"]
assert list(w) == ["latest_ingest_seq", "journal_seq"], w
assert 0 < d["snapshot_seq"] <= w["journal_seq"] and w["latest_ingest_seq"] > 0
hexre = re.compile(r"^0x[0-9a-f]{64}$")
for name, ch in d["channels"].items():
    assert isinstance(ch["seq"], int)
    for key in shape[name][1:]:
        ids = set()
        for e in ch[key]:
            assert isinstance(e["id"], str) and isinstance(e["seq"], int) and e["seq"] > 0, e
            assert list(e)[:2] == ["id", "seq"], list(e)[:2]
            ids.add(e["id"])
        assert len(ids) == len(ch[key]), f"duplicate ids in {name}.{key}"
tx = d["channels"]["tx.main"]["items"]
assert all(hexre.match(t["hash"]) and t["id"] == t["hash"] for t in tx)
assert all(e["kind"] == "top" for e in d["channels"]["feature.main"]["top"])
assert all(e["kind"] == "recent" for e in d["channels"]["feature.main"]["recent"])
assert d["channels"]["chain.main"]["items"], "no chain status"
PY
# --- gzip: a client that accepts it gets the same document compressed (sections are
# compressed once and reused); q=0 refuses gzip; delta responses stay plain ------------
python3 - "$PORT" <<'PY' || fail "gzip snapshot"
import gzip, json, sys, h
port = int(sys.argv[1])
for ae in ("gzip", "deflate, gzip;q=0.5", "*", "br, GZIP"):
    st, hd, data = h.get(port, "/dashboard/snapshot-v2", headers={"Accept-Encoding": ae})
    assert st == 200 and hd.get("content-encoding") == "gzip", (ae, st, hd)
    assert hd.get("vary", "").lower() == "accept-encoding", hd
    d = json.loads(gzip.decompress(data))
    assert d["mode"] == "full" and len(d["channels"]) == 5, list(d)
    plain = len(json.dumps(d, separators=(",", ":")))
    assert len(data) * 2 < plain, f"gzip {len(data)} bytes vs {plain} plain"
st, hd, data = h.get(port, "/dashboard/snapshot-v2?channels=chain.main,tx.main",
                     headers={"Accept-Encoding": "gzip"})
d = json.loads(gzip.decompress(data))
assert list(d["channels"]) == ["tx.main", "chain.main"], list(d["channels"])
for ae in ("gzip;q=0", "gzip; q=0.000, identity", "identity", "deflate"):
    st, hd, data = h.get(port, "/dashboard/snapshot-v2", headers={"Accept-Encoding": ae})
    assert st == 200 and "content-encoding" not in hd, (ae, hd)
    json.loads(data)
full = json.loads(h.get(port, "/dashboard/snapshot-v2")[2])
st, hd, data = h.get(port, "/dashboard/snapshot-v2?since_seq=%d" % full["snapshot_seq"],
                     headers={"Accept-Encoding": "gzip"})
assert st == 200 and "content-encoding" not in hd and json.loads(data)["mode"] == "delta", hd
# Rebuilds while ingest runs deflate only the chunks that changed: every member still
# inflates (gzip checks its CRC and length) to a document whose sections are complete.
import time
for _ in range(15):
    time.sleep(0.08)
    st, hd, data = h.get(port, "/dashboard/snapshot-v2", headers={"Accept-Encoding": "gzip"})
    d = json.loads(gzip.decompress(data))
    assert d["channels"]["tx.main"]["items"], "empty tx.main"
metrics = h.get(port, "/metrics")[2].decode()
def counter(line_start):
    return sum(float(l.split()[-1]) for l in metrics.splitlines() if l.startswith(line_start))
assert counter('gateway_snapshot_gzip_chunks_total{source="reused"}') > 0, "no chunk was reused"
assert counter('gateway_snapshot_gzip_deflated_bytes_total') < counter('gateway_snapshot_gzip_bytes_total{side="in"}')
PY
S=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snapshot_seq"])' "$WORK/full.json")
HASH=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["channels"]["tx.main"]["items"][0]["hash"])' "$WORK/full.json")

# --- delta mode: since_seq inside the journal window ---------------------------------
journal_past() {
    get "$PORT" "/dashboard/snapshot-v2?channels=chain.main" >/dev/null
    python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["watermark"]["journal_seq"] > int(sys.argv[2])' "$WORK/body" "$1"
}
wait_until 10 journal_past $((S + 30)) || fail "journal does not move"
[ "$(get "$PORT" "/dashboard/snapshot-v2?since_seq=$S")" = 200 ] || fail "delta status"
python3 - "$WORK/body" "$S" <<'PY' || fail "delta shape: $(head -c 400 "$WORK/body")"
import json, sys
d = json.load(open(sys.argv[1])); since = int(sys.argv[2])
assert d["mode"] == "delta", d["mode"]
assert d["since_seq"] == since and d["snapshot_seq"] >= since
assert list(d) == ["revision", "snapshot_seq", "resume_token_ttl_ms", "server_time_unix_ms",
                   "mode", "since_seq", "channels", "watermark"], list(d)
assert list(d["channels"]) == ["tx.main", "feature.main", "opportunity.main", "chain.main", "market.main"]
changes = 0
for name, ch in d["channels"].items():
    assert list(ch) == ["seq", "upsert", "remove"], (name, list(ch))
    ups = [e["id"] for e in ch["upsert"]]
    assert len(ups) == len(set(ups)), f"{name}: an entity upserted twice (not coalesced)"
    assert not set(ups) & set(ch["remove"]), f"{name}: an id both upserted and removed"
    assert all(isinstance(r, str) for r in ch["remove"])
    assert all(since < e["seq"] <= d["snapshot_seq"] for e in ch["upsert"]), name
    seqs = [e["seq"] for e in ch["upsert"]]
    assert seqs == sorted(seqs), f"{name}: upserts not in seq order"
    changes += len(ch["upsert"]) + len(ch["remove"])
assert changes > 0, "no changes in a delta over 30+ journal entries"
PY
# since_seq == the current journal seq: an empty delta.
J=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["watermark"]["journal_seq"])' "$WORK/body")
get "$PORT" "/dashboard/snapshot-v2?since_seq=$J&channels=chain.main" >/dev/null
python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))
assert d["mode"] == "delta" and list(d["channels"]) == ["chain.main"], d' "$WORK/body" ||
    fail "delta at the journal head: $(head -c 300 "$WORK/body")"

# --- out of the window: full -----------------------------------------------------------
window_moved() {
    get "$PORT" /metrics >/dev/null
    python3 -c '
import sys
for l in open(sys.argv[1]):
    if l.startswith("readmodel_journal_oldest_seq "): assert int(l.split()[1]) > 1; break
else: assert False' "$WORK/body"
}
wait_until 40 window_moved || fail "the journal window never moved past seq 1"
get "$PORT" "/dashboard/snapshot-v2?since_seq=1" >/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["mode"] == "full" and "since_seq" not in d' \
    "$WORK/body" || fail "since_seq out of the window did not fall back to full"
get "$PORT" /metrics >/dev/null
grep -q '^gateway_snapshot_delta_fallbacks_total{reason="out_of_window"} [1-9]' "$WORK/body" ||
    fail "out-of-window fallback not counted"

# --- channel filter and query hardening ----------------------------------------------
get "$PORT" "/dashboard/snapshot-v2?channels=market.main,chain.main" >/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert list(d["channels"]) == ["chain.main","market.main"], list(d["channels"])' \
    "$WORK/body" || fail "channels filter"
get "$PORT" "/dashboard/snapshot-v2?channels=tx%2Emain%2Cchain.main" >/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert list(d["channels"]) == ["tx.main","chain.main"]' \
    "$WORK/body" || fail "percent-encoded channels"
bad_query() { # QUERY STATUS CODE WORD
    local st
    st=$(get "$PORT" "/dashboard/snapshot-v2?$1")
    [ "$st" = "$2" ] || fail "?${1:0:60}: status $st, expected $2"
    python3 -c 'import h,sys; c=h.error_code(open(sys.argv[1],"rb").read()); assert c == sys.argv[2], c' \
        "$WORK/body" "$3" || fail "?${1:0:60}: body $(head -c 200 "$WORK/body")"
    grep -q -- "$4" "$WORK/body" || fail "?${1:0:60}: message does not mention '$4': $(cat "$WORK/body")"
}
bad_query "channels=tx.main,nope.main" 400 bad_request "unknown channel 'nope.main'"
bad_query "channels=" 400 bad_request "channels is empty"
bad_query "since_seq=abc" 400 bad_request since_seq
bad_query "since_seq=-5" 400 bad_request since_seq
bad_query "since_seq=1.5" 400 bad_request since_seq
bad_query "since_seq=99999999999999999999" 400 bad_request since_seq
bad_query "since_seq=" 400 bad_request since_seq
bad_query "since_seq" 400 bad_request "needs a value"
bad_query "since_seq=1&since_seq=2" 400 bad_request "more than once"
bad_query "channels=tx.main&channels=chain.main" 400 bad_request "more than once"
bad_query "verbose=1" 400 bad_request "unknown parameter"
bad_query "channels=tx.main%zz" 400 bad_request "percent"
bad_query "channels=$(head -c 5000 /dev/zero | tr '\0' a)" 413 query_too_long "longer than"
python3 - "$PORT" <<'PY' || fail "a 1 MB request line was not refused"
import h, sys
port = int(sys.argv[1])
st, body = h.raw(port, b"GET /dashboard/snapshot-v2?channels=" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
assert st in (400, 413, 0), st   # h2o refuses heads over its 417 KB limit and closes
st, _, _ = h.get(port, "/healthz")
assert st == 200
PY

# --- transactions ----------------------------------------------------------------------
[ "$(get "$PORT" "/transactions/$HASH")" = 200 ] || fail "transaction $HASH: $(cat "$WORK/body")"
python3 - "$WORK/body" "$HASH" <<'PY' || fail "transaction detail: $(head -c 300 "$WORK/body")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["hash"] == sys.argv[2] and d["id"] == sys.argv[2]
for k in ("history", "opportunities", "on_tx_main", "input_truncated", "method_signature", "status"):
    assert k in d, k
PY
UPPER="0x$(echo "${HASH#0x}" | tr a-f A-F)"
[ "$(get "$PORT" "/transactions/$UPPER")" = 200 ] || fail "upper-case hash refused"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["hash"] == sys.argv[2]' "$WORK/body" "$HASH" ||
    fail "upper-case hash answered another tx"
for bad in 0x1234 "${HASH#0x}" "${HASH}00" "0x$(head -c 64 /dev/zero | tr '\0' g)" "$HASH/extra"; do
    [ "$(get "$PORT" "/transactions/$bad")" = 400 ] || fail "malformed hash $bad not 400"
    python3 -c 'import h,sys; assert h.error_code(open(sys.argv[1],"rb").read()) == "bad_request"' "$WORK/body" ||
        fail "malformed hash body"
done
[ "$(get "$PORT" "/transactions/0x$(head -c 64 /dev/zero | tr '\0' 0)")" = 404 ] || fail "unknown hash not 404"
python3 -c 'import h,sys; assert h.error_code(open(sys.argv[1],"rb").read()) == "not_found"' "$WORK/body" ||
    fail "unknown hash body"

# --- metrics ---------------------------------------------------------------------------
[ "$(get "$PORT" /metrics)" = 200 ] || fail "metrics status"
python3 - "$WORK/body" "$WORK/headers" <<'PY' || fail "metrics"
import json, re, sys
text = open(sys.argv[1]).read()
assert json.load(open(sys.argv[2]))["content-type"].startswith("text/plain; version=0.0.4")
types, samples = {}, {}
for line in text.splitlines():
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split()
        assert name not in types, f"TYPE twice for {name}"
        types[name] = kind
    elif line and not line.startswith("#"):
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        assert m, f"bad sample line: {line}"
        base = m.group(1)
        fam = re.sub(r"_(bucket|sum|count)$", "", base) if base not in types else base
        assert fam in types, f"sample without TYPE: {line}"
        samples[base + (m.group(2) or "")] = float(m.group(3))
need = ["dashboard_snapshot_build_ms_count", "snapshot_v2_build_ms_count", "dashboard_read_model_bytes",
        "tx_detail_index_size", "dashboard_evictions_total", "ingest_events_total", "ring_overruns_total",
        "ring_lag_events", "readmodel_ring_lag_events", "readmodel_apply_ns_total", "readmodel_batches_total"]
missing = [n for n in need if n not in samples]
assert not missing, f"missing: {missing}"
assert types["snapshot_v2_build_ms"] == "histogram" and types["dashboard_snapshot_build_ms"] == "histogram"
assert samples["snapshot_v2_build_ms_count"] >= 5 and samples["dashboard_read_model_bytes"] > 0
assert samples['gateway_http_requests_total{route="snapshot_v2",status="200"}'] >= 5
assert samples['gateway_http_requests_total{route="snapshot_v2",status="400"}'] >= 10
assert samples['gateway_http_requests_total{route="transactions",status="404"}'] >= 1
assert samples['gateway_snapshot_slots_lost_total{kind="torn"}'] == 0
PY

# --- health, legacy routes, methods ------------------------------------------------------
[ "$(get "$PORT" /healthz)" = 200 ] || fail "healthz"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"] == "ok" and d["pid"] > 0' "$WORK/body" ||
    fail "healthz body"
for legacy in /dashboard/snapshot /stream; do
    [ "$(get "$PORT" "$legacy")" = 404 ] || fail "legacy $legacy not 404"
    python3 -c 'import h,sys; assert h.error_code(open(sys.argv[1],"rb").read()) == "not_found"' "$WORK/body" ||
        fail "legacy $legacy body"
done
for route in /dashboard/snapshot-v2 /transactions/$HASH /metrics /healthz / /stream; do
    for method in POST PUT DELETE; do
        [ "$(get "$PORT" "$route" $method)" = 405 ] || fail "$method $route not 405"
        python3 -c '
import h,json,sys
assert h.error_code(open(sys.argv[1],"rb").read()) == "method_not_allowed"
assert "GET" in json.load(open(sys.argv[2]))["allow"]' "$WORK/body" "$WORK/headers" || fail "$method $route: 405 without Allow or JSON"
    done
done
python3 - "$PORT" <<'PY' || fail "an oversized request body is not refused with JSON 413"
import h, sys
st, hd, data = h.get(int(sys.argv[1]), "/dashboard/snapshot-v2", "POST", body=b"x" * 200000)
assert st == 413 and h.error_code(data) == "payload_too_large", (st, data[:200])
PY

# --- static files and traversal ------------------------------------------------------------
[ "$(get "$PORT" /)" = 200 ] || fail "GET / not served"
grep -q INDEX-MARKER "$WORK/body" || fail "GET / is not index.html"
[ "$(get "$PORT" /assets/app.js)" = 200 ] || fail "asset not served"
grep -q ASSET-MARKER "$WORK/body" || fail "asset body"
python3 - "$PORT" <<'PY' || fail "path traversal escaped the static root"
import h, sys
port = int(sys.argv[1])
for path in [b"/../secret.txt", b"/%2e%2e/secret.txt", b"/%2E%2E/secret.txt", b"/assets/../../secret.txt",
             b"/..%2fsecret.txt", b"/assets/%2e%2e/%2e%2e/secret.txt", b"/./../secret.txt",
             b"/%2e%2e%2fsecret.txt", b"//../secret.txt"]:
    st, body = h.raw(port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert b"SECRET-MARKER" not in body, path
    assert st in (400, 404), (path, st)
PY
"$BIN_GW" --instance "$INSTANCE" --listen "127.0.0.1:$PORT3" --static "$WORK/nowhere" 2>"$WORK/gw-nostatic.log" &
gwn=$!
track $gwn
ns_ok() { [ "$(get "$PORT3" /healthz)" = 200 ]; }
wait_until 10 ns_ok || fail "gateway without static dir did not start"
[ "$(get "$PORT3" /)" = 404 ] || fail "GET / without a static dir is not 404"
grep -q "not installed" "$WORK/body" || fail "404 for a missing static dir does not say so: $(cat "$WORK/body")"
grep -q "$WORK/nowhere does not exist" "$WORK/gw-nostatic.log" || fail "missing static dir not logged"
kill -TERM $gwn
wait $gwn || fail "gateway without static dir: exit code $?"

# --- slowloris: a client trickling its request head is cut, others are served ------------
python3 - "$PORT" <<'PY' || fail "slowloris"
import h, socket, sys, threading, time
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200 + b"\r\n\r\n"
t0 = time.monotonic(); closed_at = None; other = []
def other_client():
    time.sleep(0.4)
    t = time.monotonic(); st, _, _ = h.get(port, "/healthz", timeout=5)
    other.append((st, time.monotonic() - t))
th = threading.Thread(target=other_client); th.start()
for i in range(len(head) - 4):
    try:
        s.send(head[i:i + 1])
    except OSError:
        closed_at = time.monotonic() - t0; break
    s.settimeout(0.25)
    try:
        if s.recv(1024) == b"":
            closed_at = time.monotonic() - t0; break
    except socket.timeout:
        pass
    except OSError:
        closed_at = time.monotonic() - t0; break
    if time.monotonic() - t0 > 8: break
th.join()
assert closed_at is not None, "slow client never disconnected"
assert 1.0 <= closed_at <= 4.0, f"slow client cut after {closed_at:.2f} s (header timeout 1.5 s)"
assert other and other[0][0] == 200 and other[0][1] < 1.0, other
print(f"slow client cut after {closed_at:.2f} s")
PY

# --- SO_REUSEPORT: a second process on the same port serves too ------------------------------
"$BIN_GW" --instance "$INSTANCE" --listen "$GW" --static "$WORK/static" 2>"$WORK/gw2.log" &
gw2=$!
track $gw2
both_serve() {
    python3 - "$PORT" "$gw1" "$gw2" <<'PY'
import h, json, sys
port, pids = int(sys.argv[1]), {int(sys.argv[2]), int(sys.argv[3])}
seen = set()
for _ in range(64):
    st, _, data = h.get(port, "/healthz")
    seen.add(json.loads(data)["pid"])
assert seen == pids, (seen, pids)
PY
}
wait_until 10 both_serve || fail "two gateway processes on port $PORT do not both serve: $(cat "$WORK/gw2.log")"

# --- the read model is mapped read-only ------------------------------------------------------
python3 - "$gw1" "$INSTANCE" <<'PY' || fail "gateway maps a region writable"
import sys
pid, inst = sys.argv[1], sys.argv[2]
maps = [l.split() for l in open(f"/proc/{pid}/maps")]
for kind in ("readmodel", "events"):
    rows = [m for m in maps if len(m) >= 6 and m[5].endswith(f"mempulse.{inst}.{kind}")]
    assert rows, f"{kind} region not mapped"
    assert all("w" not in m[1] for m in rows), [m[1] for m in rows]
PY

# --- token, CORS, write deadline, connection cap: a third process --------------------------------
printf 's3cr3t-token\n' >"$WORK/token"
"$BIN_GW" --instance "$INSTANCE" --listen "127.0.0.1:$PORT3" --token-file "$WORK/token" \
    --origin http://ok.example --write-timeout-ms 800 --max-conns 3 2>"$WORK/gw3.log" &
gw3=$!
track $gw3
gw3_ok() { [ "$(get "$PORT3" /healthz)" = 200 ]; }
wait_until 10 gw3_ok || fail "third gateway did not start: $(cat "$WORK/gw3.log")"
python3 - "$PORT3" "$HASH" <<'PY' || fail "bearer token / CORS"
import h, json, sys
port, tx = int(sys.argv[1]), sys.argv[2]
for path in ("/dashboard/snapshot-v2?channels=chain.main", "/transactions/" + tx):
    st, hd, data = h.get(port, path)
    assert st == 401 and h.error_code(data) == "unauthorized" and "bearer" in hd["www-authenticate"].lower(), (st, data)
    st, _, _ = h.get(port, path, headers={"Authorization": "Bearer wrong-token!"})
    assert st == 401
    st, _, data = h.get(port, path, headers={"Authorization": "Bearer s3cr3t-token"})
    assert st == 200, (path, st, data[:200])
st, _, _ = h.get(port, "/healthz"); assert st == 200
good = {"Authorization": "Bearer s3cr3t-token", "Origin": "http://ok.example"}
st, hd, _ = h.get(port, "/dashboard/snapshot-v2?channels=chain.main", headers=good)
assert st == 200 and hd.get("access-control-allow-origin") == "http://ok.example", hd
st, hd, _ = h.get(port, "/dashboard/snapshot-v2?channels=chain.main",
                  headers={"Authorization": "Bearer s3cr3t-token", "Origin": "http://evil.example"})
assert st == 200 and "access-control-allow-origin" not in hd, hd
st, hd, _ = h.get(port, "/dashboard/snapshot-v2", "OPTIONS",
                  headers={"Origin": "http://ok.example", "Access-Control-Request-Method": "GET"})
assert st == 204 and hd["access-control-allow-origin"] == "http://ok.example", (st, hd)
assert "authorization" in hd["access-control-allow-headers"].lower()
PY
python3 - "$PORT3" <<'PY' || fail "a client that stops reading is not cut by the write deadline"
import h, socket, sys, time
port = int(sys.argv[1])
auth = {"Authorization": "Bearer s3cr3t-token"}
one = len(h.get(port, "/dashboard/snapshot-v2", headers=auth)[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
req = b"GET /dashboard/snapshot-v2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cr3t-token\r\n\r\n"
s.sendall(req * 16)   # pipelined: megabytes more than the socket buffers hold
def timeouts():
    st, _, data = h.get(port, "/metrics")
    for l in data.decode().splitlines():
        if l.startswith("gateway_write_timeouts_total "): return int(l.split()[1])
deadline = time.monotonic() + 15
while timeouts() < 1:
    assert time.monotonic() < deadline, "write deadline never fired"
    time.sleep(0.2)
s.settimeout(5)
got = 0
try:
    while True:
        chunk = s.recv(1 << 20)
        if not chunk: break
        got += len(chunk)
except (ConnectionResetError, socket.timeout):
    pass
assert got < 12 * one, f"the stuck connection delivered everything ({got} bytes, {one} per snapshot)"
PY
python3 - "$PORT3" <<'PY' || fail "connection cap"
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
time.sleep(0.3)
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5)
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk: break
    data += chunk
assert data.startswith(b"HTTP/1.1 503") and b'"unavailable"' in data, data[:200]
for c in held: c.close()
PY
kill -TERM $gw3
wait $gw3 || fail "third gateway: exit code $? on SIGTERM"

# --- reused entity bytes equal a fresh encoding --------------------------------------------
# A gateway that rebuilt its sections many times (copying unchanged entities from the
# previous build) must answer exactly what a gateway encoding everything afresh answers.
PORT4=$(free_port)
"$BIN_GW" --instance "$INSTANCE" --listen "127.0.0.1:$PORT4" --coalesce-ms 0 2>"$WORK/gw4.log" &
gw4=$!
track $gw4
gw4_ok() { [ "$(get "$PORT4" /healthz)" = 200 ]; }
wait_until 10 gw4_ok || fail "fourth gateway did not start"
for _ in $(seq 20); do
    [ "$(get "$PORT4" /dashboard/snapshot-v2)" = 200 ] || fail "snapshot from the fourth gateway"
    sleep 0.1
done
kill -TERM $ingest
wait $ingest || fail "ingest exit code"
caught_up() {
    get "$PORT4" /metrics >/dev/null
    python3 -c '
import sys
v = dict(l.split()[:2] for l in open(sys.argv[1]) if l and not l.startswith("#"))
assert v["readmodel_applied_seq"] == v["ring_last_seq"]' "$WORK/body"
}
wait_until 20 caught_up || fail "readmodel did not catch up after ingest stopped"
sleep 0.5
get "$PORT4" /dashboard/snapshot-v2 >/dev/null
cp "$WORK/body" "$WORK/reused.json"
get "$PORT4" /metrics >/dev/null
grep -q '^gateway_snapshot_entities_total{source="reused"} [1-9]' "$WORK/body" ||
    fail "the fourth gateway never reused an encoded entity"
PORT5=$(free_port)
"$BIN_GW" --instance "$INSTANCE" --listen "127.0.0.1:$PORT5" 2>"$WORK/gw5.log" &
gw5=$!
track $gw5
gw5_ok() { [ "$(get "$PORT5" /healthz)" = 200 ]; }
wait_until 10 gw5_ok || fail "fifth gateway did not start"
get "$PORT5" /dashboard/snapshot-v2 >/dev/null
python3 - "$WORK/reused.json" "$WORK/body" <<'PY' || fail "reused entity bytes differ from a fresh encoding"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["watermark"] == b["watermark"], (a["watermark"], b["watermark"])
assert a["channels"] == b["channels"]
assert sum(len(v) for c in a["channels"].values() for v in c.values() if isinstance(v, list)) > 100
PY
kill -TERM $gw4 $gw5
wait $gw4 || fail "fourth gateway: exit code $?"
wait $gw5 || fail "fifth gateway: exit code $?"

# --- readmodel gone, region removed, region recreated: 503, then served again ------------------
kill -TERM $rm_pid
wait $rm_pid || fail "readmodel exit code"
stale() {
    [ "$(get "$PORT" /readyz)" = 503 ] && grep -q "heartbeat" "$WORK/body"
}
wait_until 10 stale || fail "readyz did not report the stale heartbeat: $(cat "$WORK/body")"
[ "$(get "$PORT" /dashboard/snapshot-v2?channels=chain.main)" = 200 ] ||
    fail "the last state is not served while the readmodel is down"
rm -f "/dev/shm/mempulse.$INSTANCE.readmodel"
unmapped() {
    [ "$(get "$PORT" /dashboard/snapshot-v2)" = 503 ] && grep -q "not available" "$WORK/body"
}
wait_until 10 unmapped || fail "a removed region is still served: $(head -c 300 "$WORK/body")"
"$BIN_RM" --instance "$INSTANCE" --journal 4096 --journal-mb 1 2>"$WORK/rm2.log" &
rm_pid=$!
track $rm_pid
wait_until 20 status_is /readyz 200 || fail "readyz not 200 with the recreated region: $(cat "$WORK/body")"
wait_until 20 has_txs || fail "the recreated region is not served"
python3 -c 'import h,sys; assert "w" not in "".join(l.split()[1] for l in open(f"/proc/{sys.argv[1]}/maps") if l.rstrip().endswith(".readmodel"))' \
    "$gw1" || fail "the remapped region is writable"

# --- SIGTERM: in-flight responses finish, idle connections close, exit 0 ---------------------
python3 - "$PORT" "$gw1" <<'PY' || fail "SIGTERM drain"
import json, os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
# An idle keep-alive connection to gw1 (SO_REUSEPORT may route a new connection to gw2:
# keep connecting until gw1 answers).
for _ in range(200):
    idle = socket.create_connection(("127.0.0.1", port))
    idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    resp = idle.recv(65536)
    if json.loads(resp.split(b"\r\n\r\n", 1)[1])["pid"] == pid: break
    idle.close()
else:
    raise SystemExit("never reached gw1")
t0 = time.monotonic()
os.kill(pid, signal.SIGTERM)
idle.settimeout(5)
assert idle.recv(1024) == b"", "idle connection not closed on drain"
assert time.monotonic() - t0 < 1.0, "idle connection waited for the header timeout"
PY
wait $gw1
rc=$?
[ $rc -eq 0 ] || fail "gateway exited $rc on SIGTERM: $(tail -5 "$WORK/gw1.log")"
grep -q "drained" "$WORK/gw1.log" || fail "no drain logged"
# The other process still serves the port.
[ "$(get "$PORT" /healthz)" = 200 ] || fail "the remaining gateway does not serve after the first one left"
kill -TERM $gw2
wait $gw2 || fail "second gateway: exit code $? on SIGTERM"
[ -f "/dev/shm/mempulse.$INSTANCE.session-key" ] || fail "no session key file"
[ "$(stat -c %a "/dev/shm/mempulse.$INSTANCE.session-key")" = 600 ] || fail "session key is not mode 0600"
kill -TERM $rm_pid
wait $rm_pid || fail "readmodel exit code"
pass "snapshot full/delta/fallback, queries, details, metrics, health, static, slowloris, reuseport, auth, drain"
