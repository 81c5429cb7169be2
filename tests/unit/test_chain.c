/* Unit tests for readmodel/chain.c: head from BLOCK, average block time over the last 8
 * deltas, tx rates on TICK, pending count, bounded table, touch discipline, determinism. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "readmodel/chain.h"

#include "touch_harness.h"

#define S 1000000000ull
#define T0 (1700000000ull * S)
#define TS0 1700000000ull

static mp_chain_table_t *table_new(void)
{
    mp_chain_table_t *t = malloc(sizeof *t);
    cr_assert(t);
    mp_chain_init(t);
    return t;
}

static mp_block_t block_of(uint64_t chain, uint64_t number, uint64_t timestamp)
{
    mp_block_t b;
    memset(&b, 0, sizeof b);
    b.chain_id = chain;
    b.number = number;
    memset(b.hash, (int)(number & 0xff), sizeof b.hash);
    b.base_fee = 10000000000ull + number;
    b.gas_used = 15000000;
    b.gas_limit = 30000000;
    b.timestamp = timestamp;
    b.tx_count = 150;
    return b;
}

static mp_chain_result_t apply_block(mp_chain_table_t *t, uint64_t chain, uint64_t number,
                                     uint64_t timestamp, const mp_rm_touch_t *touch)
{
    mp_block_t b = block_of(chain, number, timestamp);
    mp_chain_result_t r;
    cr_assert_eq(mp_chain_on_block(t, &b, timestamp * S + S / 2, touch, &r), 0);
    return r;
}

Test(chain, block_sets_the_head)
{
    mp_chain_table_t *t = table_new();
    mp_chain_result_t r = apply_block(t, 1, 100, TS0, NULL);
    cr_assert(r.inserted);
    cr_assert(r.changed);
    const mp_rm_chain_t *c = &t->chains[r.slot];
    cr_assert_eq(c->chain_id, 1);
    cr_assert_eq(c->head_number, 100);
    cr_assert_eq(c->head_hash[0], 100);
    cr_assert_eq(c->base_fee, 10000000100ull);
    cr_assert_eq(c->gas_used, 15000000);
    cr_assert_eq(c->gas_limit, 30000000);
    cr_assert_eq(c->head_timestamp, TS0);
    cr_assert_eq(c->head_seen_unix_ns, TS0 * S + S / 2);
    cr_assert_eq(c->blocks_seen, 1);
    cr_assert_eq(c->avg_block_time_ms, 0, "one block has no delta");
    free(t);
}

Test(chain, average_block_time_covers_the_last_eight_deltas)
{
    mp_chain_table_t *t = table_new();
    /* deltas: 100, 100, then 12 x 8 and 24: the last eight are 12,12,12,12,12,12,12,24 */
    uint64_t ts = TS0, n = 1;
    apply_block(t, 1, n, ts, NULL);
    ts += 100, n++;
    apply_block(t, 1, n, ts, NULL);
    ts += 100, n++;
    apply_block(t, 1, n, ts, NULL);
    for (int i = 0; i < 8; i++) {
        ts += 12, n++;
        apply_block(t, 1, n, ts, NULL);
    }
    ts += 24, n++;
    apply_block(t, 1, n, ts, NULL);
    const mp_rm_chain_t *c = &t->chains[0];
    cr_assert_eq(c->block_time_count, MP_RM_BLOCK_TIMES);
    cr_assert_eq(c->avg_block_time_ms, (7 * 12000 + 24000) / 8);
    cr_assert_eq(c->block_time_sum_ms, 7 * 12000 + 24000);
    free(t);
}

Test(chain, average_of_fewer_than_eight_deltas)
{
    mp_chain_table_t *t = table_new();
    apply_block(t, 1, 10, TS0, NULL);
    apply_block(t, 1, 11, TS0 + 12, NULL);
    apply_block(t, 1, 12, TS0 + 25, NULL);
    cr_assert_eq(t->chains[0].block_time_count, 2);
    cr_assert_eq(t->chains[0].avg_block_time_ms, 12500);
    free(t);
}

