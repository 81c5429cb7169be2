/* Unit tests for readmodel/rm_json.c: every entity kind and the tx detail encode to JSON
 * that jansson parses back with the documented fields and values; ids match between
 * entities and remove lists; a short buffer gives -ENOSPC; worst cases fit the maxima. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "proto/eth_catalog.h"
#include "readmodel/market.h"
#include "readmodel/opportunities.h"
#include "readmodel/rm_json.h"
#include "readmodel/rm_reader.h"

#define MS 1000000ull

static char out[MP_RM_JSON_DETAIL_MAX];

/* Encodes one entity into out; fails the test on an error. Returns the length. */
static size_t encode(mp_rm_kind_t kind, const void *entity)
{
    mp_jw_t jw;
    mp_jw_init(&jw, out, MP_RM_JSON_ENTITY_MAX);
    cr_assert_eq(mp_rm_entity_json(&jw, kind, entity), 0, "kind %d", kind);
    ssize_t n = mp_jw_finish(&jw);
    cr_assert_gt(n, 0);
    return (size_t)n;
}

static json_t *parse_flags(const char *s, size_t n, size_t flags)
{
    json_error_t jerr;
    json_t *root = json_loadb(s, n, flags, &jerr);
    cr_assert_not_null(root, "jansson: %s at %d in <%.*s>", jerr.text, jerr.position, (int)n, s);
    cr_assert(json_is_object(root));
    return root;
}

static json_t *parse(const char *s, size_t n)
{
    return parse_flags(s, n, 0);
}

/* jansson keeps integers in int64: saturated u64 fields parse as reals. */
static json_t *parse_wide(const char *s, size_t n)
{
    return parse_flags(s, n, JSON_DECODE_INT_AS_REAL);
}

static json_t *encode_parse(mp_rm_kind_t kind, const void *entity)
{
    return parse(out, encode(kind, entity));
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

static json_int_t num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_integer(v), "%s is not an integer", key);
    return json_integer_value(v);
}

static double real(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_number(v), "%s is not a number", key);
    return json_number_value(v);
}

static void fill(uint8_t *b, size_t n, uint8_t start)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(start + i);
}

/* A pending Uniswap V2 swapExactTokensForETH (0x18cbafe5) to the router. */
static mp_rm_tx_t sample_tx(void)
{
    mp_rm_tx_t t;
    memset(&t, 0, sizeof t);
    t.seq = 812345;
    fill(t.hash, MP_HASH_LEN, 0xa0);
    fill(t.from, MP_ADDR_LEN, 0x10);
    const mp_catalog_address_t *router = mp_catalog_address_by_label("Uniswap V2 Router02");
    cr_assert_not_null(router);
    memcpy(t.to, router->addr, MP_ADDR_LEN);
    t.has_to = 1;
    t.status = MP_TX_PENDING;
    t.tx_type = 2;
    t.protocol = MP_PROTO_UNISWAP_V2;
    t.category = MP_CAT_SWAP;
    t.has_selector = 1;
    t.selector = 0x18cbafe5;
    t.input_len = 260;
    t.chain_id = 1;
    t.nonce = 42;
    t.gas_limit = 210000;
    t.gas_price = 30000000000ull;
    t.max_fee = 40000000000ull;
    t.max_priority_fee = 2000000000ull;
    /* 2^64 + 5 wei: more than a u64 (and a double) holds exactly. */
    t.value.be[23] = 1;
    t.value.be[31] = 5;
    t.seen_unix_ns = 1700000000123456789ull;
    t.updated_unix_ns = 1700000000999000000ull;
    return t;
}

static void assert_hex(json_t *o, const char *key, const uint8_t *b, size_t n)
{
    char want[2 * 64 + 3] = "0x";
    for (size_t i = 0; i < n; i++)
        sprintf(want + 2 + 2 * i, "%02x", b[i]);
    cr_assert_str_eq(str(o, key), want, "%s", key);
}

