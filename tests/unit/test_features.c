/* Unit tests for readmodel/features.c: feature_top aggregates per (protocol, category),
 * the 256-key bound with least-recently-seen eviction, rates on TICK, touch discipline
 * and determinism. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "readmodel/feature_top.h"
#include "readmodel/rate.h"

#include "touch_harness.h"

#define S 1000000000ull
#define T0 (1700000000ull * S)

static mp_feat_table_t *table_new(void)
{
    mp_feat_table_t *t = malloc(sizeof *t);
    cr_assert(t);
    mp_feat_init(t);
    return t;
}

static mp_tx_seen_t tx_with(uint8_t tag, uint64_t gas, uint64_t value_wei)
{
    mp_tx_seen_t tx;
    memset(&tx, 0, sizeof tx);
    tx.chain_id = 1;
    memset(tx.hash, tag, sizeof tx.hash);
    tx.gas_limit = gas;
    mp_u256_from_u64(&tx.value, value_wei);
    return tx;
}

static mp_classification_t class_of(unsigned protocol, unsigned category)
{
    mp_classification_t c;
    memset(&c, 0, sizeof c);
    c.protocol = (uint8_t)protocol;
    c.category = (uint8_t)category;
    return c;
}

/* Applies one tx of key (p, c) at time t and returns the result. */
static mp_feat_result_t feed_touch(mp_feat_table_t *t, unsigned p, unsigned c, uint64_t time_ns,
                                   const mp_rm_touch_t *touch)
{
    mp_tx_seen_t tx = tx_with((uint8_t)(p + c), 21000, 0);
    mp_classification_t cl = class_of(p, c);
    mp_feat_result_t r;
    cr_assert_eq(mp_feat_on_tx(t, &tx, &cl, time_ns, touch, &r), 0);
    return r;
}

static mp_feat_result_t feed(mp_feat_table_t *t, unsigned p, unsigned c, uint64_t time_ns)
{
    return feed_touch(t, p, c, time_ns, NULL);
}

Test(features, first_tx_creates_its_key)
{
    mp_feat_table_t *t = table_new();
    mp_tx_seen_t tx = tx_with(0xab, 150000, 2000000000ull);
    mp_classification_t c = class_of(MP_PROTO_UNISWAP_V2, MP_CAT_SWAP);
    mp_feat_result_t r;
    cr_assert_eq(mp_feat_on_tx(t, &tx, &c, T0, NULL, &r), 0);
    cr_assert(r.inserted);
    cr_assert_not(r.evicted);
    cr_assert_eq(r.slot, 0);
    const mp_rm_feature_top_t *e = mp_feat_find(t, MP_PROTO_UNISWAP_V2, MP_CAT_SWAP);
    cr_assert_eq(e, &t->entries[0]);
    cr_assert_eq(e->count, 1);
    cr_assert_eq(e->gas_sum, 150000);
    cr_assert_eq(e->value_sum_gwei, 2);
    cr_assert_eq(e->first_seen_unix_ns, T0);
    cr_assert_eq(e->last_seen_unix_ns, T0);
    cr_assert_eq(e->rate_60s, 1);
    cr_assert_eq(memcmp(e->last_tx, tx.hash, MP_HASH_LEN), 0);
    free(t);
}

Test(features, aggregates_count_sums_and_last_tx)
{
    mp_feat_table_t *t = table_new();
    mp_classification_t c = class_of(MP_PROTO_ERC20, MP_CAT_TRANSFER);
    mp_feat_result_t r;
    for (int i = 0; i < 10; i++) {
        mp_tx_seen_t tx = tx_with((uint8_t)i, 50000, 3000000000ull);
        cr_assert_eq(mp_feat_on_tx(t, &tx, &c, T0 + (uint64_t)i * S / 2, NULL, &r), 0);
        cr_assert_eq(r.inserted, i == 0);
    }
    const mp_rm_feature_top_t *e = mp_feat_find(t, MP_PROTO_ERC20, MP_CAT_TRANSFER);
    cr_assert_eq(e->count, 10);
    cr_assert_eq(e->gas_sum, 500000);
    cr_assert_eq(e->value_sum_gwei, 30);
    cr_assert_eq(e->first_seen_unix_ns, T0);
    cr_assert_eq(e->last_seen_unix_ns, T0 + 9 * S / 2);
    cr_assert_eq(e->last_tx[0], 9);
    cr_assert_eq(e->rate_60s, 10);
    free(t);
}

