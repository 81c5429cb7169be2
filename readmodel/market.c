/* Owns the fee market windows (sample ring, percentiles, histogram, EIP-1559 estimate)
 * per chain and the price table with its sparse per-symbol history. */
#include "readmodel/market.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "readmodel/lru_slots.h"
#include "readmodel/rate.h"

#define SAMPLE_MASK (MP_MARKET_SAMPLES - 1u)
#define GWEI 1000000000ull

static const unsigned pct_ranks[5] = {10, 25, 50, 75, 90};

/* Lower bucket edges in wei; see rm_entities.h. */
static const uint64_t hist_edges[MP_RM_FEE_HIST_BUCKETS] = {
    0,        GWEI / 100, GWEI / 20, GWEI / 10, GWEI / 4,  GWEI / 2,  GWEI,       3 * GWEI / 2,
    2 * GWEI, 3 * GWEI,   5 * GWEI,  10 * GWEI, 20 * GWEI, 50 * GWEI, 100 * GWEI, 200 * GWEI,
};

/* ---- pure helpers ---- */

uint64_t mp_market_next_base_fee(uint64_t base_fee, uint64_t gas_used, uint64_t gas_limit)
{
    uint64_t target = gas_limit / 2;
    if (!target || gas_used == target) return base_fee;
    if (gas_used > target) {
        unsigned __int128 delta = (unsigned __int128)base_fee * (gas_used - target) / target / 8;
        if (delta < 1) delta = 1;
        unsigned __int128 next = (unsigned __int128)base_fee + delta;
        return next > UINT64_MAX ? UINT64_MAX : (uint64_t)next;
    }
    unsigned __int128 delta = (unsigned __int128)base_fee * (target - gas_used) / target / 8;
    return base_fee - (uint64_t)delta; /* delta <= base / 8 */
}

uint64_t mp_market_percentile(const uint64_t *sorted, uint32_t n, unsigned pct)
{
    if (!n) return 0;
    if (pct > 100) pct = 100;
    uint64_t rank = ((uint64_t)pct * n + 99) / 100;
    if (rank < 1) rank = 1;
    return sorted[rank - 1];
}

