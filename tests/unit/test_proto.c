/* Unit tests for proto/event.c: msgpack round trips, the decoder's rejections of
 * malformed payloads (checked in exact-size heap copies so ASan sees any overread), the
 * JSON form parsed back with jansson, and u256 decimal text. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "proto/event.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t input_bytes[MP_INPUT_PREFIX_MAX];

static void fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(seed + 7 * i);
}

static void init_input(void)
{
    fill_pattern(input_bytes, sizeof input_bytes, 0x31);
}

TestSuite(proto, .init = init_input);

/* An EIP-1559 transfer with 200 bytes of calldata: the typical TX_SEEN. */
static mp_event_t tx_1559(void)
{
    mp_event_t ev = {.type = MP_EV_TX_SEEN, .time_ns = 1700000000123456789ull};
    mp_tx_seen_t *tx = &ev.u.tx;
    tx->chain_id = 1;
    fill_pattern(tx->hash, MP_HASH_LEN, 0xa0);
    fill_pattern(tx->from, MP_ADDR_LEN, 0x10);
    fill_pattern(tx->to, MP_ADDR_LEN, 0x20);
    tx->has_to = true;
    tx->tx_type = 2;
    tx->source = MP_SOURCE_SYNTHETIC;
    tx->nonce = 42;
    tx->gas_limit = 210000;
    tx->gas_price = 30000000000ull;
    tx->max_fee = 30000000000ull;
    tx->max_priority_fee = 1500000000ull;
    mp_u256_from_u64(&tx->value, 1000000000000000000ull);
    tx->input_len = 200;
    tx->input_prefix_len = 200;
    tx->input_prefix = input_bytes;
    return ev;
}

static mp_event_t tx_legacy(void)
{
    mp_event_t ev = tx_1559();
    ev.u.tx.tx_type = 0;
    ev.u.tx.gas_price = 20000000000ull;
    ev.u.tx.max_fee = 0;
    ev.u.tx.max_priority_fee = 0;
    ev.u.tx.input_len = 0;
    ev.u.tx.input_prefix_len = 0;
    ev.u.tx.input_prefix = NULL;
    ev.u.tx.source = MP_SOURCE_FILE;
    return ev;
}

static mp_event_t tx_create(void)
{
    mp_event_t ev = tx_1559();
    memset(ev.u.tx.to, 0, MP_ADDR_LEN);
    ev.u.tx.has_to = false;
    memset(&ev.u.tx.value, 0, sizeof ev.u.tx.value);
    ev.u.tx.input_len = 24000;
    ev.u.tx.input_prefix_len = 1000;
    ev.u.tx.source = MP_SOURCE_ETH;
    return ev;
}

/* Every field at its widest: the largest encoding there is. */
static mp_event_t tx_max(void)
{
    mp_event_t ev = tx_1559();
    mp_tx_seen_t *tx = &ev.u.tx;
    ev.time_ns = UINT64_MAX;
    tx->chain_id = tx->nonce = tx->gas_limit = UINT64_MAX;
    tx->gas_price = tx->max_fee = tx->max_priority_fee = UINT64_MAX;
    memset(tx->value.be, 0xff, sizeof tx->value.be);
    tx->tx_type = UINT8_MAX;
    tx->source = UINT8_MAX;
    tx->input_len = UINT32_MAX;
    tx->input_prefix_len = MP_INPUT_PREFIX_MAX;
    return ev;
}

static mp_event_t sample(uint16_t type)
{
    mp_event_t ev = {.type = type, .time_ns = 1700000001000000000ull + type};
    switch (type) {
    case MP_EV_TX_SEEN:
        return tx_1559();
    case MP_EV_TX_REPLACED:
        ev.u.replaced.chain_id = 1;
        fill_pattern(ev.u.replaced.hash, MP_HASH_LEN, 0x01);
        fill_pattern(ev.u.replaced.replaced_by, MP_HASH_LEN, 0x02);
        break;
    case MP_EV_TX_DROPPED:
        ev.u.dropped.chain_id = 10;
        fill_pattern(ev.u.dropped.hash, MP_HASH_LEN, 0x03);
        ev.u.dropped.reason = MP_DROP_UNDERPRICED;
        break;
    case MP_EV_TX_MINED:
        ev.u.mined.chain_id = 137;
        fill_pattern(ev.u.mined.hash, MP_HASH_LEN, 0x04);
        ev.u.mined.block_number = 19000000;
        break;
    case MP_EV_BLOCK:
        ev.u.block.chain_id = 1;
        ev.u.block.number = 19000001;
        fill_pattern(ev.u.block.hash, MP_HASH_LEN, 0x05);
        ev.u.block.base_fee = 12345678901ull;
        ev.u.block.gas_used = 14999999;
        ev.u.block.gas_limit = 30000000;
        ev.u.block.timestamp = 1700000012;
        ev.u.block.tx_count = 187;
        break;
    case MP_EV_PRICE:
        strcpy(ev.u.price.symbol, "ETH/USD");
        ev.u.price.price = 3456.78;
        break;
    case MP_EV_TICK:
        break;
    }
    return ev;
}

static void assert_same_event(const mp_event_t *a, const mp_event_t *b)
{
    cr_assert_eq(a->type, b->type);
    cr_assert_eq(a->time_ns, b->time_ns);
    switch (a->type) {
    case MP_EV_TX_SEEN: {
        const mp_tx_seen_t *x = &a->u.tx, *y = &b->u.tx;
        cr_assert_eq(x->chain_id, y->chain_id);
        cr_assert_arr_eq(x->hash, y->hash, MP_HASH_LEN);
        cr_assert_arr_eq(x->from, y->from, MP_ADDR_LEN);
        cr_assert_eq(x->has_to, y->has_to);
        cr_assert_arr_eq(x->to, y->to, MP_ADDR_LEN);
        cr_assert_eq(x->tx_type, y->tx_type);
        cr_assert_eq(x->source, y->source);
        cr_assert_eq(x->nonce, y->nonce);
        cr_assert_eq(x->gas_limit, y->gas_limit);
        cr_assert_eq(x->gas_price, y->gas_price);
        cr_assert_eq(x->max_fee, y->max_fee);
        cr_assert_eq(x->max_priority_fee, y->max_priority_fee);
        cr_assert_arr_eq(x->value.be, y->value.be, sizeof x->value.be);
        cr_assert_eq(x->input_len, y->input_len);
        cr_assert_eq(x->input_prefix_len, y->input_prefix_len);
        if (x->input_prefix_len)
            cr_assert_arr_eq(x->input_prefix, y->input_prefix, x->input_prefix_len);
        break;
    }
    case MP_EV_TX_REPLACED:
        cr_assert_eq(a->u.replaced.chain_id, b->u.replaced.chain_id);
        cr_assert_arr_eq(a->u.replaced.hash, b->u.replaced.hash, MP_HASH_LEN);
        cr_assert_arr_eq(a->u.replaced.replaced_by, b->u.replaced.replaced_by, MP_HASH_LEN);
        break;
    case MP_EV_TX_DROPPED:
        cr_assert_eq(a->u.dropped.chain_id, b->u.dropped.chain_id);
        cr_assert_arr_eq(a->u.dropped.hash, b->u.dropped.hash, MP_HASH_LEN);
        cr_assert_eq(a->u.dropped.reason, b->u.dropped.reason);
        break;
    case MP_EV_TX_MINED:
        cr_assert_eq(a->u.mined.chain_id, b->u.mined.chain_id);
        cr_assert_arr_eq(a->u.mined.hash, b->u.mined.hash, MP_HASH_LEN);
        cr_assert_eq(a->u.mined.block_number, b->u.mined.block_number);
        break;
    case MP_EV_BLOCK:
        cr_assert_eq(a->u.block.chain_id, b->u.block.chain_id);
        cr_assert_eq(a->u.block.number, b->u.block.number);
        cr_assert_arr_eq(a->u.block.hash, b->u.block.hash, MP_HASH_LEN);
        cr_assert_eq(a->u.block.base_fee, b->u.block.base_fee);
        cr_assert_eq(a->u.block.gas_used, b->u.block.gas_used);
        cr_assert_eq(a->u.block.gas_limit, b->u.block.gas_limit);
        cr_assert_eq(a->u.block.timestamp, b->u.block.timestamp);
        cr_assert_eq(a->u.block.tx_count, b->u.block.tx_count);
        break;
    case MP_EV_PRICE:
        cr_assert_str_eq(a->u.price.symbol, b->u.price.symbol);
        cr_assert_eq(memcmp(&a->u.price.price, &b->u.price.price, sizeof(double)), 0);
        break;
    }
}