Test(chain, skipped_numbers_share_the_delta)
{
    mp_chain_table_t *t = table_new();
    apply_block(t, 1, 10, TS0, NULL);
    apply_block(t, 1, 13, TS0 + 36, NULL); /* two blocks missed */
    cr_assert_eq(t->chains[0].avg_block_time_ms, 12000);
    free(t);
}

Test(chain, older_block_keeps_the_head)
{
    mp_chain_table_t *t = table_new();
    apply_block(t, 1, 10, TS0, NULL);
    apply_block(t, 1, 11, TS0 + 12, NULL);
    mp_chain_result_t r = apply_block(t, 1, 9, TS0 - 12, NULL);
    const mp_rm_chain_t *c = &t->chains[r.slot];
    cr_assert_eq(c->head_number, 11);
    cr_assert_eq(c->head_timestamp, TS0 + 12);
    cr_assert_eq(c->blocks_seen, 3);
    cr_assert_eq(c->block_time_count, 1);
    free(t);
}

Test(chain, same_height_reorg_replaces_the_head_without_a_delta)
{
    mp_chain_table_t *t = table_new();
    apply_block(t, 1, 10, TS0, NULL);
    mp_block_t b = block_of(1, 10, TS0 + 1);
    b.hash[0] = 0xee;
    mp_chain_result_t r;
    mp_chain_on_block(t, &b, (TS0 + 2) * S, NULL, &r);
    cr_assert_eq(t->chains[0].head_hash[0], 0xee);
    cr_assert_eq(t->chains[0].block_time_count, 0);
    free(t);
}

Test(chain, tick_sets_tx_rates_over_10s_and_60s)
{
    mp_chain_table_t *t = table_new();
    mp_chain_result_t r;
    for (uint64_t s = 0; s < 30; s++)
        for (int k = 0; k < 3; k++)
            cr_assert_eq(mp_chain_on_tx(t, 1, T0 + s * S + (uint64_t)k, NULL, &r), 0);
    cr_assert_not(r.changed, "rates move on TICK only");
    cr_assert_eq(t->chains[0].tx_rate_10s, 0);
    uint16_t changed[MP_CHAIN_CAPACITY];
    cr_assert_eq(mp_chain_on_tick(t, T0 + 30 * S, NULL, changed, MP_CHAIN_CAPACITY), 1);
    cr_assert_eq(changed[0], 0);
    cr_assert_eq(t->chains[0].tx_rate_10s, 30);
    cr_assert_eq(t->chains[0].tx_rate_60s, 90);
    /* Same tick again: nothing changes. */
    cr_assert_eq(mp_chain_on_tick(t, T0 + 30 * S, NULL, changed, MP_CHAIN_CAPACITY), 0);
    free(t);
}

Test(chain, rates_fall_to_zero_after_a_long_gap)
{
    mp_chain_table_t *t = table_new();
    mp_chain_result_t r;
    for (uint64_t s = 0; s < 60; s++)
        mp_chain_on_tx(t, 1, T0 + s * S, NULL, &r);
    mp_chain_on_tick(t, T0 + 60 * S, NULL, NULL, 0);
    cr_assert_eq(t->chains[0].tx_rate_60s, 60);
    mp_chain_on_tick(t, T0 + 65 * S, NULL, NULL, 0);
    cr_assert_eq(t->chains[0].tx_rate_10s, 5, "seconds 55..59 are the last five of ten");
    cr_assert_eq(t->chains[0].tx_rate_60s, 55);
    mp_chain_on_tick(t, T0 + 10000 * S, NULL, NULL, 0);
    cr_assert_eq(t->chains[0].tx_rate_10s, 0);
    cr_assert_eq(t->chains[0].tx_rate_60s, 0);
    free(t);
}

Test(chain, pending_count_is_set_by_the_engine)
{
    mp_chain_table_t *t = table_new();
    mp_chain_result_t r = apply_block(t, 5, 1, TS0, NULL);
    cr_assert_eq(mp_chain_set_pending(t, r.slot, 42, NULL), 1);
    cr_assert_eq(mp_chain_set_pending(t, r.slot, 42, NULL), 0);
    cr_assert_eq(t->chains[r.slot].pending_count, 42);
    cr_assert_eq(mp_chain_set_pending(t, 7, 1, NULL), -EINVAL);
    free(t);
}