Test(features, late_tx_keeps_last_seen_and_moves_first_seen)
{
    mp_feat_table_t *t = table_new();
    feed(t, 1, 1, T0 + 10 * S);
    feed(t, 1, 1, T0 + 4 * S);
    const mp_rm_feature_top_t *e = mp_feat_find(t, 1, 1);
    cr_assert_eq(e->last_seen_unix_ns, T0 + 10 * S);
    cr_assert_eq(e->first_seen_unix_ns, T0 + 4 * S);
    cr_assert_eq(e->rate_60s, 2);
    free(t);
}

Test(features, sums_saturate)
{
    mp_feat_table_t *t = table_new();
    mp_classification_t c = class_of(MP_PROTO_ETH_TRANSFER, MP_CAT_TRANSFER);
    mp_tx_seen_t tx = tx_with(1, UINT64_MAX - 5, 0);
    memset(tx.value.be, 0xff, sizeof tx.value.be);
    mp_feat_result_t r;
    mp_feat_on_tx(t, &tx, &c, T0, NULL, &r);
    mp_feat_on_tx(t, &tx, &c, T0, NULL, &r);
    const mp_rm_feature_top_t *e = mp_feat_find(t, MP_PROTO_ETH_TRANSFER, MP_CAT_TRANSFER);
    cr_assert_eq(e->gas_sum, UINT64_MAX);
    cr_assert_eq(e->value_sum_gwei, UINT64_MAX);
    free(t);
}

Test(features, wei_to_gwei_rounds_down_and_saturates)
{
    mp_u256_t v;
    mp_u256_from_u64(&v, 1999999999ull);
    cr_assert_eq(mp_feat_wei_to_gwei(&v), 1);
    memset(&v, 0, sizeof v);
    v.be[15] = 1; /* 2^128 wei */
    cr_assert_eq(mp_feat_wei_to_gwei(&v), UINT64_MAX);
    memset(&v, 0, sizeof v);
    v.be[20] = 1; /* 2^88 wei = 309485009821345068.724781056 gwei */
    cr_assert_eq(mp_feat_wei_to_gwei(&v), 309485009821345068ull);
}

Test(features, table_holds_256_keys)
{
    mp_feat_table_t *t = table_new();
    for (unsigned k = 0; k < MP_FEAT_CAPACITY; k++) {
        mp_feat_result_t r = feed(t, k / 14, k % 14, T0 + k * S);
        cr_assert(r.inserted);
        cr_assert_not(r.evicted);
    }
    cr_assert_eq(t->used, MP_FEAT_CAPACITY);
    for (unsigned k = 0; k < MP_FEAT_CAPACITY; k++)
        cr_assert_not_null(mp_feat_find(t, k / 14, k % 14));
    free(t);
}

Test(features, full_table_evicts_the_least_recently_seen_key_and_reports_it)
{
    mp_feat_table_t *t = table_new();
    for (unsigned k = 0; k < MP_FEAT_CAPACITY; k++)
        feed(t, k / 14, k % 14, T0 + k * S);
    feed(t, 0, 0, T0 + 1000 * S); /* key 0 seen again: key 1 is now the oldest */
    mp_feat_result_t r = feed(t, 25, 13, T0 + 1001 * S);
    cr_assert(r.inserted);
    cr_assert(r.evicted);
    cr_assert_eq(r.evicted_protocol, 0);
    cr_assert_eq(r.evicted_category, 1);
    cr_assert_eq(r.slot, 1, "the evicted key's slot is reused");
    cr_assert_null(mp_feat_find(t, 0, 1));
    cr_assert_not_null(mp_feat_find(t, 0, 0));
    const mp_rm_feature_top_t *e = mp_feat_find(t, 25, 13);
    cr_assert_not_null(e);
    cr_assert_eq(e->count, 1, "the reused slot starts from zero");
    cr_assert_eq(t->used, MP_FEAT_CAPACITY);
    free(t);
}

Test(features, eviction_tie_takes_the_lowest_slot)
{
    mp_feat_table_t *t = table_new();
    for (unsigned k = 0; k < MP_FEAT_CAPACITY; k++)
        feed(t, k / 14, k % 14, T0);
    mp_feat_result_t r = feed(t, 25, 13, T0);
    cr_assert(r.evicted);
    cr_assert_eq(r.slot, 0);
    cr_assert_eq(r.evicted_protocol, 0);
    cr_assert_eq(r.evicted_category, 0);
    free(t);
}

