/* Reference-counted server frames and the per-connection outbound ring. */
#include "gateway/ws_out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RING_MASK (MP_GW_WS_OUT_SLOTS - 1)
_Static_assert((MP_GW_WS_OUT_SLOTS & RING_MASK) == 0, "ring slots must be a power of two");

mp_gw_frame_t *mp_gw_frame_alloc(size_t cap)
{
    if (cap > UINT32_MAX - MP_GW_FRAME_HEAD_MAX) return NULL;
    mp_gw_frame_t *f = malloc(sizeof *f + MP_GW_FRAME_HEAD_MAX + cap);
    if (!f) return NULL;
    f->refs = 1;
    f->len = 0;
    f->off = MP_GW_FRAME_HEAD_MAX;
    f->cap = (uint32_t)cap;
    return f;
}

void mp_gw_frame_seal(mp_gw_frame_t *f, size_t len)
{
    /* RFC 6455 5.2: FIN + text opcode, no mask from a server; the length in 7 bits, or
     * 126 + 16 bits, or 127 + 64 bits, right-aligned against the payload. */
    uint8_t head[MP_GW_FRAME_HEAD_MAX];
    unsigned n = 0;
    head[n++] = 0x81;
    if (len < 126) {
        head[n++] = (uint8_t)len;
    } else if (len <= 0xffff) {
        head[n++] = 126;
        head[n++] = (uint8_t)(len >> 8);
        head[n++] = (uint8_t)len;
    } else {
        head[n++] = 127;
        for (int shift = 56; shift >= 0; shift -= 8)
            head[n++] = (uint8_t)((uint64_t)len >> shift);
    }
    f->off = MP_GW_FRAME_HEAD_MAX - n;
    memcpy(f->data + f->off, head, n);
    f->len = n + (uint32_t)len;
}

mp_gw_frame_t *mp_gw_frame_text(const char *text, size_t len)
{
    mp_gw_frame_t *f = mp_gw_frame_alloc(len);
    if (!f) return NULL;
    memcpy(mp_gw_frame_payload(f), text, len);
    mp_gw_frame_seal(f, len);
    return f;
}

void mp_gw_frame_unref(mp_gw_frame_t *f)
{
    if (f && --f->refs == 0) free(f);
}

int mp_gw_ws_out_push(mp_gw_ws_out_t *q, mp_gw_frame_t *f, size_t cap)
{
    if (mp_gw_ws_out_count(q) == MP_GW_WS_OUT_SLOTS || q->bytes + f->len > cap) return -ENOBUFS;
    q->ring[q->tail++ & RING_MASK] = mp_gw_frame_ref(f);
    q->bytes += f->len;
    return 0;
}

unsigned mp_gw_ws_out_take(mp_gw_ws_out_t *q, h2o_iovec_t *iov, unsigned max)
{
    if (q->inflight) return 0;
    unsigned n = 0;
    for (uint32_t i = q->head; i != q->tail && n < max; i++, n++) {
        mp_gw_frame_t *f = q->ring[i & RING_MASK];
        iov[n] = h2o_iovec_init(f->data + f->off, f->len);
    }
    q->inflight = n;
    return n;
}

void mp_gw_ws_out_written(mp_gw_ws_out_t *q)
{
    for (; q->inflight; q->inflight--) {
        mp_gw_frame_t *f = q->ring[q->head++ & RING_MASK];
        q->bytes -= f->len;
        mp_gw_frame_unref(f);
    }
}

void mp_gw_ws_out_drop_waiting(mp_gw_ws_out_t *q)
{
    while (q->tail - q->head > q->inflight) {
        mp_gw_frame_t *f = q->ring[--q->tail & RING_MASK];
        q->bytes -= f->len;
        mp_gw_frame_unref(f);
    }
}

void mp_gw_ws_out_clear(mp_gw_ws_out_t *q)
{
    q->inflight = 0;
    while (q->head != q->tail) {
        mp_gw_frame_t *f = q->ring[q->head++ & RING_MASK];
        q->bytes -= f->len;
        mp_gw_frame_unref(f);
    }
}
