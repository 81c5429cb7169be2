/* The event codec: msgpack encoding of mp_event_t for ring records (via msgpack-c), its
 * strict allocation-free decoder, the JSON form of an event, and u256 decimal text. */
#include "proto/event.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <msgpack.h>

#include "proto/json_writer.h"

/* Wire format: one msgpack array per event,
 *
 *   [schema_version, type, time_ns, <the type's fields, in this order>]
 *
 *   TX_SEEN      chain_id, hash, from, to, nonce, gas_limit, gas_price, max_fee,
 *                max_priority_fee, value, tx_type, input_len, input_prefix, source
 *   TX_REPLACED  chain_id, hash, replaced_by
 *   TX_DROPPED   chain_id, hash, reason
 *   TX_MINED     chain_id, hash, block_number
 *   BLOCK        chain_id, number, hash, base_fee, gas_used, gas_limit, timestamp, tx_count
 *   PRICE        symbol, price
 *   TICK         (none)
 *
 * Kinds: numbers are non-negative msgpack integers of any width (the encoder packs the
 * shortest) and must fit their struct field; hashes are bin 32, addresses bin 20, `to`
 * is nil for a contract creation; value is bin 0..32, big-endian, the encoder dropping
 * leading zero bytes (a zero value is bin 0); input_prefix is bin of at most
 * MP_INPUT_PREFIX_MAX and input_len bytes; symbol is str of fewer than MP_SYMBOL_MAX
 * bytes without NUL; price is float64 (float32 is accepted).
 *
 * Compatibility: a later schema version only appends fields to a type's array, never
 * removes, reorders or retypes one. A decoder skips the fields it does not know, so it
 * accepts any version from 1 on; version 0 is never written and marks garbage.
 */

/* Array length of each type: the three common fields plus the type's own. */
static const uint8_t wire_fields[MP_EV_TYPE_MAX + 1] = {
    [MP_EV_TX_SEEN] = 3 + 14, [MP_EV_TX_REPLACED] = 3 + 3, [MP_EV_TX_DROPPED] = 3 + 3,
    [MP_EV_TX_MINED] = 3 + 3, [MP_EV_BLOCK] = 3 + 8,       [MP_EV_PRICE] = 3 + 2,
    [MP_EV_TICK] = 3,
};

/* ---- encoding ---- */

/* The packer's output: the caller's fixed buffer. Once a write does not fit, `full`
 * stays set and every later write is refused too, so the output is never a payload
 * with a hole in it. */
typedef struct sink {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool full;
} sink_t;

static int sink_write(void *data, const char *bytes, size_t n)
{
    sink_t *s = data;
    if (s->full || n > s->cap - s->len) {
        s->full = true;
        return -1;
    }
    /* The packer writes markers and numbers a few bytes at a time; copying those inline
     * beats a memcpy call per item. */
    uint8_t *dst = s->buf + s->len;
    if (n <= 9)
        for (size_t i = 0; i < n; i++) dst[i] = (uint8_t)bytes[i];
    else
        memcpy(dst, bytes, n);
    s->len += n;
    return 0;
}

static void pack_bin(msgpack_packer *pk, const uint8_t *bytes, size_t n)
{
    msgpack_pack_bin(pk, n);
    if (n) msgpack_pack_bin_body(pk, bytes, n);
}

static void pack_u256(msgpack_packer *pk, const mp_u256_t *v)
{
    size_t skip = 0;
    while (skip < sizeof v->be && v->be[skip] == 0) skip++;
    pack_bin(pk, v->be + skip, sizeof v->be - skip);
}