Test(rm_json, tx_has_every_field_with_its_value)
{
    mp_rm_tx_t t = sample_tx();
    json_t *o = encode_parse(MP_KIND_TX, &t);
    assert_hex(o, "id", t.hash, MP_HASH_LEN);
    assert_hex(o, "hash", t.hash, MP_HASH_LEN);
    assert_hex(o, "from", t.from, MP_ADDR_LEN);
    assert_hex(o, "to", t.to, MP_ADDR_LEN);
    cr_assert_eq(num(o, "seq"), 812345);
    cr_assert_eq(num(o, "chain_id"), 1);
    cr_assert_eq(num(o, "nonce"), 42);
    cr_assert_eq(num(o, "gas_limit"), 210000);
    cr_assert_eq(num(o, "gas_price"), 30000000000);
    cr_assert_eq(num(o, "max_fee"), 40000000000);
    cr_assert_eq(num(o, "max_priority_fee"), 2000000000);
    cr_assert_str_eq(str(o, "value"), "18446744073709551621");
    cr_assert_eq(num(o, "tx_type"), 2);
    cr_assert_str_eq(str(o, "protocol"), "uniswap-v2");
    cr_assert_str_eq(str(o, "category"), "swap");
    cr_assert_str_eq(str(o, "method"), "swapExactTokensForETH");
    cr_assert_str_eq(str(o, "selector"), "0x18cbafe5");
    cr_assert_str_eq(str(o, "status"), "pending");
    cr_assert_eq(num(o, "seen_unix_ms"), 1700000000123);
    cr_assert_eq(num(o, "updated_unix_ms"), 1700000000999);
    cr_assert_eq(num(o, "input_len"), 260);
    cr_assert_null(json_object_get(o, "block_number"), "only when mined");
    cr_assert_null(json_object_get(o, "replaced_by"), "only when replaced");
    cr_assert_eq(json_object_size(o), 21);
    json_decref(o);
}

Test(rm_json, tx_creation_has_null_to_and_deploy_method)
{
    mp_rm_tx_t t = sample_tx();
    memset(t.to, 0, MP_ADDR_LEN);
    t.has_to = 0;
    t.has_selector = 0;
    t.protocol = MP_PROTO_DEPLOY;
    t.category = MP_CAT_DEPLOY;
    json_t *o = encode_parse(MP_KIND_TX, &t);
    cr_assert(json_is_null(json_object_get(o, "to")));
    cr_assert(json_is_null(json_object_get(o, "selector")));
    cr_assert_str_eq(str(o, "method"), "deploy");
    cr_assert_str_eq(str(o, "protocol"), "deploy");
    json_decref(o);
}

Test(rm_json, tx_method_of_plain_transfer_and_unknown_selector)
{
    mp_rm_tx_t t = sample_tx();
    fill(t.to, MP_ADDR_LEN, 0x77); /* not in the catalog */
    t.has_selector = 0;
    t.input_len = 0;
    json_t *o = encode_parse(MP_KIND_TX, &t);
    cr_assert_str_eq(str(o, "method"), "transfer"); /* value > 0, no calldata */
    json_decref(o);
    t.has_selector = 1;
    t.selector = 0xdeadbeef;
    t.input_len = 68;
    o = encode_parse(MP_KIND_TX, &t);
    cr_assert_str_eq(str(o, "method"), "0xdeadbeef");
    json_decref(o);
}

Test(rm_json, tx_mined_carries_block_and_replaced_carries_successor)
{
    mp_rm_tx_t t = sample_tx();
    t.status = MP_TX_MINED;
    t.block_number = 19000000;
    json_t *o = encode_parse(MP_KIND_TX, &t);
    cr_assert_str_eq(str(o, "status"), "mined");
    cr_assert_eq(num(o, "block_number"), 19000000);
    cr_assert_null(json_object_get(o, "replaced_by"));
    json_decref(o);

    t.status = MP_TX_REPLACED;
    fill(t.replaced_by, MP_HASH_LEN, 0x33);
    o = encode_parse(MP_KIND_TX, &t);
    cr_assert_str_eq(str(o, "status"), "replaced");
    assert_hex(o, "replaced_by", t.replaced_by, MP_HASH_LEN);
    cr_assert_null(json_object_get(o, "block_number"));
    json_decref(o);

    t.status = MP_TX_DROPPED;
    o = encode_parse(MP_KIND_TX, &t);
    cr_assert_str_eq(str(o, "status"), "dropped");
    json_decref(o);
}

Test(rm_json, feature_top_id_is_protocol_slash_category)
{
    mp_rm_feature_top_t f;
    memset(&f, 0, sizeof f);
    f.seq = 77;
    f.protocol = MP_PROTO_UNISWAP_V2;
    f.category = MP_CAT_SWAP;
    f.count = 1234;
    f.gas_sum = 99999999;
    f.value_sum_gwei = 5000000000ull;
    f.first_seen_unix_ns = 1000 * MS;
    f.last_seen_unix_ns = 2000 * MS + 999999;
    fill(f.last_tx, MP_HASH_LEN, 1);
    f.rate_60s = 321;
    json_t *o = encode_parse(MP_KIND_FEATURE_TOP, &f);
    cr_assert_str_eq(str(o, "id"), "uniswap-v2/swap");
    cr_assert_str_eq(str(o, "kind"), "top");
    cr_assert_eq(num(o, "seq"), 77);
    cr_assert_str_eq(str(o, "protocol"), "uniswap-v2");
    cr_assert_str_eq(str(o, "category"), "swap");
    cr_assert_eq(num(o, "count"), 1234);
    cr_assert_eq(num(o, "rate_60s"), 321);
    cr_assert_eq(num(o, "gas_sum"), 99999999);
    cr_assert_eq(num(o, "value_sum_gwei"), 5000000000);
    cr_assert_eq(num(o, "first_seen_unix_ms"), 1000);
    cr_assert_eq(num(o, "last_seen_unix_ms"), 2000);
    assert_hex(o, "last_tx", f.last_tx, MP_HASH_LEN);
    json_decref(o);
}

