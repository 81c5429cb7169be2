#!/usr/bin/env bash
# mempulse-shm on the read-model region of a live stack: dump of every channel (valid
# JSON, every item with id and seq, sorted by id then kind, byte-identical when the
# state is), tx (found, malformed, unknown), verify (clean on a live and on a stopped
# region), info --json's readmodel fields, and exit 2 with the version named when the
# region has another layout version.
. "$(dirname "$0")/lib.bash"

BIN_RM="$BUILD/readmodel/mempulse-readmodel"
[ -x "$BIN_RM" ] || fail "missing $BIN_RM (build first)"
RM_REGION="/dev/shm/mempulse.$INSTANCE.readmodel"

"$BIN_INGEST" --instance "$INSTANCE" --rate 2000 --seed 9 2>"$WORK/ingest.log" &
ingest=$!
track $ingest
# Small capacities so that within seconds every ring wraps, details are evicted and the
# journal window moves: the checks then cover removes, reuse and floors too.
"$BIN_RM" --instance "$INSTANCE" --tx-ring 256 --details 1024 --feature-recent 128 --opportunities 64 \
    --journal 4096 --journal-mb 1 2>"$WORK/rm.log" &
rm_pid=$!
track $rm_pid

# channel_count CHANNEL: items in a dump (0 when the dump fails).
channel_count() {
    "$BIN_SHM" dump "$1" --instance "$INSTANCE" --json 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])' 2>/dev/null || echo 0
}
all_channels_filled() {
    local ch
    for ch in "${CHANNELS[@]}"; do
        [ "$(channel_count "$ch")" -gt 0 ] || return 1
    done
}
applied_over() {
    [ "$("$BIN_SHM" info --instance "$INSTANCE" --json 2>/dev/null |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["readmodel"]; print(r["applied_seq"] if r else 0)')" -gt "$1" ]
}
wait_until 60 applied_over 8000 || fail "the readmodel did not apply 8000 events"
wait_until 60 all_channels_filled ||
    fail "not every channel got entities: $(for c in "${CHANNELS[@]}"; do echo -n "$c=$(channel_count "$c") "; done)"

# ---- dump: each channel valid, ids and seqs, deterministic order ----
for ch in "${CHANNELS[@]}"; do
    "$BIN_SHM" dump "$ch" --instance "$INSTANCE" --json >"$WORK/dump.$ch.json" || fail "dump $ch exited $?"
done
python3 - "$WORK" "${CHANNELS[@]}" <<'PY' || fail "dump output is wrong"
import json, sys
work, channels = sys.argv[1], sys.argv[2:]
# Entity kinds (rm_entities.h mp_rm_kind_t) as the JSON shows them per channel.
def kind_of(ch, item):
    if ch == "tx.main": return 1
    if ch == "feature.main": return {"top": 2, "recent": 3}[item["kind"]]
    if ch == "opportunity.main": return 4
    if ch == "chain.main": return 5
    return {"fee_market": 6, "price": 7}[item["kind"]]
def id_bytes(kind, ident):
    if kind in (1, 3):  # hash-keyed: 0x + 64 hex
        assert ident.startswith("0x") and len(ident) == 66, ident
        return bytes.fromhex(ident[2:])
    b = ident.encode()
    assert 0 < len(b) <= 32, ident
    return b.ljust(32, b"\0")
for ch in channels:
    lines = open(f"{work}/dump.{ch}.json").read().splitlines()
    assert len(lines) == 1, f"{ch}: {len(lines)} lines"
    d = json.loads(lines[0])
    assert d["channel"] == ch, d["channel"]
    assert isinstance(d["seq"], int) and d["seq"] > 0, (ch, d["seq"])
    assert d["count"] == len(d["items"]) > 0, (ch, d["count"])
    keys = []
    for it in d["items"]:
        assert isinstance(it["id"], str) and it["id"], (ch, it)
        assert isinstance(it["seq"], int) and it["seq"] > 0, (ch, it)
        k = kind_of(ch, it)
        keys.append((id_bytes(k, it["id"]), k))
    assert keys == sorted(keys), f"{ch}: items not sorted by (id bytes, kind)"
    assert len(set(keys)) == len(keys), f"{ch}: duplicate ids"
    if ch == "tx.main":
        t = d["items"][0]
        for f in ("hash", "chain_id", "from", "to", "nonce", "gas_limit", "value", "protocol",
                  "category", "method", "status", "seen_unix_ms", "input_len"):
            assert f in t, f"tx lacks {f}"
        assert t["id"] == t["hash"]
    if ch == "feature.main":
        kinds = {it["kind"] for it in d["items"]}
        assert kinds == {"top", "recent"}, kinds