static void pack_tx_seen(msgpack_packer *pk, const mp_tx_seen_t *tx)
{
    msgpack_pack_uint64(pk, tx->chain_id);
    pack_bin(pk, tx->hash, MP_HASH_LEN);
    pack_bin(pk, tx->from, MP_ADDR_LEN);
    if (tx->has_to)
        pack_bin(pk, tx->to, MP_ADDR_LEN);
    else
        msgpack_pack_nil(pk);
    msgpack_pack_uint64(pk, tx->nonce);
    msgpack_pack_uint64(pk, tx->gas_limit);
    msgpack_pack_uint64(pk, tx->gas_price);
    msgpack_pack_uint64(pk, tx->max_fee);
    msgpack_pack_uint64(pk, tx->max_priority_fee);
    pack_u256(pk, &tx->value);
    msgpack_pack_uint8(pk, tx->tx_type);
    msgpack_pack_uint32(pk, tx->input_len);
    pack_bin(pk, tx->input_prefix, tx->input_prefix_len);
    msgpack_pack_uint8(pk, tx->source);
}

static void pack_block(msgpack_packer *pk, const mp_block_t *b)
{
    msgpack_pack_uint64(pk, b->chain_id);
    msgpack_pack_uint64(pk, b->number);
    pack_bin(pk, b->hash, MP_HASH_LEN);
    msgpack_pack_uint64(pk, b->base_fee);
    msgpack_pack_uint64(pk, b->gas_used);
    msgpack_pack_uint64(pk, b->gas_limit);
    msgpack_pack_uint64(pk, b->timestamp);
    msgpack_pack_uint32(pk, b->tx_count);
}

static int check_encodable(const mp_event_t *ev)
{
    if (ev->type < MP_EV_TYPE_MIN || ev->type > MP_EV_TYPE_MAX) return -EINVAL;
    if (ev->type == MP_EV_TX_SEEN) {
        const mp_tx_seen_t *tx = &ev->u.tx;
        if (tx->input_prefix_len > MP_INPUT_PREFIX_MAX || tx->input_prefix_len > tx->input_len)
            return -EINVAL;
        if (tx->input_prefix_len && !tx->input_prefix) return -EINVAL;
    }
    if (ev->type == MP_EV_PRICE && !memchr(ev->u.price.symbol, '\0', MP_SYMBOL_MAX))
        return -EINVAL;
    return 0;
}

int mp_event_encode(const mp_event_t *ev, uint8_t *buf, size_t cap, size_t *len)
{
    int err = check_encodable(ev);
    if (err) return err;

    sink_t sink = {.buf = buf, .cap = cap};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sink, sink_write);

    msgpack_pack_array(&pk, wire_fields[ev->type]);
    msgpack_pack_uint8(&pk, MP_EVENT_SCHEMA_VERSION);
    msgpack_pack_uint16(&pk, ev->type);
    msgpack_pack_uint64(&pk, ev->time_ns);
    switch (ev->type) {
    case MP_EV_TX_SEEN:
        pack_tx_seen(&pk, &ev->u.tx);
        break;
    case MP_EV_TX_REPLACED:
        msgpack_pack_uint64(&pk, ev->u.replaced.chain_id);
        pack_bin(&pk, ev->u.replaced.hash, MP_HASH_LEN);
        pack_bin(&pk, ev->u.replaced.replaced_by, MP_HASH_LEN);
        break;
    case MP_EV_TX_DROPPED:
        msgpack_pack_uint64(&pk, ev->u.dropped.chain_id);
        pack_bin(&pk, ev->u.dropped.hash, MP_HASH_LEN);
        msgpack_pack_uint8(&pk, ev->u.dropped.reason);
        break;
    case MP_EV_TX_MINED:
        msgpack_pack_uint64(&pk, ev->u.mined.chain_id);
        pack_bin(&pk, ev->u.mined.hash, MP_HASH_LEN);
        msgpack_pack_uint64(&pk, ev->u.mined.block_number);
        break;
    case MP_EV_BLOCK:
        pack_block(&pk, &ev->u.block);
        break;
    case MP_EV_PRICE: {
        size_t n = strlen(ev->u.price.symbol); /* < MP_SYMBOL_MAX: checked above */
        msgpack_pack_str(&pk, n);
        if (n) msgpack_pack_str_body(&pk, ev->u.price.symbol, n);
        msgpack_pack_double(&pk, ev->u.price.price);
        break;
    }
    case MP_EV_TICK:
        break;
    }
    if (sink.full) return -ENOSPC;
    *len = sink.len;
    return 0;
}

