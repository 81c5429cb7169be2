/* Unit tests for readmodel/market.c: EIP-1559 next base fee, nearest-rank percentiles
 * over the rolling sample window (expiry by time and by count), histogram edges, block
 * and tick updates, prices with change_1m, bounded tables, touch discipline and
 * determinism. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readmodel/market.h"

#include "touch_harness.h"

#define S 1000000000ull
#define T0 (1700000000ull * S)
#define GWEI 1000000000ull

static mp_market_table_t *markets_new(void)
{
    mp_market_table_t *t = malloc(sizeof *t);
    cr_assert(t);
    mp_market_init(t);
    return t;
}

static mp_price_table_t *prices_new(void)
{
    mp_price_table_t *t = malloc(sizeof *t);
    cr_assert(t);
    mp_price_init(t);
    return t;
}

static mp_tx_seen_t tx_1559(uint64_t chain, uint64_t prio, uint64_t max)
{
    mp_tx_seen_t tx;
    memset(&tx, 0, sizeof tx);
    tx.chain_id = chain;
    tx.tx_type = 2;
    tx.gas_price = max;
    tx.max_fee = max;
    tx.max_priority_fee = prio;
    return tx;
}

static void add_sample(mp_market_table_t *t, uint64_t prio, uint64_t max, uint64_t time_ns)
{
    mp_tx_seen_t tx = tx_1559(1, prio, max);
    mp_market_result_t r;
    cr_assert_eq(mp_market_on_tx(t, &tx, time_ns, NULL, &r), 0);
}

static mp_block_t block_of(uint64_t number, uint64_t base, uint64_t used, uint64_t limit)
{
    mp_block_t b;
    memset(&b, 0, sizeof b);
    b.chain_id = 1;
    b.number = number;
    b.base_fee = base;
    b.gas_used = used;
    b.gas_limit = limit;
    b.timestamp = T0 / S;
    return b;
}

/* ---- EIP-1559 ---- */

Test(market, next_base_fee_at_target_is_unchanged)
{
    cr_assert_eq(mp_market_next_base_fee(30 * GWEI, 15000000, 30000000), 30 * GWEI);
}

Test(market, next_base_fee_of_a_full_block_rises_an_eighth)
{
    cr_assert_eq(mp_market_next_base_fee(100 * GWEI, 30000000, 30000000), 112500000000ull);
}

Test(market, next_base_fee_above_target_is_proportional)
{
    /* used = 1.5 x target: + base * 0.5 / 8 */
    cr_assert_eq(mp_market_next_base_fee(64 * GWEI, 22500000, 30000000), 68 * GWEI);
}

Test(market, next_base_fee_above_target_rises_at_least_one_wei)
{
    cr_assert_eq(mp_market_next_base_fee(7, 15000001, 30000000), 8);
    cr_assert_eq(mp_market_next_base_fee(0, 30000000, 30000000), 1);
}

Test(market, next_base_fee_of_an_empty_block_falls_an_eighth)
{
    cr_assert_eq(mp_market_next_base_fee(80 * GWEI, 0, 30000000), 70 * GWEI);
}

Test(market, next_base_fee_below_target_is_proportional_and_rounds_down_the_drop)
{
    /* used = target / 2: - base * 0.5 / 8 = - base / 16 */
    cr_assert_eq(mp_market_next_base_fee(16 * GWEI, 7500000, 30000000), 15 * GWEI);
    /* a drop under one wei is no drop */
    cr_assert_eq(mp_market_next_base_fee(7, 14999999, 30000000), 7);
}

Test(market, next_base_fee_keeps_base_without_a_target)
{
    cr_assert_eq(mp_market_next_base_fee(5 * GWEI, 0, 0), 5 * GWEI);
    cr_assert_eq(mp_market_next_base_fee(5 * GWEI, 1, 1), 5 * GWEI);
}

Test(market, next_base_fee_saturates)
{
    cr_assert_eq(mp_market_next_base_fee(UINT64_MAX - 1, 30000000, 30000000), UINT64_MAX);
    /* huge products do not overflow in between */
    cr_assert_eq(mp_market_next_base_fee(UINT64_MAX / 2, 0, UINT64_MAX),
                 UINT64_MAX / 2 - UINT64_MAX / 2 / 8);
}