static size_t encode(const mp_event_t *ev, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    cr_assert_eq(mp_event_encode(ev, buf, cap, &len), 0, "encode type %u", ev->type);
    cr_assert_gt(len, 0);
    return len;
}

/* Decodes a heap copy of exactly len bytes, so reading past the end trips ASan. The
 * decoded input_prefix is copied into prefix_out (when given) before the copy is freed. */
static int decode_exact(mp_event_t *ev, const uint8_t *bytes, size_t len, uint8_t *prefix_out)
{
    uint8_t *copy = malloc(len ? len : 1);
    cr_assert_not_null(copy);
    if (len) memcpy(copy, bytes, len);
    int rc = mp_event_decode(ev, copy, len);
    if (rc == 0 && ev->type == MP_EV_TX_SEEN) {
        if (prefix_out && ev->u.tx.input_prefix_len)
            memcpy(prefix_out, ev->u.tx.input_prefix, ev->u.tx.input_prefix_len);
        ev->u.tx.input_prefix = prefix_out;
    }
    free(copy);
    return rc;
}

static void assert_round_trip(const mp_event_t *ev)
{
    static uint8_t buf[MP_EVENT_MAX_ENCODED], prefix[MP_INPUT_PREFIX_MAX];
    size_t len = encode(ev, buf, sizeof buf);
    mp_event_t back;
    memset(&back, 0x5a, sizeof back);
    cr_assert_eq(decode_exact(&back, buf, len, prefix), 0);
    assert_same_event(ev, &back);
}

/* ---- round trips ---- */

Test(proto, round_trips_tx_seen_eip1559)
{
    mp_event_t ev = tx_1559();
    assert_round_trip(&ev);
}

Test(proto, round_trips_tx_seen_legacy_without_input)
{
    mp_event_t ev = tx_legacy();
    assert_round_trip(&ev);
}

Test(proto, round_trips_contract_creation_with_nil_to)
{
    mp_event_t ev = tx_create();
    uint8_t buf[MP_EVENT_MAX_ENCODED];
    size_t len = encode(&ev, buf, sizeof buf);
    mp_event_t back;
    cr_assert_eq(mp_event_decode(&back, buf, len), 0);
    cr_assert_not(back.u.tx.has_to);
    assert_round_trip(&ev);
}

Test(proto, round_trips_max_size_input_prefix_and_widest_fields)
{
    mp_event_t ev = tx_max();
    uint8_t buf[MP_EVENT_MAX_ENCODED];
    size_t len = encode(&ev, buf, sizeof buf);
    cr_assert_leq(len, MP_EVENT_MAX_ENCODED);
    assert_round_trip(&ev);
}

Test(proto, round_trips_tx_replaced)
{
    mp_event_t ev = sample(MP_EV_TX_REPLACED);
    assert_round_trip(&ev);
}

Test(proto, round_trips_tx_dropped)
{
    mp_event_t ev = sample(MP_EV_TX_DROPPED);
    assert_round_trip(&ev);
}

Test(proto, round_trips_tx_mined)
{
    mp_event_t ev = sample(MP_EV_TX_MINED);
    assert_round_trip(&ev);
}

Test(proto, round_trips_block)
{
    mp_event_t ev = sample(MP_EV_BLOCK);
    assert_round_trip(&ev);
}

Test(proto, round_trips_price)
{
    mp_event_t ev = sample(MP_EV_PRICE);
    assert_round_trip(&ev);
}

Test(proto, round_trips_price_with_longest_symbol)
{
    mp_event_t ev = sample(MP_EV_PRICE);
    memset(ev.u.price.symbol, 'A', MP_SYMBOL_MAX - 1);
    ev.u.price.symbol[MP_SYMBOL_MAX - 1] = '\0';
    assert_round_trip(&ev);
}

Test(proto, round_trips_tick)
{
    mp_event_t ev = sample(MP_EV_TICK);
    assert_round_trip(&ev);
}

Test(proto, decoded_input_prefix_points_into_the_payload)
{
    mp_event_t ev = tx_1559(), back;
    uint8_t buf[MP_EVENT_MAX_ENCODED];
    size_t len = encode(&ev, buf, sizeof buf);
    cr_assert_eq(mp_event_decode(&back, buf, len), 0);
    cr_assert_geq(back.u.tx.input_prefix, buf);
    cr_assert_leq(back.u.tx.input_prefix + back.u.tx.input_prefix_len, buf + len);
}

/* ---- wire format ---- */

Test(proto, encodes_tx_mined_exactly_as_documented)
{
    mp_event_t ev = {.type = MP_EV_TX_MINED, .time_ns = 0x0102030405060708ull};
    ev.u.mined.chain_id = 1;
    fill_pattern(ev.u.mined.hash, MP_HASH_LEN, 0);
    ev.u.mined.block_number = 0x01234567;
    uint8_t want[3 + 9 + 1 + 2 + MP_HASH_LEN + 5] = {
        0x96, 0x01, 0x04, 0xcf, 1, 2, 3, 4, 5, 6, 7, 8, 0x01, 0xc4, 0x20,
    };
    memcpy(want + 15, ev.u.mined.hash, MP_HASH_LEN);
    memcpy(want + 15 + MP_HASH_LEN, "\xce\x01\x23\x45\x67", 5);
    uint8_t buf[128];
    size_t len = encode(&ev, buf, sizeof buf);
    cr_assert_eq(len, sizeof want);
    cr_assert_arr_eq(buf, want, sizeof want);
}

Test(proto, encodes_tick_as_three_element_array)
{
    mp_event_t ev = {.type = MP_EV_TICK, .time_ns = 5};
    uint8_t buf[16];
    size_t len = encode(&ev, buf, sizeof buf);
    cr_assert_eq(len, 4);
    cr_assert_arr_eq(buf, ((uint8_t[]){0x93, 0x01, 0x07, 0x05}), 4);
}

Test(proto, encodes_u256_value_without_leading_zeros)
{
    mp_event_t ev = tx_legacy();
    uint8_t buf[MP_EVENT_MAX_ENCODED];
    mp_u256_from_u64(&ev.u.tx.value, 0x0102);
    size_t with_value = encode(&ev, buf, sizeof buf);
    memset(&ev.u.tx.value, 0, sizeof ev.u.tx.value);
    size_t zero_value = encode(&ev, buf, sizeof buf);
    cr_assert_eq(with_value, zero_value + 2, "a 2-byte value costs 2 bytes over zero");
}

