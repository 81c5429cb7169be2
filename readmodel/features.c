/* Owns the feature_top table: per (protocol, category) counts, sums, last tx and 60 s
 * rate, its direct key index and least-recently-seen eviction; plus the recent-row
 * view of a classified transaction. */
#include "readmodel/feature_top.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "readmodel/rate.h"

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static inline unsigned key_of(unsigned protocol, unsigned category)
{
    return protocol * MP_FEAT_MAX_CATEGORIES + category;
}

void mp_feat_init(mp_feat_table_t *t)
{
    memset(t, 0, sizeof *t);
}

uint64_t mp_feat_wei_to_gwei(const mp_u256_t *wei)
{
    static const uint8_t zero[24];
    if (!memcmp(wei->be, zero, 24)) { /* fits in 64 bits: the common case */
        uint64_t v = 0;
        for (int i = 24; i < 32; i++)
            v = v << 8 | wei->be[i];
        return v / 1000000000ull;
    }
    if (memcmp(wei->be, zero, 16)) return UINT64_MAX; /* >= 2^128 wei is far above 2^64 gwei */
    unsigned __int128 v = 0;
    for (int i = 16; i < 32; i++)
        v = v << 8 | wei->be[i];
    v /= 1000000000u;
    return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

/* The held key seen least recently (smallest last_seen; ties: lowest slot). Called only
 * when the table is full and a new key arrives, so its O(capacity) scan is rare: the
 * whole key space of the catalog is a few hundred keys and a live mix uses tens. */
static uint32_t least_recent_slot(const mp_feat_table_t *t)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < t->used; i++)
        if (t->entries[i].last_seen_unix_ns < t->entries[best].last_seen_unix_ns) best = i;
    return best;
}

/* Finds or makes the slot of key; a new entry is zeroed and keyed, first/last seen at
 * time_ns. */
static uint32_t claim_slot(mp_feat_table_t *t, unsigned protocol, unsigned category,
                           uint64_t time_ns, const mp_rm_touch_t *touch, mp_feat_result_t *res)
{
    unsigned key = key_of(protocol, category);
    if (t->slot_of[key]) return t->slot_of[key] - 1u;

    uint32_t slot;
    if (t->used < MP_FEAT_CAPACITY) {
        slot = t->used;
        mp_rm_touch(touch, &t->used, sizeof t->used);
        t->used++;
    } else {
        slot = least_recent_slot(t);
        const mp_rm_feature_top_t *old = &t->entries[slot];
        unsigned old_key = key_of(old->protocol, old->category);
        res->evicted = true;
        res->evicted_protocol = old->protocol;
        res->evicted_category = old->category;
        mp_rm_touch(touch, &t->slot_of[old_key], sizeof t->slot_of[0]);
        t->slot_of[old_key] = 0;
    }
    mp_rm_touch(touch, &t->slot_of[key], sizeof t->slot_of[0]);
    t->slot_of[key] = (uint16_t)(slot + 1);

    mp_rm_feature_top_t *e = &t->entries[slot];
    mp_rm_touch(touch, e, sizeof *e);
    memset(e, 0, sizeof *e);
    e->protocol = (uint8_t)protocol;
    e->category = (uint8_t)category;
    e->first_seen_unix_ns = time_ns;
    e->last_seen_unix_ns = time_ns;
    res->inserted = true;
    return slot;
}