Test(rm_json, feature_recent_id_is_the_hash)
{
    mp_rm_feature_recent_t r;
    memset(&r, 0, sizeof r);
    r.seq = 5;
    fill(r.hash, MP_HASH_LEN, 0xc0);
    fill(r.from, MP_ADDR_LEN, 2);
    r.has_to = 0;
    r.protocol = MP_PROTO_DEPLOY;
    r.category = MP_CAT_DEPLOY;
    r.gas_limit = 3000000;
    r.max_priority_fee = 1500000000;
    r.seen_unix_ns = 42 * MS;
    mp_u256_from_u64(&r.value, 1000000000000000000ull);
    json_t *o = encode_parse(MP_KIND_FEATURE_RECENT, &r);
    assert_hex(o, "id", r.hash, MP_HASH_LEN);
    assert_hex(o, "hash", r.hash, MP_HASH_LEN);
    cr_assert_str_eq(str(o, "kind"), "recent");
    cr_assert(json_is_null(json_object_get(o, "to")));
    cr_assert_str_eq(str(o, "method"), "deploy");
    cr_assert_str_eq(str(o, "value"), "1000000000000000000");
    cr_assert_eq(num(o, "gas_limit"), 3000000);
    cr_assert_eq(num(o, "max_priority_fee"), 1500000000);
    cr_assert_eq(num(o, "seen_unix_ms"), 42);
    cr_assert_eq(num(o, "seq"), 5);
    json_decref(o);
}

static mp_rm_opportunity_t sample_opp(void)
{
    mp_rm_opportunity_t o;
    memset(&o, 0, sizeof o);
    o.seq = 900;
    fill(o.trigger, MP_HASH_LEN, 0xab);
    mp_opp_make_id(MP_OPP_SANDWICH, o.trigger, &o.id);
    o.chain_id = 1;
    o.kind = MP_OPP_SANDWICH;
    o.status = MP_OPP_OPEN;
    o.protocol = MP_PROTO_UNISWAP_V3;
    o.score = 73;
    o.input_count = 2;
    strcpy(o.inputs[0].name, "slippage_bps");
    o.inputs[0].value = 250.5;
    strcpy(o.inputs[1].name, "amount_in_eth");
    o.inputs[1].value = 12;
    strcpy(o.reason, "exactInputSingle of 12 WETH with 2.5 % slippage room");
    o.detected_unix_ns = 1700000000000ull * MS;
    o.updated_unix_ns = 1700000000500ull * MS;
    return o;
}

Test(rm_json, opportunity_explains_itself)
{
    mp_rm_opportunity_t op = sample_opp();
    json_t *o = encode_parse(MP_KIND_OPPORTUNITY, &op);
    cr_assert_str_eq(str(o, "id"), (const char *)op.id.bytes);
    cr_assert_eq(strncmp(str(o, "id"), "sandwich:abacadaeafb0b1b2", 25), 0, "%s", str(o, "id"));
    cr_assert_str_eq(str(o, "kind"), "sandwich_candidate");
    assert_hex(o, "trigger", op.trigger, MP_HASH_LEN);
    cr_assert_str_eq(str(o, "protocol"), "uniswap-v3");
    cr_assert_eq(num(o, "score"), 73);
    cr_assert_eq(num(o, "chain_id"), 1);
    json_t *in = json_object_get(o, "inputs");
    cr_assert(json_is_object(in));
    cr_assert_eq(json_object_size(in), 2);
    cr_assert_float_eq(real(in, "slippage_bps"), 250.5, 1e-12);
    cr_assert_float_eq(real(in, "amount_in_eth"), 12.0, 1e-12);
    cr_assert_str_eq(str(o, "reason"), op.reason);
    cr_assert_eq(num(o, "detected_unix_ms"), 1700000000000);
    cr_assert_eq(num(o, "updated_unix_ms"), 1700000000500);
    cr_assert_str_eq(str(o, "status"), "open");
    cr_assert_eq(num(o, "seq"), 900);
    json_decref(o);
}