Test(proto, encoding_of_typical_tx_seen_is_compact)
{
    mp_event_t ev = tx_1559();
    uint8_t buf[MP_EVENT_MAX_ENCODED];
    size_t len = encode(&ev, buf, sizeof buf);
    /* 200 bytes of calldata, 72 of hashes and addresses, the rest framing and numbers. */
    cr_assert_leq(len, 200 + 72 + 70, "len %zu", len);
}

/* ---- encode errors ---- */

Test(proto, encode_reports_enospc_at_every_short_size)
{
    static uint8_t full[MP_EVENT_MAX_ENCODED], buf[MP_EVENT_MAX_ENCODED + 8];
    mp_event_t events[] = {tx_1559(), tx_legacy(), tx_create(), tx_max(),
                           sample(MP_EV_TX_REPLACED), sample(MP_EV_TX_DROPPED),
                           sample(MP_EV_TX_MINED), sample(MP_EV_BLOCK), sample(MP_EV_PRICE),
                           sample(MP_EV_TICK)};
    for (size_t e = 0; e < ARRAY_LEN(events); e++) {
        size_t len = encode(&events[e], full, sizeof full);
        for (size_t cap = 0; cap < len; cap++) {
            memset(buf, 0xee, sizeof buf);
            size_t out = 12345;
            cr_assert_eq(mp_event_encode(&events[e], buf, cap, &out), -ENOSPC, "event %zu cap %zu",
                         e, cap);
            cr_assert_eq(out, 12345, "length set on failure");
            for (size_t i = cap; i < cap + 8; i++)
                cr_assert_eq(buf[i], 0xee, "event %zu cap %zu: wrote past cap", e, cap);
        }
        size_t out = 0;
        cr_assert_eq(mp_event_encode(&events[e], buf, len, &out), 0);
        cr_assert_eq(out, len);
        cr_assert_arr_eq(buf, full, len);
    }
}

Test(proto, encode_rejects_unknown_types)
{
    uint8_t buf[64];
    size_t len;
    mp_event_t ev = {.type = 0};
    cr_assert_eq(mp_event_encode(&ev, buf, sizeof buf, &len), -EINVAL);
    ev.type = MP_EV_TYPE_MAX + 1;
    cr_assert_eq(mp_event_encode(&ev, buf, sizeof buf, &len), -EINVAL);
}

Test(proto, encode_rejects_prefix_over_limit_or_over_input_len)
{
    static uint8_t big[MP_INPUT_PREFIX_MAX + 1];
    uint8_t buf[MP_EVENT_MAX_ENCODED + 64];
    size_t len;
    mp_event_t ev = tx_1559();
    ev.u.tx.input_prefix = big;
    ev.u.tx.input_len = MP_INPUT_PREFIX_MAX + 100;
    ev.u.tx.input_prefix_len = MP_INPUT_PREFIX_MAX + 1;
    cr_assert_eq(mp_event_encode(&ev, buf, sizeof buf, &len), -EINVAL);
    ev.u.tx.input_len = 10;
    ev.u.tx.input_prefix_len = 11;
    cr_assert_eq(mp_event_encode(&ev, buf, sizeof buf, &len), -EINVAL);
}

Test(proto, encode_rejects_missing_prefix_bytes)
{
    uint8_t buf[MP_EVENT_MAX_ENCODED];
    size_t len;
    mp_event_t ev = tx_1559();
    ev.u.tx.input_prefix = NULL;
    cr_assert_eq(mp_event_encode(&ev, buf, sizeof buf, &len), -EINVAL);
}

Test(proto, encode_rejects_unterminated_symbol)
{
    uint8_t buf[64];
    size_t len;
    mp_event_t ev = sample(MP_EV_PRICE);
    memset(ev.u.price.symbol, 'X', MP_SYMBOL_MAX);
    cr_assert_eq(mp_event_encode(&ev, buf, sizeof buf, &len), -EINVAL);
}

/* ---- hand-edited payloads ---- */

/* An edit of an encoded sample: element `replace` swapped for a msgpack object or raw
 * bytes, only the first `keep` elements kept (0: all), objects appended, the version
 * replaced, or the array header written in its 16-bit form. */
typedef struct edit {
    int replace; /* element index, or -1 */
    msgpack_object with;
    const uint8_t *raw; /* replaces with these bytes instead of `with` when set */
    size_t raw_len;
    uint32_t keep;
    const msgpack_object *append;
    size_t n_append;
    bool header16;
} edit_t;

#define NO_EDIT ((edit_t){.replace = -1})

static msgpack_object obj_nil(void)
{
    return (msgpack_object){.type = MSGPACK_OBJECT_NIL};
}

static msgpack_object obj_bool(bool v)
{
    msgpack_object o = {.type = MSGPACK_OBJECT_BOOLEAN};
    o.via.boolean = v;
    return o;
}

static msgpack_object obj_uint(uint64_t v)
{
    msgpack_object o = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER};
    o.via.u64 = v;
    return o;
}

static msgpack_object obj_neg(int64_t v)
{
    msgpack_object o = {.type = MSGPACK_OBJECT_NEGATIVE_INTEGER};
    o.via.i64 = v;
    return o;
}

static msgpack_object obj_f64(double v)
{
    msgpack_object o = {.type = MSGPACK_OBJECT_FLOAT64};
    o.via.f64 = v;
    return o;
}

static msgpack_object obj_str(const char *s, uint32_t n)
{
    msgpack_object o = {.type = MSGPACK_OBJECT_STR};
    o.via.str.ptr = s;
    o.via.str.size = n;
    return o;
}

static msgpack_object obj_bin(const void *p, uint32_t n)
{
    msgpack_object o = {.type = MSGPACK_OBJECT_BIN};
    o.via.bin.ptr = p;
    o.via.bin.size = n;
    return o;
}

static msgpack_object obj_array(msgpack_object *items, uint32_t n)
{
    msgpack_object o = {.type = MSGPACK_OBJECT_ARRAY};
    o.via.array.ptr = items;
    o.via.array.size = n;
    return o;
}

static msgpack_object obj_map(msgpack_object_kv *kv, uint32_t n)
{
    msgpack_object o = {.type = MSGPACK_OBJECT_MAP};
    o.via.map.ptr = kv;
    o.via.map.size = n;
    return o;
}