Test(chain, chains_are_kept_apart)
{
    mp_chain_table_t *t = table_new();
    apply_block(t, 1, 100, TS0, NULL);
    apply_block(t, 10, 5000, TS0, NULL);
    cr_assert_eq(mp_chain_find(t, 1), 0);
    cr_assert_eq(mp_chain_find(t, 10), 1);
    cr_assert_eq(mp_chain_find(t, 2), -ENOENT);
    cr_assert_eq(t->chains[1].head_number, 5000);
    cr_assert_eq(t->chains[0].head_number, 100);
    free(t);
}

Test(chain, full_table_evicts_the_least_recently_active_chain)
{
    mp_chain_table_t *t = table_new();
    mp_chain_result_t r;
    for (uint64_t id = 1; id <= MP_CHAIN_CAPACITY; id++)
        mp_chain_on_tx(t, id, T0 + id * S, NULL, &r);
    mp_chain_on_tx(t, 1, T0 + 100 * S, NULL, &r); /* chain 1 active again: 2 is oldest */
    mp_chain_on_tx(t, 999, T0 + 101 * S, NULL, &r);
    cr_assert(r.inserted);
    cr_assert(r.evicted);
    cr_assert_eq(r.evicted_chain_id, 2);
    cr_assert_eq(mp_chain_find(t, 2), -ENOENT);
    cr_assert_eq(mp_chain_find(t, 999), r.slot);
    cr_assert_eq(t->chains[r.slot].chain_id, 999);
    cr_assert_eq(t->chains[r.slot].blocks_seen, 0);
    free(t);
}

Test(chain, id_is_chain_and_number)
{
    mp_rm_id_t id;
    mp_chain_id(31337, &id);
    cr_assert_str_eq((const char *)id.bytes, "chain:31337");
}

Test(chain, every_mutator_keeps_the_touch_discipline)
{
    mp_chain_table_t *t = table_new();
    harness_t h;
    mp_chain_result_t r;
    uint64_t ts = TS0;
    for (int i = 0; i < 40; i++) {
        const mp_rm_touch_t *touch = harness_begin(&h, t, sizeof *t);
        uint64_t chain = 1 + (uint64_t)(i % 20); /* more chains than slots: evictions */
        if (i % 3 == 0)
            apply_block(t, chain, 100 + (uint64_t)i, ts += 12, touch);
        else
            mp_chain_on_tx(t, chain, ts * S + (uint64_t)i, touch, &r);
        harness_end(&h);
        touch = harness_begin(&h, t, sizeof *t);
        mp_chain_on_tick(t, (ts + 1) * S, touch, NULL, 0);
        harness_end(&h);
        touch = harness_begin(&h, t, sizeof *t);
        mp_chain_set_pending(t, 0, (uint64_t)i, touch);
        harness_end(&h);
    }
    free(t);
}

Test(chain, tx_touches_a_few_bytes)
{
    mp_chain_table_t *t = table_new();
    mp_chain_result_t r;
    mp_chain_on_tx(t, 1, T0, NULL, &r);
    harness_t h;
    const mp_rm_touch_t *touch = harness_begin(&h, t, sizeof *t);
    mp_chain_on_tx(t, 1, T0 + 5, touch, &r);
    harness_end(&h);
    cr_assert_eq(h.touched_bytes, sizeof(uint32_t));
    free(t);
}

Test(chain, same_events_give_identical_bytes)
{
    mp_chain_table_t *a = table_new(), *b = table_new();
    for (int pass = 0; pass < 2; pass++) {
        mp_chain_table_t *t = pass ? b : a;
        mp_chain_result_t r;
        for (uint64_t i = 0; i < 5000; i++) {
            uint64_t now = T0 + i * S / 7;
            if (i % 84 == 0) {
                mp_block_t blk = block_of(1 + i % 3, 1000 + i / 84, now / S);
                mp_chain_on_block(t, &blk, now, NULL, &r);
            }
            mp_chain_on_tx(t, 1 + i % 3, now, NULL, &r);
            if (i % 7 == 0) mp_chain_on_tick(t, now, NULL, NULL, 0);
        }
    }
    cr_assert_eq(memcmp(a, b, sizeof *a), 0);
    free(a);
    free(b);
}
