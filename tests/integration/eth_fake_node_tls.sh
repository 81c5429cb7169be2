#!/usr/bin/env bash
# wss://: the eth source over TLS (OpenSSL on memory BIOs over the same io_uring socket)
# against the scripted node serving a self-signed certificate for 127.0.0.1. With the
# certificate as --eth-ca-file the full data path works (seen, replaced, mined); without
# it the certificate is refused, counted and logged, and nothing is ingested.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/eth_lib.bash"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=mempulse-test -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>"$WORK/openssl.log" ||
    fail "cannot make a test certificate: $(cat "$WORK/openssl.log")"
start_fake_node --script good --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
URL="wss://127.0.0.1:$FAKE_NODE_PORT/"

# Untrusted: the system store does not know the test certificate.
UNTRUSTED="$INSTANCE-untrusted"
"$BIN_INGEST" --instance "$UNTRUSTED" --source "eth:$URL" 2>"$WORK/untrusted.log" &
untrusted=$!
track $untrusted
refused() { grep -q "certificate" "$WORK/untrusted.log"; }
wait_until 15 refused || fail "untrusted certificate not refused: $(cat "$WORK/untrusted.log")"
kill -0 $untrusted || fail "ingest died on a refused certificate"
counted() { [ "$(info_field events.metrics.eth_protocol_errors_total "$UNTRUSTED")" -ge 1 ]; }
wait_until 5 counted || fail "refused handshake not counted"
[ "$(info_field events.metrics.eth_upstream_connected "$UNTRUSTED")" = 0 ] || fail "connected anyway"
kill -TERM $untrusted
wait $untrusted || fail "ingest (untrusted) exited non-zero"
"$BIN_SHM" tail --instance "$UNTRUSTED" --from 1 -n 100 | grep -q TX_SEEN && fail "data through an untrusted connection"

"$BIN_INGEST" --instance "$INSTANCE" --source "eth:$URL" --eth-ca-file "$WORK/cert.pem" \
    2>"$WORK/ingest.log" &
ingest=$!
track $ingest
mined_twice() { [ "$("$BIN_SHM" tail --instance "$INSTANCE" --from 1 -n 1000 | grep -c '"type":"TX_MINED"')" = 2 ]; }
wait_until 20 mined_twice || fail "no data over TLS: $(cat "$WORK/ingest.log") $(cat "$WORK/node.log")"
"$BIN_SHM" tail --instance "$INSTANCE" --from 1 -n 1000 >"$WORK/tail.txt"
python3 - "$WORK/tail.txt" <<'PY' || fail "events: $(grep -v TICK "$WORK/tail.txt")"
import json, sys
ev = [e for e in map(json.loads, open(sys.argv[1])) if e["type"] != "TICK"]
h = lambda n: "0x%064x" % n
assert [e["hash"] for e in ev if e["type"] == "TX_SEEN"] == [h(1), h(2), h(3)], ev
assert [(e["hash"], e["replaced_by"]) for e in ev if e["type"] == "TX_REPLACED"] == [(h(1), h(2))]
PY
grep -q "unmasked" "$WORK/node.log" && fail "the client sent unmasked frames"
metric_eq eth_upstream_connected 1 || fail "eth_upstream_connected is not 1"
kill -TERM $ingest
wait $ingest || fail "ingest exited non-zero on SIGTERM"
rm -f "/dev/shm/mempulse.$UNTRUSTED."*
pass "wss:// with a trusted CA carries the data path; an untrusted certificate is refused"
