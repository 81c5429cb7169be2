/* Stream-v2 fan-out (SPEC 4.2): follows the delta journal on a short timer with bounded
 * work per tick, encodes each delta once (rm_json) into a reference-counted record shared
 * by every session, coalesces per session and channel (entity id -> newest change; an
 * upsert then a remove is a remove) and flushes DELTA_BATCH frames under credit.
 * Also the shared state of the stream module (the "hub"): settings, session list,
 * counters, the CLIENT_METRICS aggregate. Single-threaded: the gateway loop owns it. */
#ifndef MP_GW_STREAM_DISPATCH_H
#define MP_GW_STREAM_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <h2o.h>

#include "gateway/body.h"
#include "gateway/config.h"
#include "gateway/regions.h"
#include "gateway/session_key.h"
#include "gateway/stream_delta.h"
#include "gateway/stream_feed.h"
#include "readmodel/rm_reader.h"

#define MP_GW_STREAM_TICK_MS 5         /* journal poll and flush round period */
#define MP_GW_STREAM_TICK_SCAN 8192    /* deltas read per tick at most */
#define MP_GW_STREAM_FLUSH_MS 50       /* longest wait of a change while its channel has credit */
#define MP_GW_STREAM_BATCH_ITEMS 256   /* entities per batch per channel */
#define MP_GW_STREAM_FRAME_MAX 65536   /* bytes per frame */
#define MP_GW_STREAM_CREDIT_MAX 64     /* default outstanding credit per channel (and its cap) */
#define MP_GW_STREAM_CREDIT_LIMIT 1024 /* the largest cap IDENTIFY / RESUME `credit` can ask */
#define MP_GW_STREAM_REFILL_MS 1000    /* assumed CREDIT period until a client shows its own */
#define MP_GW_STREAM_MEMO 16           /* distinct batches remembered per flush round */
/* MP_GW_STREAM_PENDING_MAX (stream_delta.h): coalesced entities per session and channel;
 * past it the channel gets RESYNC_REQUIRED (memory bound; a held channel whose position
 * left the journal window gets it at the follower's tick). */
#define MP_GW_STREAM_REPLAY_STEP 16384 /* journal deltas a replaying channel reads per tick */
#define MP_GW_STREAM_RECENT 16384      /* newest encoded deltas kept for replays (power of 2) */
#define MP_GW_STREAM_UI_METRICS 32     /* distinct CLIENT_METRICS names kept */

struct mp_gw_stream_session;
struct mp_gw_frame;

/* A DELTA_BATCH built in this flush round, kept so every session whose batch has the same
 * channel, prev_seq and deltas (identified by their journal seqs) queues the same bytes. */
typedef struct mp_gw_batch_memo {
    bool lazy; /* a lazy channel's batch: keyed by (channel, prev_seq, from) */
    uint8_t channel;
    uint32_t count;
    uint64_t prev_seq;
    uint64_t from;     /* lazy: the fed position the batch starts after */
    uint64_t last_seq; /* lazy: the batch's seq (its newest delta): the next `from` */
    uint64_t *seqs;    /* not lazy: count journal seqs, in batch order */
    struct mp_gw_frame *frame;
} mp_gw_batch_memo_t;

typedef struct mp_gw_session_list {
    struct mp_gw_stream_session **items;
    uint32_t count, cap;
} mp_gw_session_list_t;

typedef struct mp_gw_ui_metric {
    char name[48];
    double last;
    double sum;
    uint64_t samples;
} mp_gw_ui_metric_t;

/* Why a channel got RESYNC_REQUIRED (stream_v2_resyncs_total{reason}). */
typedef enum mp_gw_resync_reason {
    MP_GW_RESYNC_WINDOW,  /* its next change left the journal window (held, or a replay) */
    MP_GW_RESYNC_BACKLOG, /* its coalesced backlog passed MP_GW_STREAM_PENDING_MAX */
    MP_GW_RESYNC_FEED,    /* a lazy channel's changes left the shared feed */
    MP_GW_RESYNC_REGION,  /* the follower fell out of the window or the region changed */
    MP_GW_RESYNC_REASONS
} mp_gw_resync_reason_t;