/* ---- percentiles and histogram ---- */

Test(market, nearest_rank_percentiles_of_known_sets)
{
    uint64_t v[100];
    for (int i = 0; i < 100; i++)
        v[i] = (uint64_t)i + 1;
    cr_assert_eq(mp_market_percentile(v, 100, 10), 10);
    cr_assert_eq(mp_market_percentile(v, 100, 25), 25);
    cr_assert_eq(mp_market_percentile(v, 100, 50), 50);
    cr_assert_eq(mp_market_percentile(v, 100, 90), 90);
    cr_assert_eq(mp_market_percentile(v, 100, 100), 100);
    cr_assert_eq(mp_market_percentile(v, 100, 0), 1);
    uint64_t w[] = {3, 5, 7, 9, 11}; /* ranks ceil(0.1*5)=1, ceil(0.25*5)=2, 3, 4, 5 */
    cr_assert_eq(mp_market_percentile(w, 5, 10), 3);
    cr_assert_eq(mp_market_percentile(w, 5, 25), 5);
    cr_assert_eq(mp_market_percentile(w, 5, 50), 7);
    cr_assert_eq(mp_market_percentile(w, 5, 75), 9);
    cr_assert_eq(mp_market_percentile(w, 5, 90), 11);
    cr_assert_eq(mp_market_percentile(w, 1, 90), 3);
    cr_assert_eq(mp_market_percentile(w, 0, 50), 0);
}

Test(market, window_percentiles_of_priority_and_max_fee)
{
    mp_market_table_t *t = markets_new();
    /* priority 1..100 gwei, max fee 1000..1099 gwei, in scrambled order */
    for (uint64_t i = 0; i < 100; i++) {
        uint64_t k = (i * 37) % 100;
        add_sample(t, (k + 1) * GWEI, (1000 + k) * GWEI, T0 + i * S / 10);
    }
    mp_market_chain_t *m = &t->chains[0];
    cr_assert_eq(mp_market_recompute(m, T0 + 20 * S, NULL), 1);
    cr_assert_eq(m->fees.samples, 100);
    uint64_t want_p[5] = {10, 25, 50, 75, 90};
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(m->fees.priority_fee_pct[i], want_p[i] * GWEI);
        cr_assert_eq(m->fees.max_fee_pct[i], (999 + want_p[i]) * GWEI);
    }
    cr_assert_eq(m->fees.window_ms, 60000);
    cr_assert_eq(m->fees.updated_unix_ns, T0 + 20 * S);
    free(t);
}

Test(market, samples_leave_the_window_after_60_seconds)
{
    mp_market_table_t *t = markets_new();
    for (int i = 0; i < 10; i++)
        add_sample(t, 1 * GWEI, 2 * GWEI, T0);
    for (int i = 0; i < 10; i++)
        add_sample(t, 9 * GWEI, 20 * GWEI, T0 + 30 * S);
    mp_market_chain_t *m = &t->chains[0];
    mp_market_recompute(m, T0 + 59 * S, NULL);
    cr_assert_eq(m->fees.samples, 20);
    cr_assert_eq(m->fees.priority_fee_pct[0], 1 * GWEI);
    mp_market_recompute(m, T0 + 60 * S, NULL);
    cr_assert_eq(m->fees.samples, 10, "a sample 60 s old has left");
    cr_assert_eq(m->fees.priority_fee_pct[0], 9 * GWEI);
    cr_assert_eq(m->fees.max_fee_pct[4], 20 * GWEI);
    mp_market_recompute(m, T0 + 1000 * S, NULL);
    cr_assert_eq(m->fees.samples, 0);
    cr_assert_eq(m->fees.priority_fee_pct[2], 0);
    free(t);
}

