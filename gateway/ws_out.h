/* Outbound stream-v2 frames: complete unmasked WebSocket text frames (header and
 * payload) in reference-counted buffers, so a DELTA_BATCH encoded once goes to every
 * session that needs the same bytes without another copy, and the bounded queue of one
 * connection that hands them to the socket as one writev. Single-threaded. */
#ifndef MP_GW_WS_OUT_H
#define MP_GW_WS_OUT_H

#include <stddef.h>
#include <stdint.h>

#include <h2o.h>

#define MP_GW_FRAME_HEAD_MAX 10   /* a server frame's header: 2, 4 or 10 bytes */
#define MP_GW_WS_OUT_SLOTS 256    /* frames queued per connection (power of two) */
#define MP_GW_WS_OUT_WRITE_MAX 64 /* frames handed to one writev */

typedef struct mp_gw_frame {
    uint32_t refs;
    uint32_t len; /* frame bytes from data + off: header then payload */
    uint32_t off; /* MP_GW_FRAME_HEAD_MAX - header length once sealed */
    uint32_t cap; /* payload capacity */
    char data[];  /* MP_GW_FRAME_HEAD_MAX bytes of header room, then the payload */
} mp_gw_frame_t;

/* A frame whose payload (at most cap bytes) the caller writes at mp_gw_frame_payload
 * and then seals. One reference; NULL when out of memory. */
mp_gw_frame_t *mp_gw_frame_alloc(size_t cap);

static inline char *mp_gw_frame_payload(mp_gw_frame_t *f)
{
    return f->data + MP_GW_FRAME_HEAD_MAX;
}

/* Writes the text frame header for a payload of len bytes (<= cap). */
void mp_gw_frame_seal(mp_gw_frame_t *f, size_t len);

/* A sealed text frame holding a copy of text. One reference; NULL when out of memory. */
mp_gw_frame_t *mp_gw_frame_text(const char *text, size_t len);

static inline mp_gw_frame_t *mp_gw_frame_ref(mp_gw_frame_t *f)
{
    f->refs++;
    return f;
}

/* Drops a reference; the last frees the frame. NULL is ignored. */
void mp_gw_frame_unref(mp_gw_frame_t *f);

/* One connection's queue: frames [head, tail) in a ring of free-running indices, the
 * first `inflight` of them handed to the socket and not yet confirmed written. */
typedef struct mp_gw_ws_out {
    mp_gw_frame_t *ring[MP_GW_WS_OUT_SLOTS];
    uint32_t head, tail, inflight;
    size_t bytes; /* bytes of every queued frame, in flight included */
} mp_gw_ws_out_t;

/* Queues f (taking a reference). Returns 0, or -ENOBUFS when the ring is full or the
 * queued bytes would pass cap (nothing queued then). */
int mp_gw_ws_out_push(mp_gw_ws_out_t *q, mp_gw_frame_t *f, size_t cap);

/* Hands up to max queued frames that are not yet in flight to iov; they are in flight
 * until mp_gw_ws_out_written. Returns how many (0: nothing to write or a write is
 * already in flight). */
unsigned mp_gw_ws_out_take(mp_gw_ws_out_t *q, h2o_iovec_t *iov, unsigned max);

/* The frames in flight were written: drops them. */
void mp_gw_ws_out_written(mp_gw_ws_out_t *q);

/* Drops the frames not in flight (the connection is closing for backpressure). */
void mp_gw_ws_out_drop_waiting(mp_gw_ws_out_t *q);

/* Drops every frame, in flight included (the connection is gone). */
void mp_gw_ws_out_clear(mp_gw_ws_out_t *q);

static inline unsigned mp_gw_ws_out_count(const mp_gw_ws_out_t *q)
{
    return q->tail - q->head;
}

#endif
