/* Per-channel ring of shared encoded deltas with a search by seq. */
#include "gateway/stream_feed.h"

#include "gateway/stream_delta.h"

#define FEED_MASK (MP_GW_FEED_CAP - 1)
_Static_assert((MP_GW_FEED_CAP & FEED_MASK) == 0, "feed capacity must be a power of two");

void mp_gw_feed_push(mp_gw_feed_t *f, mp_gw_enc_t *e)
{
    if (f->tail - f->head == MP_GW_FEED_CAP) {
        mp_gw_enc_t *old = f->ring[f->head++ & FEED_MASK];
        f->dropped_seq = old->seq;
        mp_gw_enc_unref(old);
    }
    e->refs++;
    f->ring[f->tail++ & FEED_MASK] = e;
}

uint32_t mp_gw_feed_after(const mp_gw_feed_t *f, uint64_t after)
{
    /* Offsets from head: the free-running indices wrap, their differences do not. */
    uint32_t lo = 0, hi = f->tail - f->head; /* the answer is in [lo, hi] */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (f->ring[(f->head + mid) & FEED_MASK]->seq > after)
            hi = mid;
        else
            lo = mid + 1;
    }
    return f->head + lo;
}

uint64_t mp_gw_feed_floor(const mp_gw_feed_t *f)
{
    return f->dropped_seq;
}

void mp_gw_feed_clear(mp_gw_feed_t *f)
{
    while (f->head != f->tail)
        mp_gw_enc_unref(f->ring[f->head++ & FEED_MASK]);
    f->head = f->tail = 0;
    f->dropped_seq = 0;
}