Test(market, oldest_samples_are_dropped_past_capacity)
{
    mp_market_table_t *t = markets_new();
    for (int i = 0; i < 100; i++)
        add_sample(t, 1, 1, T0); /* the oldest 100: overwritten below */
    for (int i = 0; i < MP_MARKET_SAMPLES; i++)
        add_sample(t, 1000 + (uint64_t)i, 5000, T0 + 1);
    mp_market_chain_t *m = &t->chains[0];
    mp_market_recompute(m, T0 + S, NULL);
    cr_assert_eq(m->fees.samples, MP_MARKET_SAMPLES);
    cr_assert_eq(m->fees.priority_fee_pct[0], 1000 + 410 - 1, "rank ceil(409.6) = 410");
    cr_assert_eq(m->fees.max_fee_pct[0], 5000);
    free(t);
}

Test(market, histogram_bucket_edges)
{
    cr_assert_eq(mp_market_hist_edge(0), 0);
    cr_assert_eq(mp_market_hist_edge(1), GWEI / 100);
    cr_assert_eq(mp_market_hist_edge(6), GWEI);
    cr_assert_eq(mp_market_hist_edge(7), 3 * GWEI / 2);
    cr_assert_eq(mp_market_hist_edge(14), 100 * GWEI);
    cr_assert_eq(mp_market_hist_edge(15), 200 * GWEI);
    cr_assert_eq(mp_market_hist_edge(16), UINT64_MAX);
    for (unsigned i = 0; i < MP_RM_FEE_HIST_BUCKETS; i++) {
        cr_assert_eq(mp_market_hist_bucket(mp_market_hist_edge(i)), i, "edge %u", i);
        if (i) cr_assert_eq(mp_market_hist_bucket(mp_market_hist_edge(i) - 1), i - 1, "edge %u", i);
    }
    cr_assert_eq(mp_market_hist_bucket(UINT64_MAX), MP_RM_FEE_HIST_BUCKETS - 1);
}

Test(market, histogram_counts_the_window)
{
    mp_market_table_t *t = markets_new();
    add_sample(t, 0, 1, T0);
    add_sample(t, GWEI / 100 - 1, 1, T0);
    add_sample(t, GWEI, 1, T0);
    add_sample(t, 2 * GWEI - 1, 1, T0);
    add_sample(t, 500 * GWEI, 1, T0);
    mp_market_chain_t *m = &t->chains[0];
    mp_market_recompute(m, T0, NULL);
    cr_assert_eq(m->fees.histogram[0], 2);
    cr_assert_eq(m->fees.histogram[6], 1);
    cr_assert_eq(m->fees.histogram[7], 1);
    cr_assert_eq(m->fees.histogram[15], 1);
    uint32_t total = 0;
    for (int i = 0; i < MP_RM_FEE_HIST_BUCKETS; i++)
        total += m->fees.histogram[i];
    cr_assert_eq(total, 5);
    free(t);
}

Test(market, legacy_tx_bids_above_the_base_fee)
{
    mp_market_table_t *t = markets_new();
    mp_market_result_t r;
    mp_block_t b = block_of(10, 20 * GWEI, 15000000, 30000000);
    mp_market_on_block(t, &b, T0, NULL, &r);
    mp_tx_seen_t tx;
    memset(&tx, 0, sizeof tx);
    tx.chain_id = 1;
    tx.gas_price = 23 * GWEI;
    mp_market_on_tx(t, &tx, T0 + 1, NULL, &r);
    tx.gas_price = 10 * GWEI; /* under the base fee: no tip */
    mp_market_on_tx(t, &tx, T0 + 2, NULL, &r);
    const mp_market_chain_t *m = &t->chains[0];
    cr_assert_eq(m->samples[0].priority_fee, 3 * GWEI);
    cr_assert_eq(m->samples[0].max_fee, 23 * GWEI);
    cr_assert_eq(m->samples[1].priority_fee, 0);
    free(t);
}

Test(market, block_sets_base_and_next_base_fee)
{
    mp_market_table_t *t = markets_new();
    mp_market_result_t r;
    mp_block_t b = block_of(10, 80 * GWEI, 30000000, 30000000);
    cr_assert_eq(mp_market_on_block(t, &b, T0, NULL, &r), 0);
    cr_assert(r.changed);
    cr_assert_eq(t->chains[r.slot].fees.base_fee, 80 * GWEI);
    cr_assert_eq(t->chains[r.slot].fees.next_base_fee, 90 * GWEI);
    cr_assert_eq(t->chains[r.slot].fees.chain_id, 1);
    /* an older block changes nothing */
    b = block_of(9, 1, 0, 30000000);
    mp_market_on_block(t, &b, T0 + 1, NULL, &r);
    cr_assert_not(r.changed);
    cr_assert_eq(t->chains[r.slot].fees.base_fee, 80 * GWEI);
    free(t);
}

