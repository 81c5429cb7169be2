/* Owns the chain_status table: per chain id head, base fee, gas use, the block-time ring
 * behind avg_block_time_ms and the tx rate windows, with least-recently-active eviction. */
#include "readmodel/chain.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "readmodel/lru_slots.h"
#include "readmodel/rate.h"

void mp_chain_init(mp_chain_table_t *t)
{
    memset(t, 0, sizeof *t);
}

int mp_chain_find(const mp_chain_table_t *t, uint64_t chain_id)
{
    return mp_lru_find_id(t->chain_ids, t->used, chain_id);
}

/* Finds or makes the slot of chain_id and marks it active at `second`. A new chain takes
 * a free slot, or the one least recently active (ties: lowest slot). */
static uint32_t claim_slot(mp_chain_table_t *t, uint64_t chain_id, uint64_t second,
                           const mp_rm_touch_t *touch, mp_chain_result_t *res)
{
    bool inserted;
    uint32_t slot =
        mp_lru_claim_id(&t->used, MP_CHAIN_CAPACITY, t->chain_ids, t->last_active_s, chain_id,
                        touch, &inserted, &res->evicted, &res->evicted_chain_id);
    if (inserted) {
        mp_rm_chain_t *c = &t->chains[slot];
        mp_rm_touch(touch, c, sizeof *c);
        memset(c, 0, sizeof *c);
        c->chain_id = chain_id;
        res->inserted = true;
        res->changed = true;
    }
    mp_lru_mark_active(t->last_active_s, slot, second, inserted, touch);
    res->slot = (int32_t)slot;
    return slot;
}

/* Pushes one block time into the ring; keeps block_time_sum_ms the sum of the ring's
 * count entries and avg_block_time_ms their mean. */
static void push_block_time(mp_rm_chain_t *c, uint32_t ms, const mp_rm_touch_t *touch)
{
    mp_rm_touch(touch, &c->block_time_sum_ms,
                sizeof(mp_rm_chain_t) - offsetof(mp_rm_chain_t, block_time_sum_ms));
    uint32_t i = c->block_time_next % MP_RM_BLOCK_TIMES;
    if (c->block_time_count == MP_RM_BLOCK_TIMES)
        c->block_time_sum_ms -= c->block_times_ms[i];
    else
        c->block_time_count++;
    c->block_times_ms[i] = ms;
    c->block_time_sum_ms += ms;
    c->block_time_next = (i + 1) % MP_RM_BLOCK_TIMES;
    mp_rm_touch(touch, &c->avg_block_time_ms, sizeof c->avg_block_time_ms);
    c->avg_block_time_ms = c->block_time_sum_ms / c->block_time_count;
}

int mp_chain_on_block(mp_chain_table_t *t, const mp_block_t *b, uint64_t time_ns,
                      const mp_rm_touch_t *touch, mp_chain_result_t *res)
{
    if (!t || !b || !res) return -EINVAL;
    memset(res, 0, sizeof *res);
    uint32_t slot = claim_slot(t, b->chain_id, mp_rate_second(time_ns), touch, res);
    mp_rm_chain_t *c = &t->chains[slot];
    bool had_head = c->blocks_seen > 0;

    mp_rm_touch(touch, &c->blocks_seen, sizeof c->blocks_seen);
    c->blocks_seen++;
    res->changed = true;
    if (had_head && b->number < c->head_number)
        return 0; /* late or reorged-away block: the head stays */

    if (had_head && b->number > c->head_number && b->timestamp >= c->head_timestamp) {
        uint64_t ds = b->timestamp - c->head_timestamp;
        uint64_t ms = ds > UINT32_MAX ? UINT32_MAX : ds * 1000u / (b->number - c->head_number);
        push_block_time(c, ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms, touch);
    }
    /* head_number .. head_seen_unix_ns are contiguous */
    mp_rm_touch(touch, &c->head_number,
                offsetof(mp_rm_chain_t, avg_block_time_ms) - offsetof(mp_rm_chain_t, head_number));
    c->head_number = b->number;
    memcpy(c->head_hash, b->hash, MP_HASH_LEN);
    c->base_fee = b->base_fee;
    c->gas_used = b->gas_used;
    c->gas_limit = b->gas_limit;
    c->head_timestamp = b->timestamp;
    c->head_seen_unix_ns = time_ns;
    return 0;
}

int mp_chain_on_tx(mp_chain_table_t *t, uint64_t chain_id, uint64_t time_ns,
                   const mp_rm_touch_t *touch, mp_chain_result_t *res)
{
    if (!t || !res) return -EINVAL;
    memset(res, 0, sizeof *res);
    uint64_t sec = mp_rate_second(time_ns);
    uint32_t slot = claim_slot(t, chain_id, sec, touch, res);
    mp_rm_chain_t *c = &t->chains[slot];
    mp_rate_record(c->buckets, &c->bucket_second, sec, 1, touch);
    return 0;
}

int mp_chain_on_tick(mp_chain_table_t *t, uint64_t time_ns, const mp_rm_touch_t *touch,
                     uint16_t *changed, int max_changed)
{
    if (!t) return -EINVAL;
    uint64_t sec = mp_rate_tick_second(time_ns);
    int n = 0;
    for (uint32_t i = 0; i < t->used; i++) {
        mp_rm_chain_t *c = &t->chains[i];
        mp_rate_roll(c->buckets, &c->bucket_second, sec, touch);
        uint32_t r10 = mp_rate_sum(c->buckets, c->bucket_second, c->bucket_second, 10);
        uint32_t r60 = mp_rate_sum(c->buckets, c->bucket_second, c->bucket_second, 60);
        if (r10 == c->tx_rate_10s && r60 == c->tx_rate_60s) continue;
        mp_rm_touch(touch, &c->tx_rate_10s, sizeof c->tx_rate_10s + sizeof c->tx_rate_60s);
        c->tx_rate_10s = r10;
        c->tx_rate_60s = r60;
        if (changed && n < max_changed) changed[n] = (uint16_t)i;
        n++;
    }
    return n;
}

int mp_chain_set_pending(mp_chain_table_t *t, int slot, uint64_t pending,
                         const mp_rm_touch_t *touch)
{
    if (!t || slot < 0 || (uint32_t)slot >= t->used) return -EINVAL;
    mp_rm_chain_t *c = &t->chains[slot];
    if (c->pending_count == pending) return 0;
    mp_rm_touch(touch, &c->pending_count, sizeof c->pending_count);
    c->pending_count = pending;
    return 1;
}

void mp_chain_id(uint64_t chain_id, mp_rm_id_t *id)
{
    memset(id, 0, sizeof *id);
    snprintf((char *)id->bytes, sizeof id->bytes, "chain:%" PRIu64, chain_id);
}
