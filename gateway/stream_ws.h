/* The stream-v2 WebSocket glue (SPEC 4.2): the GET /dashboard/stream-v2 route, its
 * checks (HTTP/1.1 upgrade only, Origin allow-list, connection detached from the HTTP
 * drain), h2o/wslay message handling (text frames only, at most 4096 bytes, valid UTF-8;
 * binary frames close 1003, invalid UTF-8 1007), bounded send queues, the SIGTERM drain
 * (RECONNECT) and the module's registrar.
 * Test knobs (environment, read at registration): MEMPULSE_STREAM_HEARTBEAT_MS [15000],
 * MEMPULSE_STREAM_IDENTIFY_MS [10000], MEMPULSE_STREAM_SEND_CAP (bytes queued per
 * connection before close 4010) [4 MiB]. */
#ifndef MP_GW_STREAM_WS_H
#define MP_GW_STREAM_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/server.h"

typedef struct mp_gw_ws mp_gw_ws_t;

/* Registrar listed in server.c: route, metrics writer, drain and dispose hooks.
 * Returns 0 or a negative errno. */
int mp_gw_stream_register(mp_gw_services_t *svc);

/* Queues a text frame (copied once into a frame buffer). Returns 0, -ENOBUFS when the send queue passed cap (the caller
 * closes 4010), -EPIPE when closed. */
int mp_gw_ws_send(mp_gw_ws_t *ws, const char *text, size_t len, size_t cap);

/* Queues a shared frame (a reference is taken). Returns 0, -ENOBUFS past cap, -EPIPE
 * when closed or closing. */
struct mp_gw_frame;
int mp_gw_ws_send_frame(mp_gw_ws_t *ws, struct mp_gw_frame *f, size_t cap);

/* Queues a close frame with code and reason after what is in flight; messages queued
 * and not yet in flight are dropped (the session waits for the queue to drain before
 * closing, except for 4010). */
void mp_gw_ws_close(mp_gw_ws_t *ws, uint16_t code, const char *reason);

/* What a connection did so far, for the log line of a session closed for silence. */
typedef struct mp_gw_ws_stats {
    uint32_t msgs_in;       /* client messages (any opcode) handed to the session */
    uint32_t writes;        /* writevs of queued frames started */
    uint32_t writes_done;   /* ... and completed */
    uint32_t queued_frames; /* frames queued now, in flight included */
    bool upgraded;          /* h2o finished the 101: the socket is ours */
} mp_gw_ws_stats_t;

mp_gw_ws_stats_t mp_gw_ws_stats(const mp_gw_ws_t *ws);

/* Bytes queued for sending. */
size_t mp_gw_ws_queued(const mp_gw_ws_t *ws);

/* Starts writing queued frames (one writev) when the socket is free. May end the
 * connection (its session is then detached). */
void mp_gw_ws_flush(mp_gw_ws_t *ws);

/* Closes the connection at once (close deadline passed); the session is detached. */
void mp_gw_ws_abort(mp_gw_ws_t *ws);

#endif