Test(features, rejects_ids_outside_the_key_space)
{
    mp_feat_table_t *t = table_new();
    mp_tx_seen_t tx = tx_with(1, 1, 0);
    mp_classification_t c = class_of(MP_FEAT_MAX_PROTOCOLS, 0);
    mp_feat_result_t r;
    cr_assert_eq(mp_feat_on_tx(t, &tx, &c, T0, NULL, &r), -EINVAL);
    c = class_of(0, MP_FEAT_MAX_CATEGORIES);
    cr_assert_eq(mp_feat_on_tx(t, &tx, &c, T0, NULL, &r), -EINVAL);
    cr_assert_eq(mp_feat_on_tx(t, NULL, &c, T0, NULL, &r), -EINVAL);
    cr_assert_eq(t->used, 0);
    free(t);
}

Test(features, rate_counts_the_last_60_seconds)
{
    mp_feat_table_t *t = table_new();
    for (uint64_t s = 0; s < 90; s++)
        feed(t, 2, 1, T0 + s * S + S / 3); /* one tx per second */
    cr_assert_eq(mp_feat_find(t, 2, 1)->rate_60s, 60);
    free(t);
}

Test(features, tick_decays_rates_and_reports_changed_keys)
{
    mp_feat_table_t *t = table_new();
    for (uint64_t s = 0; s < 30; s++)
        feed(t, 2, 1, T0 + s * S);
    feed(t, 3, 1, T0 + 29 * S);
    uint16_t changed[MP_FEAT_CAPACITY];
    /* Tick closing second T0+29: nothing left the window. */
    cr_assert_eq(mp_feat_on_tick(t, T0 + 30 * S, NULL, changed, MP_FEAT_CAPACITY), 0);
    /* Tick closing T0+69: key (2,1) keeps seconds 10..29, key (3,1) keeps its one. */
    int n = mp_feat_on_tick(t, T0 + 70 * S, NULL, changed, MP_FEAT_CAPACITY);
    cr_assert_eq(n, 1);
    cr_assert_eq(changed[0], 0);
    cr_assert_eq(mp_feat_find(t, 2, 1)->rate_60s, 20);
    cr_assert_eq(mp_feat_find(t, 3, 1)->rate_60s, 1);
    /* Far later: both empty, both reported. */
    n = mp_feat_on_tick(t, T0 + 500 * S, NULL, changed, MP_FEAT_CAPACITY);
    cr_assert_eq(n, 2);
    cr_assert_eq(mp_feat_find(t, 2, 1)->rate_60s, 0);
    cr_assert_eq(mp_feat_find(t, 3, 1)->rate_60s, 0);
    free(t);
}

Test(features, tick_counts_beyond_the_changed_buffer)
{
    mp_feat_table_t *t = table_new();
    for (unsigned k = 0; k < 10; k++)
        feed(t, k, 0, T0);
    uint16_t changed[3];
    cr_assert_eq(mp_feat_on_tick(t, T0 + 100 * S, NULL, changed, 3), 10);
    cr_assert_eq(changed[2], 2);
    free(t);
}

Test(features, tick_leaves_idle_keys_untouched)
{
    mp_feat_table_t *t = table_new();
    for (unsigned k = 0; k < 50; k++)
        feed(t, k / 14, k % 14, T0);
    mp_feat_on_tick(t, T0 + 100 * S, NULL, NULL, 0);
    harness_t h;
    const mp_rm_touch_t *touch = harness_begin(&h, t, sizeof *t);
    cr_assert_eq(mp_feat_on_tick(t, T0 + 200 * S, touch, NULL, 0), 0);
    cr_assert_eq(harness_end(&h), 0);
    cr_assert_eq(h.touches, 0);
    free(t);
}

Test(features, fill_recent_copies_the_classified_tx)
{
    mp_tx_seen_t tx = tx_with(0x33, 90000, 5);
    memset(tx.from, 0x11, MP_ADDR_LEN);
    memset(tx.to, 0x22, MP_ADDR_LEN);
    tx.has_to = true;
    tx.max_priority_fee = 1500000000ull;
    mp_classification_t c = class_of(MP_PROTO_AAVE, MP_CAT_LENDING);
    c.has_selector = true;
    c.selector = 0x617ba037;
    mp_rm_feature_recent_t r;
    memset(&r, 0xee, sizeof r);
    mp_feat_fill_recent(&r, &tx, &c, T0 + 7);
    cr_assert_eq(r.seq, 0);
    cr_assert_eq(r.hash[0], 0x33);
    cr_assert_eq(r.from[19], 0x11);
    cr_assert_eq(r.to[0], 0x22);
    cr_assert_eq(r.has_to, 1);
    cr_assert_eq(r.protocol, MP_PROTO_AAVE);
    cr_assert_eq(r.category, MP_CAT_LENDING);
    cr_assert_eq(r.selector, 0x617ba037);
    cr_assert_eq(r.value.be[31], 5);
    cr_assert_eq(r.gas_limit, 90000);
    cr_assert_eq(r.max_priority_fee, 1500000000ull);
    cr_assert_eq(r.seen_unix_ns, T0 + 7);
}