Test(rm_json, chain_reports_head_and_pace)
{
    mp_rm_chain_t c;
    memset(&c, 0, sizeof c);
    c.seq = 11;
    c.chain_id = 1;
    c.head_number = 19000000;
    fill(c.head_hash, MP_HASH_LEN, 9);
    c.base_fee = 25000000000ull;
    c.gas_used = 15000000;
    c.gas_limit = 30000000;
    c.head_timestamp = 1700000000;
    c.head_seen_unix_ns = 1700000000400ull * MS;
    c.avg_block_time_ms = 12000;
    c.pending_count = 5000;
    c.tx_rate_10s = 200;
    c.tx_rate_60s = 1200;
    c.blocks_seen = 3;
    json_t *o = encode_parse(MP_KIND_CHAIN, &c);
    mp_rm_id_t id;
    uint8_t n;
    mp_rm_entity_id(MP_KIND_CHAIN, &c, &id, &n);
    cr_assert_str_eq(str(o, "id"), (const char *)id.bytes);
    cr_assert_eq(num(o, "chain_id"), 1);
    cr_assert_eq(num(o, "head_number"), 19000000);
    assert_hex(o, "head_hash", c.head_hash, MP_HASH_LEN);
    cr_assert_eq(num(o, "base_fee"), 25000000000);
    cr_assert_float_eq(real(o, "gas_used_ratio"), 0.5, 1e-12);
    cr_assert_eq(num(o, "head_time_unix_ms"), 1700000000000);
    cr_assert_eq(num(o, "head_seen_unix_ms"), 1700000000400);
    cr_assert_eq(num(o, "avg_block_time_ms"), 12000);
    cr_assert_eq(num(o, "pending_count"), 5000);
    cr_assert_eq(num(o, "tx_rate_10s"), 200);
    cr_assert_eq(num(o, "tx_rate_60s"), 1200);
    cr_assert_eq(num(o, "blocks_seen"), 3);
    cr_assert_eq(num(o, "seq"), 11);
    json_decref(o);
}

Test(rm_json, fee_market_has_percentiles_and_histogram)
{
    mp_rm_fee_market_t f;
    memset(&f, 0, sizeof f);
    f.seq = 12;
    f.chain_id = 1;
    f.window_ms = 60000;
    f.samples = 4096;
    for (int i = 0; i < 5; i++) {
        f.priority_fee_pct[i] = 1000000000ull * (uint64_t)(i + 1);
        f.max_fee_pct[i] = 30000000000ull + (uint64_t)i;
    }
    f.base_fee = 25000000000ull;
    f.next_base_fee = 28125000000ull;
    for (int i = 0; i < MP_RM_FEE_HIST_BUCKETS; i++)
        f.histogram[i] = (uint32_t)(i * 10);
    f.updated_unix_ns = 7 * MS;
    json_t *o = encode_parse(MP_KIND_FEE_MARKET, &f);
    cr_assert_str_eq(str(o, "id"), "fees:1");
    cr_assert_str_eq(str(o, "kind"), "fee_market");
    cr_assert_eq(num(o, "chain_id"), 1);
    cr_assert_eq(num(o, "window_ms"), 60000);
    cr_assert_eq(num(o, "samples"), 4096);
    static const char *const p[5] = {"p10", "p25", "p50", "p75", "p90"};
    json_t *pf = json_object_get(o, "priority_fee"), *mf = json_object_get(o, "max_fee");
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(num(pf, p[i]), 1000000000ll * (i + 1));
        cr_assert_eq(num(mf, p[i]), 30000000000ll + i);
    }
    cr_assert_eq(num(o, "base_fee"), 25000000000);
    cr_assert_eq(num(o, "next_base_fee"), 28125000000);
    json_t *h = json_object_get(o, "histogram"), *e = json_object_get(o, "histogram_edges");
    cr_assert_eq(json_array_size(h), MP_RM_FEE_HIST_BUCKETS);
    cr_assert_eq(json_array_size(e), MP_RM_FEE_HIST_BUCKETS);
    for (size_t i = 0; i < MP_RM_FEE_HIST_BUCKETS; i++) {
        cr_assert_eq(json_integer_value(json_array_get(h, i)), (json_int_t)i * 10);
        cr_assert_eq(json_integer_value(json_array_get(e, i)),
                     (json_int_t)mp_market_hist_edge((unsigned)i));
    }
    cr_assert_eq(json_integer_value(json_array_get(e, 6)), 1000000000); /* 1 gwei */
    cr_assert_eq(num(o, "updated_unix_ms"), 7);
    json_decref(o);
}