unsigned mp_market_hist_bucket(uint64_t fee)
{
    unsigned lo = 0, hi = MP_RM_FEE_HIST_BUCKETS - 1; /* answer in [lo, hi] */
    while (lo < hi) {
        unsigned mid = (lo + hi + 1) / 2;
        if (hist_edges[mid] <= fee)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

uint64_t mp_market_hist_edge(unsigned i)
{
    return i < MP_RM_FEE_HIST_BUCKETS ? hist_edges[i] : UINT64_MAX;
}

/* LSD radix sort, 8 bits per pass, stable; a pass whose byte is the same in every value
 * is skipped (fees rarely use more than five bytes). tmp holds n values. */
static void sort_u64(uint64_t *v, uint64_t *tmp, uint32_t n)
{
    uint64_t *src = v, *dst = tmp;
    for (unsigned shift = 0; shift < 64 && n > 1; shift += 8) {
        uint32_t pos[256] = {0};
        for (uint32_t i = 0; i < n; i++)
            pos[(src[i] >> shift) & 0xff]++;
        if (pos[(src[0] >> shift) & 0xff] == n) continue;
        uint32_t at = 0;
        for (unsigned b = 0; b < 256; b++) {
            uint32_t c = pos[b];
            pos[b] = at;
            at += c;
        }
        for (uint32_t i = 0; i < n; i++)
            dst[pos[(src[i] >> shift) & 0xff]++] = src[i];
        uint64_t *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != v) memcpy(v, src, (size_t)n * sizeof *v);
}

/* ---- fee markets ---- */

void mp_market_init(mp_market_table_t *t)
{
    memset(t, 0, sizeof *t);
}

int mp_market_find(const mp_market_table_t *t, uint64_t chain_id)
{
    return mp_lru_find_id(t->chain_ids, t->used, chain_id);
}

void mp_market_fee_id(uint64_t chain_id, mp_rm_id_t *id)
{
    memset(id, 0, sizeof *id);
    snprintf((char *)id->bytes, sizeof id->bytes, "fees:%" PRIu64, chain_id);
}

/* Finds or makes the market of chain_id, marked active at `second`. A new chain takes a
 * free slot or the least recently active one (ties: lowest slot); its market is zeroed,
 * which touches the whole 96 KiB slot: that happens once per chain arrival, never per
 * event. */
static mp_market_chain_t *claim_market(mp_market_table_t *t, uint64_t chain_id, uint64_t second,
                                       const mp_rm_touch_t *touch, mp_market_result_t *res)
{
    bool inserted;
    uint32_t slot =
        mp_lru_claim_id(&t->used, MP_MARKET_CAPACITY, t->chain_ids, t->last_active_s, chain_id,
                        touch, &inserted, &res->evicted, &res->evicted_chain_id);
    if (inserted) {
        mp_market_chain_t *m = &t->chains[slot];
        mp_rm_touch(touch, m, sizeof *m);
        memset(m, 0, sizeof *m);
        m->fees.chain_id = chain_id;
        m->fees.window_ms = MP_MARKET_WINDOW_NS / 1000000u;
        res->inserted = true;
        res->changed = true;
    }
    mp_lru_mark_active(t->last_active_s, slot, second, inserted, touch);
    res->slot = (int32_t)slot;
    return &t->chains[slot];
}

int mp_market_on_tx(mp_market_table_t *t, const mp_tx_seen_t *tx, uint64_t time_ns,
                    const mp_rm_touch_t *touch, mp_market_result_t *res)
{
    if (!t || !tx || !res) return -EINVAL;
    memset(res, 0, sizeof *res);
    mp_market_chain_t *m = claim_market(t, tx->chain_id, mp_rate_second(time_ns), touch, res);

    uint64_t prio, max;
    if (!tx->max_fee && !tx->max_priority_fee) { /* legacy or access-list tx */
        max = tx->gas_price;
        prio = tx->gas_price > m->fees.base_fee ? tx->gas_price - m->fees.base_fee : 0;
    } else {
        max = tx->max_fee;
        prio = tx->max_priority_fee;
    }
    mp_fee_sample_t *s = &m->samples[m->added & SAMPLE_MASK];
    mp_rm_touch(touch, s, sizeof *s);
    s->time_ns = time_ns;
    s->priority_fee = prio;
    s->max_fee = max;
    mp_rm_touch(touch, &m->added, sizeof m->added);
    m->added++;
    return 0;
}

int mp_market_recompute(mp_market_chain_t *m, uint64_t now_ns, const mp_rm_touch_t *touch)
{
    uint64_t prio[MP_MARKET_SAMPLES], maxf[MP_MARKET_SAMPLES], tmp[MP_MARKET_SAMPLES];
    uint64_t held = m->added < MP_MARKET_SAMPLES ? m->added : MP_MARKET_SAMPLES;
    uint64_t oldest_ok = now_ns > MP_MARKET_WINDOW_NS ? now_ns - MP_MARKET_WINDOW_NS + 1 : 0;
    uint32_t n = 0;
    for (uint64_t k = 0; k < held; k++) {
        const mp_fee_sample_t *s = &m->samples[(m->added - 1 - k) & SAMPLE_MASK];
        if (s->time_ns < oldest_ok)
            continue; /* older than the window (ring order is only roughly time order) */
        prio[n] = s->priority_fee;
        maxf[n] = s->max_fee;
        n++;
    }
    sort_u64(prio, tmp, n);
    sort_u64(maxf, tmp, n);

    mp_rm_fee_market_t f = m->fees;
    f.window_ms = MP_MARKET_WINDOW_NS / 1000000u;
    f.samples = n;
    for (int i = 0; i < 5; i++) {
        f.priority_fee_pct[i] = mp_market_percentile(prio, n, pct_ranks[i]);
        f.max_fee_pct[i] = mp_market_percentile(maxf, n, pct_ranks[i]);
    }
    memset(f.histogram, 0, sizeof f.histogram);
    unsigned b = 0;
    for (uint32_t i = 0; i < n; i++) { /* prio ascending: buckets only move up */
        while (b + 1 < MP_RM_FEE_HIST_BUCKETS && prio[i] >= hist_edges[b + 1])
            b++;
        f.histogram[b]++;
    }
    if (!memcmp(&f, &m->fees, sizeof f)) return 0;
    f.updated_unix_ns = now_ns;
    /* everything but seq, which the engine owns */
    mp_rm_touch(touch, &m->fees.chain_id, sizeof f - offsetof(mp_rm_fee_market_t, chain_id));
    memcpy(&m->fees.chain_id, &f.chain_id, sizeof f - offsetof(mp_rm_fee_market_t, chain_id));
    return 1;
}

int mp_market_on_block(mp_market_table_t *t, const mp_block_t *b, uint64_t time_ns,
                       const mp_rm_touch_t *touch, mp_market_result_t *res)
{
    if (!t || !b || !res) return -EINVAL;
    memset(res, 0, sizeof *res);
    mp_market_chain_t *m = claim_market(t, b->chain_id, mp_rate_second(time_ns), touch, res);
    if (!m->has_head || b->number >= m->head_number) {
        mp_rm_touch(touch, &m->head_number, sizeof m->head_number + sizeof m->has_head);
        m->head_number = b->number;
        m->has_head = 1;
        uint64_t next = mp_market_next_base_fee(b->base_fee, b->gas_used, b->gas_limit);
        if (m->fees.base_fee != b->base_fee || m->fees.next_base_fee != next) {
            mp_rm_touch(touch, &m->fees.base_fee,
                        sizeof m->fees.base_fee + sizeof m->fees.next_base_fee);
            m->fees.base_fee = b->base_fee;
            m->fees.next_base_fee = next;
            res->changed = true;
        }
    }
    if (mp_market_recompute(m, time_ns, touch))
        res->changed = true;
    else if (res->changed) { /* base fees moved but no window figure: stamp the change */
        mp_rm_touch(touch, &m->fees.updated_unix_ns, sizeof m->fees.updated_unix_ns);
        m->fees.updated_unix_ns = time_ns;
    }
    return 0;
}

int mp_market_on_tick(mp_market_table_t *t, uint64_t time_ns, const mp_rm_touch_t *touch,
                      uint16_t *changed, int max_changed)
{
    if (!t) return -EINVAL;
    int n = 0;
    for (uint32_t i = 0; i < t->used; i++) {
        if (!mp_market_recompute(&t->chains[i], time_ns, touch)) continue;
        if (changed && n < max_changed) changed[n] = (uint16_t)i;
        n++;
    }
    return n;
}

/* ---- prices ---- */

void mp_price_init(mp_price_table_t *t)
{
    memset(t, 0, sizeof *t);
}

int mp_price_find(const mp_price_table_t *t, const char *symbol)
{
    for (uint32_t i = 0; i < t->used; i++)
        if (!strncmp(t->slots[i].price.symbol, symbol, MP_SYMBOL_MAX)) return (int)i;
    return -ENOENT;
}

void mp_market_price_id(const char *symbol, mp_rm_id_t *id)
{
    memset(id, 0, sizeof *id);
    snprintf((char *)id->bytes, sizeof id->bytes, "price:%.*s", MP_SYMBOL_MAX - 1, symbol);
}

/* The reference sample for a tick at now: the newest history sample at least
 * MP_PRICE_CHANGE_NS old, else the oldest. Returns its ring index, or -1 when empty. */
static int reference_sample(const mp_price_slot_t *s, uint64_t now)
{
    if (!s->hist_count) return -1;
    /* ring order: oldest at (next - count), newest at (next - 1) */
    for (uint32_t k = 0; k < s->hist_count; k++) {
        uint32_t i = (s->hist_next + MP_PRICE_HISTORY - 1 - k) % MP_PRICE_HISTORY;
        if (s->hist_time_ns[i] <= now && now - s->hist_time_ns[i] >= MP_PRICE_CHANGE_NS)
            return (int)i;
    }
    return (int)((s->hist_next + MP_PRICE_HISTORY - s->hist_count) % MP_PRICE_HISTORY);
}

int mp_price_on_tick(mp_price_table_t *t, const mp_price_t *p, uint64_t time_ns,
                     const mp_rm_touch_t *touch, mp_price_result_t *res)
{
    if (!t || !p || !res) return -EINVAL;
    memset(res, 0, sizeof *res);
    if (!p->symbol[0] || !memchr(p->symbol, 0, MP_SYMBOL_MAX) || !isfinite(p->price))
        return -EINVAL;

    int found = mp_price_find(t, p->symbol);
    uint32_t slot;
    if (found >= 0) {
        slot = (uint32_t)found;
    } else {
        /* eviction order: event time of the last tick */
        slot = mp_lru_take(&t->used, MP_PRICE_CAPACITY, &t->slots[0].price.updated_unix_ns,
                           sizeof t->slots[0], touch, &res->evicted);
        if (res->evicted) memcpy(res->evicted_symbol, t->slots[slot].price.symbol, MP_SYMBOL_MAX);
        mp_price_slot_t *fresh = &t->slots[slot];
        mp_rm_touch(touch, fresh, sizeof *fresh);
        memset(fresh, 0, sizeof *fresh);
        memcpy(fresh->price.symbol, p->symbol, strnlen(p->symbol, MP_SYMBOL_MAX - 1));
        res->inserted = true;
    }
    res->slot = (int32_t)slot;
    mp_price_slot_t *s = &t->slots[slot];

    int ref = reference_sample(s, time_ns);
    mp_rm_touch(touch, &s->price.price, sizeof s->price - offsetof(mp_rm_price_t, price));
    s->price.price = p->price;
    s->price.ref_price = ref >= 0 ? s->hist_price[ref] : p->price;
    s->price.ref_unix_ns = ref >= 0 ? s->hist_time_ns[ref] : time_ns;
    s->price.change_1m = p->price - s->price.ref_price;
    s->price.updated_unix_ns = time_ns;

    uint32_t newest = (s->hist_next + MP_PRICE_HISTORY - 1) % MP_PRICE_HISTORY;
    if (!s->hist_count || time_ns >= s->hist_time_ns[newest] + MP_PRICE_HISTORY_STEP_NS) {
        uint32_t i = s->hist_next;
        mp_rm_touch(touch, &s->hist_time_ns[i], sizeof s->hist_time_ns[i]);
        mp_rm_touch(touch, &s->hist_price[i], sizeof s->hist_price[i]);
        mp_rm_touch(touch, &s->hist_count, sizeof s->hist_count + sizeof s->hist_next);
        s->hist_time_ns[i] = time_ns;
        s->hist_price[i] = p->price;
        s->hist_next = (i + 1) % MP_PRICE_HISTORY;
        if (s->hist_count < MP_PRICE_HISTORY) s->hist_count++;
    }
    return 0;
}