Test(features, id_names_protocol_and_category)
{
    mp_rm_id_t id;
    mp_feat_id(MP_PROTO_UNIVERSAL_ROUTER, MP_CAT_LIQUIDATION, &id);
    cr_assert_str_eq((const char *)id.bytes, "universal-router/liquidation");
    mp_feat_id(MP_PROTO_UNISWAP_V2, MP_CAT_SWAP, &id);
    cr_assert_str_eq((const char *)id.bytes, "uniswap-v2/swap");
    cr_assert_eq(id.bytes[MP_RM_ID_LEN - 1], 0);
}

Test(features, update_of_a_known_key_touches_only_what_changes)
{
    mp_feat_table_t *t = table_new();
    feed(t, 1, 1, T0);
    harness_t h;
    const mp_rm_touch_t *touch = harness_begin(&h, t, sizeof *t);
    feed_touch(t, 1, 1, T0 + S / 2, touch);
    cr_assert_gt(harness_end(&h), 0);
    cr_assert_leq(h.touched_bytes, 96, "touched %zu bytes", h.touched_bytes);
    /* also across a second boundary (the window rolls) */
    touch = harness_begin(&h, t, sizeof *t);
    feed_touch(t, 1, 1, T0 + 61 * S, touch);
    harness_end(&h);
    cr_assert_leq(h.touched_bytes, 120, "touched %zu bytes", h.touched_bytes);
    free(t);
}

Test(features, insert_and_eviction_keep_the_touch_discipline)
{
    mp_feat_table_t *t = table_new();
    mp_tx_seen_t tx = tx_with(9, 21000, 7000000000ull);
    mp_feat_result_t r;
    for (unsigned k = 0; k <= MP_FEAT_CAPACITY + 3; k++) {
        mp_classification_t c = class_of(k / 14, k % 14);
        harness_t h;
        const mp_rm_touch_t *touch = harness_begin(&h, t, sizeof *t);
        cr_assert_eq(mp_feat_on_tx(t, &tx, &c, T0 + k * S, touch, &r), 0);
        harness_end(&h);
        cr_assert_leq(h.touched_bytes, 2 * sizeof(mp_rm_feature_top_t));
        cr_assert_eq(r.evicted, k >= MP_FEAT_CAPACITY);
    }
    free(t);
}

Test(features, tick_keeps_the_touch_discipline)
{
    mp_feat_table_t *t = table_new();
    for (uint64_t s = 0; s < 120; s++)
        feed(t, (unsigned)(s % 7), 1, T0 + s * S);
    for (uint64_t s = 121; s < 200; s += 7) {
        harness_t h;
        const mp_rm_touch_t *touch = harness_begin(&h, t, sizeof *t);
        mp_feat_on_tick(t, T0 + s * S, touch, NULL, 0);
        harness_end(&h);
    }
    free(t);
}

Test(features, same_events_give_identical_bytes)
{
    mp_feat_table_t *a = table_new(), *b = table_new();
    for (int pass = 0; pass < 2; pass++) {
        mp_feat_table_t *t = pass ? b : a;
        uint64_t now = T0;
        for (unsigned i = 0; i < 20000; i++) {
            now += (i % 97) * S / 50;
            mp_tx_seen_t tx = tx_with((uint8_t)i, 21000 + i, (uint64_t)i * 1000000000ull);
            mp_classification_t c = class_of((i * 31) % 26, (i * 17) % 14);
            mp_feat_result_t r;
            mp_feat_on_tx(t, &tx, &c, now, NULL, &r);
            if (i % 100 == 0) mp_feat_on_tick(t, now, NULL, NULL, 0);
        }
    }
    cr_assert_eq(memcmp(a, b, sizeof *a), 0);
    free(a);
    free(b);
}