Test(market, recompute_without_change_writes_nothing)
{
    mp_market_table_t *t = markets_new();
    add_sample(t, GWEI, 2 * GWEI, T0);
    mp_market_chain_t *m = &t->chains[0];
    cr_assert_eq(mp_market_recompute(m, T0 + S, NULL), 1);
    harness_t h;
    const mp_rm_touch_t *touch = harness_begin(&h, t, sizeof *t);
    cr_assert_eq(mp_market_recompute(m, T0 + 2 * S, touch), 0);
    cr_assert_eq(harness_end(&h), 0);
    cr_assert_eq(h.touches, 0);
    cr_assert_eq(m->fees.updated_unix_ns, T0 + S, "updated is the last change");
    free(t);
}

Test(market, tick_reports_changed_markets)
{
    mp_market_table_t *t = markets_new();
    add_sample(t, GWEI, 2 * GWEI, T0);
    mp_tx_seen_t tx = tx_1559(5, GWEI, GWEI);
    mp_market_result_t r;
    mp_market_on_tx(t, &tx, T0, NULL, &r);
    uint16_t changed[MP_MARKET_CAPACITY];
    cr_assert_eq(mp_market_on_tick(t, T0 + S, NULL, changed, MP_MARKET_CAPACITY), 2);
    cr_assert_eq(mp_market_on_tick(t, T0 + 2 * S, NULL, changed, MP_MARKET_CAPACITY), 0);
    add_sample(t, 3 * GWEI, 3 * GWEI, T0 + 2 * S);
    cr_assert_eq(mp_market_on_tick(t, T0 + 3 * S, NULL, changed, MP_MARKET_CAPACITY), 1);
    cr_assert_eq(changed[0], 0);
    free(t);
}

Test(market, full_table_evicts_the_least_recently_active_chain)
{
    mp_market_table_t *t = markets_new();
    mp_market_result_t r;
    for (uint64_t id = 1; id <= MP_MARKET_CAPACITY; id++) {
        mp_tx_seen_t tx = tx_1559(id, 1, 1);
        mp_market_on_tx(t, &tx, T0 + id * S, NULL, &r);
    }
    mp_tx_seen_t tx = tx_1559(1, 1, 1);
    mp_market_on_tx(t, &tx, T0 + 50 * S, NULL, &r);
    tx = tx_1559(77, 1, 1);
    mp_market_on_tx(t, &tx, T0 + 51 * S, NULL, &r);
    cr_assert(r.evicted);
    cr_assert_eq(r.evicted_chain_id, 2);
    cr_assert_eq(mp_market_find(t, 2), -ENOENT);
    cr_assert_eq(mp_market_find(t, 77), r.slot);
    cr_assert_eq(t->chains[r.slot].added, 1, "the slot starts empty");
    free(t);
}

Test(market, ids_name_chain_and_symbol)
{
    mp_rm_id_t id;
    mp_market_fee_id(1, &id);
    cr_assert_str_eq((const char *)id.bytes, "fees:1");
    mp_market_price_id("ETH/USD", &id);
    cr_assert_str_eq((const char *)id.bytes, "price:ETH/USD");
}

/* ---- prices ---- */

static mp_price_t price_of(const char *sym, double v)
{
    mp_price_t p;
    memset(&p, 0, sizeof p);
    strncpy(p.symbol, sym, sizeof p.symbol - 1);
    p.price = v;
    return p;
}

static mp_price_result_t tick_price(mp_price_table_t *t, const char *sym, double v,
                                    uint64_t time_ns, const mp_rm_touch_t *touch)
{
    mp_price_t p = price_of(sym, v);
    mp_price_result_t r;
    cr_assert_eq(mp_price_on_tick(t, &p, time_ns, touch, &r), 0);
    return r;
}