Test(rm_json, price_has_symbol_and_change)
{
    mp_rm_price_t p;
    memset(&p, 0, sizeof p);
    p.seq = 13;
    strcpy(p.symbol, "ETH/USD");
    p.price = 3012.25;
    p.change_1m = -4.5;
    p.ref_price = 3016.75;
    p.ref_unix_ns = 60 * 1000 * MS;
    p.updated_unix_ns = 120 * 1000 * MS;
    json_t *o = encode_parse(MP_KIND_PRICE, &p);
    cr_assert_str_eq(str(o, "id"), "price:ETH/USD");
    cr_assert_str_eq(str(o, "kind"), "price");
    cr_assert_str_eq(str(o, "symbol"), "ETH/USD");
    cr_assert_float_eq(real(o, "price"), 3012.25, 1e-12);
    cr_assert_float_eq(real(o, "change_1m"), -4.5, 1e-12);
    cr_assert_float_eq(real(o, "ref_price"), 3016.75, 1e-12);
    cr_assert_eq(num(o, "ref_unix_ms"), 60000);
    cr_assert_eq(num(o, "updated_unix_ms"), 120000);
    cr_assert_eq(num(o, "seq"), 13);
    json_decref(o);
}

/* The remove-list id of an entity is the same string as its "id" field. */
static void assert_id_matches(mp_rm_kind_t kind, const void *entity)
{
    json_t *o = encode_parse(kind, entity);
    mp_rm_id_t id;
    uint8_t n;
    mp_rm_entity_id(kind, entity, &id, &n);
    char buf[128];
    mp_jw_t jw;
    mp_jw_init(&jw, buf, sizeof buf);
    cr_assert_eq(mp_rm_id_json(&jw, kind, &id, n), 0);
    ssize_t len = mp_jw_finish(&jw);
    cr_assert_gt(len, 2);
    char want[128];
    snprintf(want, sizeof want, "\"%s\"", str(o, "id"));
    cr_assert_str_eq(buf, want);
    char text[MP_RM_ID_TEXT_MAX];
    size_t tn = mp_rm_id_text(kind, &id, n, text);
    cr_assert_eq(tn, strlen(str(o, "id")));
    cr_assert_str_eq(text, str(o, "id"));
    json_decref(o);
}

Test(rm_json, remove_list_ids_equal_entity_ids_for_every_kind)
{
    mp_rm_tx_t t = sample_tx();
    assert_id_matches(MP_KIND_TX, &t);
    mp_rm_feature_top_t f = {.protocol = MP_PROTO_AAVE, .category = MP_CAT_LENDING};
    assert_id_matches(MP_KIND_FEATURE_TOP, &f);
    mp_rm_feature_recent_t r;
    memset(&r, 0, sizeof r);
    fill(r.hash, MP_HASH_LEN, 0x50);
    assert_id_matches(MP_KIND_FEATURE_RECENT, &r);
    mp_rm_opportunity_t o = sample_opp();
    assert_id_matches(MP_KIND_OPPORTUNITY, &o);
    mp_rm_chain_t c = {.chain_id = 8453};
    assert_id_matches(MP_KIND_CHAIN, &c);
    mp_rm_fee_market_t fm = {.chain_id = 10};
    assert_id_matches(MP_KIND_FEE_MARKET, &fm);
    mp_rm_price_t p = {.symbol = "BTC/USD"};
    assert_id_matches(MP_KIND_PRICE, &p);
}

Test(rm_json, id_json_of_a_journal_remove_uses_the_kind)
{
    mp_rm_id_t id;
    memset(&id, 0, sizeof id);
    memcpy(id.bytes, "fees:1", 6);
    char buf[96];
    mp_jw_t jw;
    mp_jw_init(&jw, buf, sizeof buf);
    mp_rm_id_json(&jw, MP_KIND_FEE_MARKET, &id, 6);
    cr_assert_eq(mp_jw_finish(&jw), 8);
    cr_assert_str_eq(buf, "\"fees:1\"");
    fill(id.bytes, MP_HASH_LEN, 0);
    mp_jw_init(&jw, buf, sizeof buf);
    mp_rm_id_json(&jw, MP_KIND_TX, &id, MP_HASH_LEN);
    cr_assert_eq(mp_jw_finish(&jw), 68);
    cr_assert_eq(strncmp(buf, "\"0x000102", 9), 0, "%s", buf);
}

/* Every cap below the needed size fails with -ENOSPC; the exact size succeeds. */
static void assert_enospc_below(mp_rm_kind_t kind, const void *entity)
{
    size_t need = encode(kind, entity) + 1;
    char buf[MP_RM_JSON_ENTITY_MAX];
    for (size_t cap = 1; cap < need; cap++) {
        mp_jw_t jw;
        mp_jw_init(&jw, buf, cap);
        cr_assert_eq(mp_rm_entity_json(&jw, kind, entity), -ENOSPC, "kind %d cap %zu", kind, cap);
        cr_assert_eq(mp_jw_finish(&jw), -ENOSPC);
    }
    mp_jw_t jw;
    mp_jw_init(&jw, buf, need);
    cr_assert_eq(mp_rm_entity_json(&jw, kind, entity), 0);
    cr_assert_eq(mp_jw_finish(&jw), (ssize_t)need - 1);
}