PY

# Unknown channel: exit 2, naming the valid ones.
"$BIN_SHM" dump nosuch.main --instance "$INSTANCE" --json >/dev/null 2>"$WORK/err"; rc=$?
[ $rc -eq 2 ] || fail "unknown channel: exit $rc"
grep -q "unknown channel 'nosuch.main'" "$WORK/err" || fail "unknown channel message: $(cat "$WORK/err")"
grep -q "tx.main, feature.main, opportunity.main, chain.main, market.main" "$WORK/err" ||
    fail "valid channels not listed: $(cat "$WORK/err")"
"$BIN_SHM" dump --instance "$INSTANCE" 2>/dev/null; [ $? -eq 2 ] || fail "dump without a channel is not exit 2"
"$BIN_SHM" dump tx.main --instance "$INSTANCE" >"$WORK/table.txt" || fail "table dump failed"
head -1 "$WORK/table.txt" | grep -q '^tx.main  seq ' || fail "table header: $(head -2 "$WORK/table.txt")"

# ---- verify on the live region ----
"$BIN_SHM" verify --instance "$INSTANCE" --json >"$WORK/verify.json"; rc=$?
[ $rc -eq 0 ] || fail "verify on the live region: exit $rc: $(head -c 1500 "$WORK/verify.json")"
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["ok"] and v["writer_alive"] and not v["violations"], v' \
    "$WORK/verify.json" || fail "verify JSON: $(head -c 800 "$WORK/verify.json")"

# ---- info --json: the readmodel fields ----
"$BIN_SHM" info --instance "$INSTANCE" --json >"$WORK/info.json" || fail "info failed"
python3 - "$WORK/info.json" "$rm_pid" <<'PY' || fail "info readmodel fields: $(head -c 1500 "$WORK/info.json")"
import json, sys
r = json.load(open(sys.argv[1]))["readmodel"]
for f in ("applied_seq", "journal_seq", "oldest_journal_seq", "bytes_used", "bytes_cap",
          "writer_pid", "writer_starts"):
    assert isinstance(r[f], int), f
assert r["writer_pid"] == int(sys.argv[2]), r["writer_pid"]
assert r["writer_alive"] is True
assert r["writer_starts"] >= 1
assert r["applied_seq"] > 0 and r["journal_seq"] > 0
assert 1 <= r["oldest_journal_seq"] <= r["journal_seq"] + 1
assert 0 < r["bytes_used"] <= r["bytes_cap"]
assert set(r["channel_seq"]) == {"tx.main", "feature.main", "opportunity.main", "chain.main", "market.main"}
assert all(0 < s <= r["journal_seq"] for s in r["channel_seq"].values()), r["channel_seq"]
assert isinstance(r["metrics"], dict) and "readmodel_events_total" in r["metrics"], r["metrics"]
PY

# ---- tx, against a quiet region (small capacities evict a detail within a second) ----
kill -TERM $ingest
wait $ingest || fail "ingest exit code on SIGTERM"
last=$(info_field events.last_seq)
all_applied() { [ "$(info_field readmodel.applied_seq)" = "$last" ]; }
wait_until 30 all_applied || fail "the readmodel did not apply up to seq $last"
"$BIN_SHM" dump tx.main --instance "$INSTANCE" --json >"$WORK/dump.tx.main.json" || fail "dump tx.main (quiet)"
hash=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(max(d["items"], key=lambda i: i["seq"])["hash"])' \
    "$WORK/dump.tx.main.json")
