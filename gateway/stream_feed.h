/* The hub's per-channel feed: the newest encoded deltas of one channel in journal order,
 * shared by every session that is caught up on the channel ("lazy" sessions keep only
 * their position and take their batch from here at flush time, so a delta costs nothing
 * per such session until its bytes are written). Bounded ring of references. */
#ifndef MP_GW_STREAM_FEED_H
#define MP_GW_STREAM_FEED_H

#include <stdint.h>

#define MP_GW_FEED_CAP 4096 /* deltas kept per channel (power of two) */

struct mp_gw_enc;

typedef struct mp_gw_feed {
    struct mp_gw_enc *ring[MP_GW_FEED_CAP];
    uint32_t head, tail; /* free-running; [head, tail) are held, seqs increasing */
    uint64_t dropped_seq; /* seq of the newest delta dropped (0: none) */
} mp_gw_feed_t;

/* Appends e (a reference is taken; its seq is above every held one); the oldest is
 * dropped when full. */
void mp_gw_feed_push(mp_gw_feed_t *f, struct mp_gw_enc *e);

/* Index of the first held delta with seq > after (tail when none). */
uint32_t mp_gw_feed_after(const mp_gw_feed_t *f, uint64_t after);

static inline struct mp_gw_enc *mp_gw_feed_at(const mp_gw_feed_t *f, uint32_t i)
{
    return f->ring[i & (MP_GW_FEED_CAP - 1)];
}

/* The newest dropped seq: a position at or after it is fully covered (every later delta
 * of the channel is held). 0 when the feed never dropped anything. */
uint64_t mp_gw_feed_floor(const mp_gw_feed_t *f);

/* Drops every delta (a new read-model region: seqs restart). */
void mp_gw_feed_clear(mp_gw_feed_t *f);

#endif
