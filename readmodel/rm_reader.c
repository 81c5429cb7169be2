/* Consistent, bounded reads of read-model channels and watermarks. */
#include "readmodel/rm_reader.h"

#include "readmodel/rm_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const channel_names[MP_CH_COUNT] = {
    "tx.main", "feature.main", "opportunity.main", "chain.main", "market.main",
};

const char *mp_rm_channel_name(unsigned ch)
{
    return ch < MP_CH_COUNT ? channel_names[ch] : NULL;
}

int mp_rm_channel_from_name(const char *name, size_t len)
{
    for (int i = 0; i < MP_CH_COUNT; i++)
        if (strlen(channel_names[i]) == len && memcmp(channel_names[i], name, len) == 0) return i;
    return -EINVAL;
}

void mp_rm_read_marks(const mp_rm_region_t *rm, mp_rm_marks_t *m)
{
    const mp_rm_control_t *c = rm->ctl;
    /* journal_seq first (acquire): everything it covers is complete. */
    m->journal_seq = atomic_load_explicit(&c->journal_seq, memory_order_acquire);
    m->applied_seq = atomic_load_explicit(&c->applied_seq, memory_order_relaxed);
    m->oldest_journal_seq = mp_rm_journal_oldest(rm);
    for (int i = 0; i < MP_CH_COUNT; i++)
        m->channel_seq[i] = atomic_load_explicit(&c->channel_seq[i], memory_order_relaxed);
    m->revision = atomic_load_explicit(&c->revision, memory_order_relaxed);
    m->bytes_used = atomic_load_explicit(&c->bytes_used, memory_order_relaxed);
    m->event_time_ns = atomic_load_explicit(&c->event_time_ns, memory_order_relaxed);
}

void mp_rm_entity_id(mp_rm_kind_t kind, const void *entity, mp_rm_id_t *id, uint8_t *id_len)
{
    memset(id, 0, sizeof *id);
    switch (kind) {
    case MP_KIND_TX:
        memcpy(id->bytes, ((const mp_rm_tx_t *)entity)->hash, MP_HASH_LEN);
        *id_len = MP_HASH_LEN;
        return;
    case MP_KIND_FEATURE_RECENT:
        memcpy(id->bytes, ((const mp_rm_feature_recent_t *)entity)->hash, MP_HASH_LEN);
        *id_len = MP_HASH_LEN;
        return;
    case MP_KIND_FEATURE_TOP: {
        const mp_rm_feature_top_t *t = entity;
        mp_feat_id(t->protocol, t->category, id);
        break;
    }
    case MP_KIND_OPPORTUNITY: *id = ((const mp_rm_opportunity_t *)entity)->id; break;
    case MP_KIND_CHAIN: mp_chain_id(((const mp_rm_chain_t *)entity)->chain_id, id); break;
    case MP_KIND_FEE_MARKET: mp_market_fee_id(((const mp_rm_fee_market_t *)entity)->chain_id, id); break;
    case MP_KIND_PRICE: mp_market_price_id(((const mp_rm_price_t *)entity)->symbol, id); break;
    }
    /* ASCII keys are NUL-padded. */
    *id_len = (uint8_t)strnlen((const char *)id->bytes, MP_RM_ID_LEN);
}

/* Copies one seqlocked slot's entity (n bytes after its check word) and verifies the
 * check. Returns 1 copied, 0 empty, -EAGAIN still being written after bounded retries,
 * -EIO a consistent copy whose check failed (a torn entity: must never happen). */