Test(rm_json, short_buffer_gives_enospc_for_every_kind)
{
    mp_rm_tx_t t = sample_tx();
    assert_enospc_below(MP_KIND_TX, &t);
    mp_rm_feature_top_t f = {.protocol = MP_PROTO_CURVE, .category = MP_CAT_SWAP, .count = 3};
    assert_enospc_below(MP_KIND_FEATURE_TOP, &f);
    mp_rm_feature_recent_t r = {.seq = 1};
    assert_enospc_below(MP_KIND_FEATURE_RECENT, &r);
    mp_rm_opportunity_t o = sample_opp();
    assert_enospc_below(MP_KIND_OPPORTUNITY, &o);
    mp_rm_chain_t c = {.chain_id = 1};
    assert_enospc_below(MP_KIND_CHAIN, &c);
    mp_rm_fee_market_t fm = {.chain_id = 1};
    assert_enospc_below(MP_KIND_FEE_MARKET, &fm);
    mp_rm_price_t p = {.symbol = "ETH/USD", .price = 1.5};
    assert_enospc_below(MP_KIND_PRICE, &p);
}

Test(rm_json, unknown_kind_is_einval)
{
    char buf[64];
    mp_jw_t jw;
    mp_jw_init(&jw, buf, sizeof buf);
    mp_rm_tx_t t = sample_tx();
    cr_assert_eq(mp_rm_entity_json(&jw, (mp_rm_kind_t)99, &t), -EINVAL);
}

Test(rm_json, entities_are_array_elements_too)
{
    mp_rm_price_t p = {.seq = 1, .symbol = "ETH/USD", .price = 2};
    mp_rm_chain_t c = {.seq = 2, .chain_id = 1};
    char buf[2048];
    mp_jw_t jw;
    mp_jw_init(&jw, buf, sizeof buf);
    mp_jw_arr_begin(&jw);
    mp_rm_entity_json(&jw, MP_KIND_PRICE, &p);
    mp_rm_entity_json(&jw, MP_KIND_CHAIN, &c);
    mp_jw_arr_end(&jw);
    ssize_t n = mp_jw_finish(&jw);
    cr_assert_gt(n, 0);
    json_error_t jerr;
    json_t *a = json_loadb(buf, (size_t)n, 0, &jerr);
    cr_assert(json_is_array(a), "%s", jerr.text);
    cr_assert_eq(json_array_size(a), 2);
    cr_assert_eq(num(json_array_get(a, 1), "seq"), 2);
    json_decref(a);
}

/* Control bytes escape to 6 output bytes each: the longest an opportunity can get. */
static mp_rm_opportunity_t worst_opp(unsigned kind)
{
    mp_rm_opportunity_t o = sample_opp();
    o.kind = (uint8_t)kind;
    o.seq = UINT64_MAX;
    o.chain_id = UINT64_MAX;
    o.detected_unix_ns = o.updated_unix_ns = UINT64_MAX;
    o.input_count = MP_RM_OPP_INPUTS;
    memset(o.id.bytes, 0x01, MP_RM_ID_LEN);
    for (int i = 0; i < MP_RM_OPP_INPUTS; i++) {
        memset(o.inputs[i].name, 0x01, sizeof o.inputs[i].name - 1);
        o.inputs[i].name[sizeof o.inputs[i].name - 1] = (char)('a' + i);
        o.inputs[i].value = -1.2345678901234567e-300;
    }
    memset(o.reason, 0x01, sizeof o.reason - 1);
    o.reason[sizeof o.reason - 1] = '\0';
    return o;
}