int mp_feat_on_tx(mp_feat_table_t *t, const mp_tx_seen_t *tx, const mp_classification_t *c,
                  uint64_t time_ns, const mp_rm_touch_t *touch, mp_feat_result_t *res)
{
    if (!t || !tx || !c || !res) return -EINVAL;
    memset(res, 0, sizeof *res);
    if (c->protocol >= MP_FEAT_MAX_PROTOCOLS || c->category >= MP_FEAT_MAX_CATEGORIES)
        return -EINVAL;

    uint32_t slot = claim_slot(t, c->protocol, c->category, time_ns, touch, res);
    mp_rm_feature_top_t *e = &t->entries[slot];
    res->slot = (int32_t)slot;

    /* count .. rate_60s are contiguous: one touch covers every aggregate that changes
     * (a fresh entry was touched whole already). */
    if (!res->inserted)
        mp_rm_touch(touch, &e->count,
                    offsetof(mp_rm_feature_top_t, rate_60s) + sizeof e->rate_60s -
                        offsetof(mp_rm_feature_top_t, count));
    e->count = sat_add(e->count, 1);
    e->gas_sum = sat_add(e->gas_sum, tx->gas_limit);
    e->value_sum_gwei = sat_add(e->value_sum_gwei, mp_feat_wei_to_gwei(&tx->value));
    if (time_ns < e->first_seen_unix_ns) e->first_seen_unix_ns = time_ns;
    if (time_ns > e->last_seen_unix_ns) e->last_seen_unix_ns = time_ns;
    memcpy(e->last_tx, tx->hash, MP_HASH_LEN);

    uint64_t sec = mp_rate_second(time_ns);
    bool moved = mp_rate_roll(e->buckets, &e->bucket_second, sec, touch);
    uint32_t added = mp_rate_add(e->buckets, e->bucket_second, sec, 1, touch);
    if (moved)
        e->rate_60s = mp_rate_sum(e->buckets, e->bucket_second, e->bucket_second, MP_RATE_SLOTS);
    else if (e->rate_60s <= UINT32_MAX - added)
        e->rate_60s += added;
    else
        e->rate_60s = UINT32_MAX;
    return 0;
}

int mp_feat_on_tick(mp_feat_table_t *t, uint64_t time_ns, const mp_rm_touch_t *touch,
                    uint16_t *changed, int max_changed)
{
    if (!t) return -EINVAL;
    uint64_t sec = mp_rate_tick_second(time_ns);
    int n = 0;
    for (uint32_t i = 0; i < t->used; i++) {
        mp_rm_feature_top_t *e = &t->entries[i];
        if (!e->rate_60s) continue; /* all buckets zero: rolling would change nothing visible */
        if (!mp_rate_roll(e->buckets, &e->bucket_second, sec, touch)) continue;
        uint32_t rate = mp_rate_sum(e->buckets, e->bucket_second, e->bucket_second, MP_RATE_SLOTS);
        if (rate == e->rate_60s) continue;
        mp_rm_touch(touch, &e->rate_60s, sizeof e->rate_60s);
        e->rate_60s = rate;
        if (changed && n < max_changed) changed[n] = (uint16_t)i;
        n++;
    }
    return n;
}

const mp_rm_feature_top_t *mp_feat_find(const mp_feat_table_t *t, unsigned protocol,
                                        unsigned category)
{
    if (!t || protocol >= MP_FEAT_MAX_PROTOCOLS || category >= MP_FEAT_MAX_CATEGORIES) return NULL;
    uint16_t s = t->slot_of[key_of(protocol, category)];
    return s ? &t->entries[s - 1] : NULL;
}

void mp_feat_id(unsigned protocol, unsigned category, mp_rm_id_t *id)
{
    memset(id, 0, sizeof *id);
    snprintf((char *)id->bytes, sizeof id->bytes, "%s/%s", mp_protocol_name(protocol),
             mp_category_name(category));
}

void mp_feat_fill_recent(mp_rm_feature_recent_t *out, const mp_tx_seen_t *tx,
                         const mp_classification_t *c, uint64_t time_ns)
{
    memset(out, 0, sizeof *out);
    memcpy(out->hash, tx->hash, MP_HASH_LEN);
    memcpy(out->from, tx->from, MP_ADDR_LEN);
    if (tx->has_to) memcpy(out->to, tx->to, MP_ADDR_LEN);
    out->has_to = tx->has_to;
    out->protocol = c->protocol;
    out->category = c->category;
    out->has_selector = c->has_selector;
    out->selector = c->has_selector ? c->selector : 0;
    out->value = tx->value;
    out->gas_limit = tx->gas_limit;
    out->max_priority_fee = tx->max_priority_fee;
    out->seen_unix_ns = time_ns;
}