Test(market, first_price_has_no_change)
{
    mp_price_table_t *t = prices_new();
    mp_price_result_t r = tick_price(t, "ETH/USD", 3000.5, T0, NULL);
    cr_assert(r.inserted);
    const mp_rm_price_t *p = &t->slots[r.slot].price;
    cr_assert_str_eq(p->symbol, "ETH/USD");
    cr_assert_eq(p->price, 3000.5);
    cr_assert_eq(p->change_1m, 0);
    cr_assert_eq(p->ref_price, 3000.5);
    cr_assert_eq(p->ref_unix_ns, T0);
    cr_assert_eq(p->updated_unix_ns, T0);
    free(t);
}

Test(market, change_1m_uses_the_price_about_a_minute_earlier)
{
    mp_price_table_t *t = prices_new();
    /* a tick every 2 s, price = 1000 + seconds */
    mp_price_result_t r;
    for (uint64_t s = 0; s <= 120; s += 2)
        r = tick_price(t, "ETH/USD", 1000.0 + (double)s, T0 + s * S, NULL);
    const mp_rm_price_t *p = &t->slots[r.slot].price;
    uint64_t age = T0 + 120 * S - p->ref_unix_ns;
    cr_assert_geq(age, 60 * S);
    cr_assert_leq(age, 66 * S, "reference %llu s old", (unsigned long long)(age / S));
    cr_assert_eq(p->change_1m, p->price - p->ref_price);
    cr_assert_eq(p->ref_price, 1000.0 + (double)((p->ref_unix_ns - T0) / S));
    cr_assert_geq(p->change_1m, 60.0);
    cr_assert_leq(p->change_1m, 66.0);
    free(t);
}

Test(market, change_within_the_first_minute_is_since_the_first_tick)
{
    mp_price_table_t *t = prices_new();
    tick_price(t, "BTC/USD", 60000, T0, NULL);
    tick_price(t, "BTC/USD", 60100, T0 + 10 * S, NULL);
    mp_price_result_t r = tick_price(t, "BTC/USD", 59900, T0 + 30 * S, NULL);
    const mp_rm_price_t *p = &t->slots[r.slot].price;
    cr_assert_eq(p->ref_unix_ns, T0);
    cr_assert_eq(p->change_1m, -100.0);
    free(t);
}

Test(market, symbols_are_kept_apart)
{
    mp_price_table_t *t = prices_new();
    tick_price(t, "ETH/USD", 3000, T0, NULL);
    tick_price(t, "BTC/USD", 60000, T0, NULL);
    tick_price(t, "ETH/USD", 3100, T0 + S, NULL);
    cr_assert_eq(mp_price_find(t, "ETH/USD"), 0);
    cr_assert_eq(mp_price_find(t, "BTC/USD"), 1);
    cr_assert_eq(t->slots[0].price.price, 3100);
    cr_assert_eq(t->slots[1].price.price, 60000);
    cr_assert_eq(mp_price_find(t, "SOL/USD"), -ENOENT);
    free(t);
}

Test(market, full_price_table_evicts_the_least_recently_updated_symbol)
{
    mp_price_table_t *t = prices_new();
    char sym[16];
    for (unsigned i = 0; i < MP_PRICE_CAPACITY; i++) {
        snprintf(sym, sizeof sym, "T%u/USD", i);
        tick_price(t, sym, 1, T0 + i * S, NULL);
    }
    tick_price(t, "T0/USD", 2, T0 + 100 * S, NULL);
    mp_price_result_t r = tick_price(t, "NEW/USD", 5, T0 + 101 * S, NULL);
    cr_assert(r.evicted);
    cr_assert_str_eq(r.evicted_symbol, "T1/USD");
    cr_assert_eq(mp_price_find(t, "T1/USD"), -ENOENT);
    cr_assert_eq(mp_price_find(t, "NEW/USD"), r.slot);
    cr_assert_eq(t->slots[r.slot].hist_count, 1, "history starts over");
    free(t);
}