Test(rm_json, worst_case_entities_fit_the_entity_maximum)
{
    mp_rm_opportunity_t o = worst_opp(MP_OPP_GAS_WAR);
    size_t n = encode(MP_KIND_OPPORTUNITY, &o);
    cr_assert_lt(n, MP_RM_JSON_ENTITY_MAX);
    json_decref(parse_wide(out, n));

    mp_rm_tx_t t = sample_tx();
    memset(&t.value, 0xff, sizeof t.value);
    t.seq = t.nonce = t.gas_limit = t.gas_price = t.max_fee = t.max_priority_fee = UINT64_MAX;
    t.chain_id = t.seen_unix_ns = t.updated_unix_ns = t.block_number = UINT64_MAX;
    t.status = MP_TX_REPLACED;
    t.input_len = UINT32_MAX;
    n = encode(MP_KIND_TX, &t);
    cr_assert_lt(n, MP_RM_JSON_ENTITY_MAX);
    cr_assert_not_null(strstr(
        out, "\"value\":"
             "\"115792089237316195423570985008687907853269984665640564039457584007913129639935\""));

    mp_rm_fee_market_t f;
    memset(&f, 0xff, sizeof f);
    cr_assert_lt(encode(MP_KIND_FEE_MARKET, &f), MP_RM_JSON_ENTITY_MAX);
    mp_rm_price_t p;
    memset(&p, 0x01, sizeof p);
    p.symbol[MP_SYMBOL_MAX - 1] = '\0';
    p.price = p.change_1m = p.ref_price = -1.2345678901234567e-300;
    cr_assert_lt(encode(MP_KIND_PRICE, &p), MP_RM_JSON_ENTITY_MAX);
}

/* ---- details ---- */

static mp_rm_detail_t sample_detail(void)
{
    mp_rm_detail_t d;
    memset(&d, 0, sizeof d);
    d.occupied = 1;
    d.tx_slot = 17;
    d.tx = sample_tx();
    d.input_stored = 8;
    return d;
}

static json_t *encode_detail(const mp_rm_detail_t *d, const uint8_t *input, uint32_t n,
                             const mp_rm_opportunity_t *opps, unsigned nopps)
{
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    cr_assert_eq(mp_rm_detail_json(&jw, d, input, n, opps, nopps), 0);
    ssize_t len = mp_jw_finish(&jw);
    cr_assert_gt(len, 0);
    return parse(out, (size_t)len);
}

Test(rm_json, detail_has_summary_method_input_history_and_opportunities)
{
    mp_rm_detail_t d = sample_detail();
    d.history_count = 2;
    d.history[0] = (mp_rm_status_change_t){.status = MP_TX_PENDING, .time_ns = 5 * MS, .seq = 100};
    d.history[1] = (mp_rm_status_change_t){.status = MP_TX_REPLACED, .time_ns = 9 * MS, .seq = 130};
    d.tx.status = MP_TX_REPLACED;
    fill(d.tx.replaced_by, MP_HASH_LEN, 0x44);
    const uint8_t input[8] = {0x18, 0xcb, 0xaf, 0xe5, 0, 0, 0, 1};
    mp_rm_opportunity_t opp = sample_opp();
    json_t *o = encode_detail(&d, input, sizeof input, &opp, 1);
    assert_hex(o, "hash", d.tx.hash, MP_HASH_LEN);
    cr_assert_str_eq(str(o, "method"), "swapExactTokensForETH");
    cr_assert_str_eq(str(o, "method_signature"),
                     "swapExactTokensForETH(uint256,uint256,address[],address,uint256)");
    cr_assert_str_eq(str(o, "protocol"), "uniswap-v2");
    cr_assert_str_eq(str(o, "category"), "swap");
    cr_assert_str_eq(str(o, "input"), "0x18cbafe500000001");
    cr_assert_eq(num(o, "input_len"), 260);
    cr_assert(json_is_true(json_object_get(o, "input_truncated")));
    cr_assert(json_is_true(json_object_get(o, "on_tx_main")));
    assert_hex(o, "replaced_by", d.tx.replaced_by, MP_HASH_LEN);
    json_t *h = json_object_get(o, "history");
    cr_assert_eq(json_array_size(h), 2);
    cr_assert_str_eq(str(json_array_get(h, 0), "status"), "pending");
    cr_assert_eq(num(json_array_get(h, 0), "unix_ms"), 5);
    cr_assert_eq(num(json_array_get(h, 0), "seq"), 100);
    cr_assert_str_eq(str(json_array_get(h, 1), "status"), "replaced");
    cr_assert_eq(num(json_array_get(h, 1), "unix_ms"), 9);
    cr_assert_eq(num(o, "history_total"), 2);
    json_t *ops = json_object_get(o, "opportunities");
    cr_assert_eq(json_array_size(ops), 1);
    cr_assert_str_eq(str(json_array_get(ops, 0), "id"), (const char *)opp.id.bytes);
    cr_assert_str_eq(str(json_array_get(ops, 0), "kind"), "sandwich_candidate");
    json_decref(o);
}