"$BIN_SHM" tx "$hash" --instance "$INSTANCE" --json >"$WORK/tx.json"; rc=$?
[ $rc -eq 0 ] || fail "tx $hash: exit $rc"
python3 - "$WORK/tx.json" "$hash" <<'PY' || fail "tx detail is wrong: $(head -c 800 "$WORK/tx.json")"
import json, sys
d = json.loads(open(sys.argv[1]).read())
h = sys.argv[2]
assert d["hash"] == h and d["id"] == h, d["hash"]
for f in ("method", "protocol", "category", "input", "input_len", "input_truncated", "history",
          "history_total", "opportunities", "status", "seq"):
    assert f in d, f"detail lacks {f}"
assert d["history"] and d["history"][0]["status"] == "pending", d["history"]
assert all(set(c) == {"status", "unix_ms", "seq"} for c in d["history"])
assert d["input"] is None or d["input"].startswith("0x")
PY
"$BIN_SHM" tx "$hash" --instance "$INSTANCE" >"$WORK/tx.txt" || fail "tx (text) failed"
grep -q "^hash  *$hash" "$WORK/tx.txt" || fail "tx text lacks the hash: $(head -5 "$WORK/tx.txt")"
upper="0X$(echo "${hash#0x}" | tr a-f A-F)"
"$BIN_SHM" tx "$upper" --instance "$INSTANCE" --json >/dev/null || fail "upper-case hash refused"

for bad in 0x1234 "${hash#0x}" "${hash}00" "0x${hash:3}" "0x$(printf 'g%.0s' {1..64})"; do
    "$BIN_SHM" tx "$bad" --instance "$INSTANCE" --json >"$WORK/bad.json" 2>"$WORK/err"; rc=$?
    [ $rc -eq 2 ] || fail "malformed hash '$bad': exit $rc"
    grep -q "0x followed by 64 hex digits" "$WORK/err" || fail "malformed hash message: $(cat "$WORK/err")"
    python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["error"]["code"] == "bad_hash"' "$WORK/bad.json" ||
        fail "malformed hash JSON: $(cat "$WORK/bad.json")"
done
unknown="0x$(printf 'ab%.0s' {1..32})"
"$BIN_SHM" tx "$unknown" --instance "$INSTANCE" --json >"$WORK/unknown.json" 2>"$WORK/err"; rc=$?
[ $rc -eq 1 ] || fail "unknown hash: exit $rc"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["error"]["code"] == "not_found"' "$WORK/unknown.json" ||
    fail "unknown hash JSON: $(cat "$WORK/unknown.json")"
grep -q "not in tx_detail_index" "$WORK/err" || fail "unknown hash message: $(cat "$WORK/err")"

# ---- a stopped stack: dumps are byte-identical, verify is clean ----
kill -TERM $rm_pid
wait $rm_pid || fail "readmodel exit code on SIGTERM"
for ch in "${CHANNELS[@]}"; do
    "$BIN_SHM" dump "$ch" --instance "$INSTANCE" --json >"$WORK/a.$ch" || fail "dump $ch (stopped)"
    "$BIN_SHM" dump "$ch" --instance "$INSTANCE" --json >"$WORK/b.$ch" || fail "dump $ch (stopped, again)"
    cmp -s "$WORK/a.$ch" "$WORK/b.$ch" || fail "two dumps of $ch from one state differ"
    "$BIN_SHM" dump "$ch" --instance "$INSTANCE" >"$WORK/ta.$ch" && "$BIN_SHM" dump "$ch" --instance "$INSTANCE" >"$WORK/tb.$ch" ||
        fail "table dump $ch (stopped)"
    cmp -s "$WORK/ta.$ch" "$WORK/tb.$ch" || fail "two table dumps of $ch from one state differ"
done
"$BIN_SHM" verify --instance "$INSTANCE" >"$WORK/verify.txt"; rc=$?
[ $rc -eq 0 ] || fail "verify on the stopped region: exit $rc: $(head -30 "$WORK/verify.txt")"
grep -q "ok: no violations" "$WORK/verify.txt" || fail "verify text: $(tail -3 "$WORK/verify.txt")"
[ "$(info_field readmodel.writer_alive)" = "False" ] || fail "readmodel still reported alive"

# ---- verify finds what is broken (the stopped region, poked and restored) ----
# poke SECTION WHAT [ARG]: breaks one invariant in a section; prints "OFFSET HEX" of the
# bytes it replaced, which `poke restore OFFSET HEX` writes back.
poke() {
    python3 - "$RM_REGION" "$@" <<'PY'
import struct, sys
path, what = sys.argv[1], sys.argv[2]
with open(path, "r+b") as f:
    if what == "restore":
        f.seek(int(sys.argv[3])); f.write(bytes.fromhex(sys.argv[4])); sys.exit(0)
    hdr = f.read(4096)
    count = struct.unpack_from("<I", hdr, 52)[0]
    sections = {}
    for i in range(count):
        name = hdr[128 + 64 * i:128 + 64 * i + 24].split(b"\0")[0].decode()
        sections[name] = struct.unpack_from("<QQQQ", hdr, 128 + 64 * i + 24)  # offset size item cap
    def save_and_write(off, new):
        f.seek(off); old = f.read(len(new)); f.seek(off); f.write(new)
        print(off, old.hex())
    if what == "odd-seqlock":  # tx_ring slot 3's count made odd: a write that never ended
        off = sections["tx_ring"][0] + 3 * sections["tx_ring"][2]
        f.seek(off); v = struct.unpack("<I", f.read(4))[0]
        save_and_write(off, struct.pack("<I", v | 1))
    elif what == "lost-bucket":  # the first used detail bucket emptied
        off, size = sections["tx_detail_buckets"][:2]
        f.seek(off); cells = f.read(size)
        i = next(k for k in range(0, size, 8) if cells[k:k + 8] != bytes(8))
        save_and_write(off + i, bytes(8))
    elif what == "journal-seq":  # the newest journal entry claims another seq
        off, _, item, cap = sections["journal"]
        seq = int(sys.argv[3])
        e = off + (seq & (cap - 1)) * item
        save_and_write(e, struct.pack("<Q", seq + 1000))
PY
}
newest=$(info_field readmodel.journal_seq)
for case in odd-seqlock:seqlocks lost-bucket:detail_index journal-seq:journal; do
    what=${case%%:*} check=${case#*:}
    saved=$(poke "$what" "$newest") || fail "poke $what failed"
    "$BIN_SHM" verify --instance "$INSTANCE" >"$WORK/verify.$what.txt"; rc=$?
    [ $rc -eq 1 ] || fail "verify missed $what: exit $rc: $(tail -12 "$WORK/verify.$what.txt")"
    grep -q "^violation: $check: " "$WORK/verify.$what.txt" ||
        fail "verify reported $what wrongly: $(head -5 "$WORK/verify.$what.txt")"
    # shellcheck disable=SC2086
    poke restore $saved || fail "restore after $what failed"
    "$BIN_SHM" verify --instance "$INSTANCE" >/dev/null || fail "verify not clean after restoring $what"
done

# ---- a region of another layout version ----
python3 - "$RM_REGION" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(8); f.write(struct.pack("<I", 77))
PY
for cmd in "info" "dump tx.main" "tx $hash" "verify"; do
    # shellcheck disable=SC2086
    "$BIN_SHM" $cmd --instance "$INSTANCE" --json >/dev/null 2>"$WORK/err"; rc=$?
    [ $rc -eq 2 ] || fail "wrong version: '$cmd' exit $rc"
    grep -q "has layout version 77, this build expects" "$WORK/err" || fail "'$cmd' message: $(cat "$WORK/err")"
    grep -q "mempulse-shm reset --instance $INSTANCE" "$WORK/err" || fail "'$cmd' does not name the fix"
done

# No read-model region at all: info shows null, dump and verify say so with exit 2.
rm -f "$RM_REGION"
[ "$(info_field readmodel)" = "None" ] || fail "info without a read-model region: $(info_field readmodel)"
"$BIN_SHM" dump tx.main --instance "$INSTANCE" 2>"$WORK/err"; rc=$?
[ $rc -eq 2 ] || fail "dump without a region: exit $rc"
grep -q "does not exist" "$WORK/err" || fail "missing region message: $(cat "$WORK/err")"
pass "dump, tx, verify and info on the read-model region"