typedef struct mp_gw_stream_hub {
    const mp_gw_config_t *cfg;
    mp_gw_regions_t *regions;
    struct mp_gw_router *router;
    h2o_loop_t *loop;
    const uint8_t *key;    /* MP_GW_SESSION_KEY_LEN bytes */
    uint32_t heartbeat_ms; /* HELLO heartbeat_interval_ms [15000] */
    uint32_t identify_ms;  /* IDENTIFY/RESUME deadline [10000] */
    size_t send_cap;       /* queued bytes per connection before close 4010 [4 MiB] */
    struct mp_gw_stream_session *sessions; /* doubly linked */
    uint32_t session_count;
    bool draining;
    /* journal follower */
    uint64_t cursor;     /* newest journal seq fanned out (0: the journal was empty) */
    bool following;      /* cursor is set: the first tick with a mapped region happened */
    uint64_t rm_gen;     /* mapping the cursor belongs to */
    mp_rm_marks_t marks; /* read at each tick: batch watermarks */
    /* recent[seq & (MP_GW_STREAM_RECENT - 1)]: the record of seq when its seq matches, so a
     * replay of a recent range reuses the bytes encoded once by the follower */
    mp_gw_enc_t *recent[MP_GW_STREAM_RECENT];
    h2o_timeout_t tick_timeout;
    h2o_timeout_entry_t tick_entry;
    /* batches of the current flush round (cleared when the follower reads new marks) */
    mp_gw_batch_memo_t memo[MP_GW_STREAM_MEMO];
    unsigned memo_count, memo_next;
    /* per channel: the newest encoded deltas (lazy sessions read their batches here) and
     * the sessions following it delta by delta this tick */
    mp_gw_feed_t feed[MP_CH_COUNT];
    mp_gw_session_list_t eager[MP_CH_COUNT];
    mp_gw_coalesce_t scratch; /* coalescing of a lazy batch being built */
    /* counters */
    uint64_t credit_exhausted_total, gap_events_total, resume_success_total, resume_fail_total;
    uint64_t resyncs_total[MP_GW_RESYNC_REASONS]; /* gap_events_total by reason */
    uint64_t batches_total, batches_built_total, materialized_total;
    uint64_t round_ns; /* smoothed duration of a tick: the floor of batch pacing */
    uint64_t rounds_total, round_ns_total;
    uint64_t lazy_floor_misses_total; /* lazy channels found behind the feed (must stay 0) */
    uint64_t follower_log_ns, follower_skips; /* see follower_log_due */
    uint64_t closes_total[16]; /* [code - 4000] for the 40xx close codes */
    uint64_t latency_ms_sum, latency_count;
    mp_gw_ui_metric_t ui[MP_GW_STREAM_UI_METRICS];
    unsigned ui_count;
    uint64_t ui_reports_total;
} mp_gw_stream_hub_t;

/* Starts the follower's timer on loop (once serving). */
void mp_gw_dispatch_start(mp_gw_stream_hub_t *h, h2o_loop_t *loop);

/* Stops the timer and drops the recent records. */
void mp_gw_dispatch_stop(mp_gw_stream_hub_t *h);

/* The journal seq the hub has fanned out up to (advancing it first when it never ran). */
uint64_t mp_gw_dispatch_cursor(mp_gw_stream_hub_t *h);

/* Starts channel ch of session s at position from: caught up when from is at the hub's
 * cursor; otherwise the channel replays (from, cursor] from the journal a bounded step
 * per tick (mp_gw_dispatch_catch_up), in batches coalesced per batch and sent without
 * credit, however long the gap, then follows live. Returns 0; -ERANGE when from + 1
 * left the journal window; -ENODEV without a read model. */
int mp_gw_dispatch_replay(mp_gw_stream_hub_t *h, struct mp_gw_stream_session *s, unsigned ch,
                          uint64_t from);

/* Advances every replaying channel of s by one step; once none replays and a RESUME
 * waits, sends RESUMED (mp_gw_session_resumed). Called on RESUME and at each tick. */
void mp_gw_dispatch_catch_up(mp_gw_stream_hub_t *h, struct mp_gw_stream_session *s);

/* Sends session s's pending batches of every channel now. ignore_credit: replay before
 * RESUMED (no credit spent). */
void mp_gw_dispatch_flush(mp_gw_stream_hub_t *h, struct mp_gw_stream_session *s,
                          bool ignore_credit);

/* Metrics writer: stream_v2_* and dashboard_stream_backlog, ui_* gauges. */
int mp_gw_dispatch_metrics(void *ctx, mp_gw_body_t *out);

#endif