Test(market, price_rejects_bad_ticks)
{
    mp_price_table_t *t = prices_new();
    mp_price_result_t r;
    mp_price_t p = price_of("ETH/USD", NAN);
    cr_assert_eq(mp_price_on_tick(t, &p, T0, NULL, &r), -EINVAL);
    p = price_of("", 1);
    cr_assert_eq(mp_price_on_tick(t, &p, T0, NULL, &r), -EINVAL);
    p = price_of("ETH/USD", 1);
    memset(p.symbol, 'A', sizeof p.symbol); /* unterminated */
    cr_assert_eq(mp_price_on_tick(t, &p, T0, NULL, &r), -EINVAL);
    cr_assert_eq(t->used, 0);
    free(t);
}

/* ---- discipline ---- */

Test(market, every_mutator_keeps_the_touch_discipline)
{
    mp_market_table_t *t = markets_new();
    harness_t h;
    mp_market_result_t r;
    for (uint64_t i = 0; i < 300; i++) {
        uint64_t now = T0 + i * S / 3;
        const mp_rm_touch_t *touch = harness_begin(&h, t, sizeof *t);
        mp_tx_seen_t tx = tx_1559(1 + i % 18, i * GWEI / 7, 2 * i * GWEI);
        if (i % 5 == 0) tx.max_fee = tx.max_priority_fee = 0;
        mp_market_on_tx(t, &tx, now, touch, &r);
        harness_end(&h);
        if (r.inserted == false)
            cr_assert_leq(h.touched_bytes, 64, "a sample touches %zu bytes", h.touched_bytes);
        if (i % 10 == 0) {
            touch = harness_begin(&h, t, sizeof *t);
            mp_block_t b = block_of(100 + i, (10 + i) * GWEI, i * 100000, 30000000);
            b.chain_id = 1 + i % 18;
            mp_market_on_block(t, &b, now, touch, &r);
            harness_end(&h);
        }
        if (i % 3 == 0) {
            touch = harness_begin(&h, t, sizeof *t);
            mp_market_on_tick(t, now, touch, NULL, 0);
            harness_end(&h);
        }
    }
    free(t);
}

Test(market, price_updates_keep_the_touch_discipline)
{
    mp_price_table_t *t = prices_new();
    harness_t h;
    char sym[16];
    for (uint64_t i = 0; i < 200; i++) {
        snprintf(sym, sizeof sym, "S%u/USD", (unsigned)(i % 40));
        const mp_rm_touch_t *touch = harness_begin(&h, t, sizeof *t);
        tick_price(t, sym, 100.0 + (double)i, T0 + i * S, touch);
        harness_end(&h);
    }
    free(t);
}

Test(market, same_events_give_identical_bytes)
{
    mp_market_table_t *a = markets_new(), *b = markets_new();
    mp_price_table_t *pa = prices_new(), *pb = prices_new();
    for (int pass = 0; pass < 2; pass++) {
        mp_market_table_t *t = pass ? b : a;
        mp_price_table_t *pt = pass ? pb : pa;
        mp_market_result_t r;
        for (uint64_t i = 0; i < 20000; i++) {
            uint64_t now = T0 + i * S / 100;
            mp_tx_seen_t tx =
                tx_1559(1 + i % 2, (i * 7919) % 5000 * GWEI / 100, (i * 104729) % 300 * GWEI);
            mp_market_on_tx(t, &tx, now, NULL, &r);
            if (i % 100 == 0) mp_market_on_tick(t, now, NULL, NULL, 0);
            if (i % 1200 == 0) {
                mp_block_t blk =
                    block_of(i / 1200, (20 + i % 13) * GWEI, (i * 31) % 30000000, 30000000);
                mp_market_on_block(t, &blk, now, NULL, &r);
            }
            if (i % 200 == 0) {
                mp_price_t p = price_of("ETH/USD", 3000 + (double)(i % 77) / 3);
                mp_price_result_t pr;
                mp_price_on_tick(pt, &p, now, NULL, &pr);
            }
        }
    }
    cr_assert_eq(memcmp(a, b, sizeof *a), 0);
    cr_assert_eq(memcmp(pa, pb, sizeof *pa), 0);
    free(a);
    free(b);
    free(pa);
    free(pb);
}