static int copy_slot(const mp_seqlock_t *lock, const uint32_t *occupied, const uint64_t *check,
                     void *dst, size_t n, uint32_t *kind_out)
{
    for (int i = 0; i < MP_SEQLOCK_READ_TRIES; i++) {
        uint32_t s = mp_seqlock_read_begin(lock);
        if (s & 1) continue;
        uint32_t occ = *(const volatile uint32_t *)occupied;
        uint64_t want = *(const volatile uint64_t *)check;
        if (occ) memcpy(dst, check + 1, n);
        if (!mp_seqlock_read_valid(lock, s)) continue;
        if (kind_out) *kind_out = occ;
        if (!occ) return 0;
        /* A market slot's check covers the member its kind names. */
        size_t checked = kind_out && occ == MP_KIND_PRICE ? sizeof(mp_rm_price_t) : n;
        return mp_rm_check(dst, checked) == want ? 1 : -EIO;
    }
    return -EAGAIN;
}

#define VISIT_SLOTS(slots, count, order_newest_first, next, kindv, etype)                      \
    do {                                                                                       \
        for (uint64_t k_ = 0; k_ < (count); k_++) {                                           \
            uint64_t i_ = (order_newest_first) ? ((next) + 2 * (count) - 1 - k_) % (count) : k_; \
            etype copy_;                                                                       \
            int r_ = copy_slot(&(slots)[i_].lock, &(slots)[i_].occupied, &(slots)[i_].check,    \
                               &copy_, sizeof copy_, NULL);                                    \
            if (r_ < 0) {                                                                      \
                if (st) *(r_ == -EIO ? &st->torn : &st->skipped) += 1;                             \
                continue;                                                                      \
            }                                                                                  \
            if (r_ == 0) continue;                                                             \
            int stop_ = fn(ctx, (kindv), &copy_);                                              \
            if (stop_) return stop_;                                                           \
        }                                                                                      \
    } while (0)

int mp_rm_list(const mp_rm_region_t *rm, mp_rm_channel_t ch, mp_rm_visit_fn fn, void *ctx,
               mp_rm_list_stats_t *st)
{
    const mp_rm_caps_t *c = &rm->caps;
    const mp_rm_control_t *ctl = rm->ctl;
    switch (ch) {
    case MP_CH_TX: {
        uint64_t next = *(const volatile uint64_t *)&ctl->tx_ring_next % c->tx_ring;
        VISIT_SLOTS(rm->tx_ring, c->tx_ring, 1, next, MP_KIND_TX, mp_rm_tx_t);
        return 0;
    }
    case MP_CH_FEATURE: {
        VISIT_SLOTS(rm->feature_top, c->feature_top, 0, 0, MP_KIND_FEATURE_TOP, mp_rm_feature_top_t);
        uint64_t next = *(const volatile uint64_t *)&ctl->recent_next % c->feature_recent;
        VISIT_SLOTS(rm->feature_recent, c->feature_recent, 1, next, MP_KIND_FEATURE_RECENT,
                    mp_rm_feature_recent_t);
        return 0;
    }
    case MP_CH_OPPORTUNITY: {
        uint64_t next = *(const volatile uint64_t *)&ctl->opp_next % c->opportunity;
        VISIT_SLOTS(rm->opps, c->opportunity, 1, next, MP_KIND_OPPORTUNITY, mp_rm_opportunity_t);
        return 0;
    }
    case MP_CH_CHAIN:
        VISIT_SLOTS(rm->chains, c->chain, 0, 0, MP_KIND_CHAIN, mp_rm_chain_t);
        return 0;
    case MP_CH_MARKET:
        for (uint32_t i = 0; i < c->market; i++) {
            const mp_rm_market_slot_t *s = &rm->market[i];
            union { mp_rm_fee_market_t fee; mp_rm_price_t price; } u;
            uint32_t kind = 0;
            int r = copy_slot(&s->lock, &s->occupied, &s->check, &u, sizeof u, &kind);
            if (r < 0) {
                if (st) *(r == -EIO ? &st->torn : &st->skipped) += 1;
                continue;
            }
            if (r == 0 || (kind != MP_KIND_FEE_MARKET && kind != MP_KIND_PRICE)) continue;
            int stop = fn(ctx, (mp_rm_kind_t)kind, &u);
            if (stop) return stop;
        }
        return 0;
    default:
        return -EINVAL;
    }
}