/* ---- decoding ----
 *
 * A bounds-checked walk over the bytes rather than msgpack_unpack: that builds an object
 * tree in a zone, sized by the array lengths the input declares (an array32 header
 * alone asks for gigabytes), and costs several times this walk. Every reader checks
 * the bytes it needs against `end` before touching them; after a failed read `p` is
 * unspecified and the caller rejects the whole payload.
 */

typedef struct reader {
    const uint8_t *p;
    const uint8_t *end;
} reader_t;

static inline size_t rd_left(const reader_t *r)
{
    return (size_t)(r->end - r->p);
}

/* Big-endian unsigned of width 1, 2, 4 or 8 bytes. */
static inline uint64_t load_be(const uint8_t *p, unsigned width)
{
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    switch (width) {
    case 1:
        return p[0];
    case 2:
        memcpy(&v16, p, 2);
        return be16toh(v16);
    case 4:
        memcpy(&v32, p, 4);
        return be32toh(v32);
    default:
        memcpy(&v64, p, 8);
        return be64toh(v64);
    }
}

/* A length or count field of `width` bytes after the marker byte; advances past both. */
static inline bool rd_marker_len(reader_t *r, unsigned width, uint64_t *n)
{
    if (rd_left(r) < 1 + (size_t)width) return false;
    *n = load_be(r->p + 1, width);
    r->p += 1 + width;
    return true;
}

/* A non-negative integer in any msgpack int encoding (negative values are rejected). */
static inline bool rd_uint(reader_t *r, uint64_t *out)
{
    if (r->p == r->end) return false;
    uint8_t m = *r->p;
    if (m <= 0x7f) {
        *out = m;
        r->p++;
        return true;
    }
    unsigned width;
    bool is_signed = m >= 0xd0;
    switch (m) {
    case 0xcc: case 0xd0: width = 1; break;
    case 0xcd: case 0xd1: width = 2; break;
    case 0xce: case 0xd2: width = 4; break;
    case 0xcf: case 0xd3: width = 8; break;
    default: return false;
    }
    if (rd_left(r) < 1 + (size_t)width) return false;
    uint64_t v = load_be(r->p + 1, width);
    if (is_signed && (v >> (8 * width - 1))) return false;
    *out = v;
    r->p += 1 + width;
    return true;
}

static bool rd_uint_max(reader_t *r, uint64_t max, uint64_t *out)
{
    return rd_uint(r, out) && *out <= max;
}