/* Writes ev's payload with edit e applied into out; returns its length. */
static size_t edited(const mp_event_t *ev, const edit_t *e, uint8_t *out, size_t cap)
{
    static uint8_t orig[MP_EVENT_MAX_ENCODED];
    size_t len = encode(ev, orig, sizeof orig);

    msgpack_zone zone;
    msgpack_object root;
    size_t off = 0;
    cr_assert(msgpack_zone_init(&zone, 4096));
    cr_assert_eq(msgpack_unpack((const char *)orig, len, &off, &zone, &root),
                 MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq(root.type, MSGPACK_OBJECT_ARRAY);

    uint32_t keep = e->keep ? e->keep : root.via.array.size;
    uint32_t total = keep + (uint32_t)e->n_append;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (e->header16) {
        uint8_t hdr[3] = {0xdc, (uint8_t)(total >> 8), (uint8_t)total};
        msgpack_sbuffer_write(&sb, (const char *)hdr, sizeof hdr);
    } else {
        msgpack_pack_array(&pk, total);
    }
    for (uint32_t i = 0; i < keep; i++) {
        if ((int)i != e->replace)
            msgpack_pack_object(&pk, root.via.array.ptr[i]);
        else if (e->raw)
            msgpack_sbuffer_write(&sb, (const char *)e->raw, e->raw_len);
        else
            msgpack_pack_object(&pk, e->with);
    }
    for (size_t i = 0; i < e->n_append; i++) msgpack_pack_object(&pk, e->append[i]);

    cr_assert_leq(sb.size, cap);
    memcpy(out, sb.data, sb.size);
    size_t n = sb.size;
    msgpack_sbuffer_destroy(&sb);
    msgpack_zone_destroy(&zone);
    return n;
}

static int decode_edited(const mp_event_t *ev, edit_t e)
{
    static uint8_t buf[MP_EVENT_MAX_ENCODED + 1024];
    mp_event_t back;
    size_t len = edited(ev, &e, buf, sizeof buf);
    return decode_exact(&back, buf, len, NULL);
}

static int decode_with_element(const mp_event_t *ev, int index, msgpack_object with)
{
    edit_t e = NO_EDIT;
    e.replace = index;
    e.with = with;
    return decode_edited(ev, e);
}

static int decode_with_raw(const mp_event_t *ev, int index, const void *raw, size_t n)
{
    edit_t e = NO_EDIT;
    e.replace = index;
    e.raw = raw;
    e.raw_len = n;
    return decode_edited(ev, e);
}

Test(proto, unedited_repack_reproduces_the_payload)
{
    for (uint16_t t = MP_EV_TYPE_MIN; t <= MP_EV_TYPE_MAX; t++) {
        mp_event_t ev = sample(t);
        uint8_t a[MP_EVENT_MAX_ENCODED], b[MP_EVENT_MAX_ENCODED];
        size_t len = encode(&ev, a, sizeof a);
        edit_t e = NO_EDIT;
        cr_assert_eq(edited(&ev, &e, b, sizeof b), len, "type %u", t);
        cr_assert_arr_eq(a, b, len, "type %u", t);
    }
}

/* ---- decode errors ---- */

Test(proto, decode_rejects_every_truncation_of_every_type)
{
    static uint8_t buf[MP_EVENT_MAX_ENCODED];
    mp_event_t events[] = {tx_1559(), tx_legacy(), tx_create(), tx_max(),
                           sample(MP_EV_TX_REPLACED), sample(MP_EV_TX_DROPPED),
                           sample(MP_EV_TX_MINED), sample(MP_EV_BLOCK), sample(MP_EV_PRICE),
                           sample(MP_EV_TICK)};
    for (size_t e = 0; e < ARRAY_LEN(events); e++) {
        size_t len = encode(&events[e], buf, sizeof buf);
        for (size_t cut = 0; cut < len; cut++) {
            mp_event_t back;
            cr_assert_eq(decode_exact(&back, buf, cut, NULL), -EBADMSG, "event %zu cut %zu/%zu",
                         e, cut, len);
        }
    }
}

Test(proto, decode_rejects_null_and_empty_input)
{
    mp_event_t back;
    cr_assert_eq(mp_event_decode(&back, NULL, 0), -EBADMSG);
    cr_assert_eq(mp_event_decode(&back, (const uint8_t *)"", 0), -EBADMSG);
}

Test(proto, decode_rejects_trailing_bytes)
{
    static uint8_t buf[MP_EVENT_MAX_ENCODED + 4];
    for (uint16_t t = MP_EV_TYPE_MIN; t <= MP_EV_TYPE_MAX; t++) {
        mp_event_t ev = sample(t), back;
        size_t len = encode(&ev, buf, sizeof buf);
        buf[len] = 0x00; /* a complete msgpack object (fixint 0) after the array */
        cr_assert_eq(decode_exact(&back, buf, len + 1, NULL), -EBADMSG, "type %u", t);
        buf[len + 1] = 0xc0;
        cr_assert_eq(decode_exact(&back, buf, len + 2, NULL), -EBADMSG, "type %u", t);
    }
}

Test(proto, decode_rejects_schema_version_zero)
{
    for (uint16_t t = MP_EV_TYPE_MIN; t <= MP_EV_TYPE_MAX; t++) {
        mp_event_t ev = sample(t);
        cr_assert_eq(decode_with_element(&ev, 0, obj_uint(0)), -EBADMSG, "type %u", t);
    }
}

Test(proto, decode_accepts_later_schema_versions)
{
    mp_event_t ev = sample(MP_EV_BLOCK);
    cr_assert_eq(decode_with_element(&ev, 0, obj_uint(2)), 0);
    cr_assert_eq(decode_with_element(&ev, 0, obj_uint(1000)), 0);
}

Test(proto, decode_rejects_unknown_types)
{
    mp_event_t ev = sample(MP_EV_TICK);
    const uint64_t bad[] = {0, MP_EV_TYPE_MAX + 1, 255, 65536 + MP_EV_TICK,
                            (1ull << 32) + MP_EV_TICK, UINT64_MAX};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        cr_assert_eq(decode_with_element(&ev, 1, obj_uint(bad[i])), -EBADMSG, "type %lu",
                     (unsigned long)bad[i]);
}

Test(proto, decode_rejects_empty_array_and_non_array_payloads)
{
    mp_event_t back;
    const uint8_t empty[] = {0x90};
    const uint8_t map[] = {0x83, 0x01, 0x01, 0x02, 0x07, 0x03, 0x05};
    const uint8_t scalar[] = {0x01};
    cr_assert_eq(decode_exact(&back, empty, sizeof empty, NULL), -EBADMSG);
    cr_assert_eq(decode_exact(&back, map, sizeof map, NULL), -EBADMSG);
    cr_assert_eq(decode_exact(&back, scalar, sizeof scalar, NULL), -EBADMSG);
}

Test(proto, decode_accepts_arrays_longer_than_known)
{
    static uint8_t buf[MP_EVENT_MAX_ENCODED + 1024], prefix[MP_INPUT_PREFIX_MAX];
    msgpack_object inner[2] = {obj_uint(2), obj_nil()};
    msgpack_object_kv kv[2] = {{obj_str("k", 1), obj_array(inner, 2)},
                               {obj_uint(9), obj_f64(1.5)}};
    msgpack_object nested[2] = {obj_uint(1), obj_map(kv, 2)};
    msgpack_object ext = {.type = MSGPACK_OBJECT_EXT};
    ext.via.ext.type = 5;
    ext.via.ext.ptr = "abcdefgh";
    ext.via.ext.size = 8;
    msgpack_object extra[] = {obj_uint(7),       obj_str("future field", 12),
                              obj_array(nested, 2), obj_bin("\x01\x02", 2),
                              obj_neg(-100000),   obj_bool(true),
                              obj_f64(-0.5),      ext,
                              obj_nil()};
    for (uint16_t t = MP_EV_TYPE_MIN; t <= MP_EV_TYPE_MAX; t++) {
        mp_event_t ev = sample(t), back;
        edit_t e = NO_EDIT;
        e.append = extra;
        e.n_append = ARRAY_LEN(extra);
        size_t len = edited(&ev, &e, buf, sizeof buf);
        cr_assert_eq(decode_exact(&back, buf, len, prefix), 0, "type %u", t);
        assert_same_event(&ev, &back);
    }
}

Test(proto, decode_rejects_truncated_extra_elements)
{
    static uint8_t buf[MP_EVENT_MAX_ENCODED + 64];
    msgpack_object extra[] = {obj_str("future", 6)};
    mp_event_t ev = sample(MP_EV_TX_MINED), back;
    edit_t e = NO_EDIT;
    e.append = extra;
    e.n_append = 1;
    size_t len = edited(&ev, &e, buf, sizeof buf);
    for (size_t cut = 0; cut < len; cut++)
        cr_assert_eq(decode_exact(&back, buf, cut, NULL), -EBADMSG, "cut %zu", cut);
    cr_assert_eq(decode_exact(&back, buf, len, NULL), 0);
}

Test(proto, decode_rejects_array_claiming_more_elements_than_bytes)
{
    mp_event_t back;
    /* array32 of 2^32-1 elements: [1, TICK, 0] and nothing more. */
    const uint8_t buf[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x07, 0x00};
    cr_assert_eq(decode_exact(&back, buf, sizeof buf, NULL), -EBADMSG);
    /* An extra element that is itself a huge map. */
    const uint8_t map[] = {0x94, 0x01, 0x07, 0x00, 0xdf, 0xff, 0xff, 0xff, 0xff, 0x00};
    cr_assert_eq(decode_exact(&back, map, sizeof map, NULL), -EBADMSG);
}

/* The kind of each wire element per type, and which probe kinds a field legitimately
 * takes; any other probe must be rejected. */
enum field_kind { K_UINT, K_BIN_FIXED, K_OPT_ADDR, K_U256, K_PREFIX, K_STR, K_FLOAT };

static const enum field_kind kinds_tx_seen[] = {
    K_UINT, K_UINT,    K_UINT, K_UINT, K_BIN_FIXED, K_BIN_FIXED, K_OPT_ADDR, K_UINT, K_UINT,
    K_UINT, K_UINT,    K_UINT, K_U256, K_UINT,      K_UINT,      K_PREFIX,   K_UINT};
static const enum field_kind kinds_replaced[] = {K_UINT, K_UINT,      K_UINT,
                                                  K_UINT, K_BIN_FIXED, K_BIN_FIXED};
static const enum field_kind kinds_dropped[] = {K_UINT, K_UINT, K_UINT, K_UINT, K_BIN_FIXED,
                                                 K_UINT};
static const enum field_kind kinds_mined[] = {K_UINT, K_UINT, K_UINT, K_UINT, K_BIN_FIXED,
                                               K_UINT};
static const enum field_kind kinds_block[] = {K_UINT, K_UINT, K_UINT, K_UINT,
                                               K_UINT, K_BIN_FIXED, K_UINT, K_UINT,
                                               K_UINT, K_UINT, K_UINT};
static const enum field_kind kinds_price[] = {K_UINT, K_UINT, K_UINT, K_STR, K_FLOAT};
static const enum field_kind kinds_tick[] = {K_UINT, K_UINT, K_UINT};

static const enum field_kind *kinds_of(uint16_t type, size_t *n)
{
    switch (type) {
    case MP_EV_TX_SEEN: *n = ARRAY_LEN(kinds_tx_seen); return kinds_tx_seen;
    case MP_EV_TX_REPLACED: *n = ARRAY_LEN(kinds_replaced); return kinds_replaced;
    case MP_EV_TX_DROPPED: *n = ARRAY_LEN(kinds_dropped); return kinds_dropped;
    case MP_EV_TX_MINED: *n = ARRAY_LEN(kinds_mined); return kinds_mined;
    case MP_EV_BLOCK: *n = ARRAY_LEN(kinds_block); return kinds_block;
    case MP_EV_PRICE: *n = ARRAY_LEN(kinds_price); return kinds_price;
    default: *n = ARRAY_LEN(kinds_tick); return kinds_tick;
    }
}

enum probe { P_NIL, P_TRUE, P_NEG, P_FLOAT, P_STR, P_BIN1, P_ARRAY, P_MAP, P_COUNT };

static bool probe_fits(enum field_kind k, enum probe p)
{
    switch (k) {
    case K_OPT_ADDR: return p == P_NIL;
    case K_U256:
    case K_PREFIX: return p == P_BIN1;
    case K_STR: return p == P_STR;
    case K_FLOAT: return p == P_FLOAT;
    default: return false;
    }
}

static msgpack_object probe_object(enum probe p)
{
    switch (p) {
    case P_NIL: return obj_nil();
    case P_TRUE: return obj_bool(true);
    case P_NEG: return obj_neg(-1);
    case P_FLOAT: return obj_f64(1.0);
    case P_STR: return obj_str("x", 1);
    case P_BIN1: return obj_bin("\x01", 1);
    case P_ARRAY: return obj_array(NULL, 0);
    default: return obj_map(NULL, 0);
    }
}

Test(proto, decode_rejects_every_wrong_kind_in_every_field)
{
    for (uint16_t t = MP_EV_TYPE_MIN; t <= MP_EV_TYPE_MAX; t++) {
        mp_event_t ev = sample(t);
        size_t n;
        const enum field_kind *kinds = kinds_of(t, &n);
        for (size_t i = 0; i < n; i++) {
            for (int p = 0; p < P_COUNT; p++) {
                int want = probe_fits(kinds[i], (enum probe)p) ? 0 : -EBADMSG;
                cr_assert_eq(decode_with_element(&ev, (int)i, probe_object((enum probe)p)), want,
                             "type %u element %zu probe %d", t, i, p);
            }
        }
    }
}

Test(proto, decode_rejects_arrays_too_short_for_their_type)
{
    static uint8_t out[MP_EVENT_MAX_ENCODED];
    for (uint16_t t = MP_EV_TYPE_MIN; t <= MP_EV_TYPE_MAX; t++) {
        mp_event_t ev = sample(t), back;
        size_t count;
        kinds_of(t, &count);
        for (uint32_t keep = 1; keep < count; keep++) {
            edit_t e = NO_EDIT;
            e.keep = keep;
            size_t len = edited(&ev, &e, out, sizeof out);
            cr_assert_eq(decode_exact(&back, out, len, NULL), -EBADMSG, "type %u keep %u", t,
                         keep);
        }
    }
}

Test(proto, decode_rejects_wrong_bin_sizes)
{
    static const uint8_t zeros[64];
    mp_event_t tx = tx_1559();
    const struct {
        int index;
        uint32_t size;
    } tx_cases[] = {{4, 31}, {4, 33}, {4, 0}, {5, 19}, {5, 21}, {6, 19}, {6, 21}, {6, 32},
                    {12, 33}};
    for (size_t i = 0; i < ARRAY_LEN(tx_cases); i++)
        cr_assert_eq(decode_with_element(&tx, tx_cases[i].index, obj_bin(zeros, tx_cases[i].size)),
                     -EBADMSG, "element %d size %u", tx_cases[i].index, tx_cases[i].size);

    mp_event_t rep = sample(MP_EV_TX_REPLACED), blk = sample(MP_EV_BLOCK);
    cr_assert_eq(decode_with_element(&rep, 5, obj_bin(zeros, 20)), -EBADMSG);
    cr_assert_eq(decode_with_element(&blk, 5, obj_bin(zeros, 64)), -EBADMSG);
}

Test(proto, decode_accepts_u256_with_leading_zero_bytes)
{
    static const uint8_t be[32] = {[30] = 0x01, [31] = 0x02};
    mp_event_t tx = tx_1559();
    cr_assert_eq(decode_with_element(&tx, 12, obj_bin(be, 32)), 0);
    cr_assert_eq(decode_with_element(&tx, 12, obj_bin(NULL, 0)), 0);
}

Test(proto, decode_rejects_hash_sent_as_str)
{
    static const char text[32];
    mp_event_t ev = sample(MP_EV_TX_MINED);
    cr_assert_eq(decode_with_element(&ev, 4, obj_str(text, 32)), -EBADMSG);
}

Test(proto, decode_rejects_prefix_longer_than_input_len_or_limit)
{
    static uint8_t big[MP_INPUT_PREFIX_MAX + 1];
    mp_event_t ev = tx_1559(); /* input_len 200 */
    cr_assert_eq(decode_with_element(&ev, 15, obj_bin(big, 201)), -EBADMSG);
    cr_assert_eq(decode_with_element(&ev, 15, obj_bin(big, 200)), 0);
    ev.u.tx.input_len = MP_INPUT_PREFIX_MAX + 50;
    cr_assert_eq(decode_with_element(&ev, 15, obj_bin(big, MP_INPUT_PREFIX_MAX + 1)), -EBADMSG);
    cr_assert_eq(decode_with_element(&ev, 15, obj_bin(big, MP_INPUT_PREFIX_MAX)), 0);
}

Test(proto, decode_rejects_values_too_wide_for_their_field)
{
    mp_event_t tx = tx_1559();
    cr_assert_eq(decode_with_element(&tx, 13, obj_uint(256)), -EBADMSG, "tx_type");
    cr_assert_eq(decode_with_element(&tx, 16, obj_uint(256)), -EBADMSG, "source");
    cr_assert_eq(decode_with_element(&tx, 14, obj_uint(1ull << 32)), -EBADMSG, "input_len");
    cr_assert_eq(decode_with_element(&tx, 13, obj_uint(255)), 0, "tx_type 255 fits");
    mp_event_t drop = sample(MP_EV_TX_DROPPED), blk = sample(MP_EV_BLOCK);
    cr_assert_eq(decode_with_element(&drop, 5, obj_uint(256)), -EBADMSG, "reason");
    cr_assert_eq(decode_with_element(&blk, 10, obj_uint(1ull << 32)), -EBADMSG, "tx_count");
    cr_assert_eq(decode_with_element(&blk, 10, obj_uint(UINT32_MAX)), 0, "tx_count max");
}

Test(proto, decode_rejects_symbol_too_long_or_with_nul)
{
    mp_event_t ev = sample(MP_EV_PRICE);
    cr_assert_eq(decode_with_element(&ev, 3, obj_str("ABCDEFGHIJKLMNOP", 16)), -EBADMSG);
    cr_assert_eq(decode_with_element(&ev, 3, obj_str("ETH\0USD", 7)), -EBADMSG);
    cr_assert_eq(decode_with_element(&ev, 3, obj_str("ABCDEFGHIJKLMNO", 15)), 0);
    cr_assert_eq(decode_with_element(&ev, 3, obj_str("", 0)), 0);
}

Test(proto, decode_rejects_negative_integers_in_every_encoding)
{
    mp_event_t ev = sample(MP_EV_TX_MINED);
    const uint8_t negs[][9] = {{0xff}, {0xd0, 0x80}, {0xd1, 0x80, 0x00},
                               {0xd2, 0xff, 0xff, 0xff, 0xff},
                               {0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}};
    const size_t lens[] = {1, 2, 3, 5, 9};
    for (size_t i = 0; i < ARRAY_LEN(lens); i++)
        cr_assert_eq(decode_with_raw(&ev, 5, negs[i], lens[i]), -EBADMSG, "case %zu", i);
}

Test(proto, decode_accepts_non_minimal_encodings)
{
    static uint8_t hash16[3 + MP_HASH_LEN] = {0xc5, 0x00, MP_HASH_LEN};
    mp_event_t ev = sample(MP_EV_TX_MINED), back;
    /* Block number as int64 and uint64 with a small value, hash as bin16, header as
     * array16: all valid msgpack for the same values. */
    cr_assert_eq(decode_with_raw(&ev, 5, "\xd3\0\0\0\0\x01\x21\xea\xc0", 9), 0);
    cr_assert_eq(decode_with_raw(&ev, 5, "\xcf\0\0\0\0\x01\x21\xea\xc0", 9), 0);
    cr_assert_eq(decode_with_raw(&ev, 5, "\xd0\x05", 2), 0);
    memcpy(hash16 + 3, ev.u.mined.hash, MP_HASH_LEN);
    cr_assert_eq(decode_with_raw(&ev, 4, hash16, sizeof hash16), 0);

    static uint8_t buf[256];
    edit_t e = NO_EDIT;
    e.header16 = true;
    size_t len = edited(&ev, &e, buf, sizeof buf);
    cr_assert_eq(buf[0], 0xdc);
    cr_assert_eq(decode_exact(&back, buf, len, NULL), 0);
    assert_same_event(&ev, &back);
}

Test(proto, decode_accepts_float32_price)
{
    mp_event_t ev = sample(MP_EV_PRICE), back;
    static uint8_t buf[64];
    edit_t e = NO_EDIT;
    e.replace = 4;
    e.raw = (const uint8_t *)"\xca\x40\x20\x00\x00"; /* 2.5f */
    e.raw_len = 5;
    size_t len = edited(&ev, &e, buf, sizeof buf);
    cr_assert_eq(decode_exact(&back, buf, len, NULL), 0);
    cr_assert_eq(back.u.price.price, 2.5);
}

Test(proto, decode_rejects_reserved_marker_byte)
{
    mp_event_t ev = sample(MP_EV_TX_MINED);
    static uint8_t buf[256];
    msgpack_object extra[] = {obj_nil()};
    edit_t e = NO_EDIT;
    e.append = extra;
    e.n_append = 1;
    size_t len = edited(&ev, &e, buf, sizeof buf);
    mp_event_t back;
    cr_assert_eq(decode_exact(&back, buf, len, NULL), 0);
    buf[len - 1] = 0xc1; /* never used in msgpack */
    cr_assert_eq(decode_exact(&back, buf, len, NULL), -EBADMSG);
}

/* ---- fuzz ---- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Checks a payload the decoder accepted: msgpack-c agrees it is exactly one object, and
 * the event encodes again. */
static void check_accepted(const uint8_t *bytes, size_t len)
{
    static uint8_t prefix[MP_INPUT_PREFIX_MAX], again[MP_EVENT_MAX_ENCODED];
    mp_event_t ev;
    cr_assert_eq(decode_exact(&ev, bytes, len, prefix), 0);
    msgpack_zone zone;
    msgpack_object root;
    size_t off = 0;
    cr_assert(msgpack_zone_init(&zone, 4096));
    cr_assert_eq(msgpack_unpack((const char *)bytes, len, &off, &zone, &root),
                 MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq(off, len);
    msgpack_zone_destroy(&zone);
    size_t n;
    cr_assert_eq(mp_event_encode(&ev, again, sizeof again, &n), 0);
}

Test(proto, random_bytes_never_crash_the_decoder)
{
    uint64_t s = 0x243f6a8885a308d3ull;
    uint8_t buf[96];
    for (int iter = 0; iter < 100000; iter++) {
        size_t len = rng_next(&s) % sizeof buf;
        for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)rng_next(&s);
        /* Most inputs start like an event, so the walk gets past the header. */
        if (len >= 3 && iter % 4) {
            buf[0] = (uint8_t)(0x93 + iter % 13);
            buf[1] = 0x01;
            buf[2] = (uint8_t)(1 + iter % 7);
        }
        mp_event_t ev;
        int rc = decode_exact(&ev, buf, len, NULL);
        cr_assert(rc == 0 || rc == -EBADMSG, "iter %d rc %d", iter, rc);
        if (rc == 0) check_accepted(buf, len);
    }
}

Test(proto, mutated_payloads_never_crash_and_agree_with_msgpack_c)
{
    static uint8_t orig[MP_EVENT_MAX_ENCODED], buf[MP_EVENT_MAX_ENCODED + 16];
    uint64_t s = 0x13198a2e03707344ull;
    mp_event_t events[] = {tx_1559(), tx_legacy(), tx_create(), sample(MP_EV_TX_REPLACED),
                           sample(MP_EV_TX_DROPPED), sample(MP_EV_TX_MINED),
                           sample(MP_EV_BLOCK), sample(MP_EV_PRICE), sample(MP_EV_TICK)};
    size_t accepted = 0, rejected = 0;
    for (int iter = 0; iter < 100000; iter++) {
        const mp_event_t *ev = &events[iter % ARRAY_LEN(events)];
        size_t len = encode(ev, orig, sizeof orig);
        memcpy(buf, orig, len);
        int edits = 1 + (int)(rng_next(&s) % 3);
        for (int k = 0; k < edits; k++) {
            uint64_t r = rng_next(&s);
            size_t at = (size_t)(r >> 8) % len;
            switch (r % 4) {
            case 0: buf[at] = (uint8_t)(r >> 40); break;           /* replace a byte */
            case 1: buf[at] ^= (uint8_t)(1u << ((r >> 40) % 8)); break; /* flip a bit */
            case 2: len = at; break;                                /* truncate */
            default:                                                /* append a byte */
                if (len < sizeof buf) buf[len++] = (uint8_t)(r >> 40);
            }
            if (len == 0) break;
        }
        mp_event_t back;
        int rc = decode_exact(&back, buf, len, NULL);
        cr_assert(rc == 0 || rc == -EBADMSG, "iter %d rc %d", iter, rc);
        if (rc == 0) {
            accepted++;
            check_accepted(buf, len);
        } else {
            rejected++;
        }
    }
    /* Both outcomes must occur, or the mutations did not exercise the decoder. */
    cr_assert_gt(accepted, 1000);
    cr_assert_gt(rejected, 1000);
}

/* ---- JSON ---- */

static json_t *to_json(const mp_event_t *ev, uint64_t seq)
{
    static char out[16384];
    int n = mp_event_to_json(ev, seq, out, sizeof out);
    cr_assert_gt(n, 0);
    cr_assert_eq(strlen(out), (size_t)n);
    json_error_t jerr;
    json_t *root = json_loadb(out, (size_t)n, 0, &jerr);
    cr_assert_not_null(root, "jansson: %s in %s", jerr.text, out);
    cr_assert(json_is_object(root));
    cr_assert_eq(json_integer_value(json_object_get(root, "seq")), (json_int_t)seq);
    cr_assert_str_eq(json_string_value(json_object_get(root, "type")),
                     mp_event_type_name(ev->type));
    cr_assert_eq(json_integer_value(json_object_get(root, "time_unix_ns")),
                 (json_int_t)ev->time_ns);
    return root;
}

static void assert_json_int(json_t *root, const char *key, uint64_t want)
{
    json_t *v = json_object_get(root, key);
    cr_assert(json_is_integer(v), "%s is not an integer", key);
    cr_assert_eq((uint64_t)json_integer_value(v), want, "%s", key);
}

static void assert_json_hex(json_t *root, const char *key, const uint8_t *bytes, size_t n)
{
    static char want[2 * MP_INPUT_PREFIX_MAX + 3];
    mp_hex_encode(want, bytes, n);
    json_t *v = json_object_get(root, key);
    cr_assert(json_is_string(v), "%s is not a string", key);
    cr_assert_str_eq(json_string_value(v), want, "%s", key);
}

static void assert_json_str(json_t *root, const char *key, const char *want)
{
    json_t *v = json_object_get(root, key);
    cr_assert(json_is_string(v), "%s is not a string", key);
    cr_assert_str_eq(json_string_value(v), want, "%s", key);
}

Test(proto, json_of_tx_seen_has_every_field)
{
    mp_event_t ev = tx_1559();
    json_t *root = to_json(&ev, 12);
    const mp_tx_seen_t *tx = &ev.u.tx;
    assert_json_int(root, "chain_id", 1);
    assert_json_hex(root, "hash", tx->hash, MP_HASH_LEN);
    assert_json_hex(root, "from", tx->from, MP_ADDR_LEN);
    assert_json_hex(root, "to", tx->to, MP_ADDR_LEN);
    assert_json_int(root, "nonce", tx->nonce);
    assert_json_int(root, "gas_limit", tx->gas_limit);
    assert_json_int(root, "gas_price", tx->gas_price);
    assert_json_int(root, "max_fee", tx->max_fee);
    assert_json_int(root, "max_priority_fee", tx->max_priority_fee);
    assert_json_str(root, "value", "1000000000000000000");
    assert_json_int(root, "tx_type", 2);
    assert_json_int(root, "input_len", 200);
    assert_json_hex(root, "input", tx->input_prefix, tx->input_prefix_len);
    assert_json_str(root, "source", "synthetic");
    cr_assert_eq(json_object_size(root), 17);
    json_decref(root);
}

Test(proto, json_starts_with_seq_type_and_time)
{
    mp_event_t ev = sample(MP_EV_TICK);
    char out[256];
    int n = mp_event_to_json(&ev, 12, out, sizeof out);
    cr_assert_gt(n, 0);
    cr_assert_str_eq(out, "{\"seq\":12,\"type\":\"TICK\",\"time_unix_ns\":1700000001000000007}");
}

Test(proto, json_of_contract_creation_has_null_to)
{
    mp_event_t ev = tx_create();
    json_t *root = to_json(&ev, 1);
    cr_assert(json_is_null(json_object_get(root, "to")));
    assert_json_str(root, "value", "0");
    assert_json_str(root, "source", "eth");
    json_decref(root);
}

Test(proto, json_of_legacy_tx_has_empty_input)
{
    mp_event_t ev = tx_legacy();
    json_t *root = to_json(&ev, 2);
    assert_json_str(root, "input", "0x");
    assert_json_int(root, "input_len", 0);
    assert_json_int(root, "tx_type", 0);
    assert_json_str(root, "source", "file");
    json_decref(root);
}

Test(proto, json_of_max_size_tx_fits_and_keeps_u64_extremes)
{
    static char out[16384];
    mp_event_t ev = tx_max();
    int n = mp_event_to_json(&ev, UINT64_MAX, out, sizeof out);
    cr_assert_gt(n, 0);
    /* jansson stops at INT64_MAX, so the widest numbers are checked as text. */
    cr_assert_not_null(strstr(out, "\"gas_price\":18446744073709551615,"));
    cr_assert_not_null(strstr(out, "\"seq\":18446744073709551615,"));
    cr_assert_not_null(strstr(out, "\"value\":\"11579208923731619542357098500868790785326998466"
                                   "5640564039457584007913129639935\""));
    cr_assert_not_null(strstr(out, "\"source\":\"unknown\""));
}

Test(proto, json_of_tx_replaced)
{
    mp_event_t ev = sample(MP_EV_TX_REPLACED);
    json_t *root = to_json(&ev, 3);
    assert_json_int(root, "chain_id", 1);
    assert_json_hex(root, "hash", ev.u.replaced.hash, MP_HASH_LEN);
    assert_json_hex(root, "replaced_by", ev.u.replaced.replaced_by, MP_HASH_LEN);
    cr_assert_eq(json_object_size(root), 6);
    json_decref(root);
}

Test(proto, json_of_tx_dropped_names_the_reason)
{
    mp_event_t ev = sample(MP_EV_TX_DROPPED);
    json_t *root = to_json(&ev, 4);
    assert_json_int(root, "chain_id", 10);
    assert_json_hex(root, "hash", ev.u.dropped.hash, MP_HASH_LEN);
    assert_json_str(root, "reason", "underpriced");
    cr_assert_eq(json_object_size(root), 6);
    json_decref(root);

    const char *names[] = {"unknown", "evicted", "underpriced", "invalid", "unknown"};
    for (uint8_t r = 0; r < ARRAY_LEN(names); r++) {
        ev.u.dropped.reason = r;
        root = to_json(&ev, 4);
        assert_json_str(root, "reason", names[r]);
        json_decref(root);
    }
}

Test(proto, json_of_tx_mined)
{
    mp_event_t ev = sample(MP_EV_TX_MINED);
    json_t *root = to_json(&ev, 5);
    assert_json_int(root, "chain_id", 137);
    assert_json_hex(root, "hash", ev.u.mined.hash, MP_HASH_LEN);
    assert_json_int(root, "block_number", 19000000);
    cr_assert_eq(json_object_size(root), 6);
    json_decref(root);
}

Test(proto, json_of_block)
{
    mp_event_t ev = sample(MP_EV_BLOCK);
    json_t *root = to_json(&ev, 6);
    assert_json_int(root, "chain_id", 1);
    assert_json_int(root, "number", 19000001);
    assert_json_hex(root, "hash", ev.u.block.hash, MP_HASH_LEN);
    assert_json_int(root, "base_fee", 12345678901ull);
    assert_json_int(root, "gas_used", 14999999);
    assert_json_int(root, "gas_limit", 30000000);
    assert_json_int(root, "timestamp", 1700000012);
    assert_json_int(root, "tx_count", 187);
    cr_assert_eq(json_object_size(root), 11);
    json_decref(root);
}

Test(proto, json_of_price)
{
    mp_event_t ev = sample(MP_EV_PRICE);
    json_t *root = to_json(&ev, 7);
    assert_json_str(root, "symbol", "ETH/USD");
    json_t *price = json_object_get(root, "price");
    cr_assert(json_is_real(price));
    cr_assert_eq(json_real_value(price), 3456.78);
    cr_assert_eq(json_object_size(root), 5);
    json_decref(root);
}

Test(proto, json_of_price_escapes_odd_symbols_and_nulls_nan)
{
    mp_event_t ev = sample(MP_EV_PRICE);
    strcpy(ev.u.price.symbol, "A\"B\xff");
    ev.u.price.price = __builtin_nan("");
    json_t *root = to_json(&ev, 7);
    assert_json_str(root, "symbol", "A\"B\xef\xbf\xbd");
    cr_assert(json_is_null(json_object_get(root, "price")));
    json_decref(root);
}

Test(proto, json_of_tick_has_only_common_fields)
{
    mp_event_t ev = sample(MP_EV_TICK);
    json_t *root = to_json(&ev, 8);
    cr_assert_eq(json_object_size(root), 3);
    json_decref(root);
}

Test(proto, json_reports_enospc_at_every_short_size)
{
    static char full[16384], buf[16384 + 8];
    mp_event_t events[] = {tx_1559(), sample(MP_EV_BLOCK), sample(MP_EV_PRICE)};
    for (size_t e = 0; e < ARRAY_LEN(events); e++) {
        int len = mp_event_to_json(&events[e], 99, full, sizeof full);
        cr_assert_gt(len, 0);
        for (size_t cap = 0; cap <= (size_t)len; cap++) {
            memset(buf, 'Z', cap + 8);
            cr_assert_eq(mp_event_to_json(&events[e], 99, buf, cap), -ENOSPC, "event %zu cap %zu",
                         e, cap);
            for (size_t i = cap; i < cap + 8; i++)
                cr_assert_eq(buf[i], 'Z', "event %zu cap %zu: wrote past cap", e, cap);
        }
        cr_assert_eq(mp_event_to_json(&events[e], 99, buf, (size_t)len + 1), len);
    }
}

/* ---- names and u256 ---- */

Test(proto, names_every_type_and_unknown)
{
    const char *want[] = {"UNKNOWN", "TX_SEEN", "TX_REPLACED", "TX_DROPPED", "TX_MINED",
                          "BLOCK",   "PRICE",   "TICK",        "UNKNOWN"};
    for (uint16_t t = 0; t < ARRAY_LEN(want); t++)
        cr_assert_str_eq(mp_event_type_name(t), want[t]);
    cr_assert_str_eq(mp_event_type_name(UINT16_MAX), "UNKNOWN");
}

static const char *u256_dec(const mp_u256_t *v, size_t *len)
{
    static char out[79];
    memset(out, 'Z', sizeof out);
    *len = mp_u256_to_dec(v, out);
    cr_assert_eq(strlen(out), *len);
    return out;
}

Test(proto, u256_zero_is_0)
{
    mp_u256_t v = {{0}};
    size_t n;
    cr_assert_str_eq(u256_dec(&v, &n), "0");
    cr_assert_eq(n, 1);
}

Test(proto, u256_max_has_78_digits)
{
    mp_u256_t v;
    memset(v.be, 0xff, sizeof v.be);
    size_t n;
    cr_assert_str_eq(u256_dec(&v, &n), "115792089237316195423570985008687907853269984665640564039"
                                       "457584007913129639935");
    cr_assert_eq(n, 78);
}

Test(proto, u256_from_u64_round_trips_to_decimal)
{
    mp_u256_t v;
    size_t n;
    mp_u256_from_u64(&v, UINT64_MAX);
    cr_assert_str_eq(u256_dec(&v, &n), "18446744073709551615");
    mp_u256_from_u64(&v, 1);
    cr_assert_str_eq(u256_dec(&v, &n), "1");
    memset(v.be, 0xaa, sizeof v.be);
    mp_u256_from_u64(&v, 0);
    cr_assert_str_eq(u256_dec(&v, &n), "0", "from_u64 clears the high bytes");
}

Test(proto, u256_handles_chunk_boundaries)
{
    mp_u256_t v = {{0}};
    size_t n;
    v.be[23] = 1; /* 2^64 */
    cr_assert_str_eq(u256_dec(&v, &n), "18446744073709551616");
    mp_u256_from_u64(&v, 10000000000000000000ull); /* 10^19: one chunk and a leading 1 */
    cr_assert_str_eq(u256_dec(&v, &n), "10000000000000000000");
    mp_u256_from_u64(&v, 9999999999999999999ull);
    cr_assert_str_eq(u256_dec(&v, &n), "9999999999999999999");
}

/* Reference conversion: schoolbook division of the big-endian bytes by 10. */
static void slow_u256_dec(const mp_u256_t *v, char *out)
{
    uint8_t x[32];
    memcpy(x, v->be, 32);
    char tmp[80];
    size_t n = 0;
    for (;;) {
        unsigned rem = 0;
        bool zero = true;
        for (int i = 0; i < 32; i++) {
            unsigned cur = rem << 8 | x[i];
            x[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            zero &= x[i] == 0;
        }
        tmp[n++] = (char)('0' + rem);
        if (zero) break;
    }
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

Test(proto, u256_matches_reference_on_random_values)
{
    uint64_t s = 0xa4093822299f31d0ull;
    for (int iter = 0; iter < 5000; iter++) {
        mp_u256_t v = {{0}};
        size_t start = (size_t)(rng_next(&s) % 33); /* vary the magnitude */
        for (size_t i = start; i < 32; i++) v.be[i] = (uint8_t)rng_next(&s);
        char want[80];
        size_t n;
        slow_u256_dec(&v, want);
        cr_assert_str_eq(u256_dec(&v, &n), want, "iter %d", iter);
    }
}