Test(rm_json, detail_history_ring_comes_out_oldest_first)
{
    mp_rm_detail_t d = sample_detail();
    /* 8 changes recorded: the ring keeps the last 6 (changes 2..7) at k % 6. */
    d.history_count = 8;
    for (uint32_t k = 0; k < 8; k++)
        d.history[k % MP_RM_HISTORY] =
            (mp_rm_status_change_t){.status = (uint8_t)(k % 2 ? MP_TX_REPLACED : MP_TX_PENDING),
                                    .time_ns = k * MS,
                                    .seq = 1000 + k};
    json_t *o = encode_detail(&d, NULL, 0, NULL, 0);
    json_t *h = json_object_get(o, "history");
    cr_assert_eq(json_array_size(h), MP_RM_HISTORY);
    for (size_t i = 0; i < MP_RM_HISTORY; i++)
        cr_assert_eq(num(json_array_get(h, i), "seq"), 1002 + (json_int_t)i);
    cr_assert_eq(num(o, "history_total"), 8);
    cr_assert_eq(json_array_size(json_object_get(o, "opportunities")), 0);
    json_decref(o);
}

Test(rm_json, detail_input_states)
{
    mp_rm_detail_t d = sample_detail();
    d.history_count = 1;
    /* Calldata evicted from the arena: null, truncated. */
    json_t *o = encode_detail(&d, NULL, 0, NULL, 0);
    cr_assert(json_is_null(json_object_get(o, "input")));
    cr_assert(json_is_true(json_object_get(o, "input_truncated")));
    json_decref(o);
    /* No calldata at all: "0x", complete. */
    d.tx.input_len = 0;
    d.tx.has_selector = 0;
    d.input_stored = 0;
    o = encode_detail(&d, NULL, 0, NULL, 0);
    cr_assert_str_eq(str(o, "input"), "0x");
    cr_assert(json_is_false(json_object_get(o, "input_truncated")));
    cr_assert(json_is_null(json_object_get(o, "method_signature")));
    json_decref(o);
    /* Everything kept. */
    d.tx.input_len = 4;
    d.tx.has_selector = 1;
    d.tx.selector = 0x18cbafe5;
    const uint8_t in[4] = {0x18, 0xcb, 0xaf, 0xe5};
    d.tx_slot = 0;
    o = encode_detail(&d, in, 4, NULL, 0);
    cr_assert_str_eq(str(o, "input"), "0x18cbafe5");
    cr_assert(json_is_false(json_object_get(o, "input_truncated")));
    cr_assert(json_is_false(json_object_get(o, "on_tx_main")));
    json_decref(o);
}

Test(rm_json, worst_case_detail_fits_the_detail_maximum)
{
    mp_rm_detail_t d = sample_detail();
    memset(&d.tx.value, 0xff, sizeof d.tx.value);
    d.tx.status = MP_TX_REPLACED;
    d.tx.input_len = UINT32_MAX;
    d.history_count = UINT32_MAX;
    static uint8_t input[MP_INPUT_PREFIX_MAX];
    memset(input, 0xee, sizeof input);
    mp_rm_opportunity_t opps[MP_RM_DETAIL_OPPS];
    for (unsigned i = 0; i < MP_RM_DETAIL_OPPS; i++)
        opps[i] = worst_opp(MP_OPP_SANDWICH + i);
    mp_jw_t jw;
    mp_jw_init(&jw, out, MP_RM_JSON_DETAIL_MAX);
    cr_assert_eq(mp_rm_detail_json(&jw, &d, input, sizeof input, opps, MP_RM_DETAIL_OPPS), 0);
    ssize_t n = mp_jw_finish(&jw);
    cr_assert_gt(n, 2 * MP_INPUT_PREFIX_MAX);
    cr_assert_lt(n, MP_RM_JSON_DETAIL_MAX);
    json_decref(parse_wide(out, (size_t)n));
}

Test(rm_json, detail_short_buffer_gives_enospc)
{
    mp_rm_detail_t d = sample_detail();
    d.history_count = 1;
    const uint8_t input[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static char buf[4096];
    mp_jw_t jw;
    mp_jw_init(&jw, buf, sizeof buf);
    cr_assert_eq(mp_rm_detail_json(&jw, &d, input, 8, NULL, 0), 0);
    ssize_t need = mp_jw_finish(&jw);
    cr_assert_gt(need, 0);
    mp_jw_init(&jw, buf, (size_t)need);
    cr_assert_eq(mp_rm_detail_json(&jw, &d, input, 8, NULL, 0), -ENOSPC);
}

Test(rm_json, tx_status_names)
{
    cr_assert_str_eq(mp_rm_tx_status_name(MP_TX_PENDING), "pending");
    cr_assert_str_eq(mp_rm_tx_status_name(MP_TX_REPLACED), "replaced");
    cr_assert_str_eq(mp_rm_tx_status_name(MP_TX_DROPPED), "dropped");
    cr_assert_str_eq(mp_rm_tx_status_name(MP_TX_MINED), "mined");
    cr_assert_str_eq(mp_rm_tx_status_name(4), "unknown");
}
