/* One stream-v2 connection's protocol state (SPEC 4.2): HELLO on open, IDENTIFY / RESUME,
 * subscriptions with their positions (prev_seq chain) and credit, heartbeat and rate
 * limits, and the close codes for bad input. Transport-free: frames go out through
 * stream_ws (mp_gw_ws_send / mp_gw_ws_close). */
#ifndef MP_GW_STREAM_SESSION_H
#define MP_GW_STREAM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/stream_dispatch.h"
#include "gateway/stream_token.h"

/* Close codes (SPEC 4.2), plus the RFC 6455 ones this module uses:
 * 1001 after RECONNECT (drain), 1003 binary frame, 1007 invalid UTF-8. */
enum {
    MP_GW_CLOSE_GOING_AWAY = 1001,
    MP_GW_CLOSE_UNSUPPORTED = 1003,
    MP_GW_CLOSE_BAD_UTF8 = 1007,
    MP_GW_CLOSE_UNKNOWN_OP = 4001,
    MP_GW_CLOSE_DECODE = 4002,
    MP_GW_CLOSE_NOT_AUTHENTICATED = 4003,
    MP_GW_CLOSE_AUTH_FAILED = 4004,
    MP_GW_CLOSE_ALREADY_AUTHENTICATED = 4005,
    MP_GW_CLOSE_RATE_LIMITED = 4008,
    MP_GW_CLOSE_HEARTBEAT_TIMEOUT = 4009,
    MP_GW_CLOSE_BACKPRESSURE = 4010,
};

#define MP_GW_STREAM_MAX_PAYLOAD 4096     /* client message bytes */
#define MP_GW_STREAM_RATE_MSGS 120        /* client messages ... */
#define MP_GW_STREAM_RATE_WINDOW_MS 60000 /* ... per this window */

struct mp_gw_ws;

typedef struct mp_gw_stream_chan {
    bool subscribed;
    bool paused;            /* RESYNC_REQUIRED sent: nothing flows until SUBSCRIBE */
    bool held;              /* changes wait on zero credit (counted once per episode) */
    bool replaying;         /* catching up from the journal (mp_gw_dispatch_catch_up); nothing
                               else feeds or flushes it meanwhile */
    bool lazy;              /* caught up: pending is empty and the changes after fed are the hub's
                               feed (stream_feed.h); batches are shared, nothing is copied per delta */
    uint64_t fed;           /* journal seq up to which this channel's changes were considered
                               (lazy: were sent) */
    uint64_t pos;           /* seq of the last batch sent, or the position set by IDENTIFY /
                               SUBSCRIBE / RESUME: the next batch's prev_seq */
    uint32_t credit;        /* batches that may be sent, <= the session's credit_cap */
    uint64_t next_batch_ns; /* no flush round before this (pacing, see batch_pace_ns) */
    mp_gw_coalesce_t pending;
} mp_gw_stream_chan_t;

enum { MP_GW_SESS_OPEN, MP_GW_SESS_LIVE, MP_GW_SESS_CLOSING, MP_GW_SESS_DEAD };

typedef struct mp_gw_stream_session {
    struct mp_gw_stream_session *prev, *next;
    mp_gw_stream_hub_t *hub;
    struct mp_gw_ws *ws; /* NULL once the connection is gone */
    int state;
    char sid[MP_GW_SESSION_ID_TEXT];
    uint64_t opened_ns, last_msg_ns, closing_ns;
    uint32_t credit_cap;      /* outstanding credit per channel: 64, or IDENTIFY's larger ask */
    uint64_t refill_ns;       /* estimated time between the client's CREDIT messages */
    uint64_t last_credit_ns;  /* arrival of the last CREDIT (opening before the first) */
    uint32_t credit_periods;  /* CREDIT messages seen */
    uint32_t replaying_count; /* channels with replaying set */
    bool resume_pending;      /* RESUMED goes out once no channel replays */
    uint64_t rate_ms[MP_GW_STREAM_RATE_MSGS]; /* arrival times of the last messages */
    uint32_t rate_next;
    uint32_t rate_count;
    bool close_sent;     /* the close frame is queued */
    uint16_t close_code; /* set when CLOSING */
    char close_reason[64];
    mp_gw_stream_chan_t ch[MP_CH_COUNT];
} mp_gw_stream_session_t;

/* Creates a session for a new connection, links it into the hub and queues HELLO.
 * Returns NULL when out of memory. */
mp_gw_stream_session_t *mp_gw_session_open(mp_gw_stream_hub_t *h, struct mp_gw_ws *ws);

/* Handles one client text message (already length-checked and UTF-8 valid). May queue
 * frames or a close. */
void mp_gw_session_on_message(mp_gw_stream_session_t *s, const char *data, size_t len);

/* Queues a close with code (once) and starts the close deadline. */
void mp_gw_session_close(mp_gw_stream_session_t *s, uint16_t code, const char *reason);

/* Sends a text frame; a send queue over the hub's cap closes with 4010. Returns 0 or
 * -EPIPE when the session is closing. */
int mp_gw_session_send(mp_gw_stream_session_t *s, const char *text, size_t len);

/* The same for a shared frame (a reference is taken). */
struct mp_gw_frame;
int mp_gw_session_send_frame(mp_gw_stream_session_t *s, struct mp_gw_frame *f);

/* Timers of one session (identify deadline, heartbeat timeout, close deadline); called
 * by the dispatcher each tick. */
void mp_gw_session_tick(mp_gw_stream_session_t *s, uint64_t now_ns);

/* The replay a RESUME started is done: sends RESUMED (a fresh resume token, positions). */
void mp_gw_session_resumed(mp_gw_stream_session_t *s);

/* Drain: flushes, sends RECONNECT (with a resume token and positions) and closes 1001. */
void mp_gw_session_reconnect(mp_gw_stream_session_t *s);

/* The connection is gone: the session becomes DEAD (freed by the dispatcher's sweep). */
void mp_gw_session_detach(mp_gw_stream_session_t *s);

/* Unlinks and frees a session (its pending records included). */
void mp_gw_session_free(mp_gw_stream_session_t *s);

#endif