static bool rd_u32(reader_t *r, uint32_t *out)
{
    uint64_t v;
    if (!rd_uint_max(r, UINT32_MAX, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

static bool rd_u8(reader_t *r, uint8_t *out)
{
    uint64_t v;
    if (!rd_uint_max(r, UINT8_MAX, &v)) return false;
    *out = (uint8_t)v;
    return true;
}

/* A bin (is_str false) or str (is_str true) header and body; *body points into the
 * input. */
static inline bool rd_bytes(reader_t *r, bool is_str, const uint8_t **body, size_t *n)
{
    if (r->p == r->end) return false;
    uint8_t m = *r->p;
    uint64_t len;
    if (is_str && m >= 0xa0 && m <= 0xbf) {
        len = m & 0x1f;
        r->p++;
    } else {
        unsigned width;
        switch (m) {
        case 0xc4: case 0xd9: width = 1; break;
        case 0xc5: case 0xda: width = 2; break;
        case 0xc6: case 0xdb: width = 4; break;
        default: return false;
        }
        if (is_str != (m >= 0xd9) || !rd_marker_len(r, width, &len)) return false;
    }
    if (len > rd_left(r)) return false;
    *body = r->p;
    *n = (size_t)len;
    r->p += len;
    return true;
}

static bool rd_bin_exact(reader_t *r, uint8_t *out, size_t n)
{
    const uint8_t *body;
    size_t len;
    if (!rd_bytes(r, false, &body, &len) || len != n) return false;
    memcpy(out, body, n);
    return true;
}

/* An address, or nil for none. */
static bool rd_opt_addr(reader_t *r, uint8_t out[MP_ADDR_LEN], bool *present)
{
    if (r->p < r->end && *r->p == 0xc0) {
        r->p++;
        *present = false;
        return true;
    }
    *present = true;
    return rd_bin_exact(r, out, MP_ADDR_LEN);
}

/* Leading zero bytes are allowed; ev is zeroed, so a short value is right-aligned. */
static bool rd_u256(reader_t *r, mp_u256_t *v)
{
    const uint8_t *body;
    size_t n;
    if (!rd_bytes(r, false, &body, &n) || n > sizeof v->be) return false;
    if (n) memcpy(v->be + sizeof v->be - n, body, n);
    return true;
}

static bool rd_double(reader_t *r, double *out)
{
    if (r->p == r->end) return false;
    if (*r->p == 0xcb && rd_left(r) >= 9) {
        uint64_t bits = load_be(r->p + 1, 8);
        memcpy(out, &bits, sizeof *out);
        r->p += 9;
        return true;
    }
    if (*r->p == 0xca && rd_left(r) >= 5) {
        uint32_t bits = (uint32_t)load_be(r->p + 1, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        *out = f;
        r->p += 5;
        return true;
    }
    return false;
}

static bool rd_array(reader_t *r, uint64_t *n)
{
    if (r->p == r->end) return false;
    uint8_t m = *r->p;
    if (m >= 0x90 && m <= 0x9f) {
        *n = m & 0x0f;
        r->p++;
        return true;
    }
    if (m == 0xdc) return rd_marker_len(r, 2, n);
    if (m == 0xdd) return rd_marker_len(r, 4, n);
    return false;
}

/* Skips `pending` complete objects of any kind, nesting included, without recursion.
 * Every object takes at least one byte, so more pending objects than bytes left means
 * truncation. That check is also what makes reading the marker byte safe, and it keeps
 * pending below 2^33 * len, far from overflow. */
static bool rd_skip(reader_t *r, uint64_t pending)
{
    while (pending) {
        if (pending > rd_left(r)) return false;
        uint8_t m = *r->p;
        uint64_t n = 0, body = 0, children = 0;
        pending--;
        if (m <= 0x7f || m >= 0xe0 || m == 0xc0 || m == 0xc2 || m == 0xc3) {
            r->p++; /* fixint, nil, bool */
            continue;
        }
        if (m <= 0x8f) {
            children = 2 * (uint64_t)(m & 0x0f);
            r->p++;
        } else if (m <= 0x9f) {
            children = m & 0x0f;
            r->p++;
        } else if (m <= 0xbf) {
            body = m & 0x1f;
            r->p++;
        } else {
            switch (m) {
            case 0xc4: case 0xd9: if (!rd_marker_len(r, 1, &body)) return false; break;
            case 0xc5: case 0xda: if (!rd_marker_len(r, 2, &body)) return false; break;
            case 0xc6: case 0xdb: if (!rd_marker_len(r, 4, &body)) return false; break;
            case 0xc7: if (!rd_marker_len(r, 1, &n)) return false; body = n + 1; break;
            case 0xc8: if (!rd_marker_len(r, 2, &n)) return false; body = n + 1; break;
            case 0xc9: if (!rd_marker_len(r, 4, &n)) return false; body = n + 1; break;
            case 0xca: body = 4; r->p++; break;
            case 0xcb: body = 8; r->p++; break;
            case 0xcc: case 0xd0: body = 1; r->p++; break;
            case 0xcd: case 0xd1: body = 2; r->p++; break;
            case 0xce: case 0xd2: body = 4; r->p++; break;
            case 0xcf: case 0xd3: body = 8; r->p++; break;
            case 0xd4: body = 2; r->p++; break; /* fixext: type byte + 1..16 data bytes */
            case 0xd5: body = 3; r->p++; break;
            case 0xd6: body = 5; r->p++; break;
            case 0xd7: body = 9; r->p++; break;
            case 0xd8: body = 17; r->p++; break;
            case 0xdc: if (!rd_marker_len(r, 2, &children)) return false; break;
            case 0xdd: if (!rd_marker_len(r, 4, &children)) return false; break;
            case 0xde: if (!rd_marker_len(r, 2, &n)) return false; children = 2 * n; break;
            case 0xdf: if (!rd_marker_len(r, 4, &n)) return false; children = 2 * n; break;
            default: return false; /* 0xc1: never used */
            }
        }
        if (body > rd_left(r)) return false;
        r->p += body;
        pending += children;
    }
    return true;
}

static bool decode_tx_seen(reader_t *r, mp_tx_seen_t *tx)
{
    const uint8_t *prefix;
    size_t prefix_len;
    bool ok = rd_uint(r, &tx->chain_id) && rd_bin_exact(r, tx->hash, MP_HASH_LEN) &&
              rd_bin_exact(r, tx->from, MP_ADDR_LEN) && rd_opt_addr(r, tx->to, &tx->has_to) &&
              rd_uint(r, &tx->nonce) && rd_uint(r, &tx->gas_limit) &&
              rd_uint(r, &tx->gas_price) && rd_uint(r, &tx->max_fee) &&
              rd_uint(r, &tx->max_priority_fee) && rd_u256(r, &tx->value) &&
              rd_u8(r, &tx->tx_type) && rd_u32(r, &tx->input_len) &&
              rd_bytes(r, false, &prefix, &prefix_len) && rd_u8(r, &tx->source);
    if (!ok || prefix_len > MP_INPUT_PREFIX_MAX || prefix_len > tx->input_len) return false;
    tx->input_prefix = prefix;
    tx->input_prefix_len = (uint32_t)prefix_len;
    return true;
}

static bool decode_block(reader_t *r, mp_block_t *b)
{
    return rd_uint(r, &b->chain_id) && rd_uint(r, &b->number) &&
           rd_bin_exact(r, b->hash, MP_HASH_LEN) && rd_uint(r, &b->base_fee) &&
           rd_uint(r, &b->gas_used) && rd_uint(r, &b->gas_limit) && rd_uint(r, &b->timestamp) &&
           rd_u32(r, &b->tx_count);
}

static bool decode_price(reader_t *r, mp_price_t *pr)
{
    const uint8_t *sym;
    size_t n;
    if (!rd_bytes(r, true, &sym, &n) || n >= MP_SYMBOL_MAX || memchr(sym, '\0', n))
        return false;
    memcpy(pr->symbol, sym, n); /* the NUL comes from the zeroed event */
    return rd_double(r, &pr->price);
}

static bool decode_body(reader_t *r, mp_event_t *ev)
{
    switch (ev->type) {
    case MP_EV_TX_SEEN:
        return decode_tx_seen(r, &ev->u.tx);
    case MP_EV_TX_REPLACED:
        return rd_uint(r, &ev->u.replaced.chain_id) &&
               rd_bin_exact(r, ev->u.replaced.hash, MP_HASH_LEN) &&
               rd_bin_exact(r, ev->u.replaced.replaced_by, MP_HASH_LEN);
    case MP_EV_TX_DROPPED:
        return rd_uint(r, &ev->u.dropped.chain_id) &&
               rd_bin_exact(r, ev->u.dropped.hash, MP_HASH_LEN) &&
               rd_u8(r, &ev->u.dropped.reason);
    case MP_EV_TX_MINED:
        return rd_uint(r, &ev->u.mined.chain_id) &&
               rd_bin_exact(r, ev->u.mined.hash, MP_HASH_LEN) &&
               rd_uint(r, &ev->u.mined.block_number);
    case MP_EV_BLOCK:
        return decode_block(r, &ev->u.block);
    case MP_EV_PRICE:
        return decode_price(r, &ev->u.price);
    case MP_EV_TICK:
        return true;
    }
    return false;
}

int mp_event_decode(mp_event_t *ev, const uint8_t *buf, size_t len)
{
    if (!buf || len == 0) return -EBADMSG;
    reader_t r = {.p = buf, .end = buf + len};
    uint64_t count, version, type;
    if (!rd_array(&r, &count) || count < 3) return -EBADMSG;
    if (!rd_uint(&r, &version) || version == 0) return -EBADMSG;
    if (!rd_uint(&r, &type) || type < MP_EV_TYPE_MIN || type > MP_EV_TYPE_MAX) return -EBADMSG;
    if (count < wire_fields[type]) return -EBADMSG;

    memset(ev, 0, sizeof *ev);
    ev->type = (uint16_t)type;
    if (!rd_uint(&r, &ev->time_ns) || !decode_body(&r, ev)) return -EBADMSG;
    if (!rd_skip(&r, count - wire_fields[type]) || r.p != r.end) return -EBADMSG;
    return 0;
}

/* ---- names, JSON, u256 ---- */

const char *mp_event_type_name(uint16_t type)
{
    static const char *const names[MP_EV_TYPE_MAX + 1] = {
        [MP_EV_TX_SEEN] = "TX_SEEN", [MP_EV_TX_REPLACED] = "TX_REPLACED",
        [MP_EV_TX_DROPPED] = "TX_DROPPED", [MP_EV_TX_MINED] = "TX_MINED",
        [MP_EV_BLOCK] = "BLOCK", [MP_EV_PRICE] = "PRICE", [MP_EV_TICK] = "TICK",
    };
    if (type < MP_EV_TYPE_MIN || type > MP_EV_TYPE_MAX) return "UNKNOWN";
    return names[type];
}

static const char *source_name(uint8_t source)
{
    switch (source) {
    case MP_SOURCE_SYNTHETIC: return "synthetic";
    case MP_SOURCE_FILE: return "file";
    case MP_SOURCE_ETH: return "eth";
    }
    return "unknown";
}

static const char *drop_reason_name(uint8_t reason)
{
    switch (reason) {
    case MP_DROP_EVICTED: return "evicted";
    case MP_DROP_UNDERPRICED: return "underpriced";
    case MP_DROP_INVALID: return "invalid";
    }
    return "unknown";
}

static void kv_u64(mp_jw_t *jw, const char *key, uint64_t v)
{
    mp_jw_keyz(jw, key);
    mp_jw_u64(jw, v);
}

static void kv_str(mp_jw_t *jw, const char *key, const char *s)
{
    mp_jw_keyz(jw, key);
    mp_jw_strz(jw, s);
}

static void kv_hex(mp_jw_t *jw, const char *key, const uint8_t *bytes, size_t n)
{
    mp_jw_keyz(jw, key);
    mp_jw_hex(jw, bytes, n);
}

static void tx_seen_to_json(mp_jw_t *jw, const mp_tx_seen_t *tx)
{
    char value[80];
    size_t value_len = mp_u256_to_dec(&tx->value, value);
    kv_u64(jw, "chain_id", tx->chain_id);
    kv_hex(jw, "hash", tx->hash, MP_HASH_LEN);
    kv_hex(jw, "from", tx->from, MP_ADDR_LEN);
    if (tx->has_to) {
        kv_hex(jw, "to", tx->to, MP_ADDR_LEN);
    } else {
        mp_jw_keyz(jw, "to");
        mp_jw_null(jw);
    }
    kv_u64(jw, "nonce", tx->nonce);
    kv_u64(jw, "gas_limit", tx->gas_limit);
    kv_u64(jw, "gas_price", tx->gas_price);
    kv_u64(jw, "max_fee", tx->max_fee);
    kv_u64(jw, "max_priority_fee", tx->max_priority_fee);
    mp_jw_keyz(jw, "value");
    mp_jw_str(jw, value, value_len);
    kv_u64(jw, "tx_type", tx->tx_type);
    kv_u64(jw, "input_len", tx->input_len);
    kv_hex(jw, "input", tx->input_prefix, tx->input_prefix_len);
    kv_str(jw, "source", source_name(tx->source));
}

static void block_to_json(mp_jw_t *jw, const mp_block_t *b)
{
    kv_u64(jw, "chain_id", b->chain_id);
    kv_u64(jw, "number", b->number);
    kv_hex(jw, "hash", b->hash, MP_HASH_LEN);
    kv_u64(jw, "base_fee", b->base_fee);
    kv_u64(jw, "gas_used", b->gas_used);
    kv_u64(jw, "gas_limit", b->gas_limit);
    kv_u64(jw, "timestamp", b->timestamp);
    kv_u64(jw, "tx_count", b->tx_count);
}

int mp_event_to_json(const mp_event_t *ev, uint64_t seq, char *out, size_t cap)
{
    mp_jw_t jw;
    mp_jw_init(&jw, out, cap > INT_MAX ? (size_t)INT_MAX : cap); /* the length fits int */
    mp_jw_obj_begin(&jw);
    kv_u64(&jw, "seq", seq);
    kv_str(&jw, "type", mp_event_type_name(ev->type));
    kv_u64(&jw, "time_unix_ns", ev->time_ns);
    switch (ev->type) {
    case MP_EV_TX_SEEN:
        tx_seen_to_json(&jw, &ev->u.tx);
        break;
    case MP_EV_TX_REPLACED:
        kv_u64(&jw, "chain_id", ev->u.replaced.chain_id);
        kv_hex(&jw, "hash", ev->u.replaced.hash, MP_HASH_LEN);
        kv_hex(&jw, "replaced_by", ev->u.replaced.replaced_by, MP_HASH_LEN);
        break;
    case MP_EV_TX_DROPPED:
        kv_u64(&jw, "chain_id", ev->u.dropped.chain_id);
        kv_hex(&jw, "hash", ev->u.dropped.hash, MP_HASH_LEN);
        kv_str(&jw, "reason", drop_reason_name(ev->u.dropped.reason));
        break;
    case MP_EV_TX_MINED:
        kv_u64(&jw, "chain_id", ev->u.mined.chain_id);
        kv_hex(&jw, "hash", ev->u.mined.hash, MP_HASH_LEN);
        kv_u64(&jw, "block_number", ev->u.mined.block_number);
        break;
    case MP_EV_BLOCK:
        block_to_json(&jw, &ev->u.block);
        break;
    case MP_EV_PRICE:
        mp_jw_keyz(&jw, "symbol");
        mp_jw_str(&jw, ev->u.price.symbol, strnlen(ev->u.price.symbol, MP_SYMBOL_MAX));
        mp_jw_keyz(&jw, "price");
        mp_jw_dbl(&jw, ev->u.price.price);
        break;
    default: /* TICK and unknown types: the common fields only */
        break;
    }
    mp_jw_obj_end(&jw);
    return (int)mp_jw_finish(&jw);
}

size_t mp_u256_to_dec(const mp_u256_t *v, char *out)
{
    /* Long division by 10^19, the largest power of ten in a u64: each step yields the
     * next 19 low digits. limb[0] is the most significant. */
    const uint64_t chunk_div = 10000000000000000000ull;
    uint64_t limb[4];
    for (int i = 0; i < 4; i++) limb[i] = load_be(v->be + 8 * i, 8);

    char tmp[80];
    char *p = tmp + sizeof tmp;
    int top = 0; /* limbs above `top` are zero and stay zero as the quotient shrinks */
    while (top < 3 && limb[top] == 0) top++;
    bool more;
    do {
        unsigned __int128 rem = 0;
        more = false;
        for (int i = top; i < 4; i++) {
            unsigned __int128 cur = rem << 64 | limb[i];
            limb[i] = (uint64_t)(cur / chunk_div);
            rem = cur % chunk_div;
            more |= limb[i] != 0;
        }
        uint64_t chunk = (uint64_t)rem;
        /* Inner chunks keep their leading zeros; the top one stops at its last digit. */
        for (int d = 0; d < 19 && (more || chunk); d++) {
            *--p = (char)('0' + chunk % 10);
            chunk /= 10;
        }
    } while (more);
    if (p == tmp + sizeof tmp) *--p = '0';
    size_t n = (size_t)(tmp + sizeof tmp - p);
    memcpy(out, p, n);
    out[n] = '\0';
    return n;
}

void mp_u256_from_u64(mp_u256_t *v, uint64_t x)
{
    memset(v->be, 0, sizeof v->be - 8);
    uint64_t be = htobe64(x);
    memcpy(v->be + sizeof v->be - 8, &be, 8);
}
