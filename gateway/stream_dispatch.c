/* Stream-v2 fan-out: the journal follower, the lazy (shared feed) and eager (own map)
 * paths of a session's channels, DELTA_BATCH assembly under credit and pacing with one
 * build per distinct batch, and the stream metrics. */
#include "gateway/stream_dispatch.h"

#include "common/clock.h"
#include "common/log.h"
#include "gateway/prom.h"
#include "gateway/stream_delta.h"
#include "gateway/stream_session.h"
#include "gateway/stream_ws.h"
#include "gateway/ws_out.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_seq(const void *a, const void *b)
{
    uint64_t x = (*(mp_gw_enc_t *const *)a)->seq, y = (*(mp_gw_enc_t *const *)b)->seq;
    return x < y ? -1 : x > y;
}

/* ---- batches ------------------------------------------------------------------------- */

static void resync(mp_gw_stream_hub_t *h, mp_gw_stream_session_t *s, unsigned ch,
                   mp_gw_resync_reason_t why)
{
    mp_gw_stream_chan_t *c = &s->ch[ch];
    mp_gw_coalesce_clear(&c->pending);
    c->paused = true;
    c->lazy = false;
    if (c->replaying) {
        c->replaying = false;
        s->replaying_count--;
    }
    h->gap_events_total++;
    h->resyncs_total[why]++;
    char msg[160];
    int n = snprintf(msg, sizeof msg,
                     "{\"op\":\"DISPATCH\",\"type\":\"RESYNC_REQUIRED\",\"channel\":\"%s\","
                     "\"since_seq\":%" PRIu64 "}",
                     mp_rm_channel_name(ch), c->pos);
    mp_gw_session_send(s, msg, (size_t)n);
}

/* ---- batch memo: one build per distinct batch per flush round ------------------------ */

static void memo_clear(mp_gw_stream_hub_t *h)
{
    for (unsigned i = 0; i < h->memo_count; i++) {
        mp_gw_frame_unref(h->memo[i].frame);
        free(h->memo[i].seqs);
        h->memo[i] = (mp_gw_batch_memo_t){0};
    }
    h->memo_count = h->memo_next = 0;
}

static mp_gw_frame_t *memo_find(mp_gw_stream_hub_t *h, unsigned ch, uint64_t prev_seq,
                                mp_gw_enc_t *const *items, uint32_t n)
{
    for (unsigned i = 0; i < h->memo_count; i++) {
        const mp_gw_batch_memo_t *m = &h->memo[i];
        if (m->lazy || m->channel != ch || m->count != n || m->prev_seq != prev_seq) continue;
        uint32_t k = 0;
        while (k < n && m->seqs[k] == items[k]->seq)
            k++;
        if (k == n) return m->frame;
    }
    return NULL;
}

/* Remembers frame f (a reference is taken); when full, replaces the oldest entry. */
static mp_gw_batch_memo_t *memo_slot(mp_gw_stream_hub_t *h)
{
    unsigned i =
        h->memo_count < MP_GW_STREAM_MEMO ? h->memo_count++ : h->memo_next++ % MP_GW_STREAM_MEMO;
    mp_gw_frame_unref(h->memo[i].frame);
    free(h->memo[i].seqs);
    h->memo[i] = (mp_gw_batch_memo_t){0};
    return &h->memo[i];
}

static void memo_add(mp_gw_stream_hub_t *h, unsigned ch, uint64_t prev_seq,
                     mp_gw_enc_t *const *items, uint32_t n, mp_gw_frame_t *f)
{
    uint64_t *seqs = malloc((size_t)n * sizeof *seqs);
    if (!seqs) return; /* only a lost chance to share */
    for (uint32_t k = 0; k < n; k++)
        seqs[k] = items[k]->seq;
    *memo_slot(h) = (mp_gw_batch_memo_t){.channel = (uint8_t)ch,
                                         .count = n,
                                         .prev_seq = prev_seq,
                                         .seqs = seqs,
                                         .frame = mp_gw_frame_ref(f)};
}

static const mp_gw_batch_memo_t *lazy_memo_find(const mp_gw_stream_hub_t *h, unsigned ch,
                                                uint64_t prev_seq, uint64_t from)
{
    for (unsigned i = 0; i < h->memo_count; i++) {
        const mp_gw_batch_memo_t *m = &h->memo[i];
        if (m->lazy && m->channel == ch && m->prev_seq == prev_seq && m->from == from) return m;
    }
    return NULL;
}

/* Builds the DELTA_BATCH frame of items[0..n) after prev_seq. NULL when out of memory. */
static mp_gw_frame_t *batch_build(const mp_gw_stream_hub_t *h, unsigned ch, uint64_t prev_seq,
                                  mp_gw_enc_t *const *items, uint32_t n, size_t items_bytes)
{
    mp_gw_frame_t *fr = mp_gw_frame_alloc(items_bytes + 512);
    if (!fr) return NULL;
    char *f = mp_gw_frame_payload(fr);
    size_t off =
        (size_t)snprintf(f, 256,
                         "{\"op\":\"DISPATCH\",\"type\":\"DELTA_BATCH\",\"seq\":%" PRIu64
                         ",\"prev_seq\":%" PRIu64 ",\"channel\":\"%s\",\"patch\":{\"upsert\":[",
                         items[n - 1]->seq, prev_seq, mp_rm_channel_name(ch));
    for (int pass = 0; pass < 2; pass++) {
        bool first = true;
        for (uint32_t i = 0; i < n; i++) {
            const mp_gw_enc_t *e = items[i];
            if ((e->op == MP_OP_UPSERT) != (pass == 0)) continue;
            if (!first) f[off++] = ',';
            first = false;
            memcpy(f + off, e->json, e->len);
            off += e->len;
        }
        if (pass == 0) {
            memcpy(f + off, "],\"remove\":[", 12);
            off += 12;
        }
    }
    off += (size_t)snprintf(f + off, 200,
                            "]},\"watermark\":{\"latest_ingest_seq\":%" PRIu64
                            ",\"journal_seq\":%" PRIu64 "}}",
                            h->marks.applied_seq, h->marks.journal_seq);
    mp_gw_frame_seal(fr, off);
    return fr;
}

/* Sends one batch of channel ch from the front of its (seq-sorted) pending list.
 * Sessions in step (same position, same deltas) share one frame per flush round.
 * Returns how many records went out (0 when the session cannot send). */
static uint32_t send_batch(mp_gw_stream_hub_t *h, mp_gw_stream_session_t *s, unsigned ch)
{
    mp_gw_stream_chan_t *c = &s->ch[ch];
    /* Room left for the fixed parts: head (< 200 bytes) and watermark tail (< 100). */
    size_t budget = MP_GW_STREAM_FRAME_MAX - 512, used = 0;
    uint32_t n = 0;
    while (n < c->pending.count && n < MP_GW_STREAM_BATCH_ITEMS) {
        size_t add = c->pending.items[n]->len + 1;
        if (used + add > budget) break;
        used += add;
        n++;
    }
    if (n == 0) return 0;
    mp_gw_enc_t *const *items = c->pending.items;
    mp_gw_frame_t *f = memo_find(h, ch, c->pos, items, n);
    if (f) {
        mp_gw_frame_ref(f);
    } else {
        f = batch_build(h, ch, c->pos, items, n, used);
        if (!f) return 0;
        memo_add(h, ch, c->pos, items, n, f);
        h->batches_built_total++;
    }
    int ret = mp_gw_session_send_frame(s, f);
    mp_gw_frame_unref(f);
    if (ret) return 0;
    c->pos = items[n - 1]->seq; /* sorted: the newest of the batch */
    h->batches_total++;
    return n;
}

/* Time until the next flush round of channel c: the credit left spread over the time
 * until the client's next CREDIT is due (its observed period after the last one), so a
 * client that refills once a second with 64 credits gets a batch about every 16 ms
 * instead of spending its credit early and then waiting. Scarce credit stretches the
 * pace and so grows the batches; never longer than MP_GW_STREAM_FLUSH_MS, and a full
 * batch does not wait (flush_channel). */
static uint64_t batch_pace_ns(const mp_gw_stream_session_t *s, const mp_gw_stream_chan_t *c,
                              uint64_t now)
{
    uint64_t max = MP_GW_STREAM_FLUSH_MS * 1000000ull;
    if (c->credit == 0) return 0; /* held: the next CREDIT releases it */
    uint64_t due = s->last_credit_ns + s->refill_ns;
    uint64_t left = due > now ? due - now : 0;
    if (left < s->refill_ns / 8) left = s->refill_ns / 8; /* a late client: do not rush */
    uint64_t pace = left / c->credit;
    if (pace < s->hub->round_ns) pace = s->hub->round_ns;
    return pace < max ? pace : max;
}

static void flush_channel(mp_gw_stream_hub_t *h, mp_gw_stream_session_t *s, unsigned ch,
                          bool ignore_credit, uint64_t now);

/* A lazy channel takes the deltas it is owed (the feed after its fed position) into its
 * own pending map and follows the journal one delta at a time from now on. */
static void materialize(mp_gw_stream_hub_t *h, mp_gw_stream_session_t *s, unsigned ch)
{
    mp_gw_stream_chan_t *c = &s->ch[ch];
    const mp_gw_feed_t *f = &h->feed[ch];
    if (!c->lazy) return;
    c->lazy = false;
    h->materialized_total++;
    if (c->fed < mp_gw_feed_floor(f)) { /* the feed no longer holds all of it */
        resync(h, s, ch, MP_GW_RESYNC_FEED);
        return;
    }
    for (uint32_t i = mp_gw_feed_after(f, c->fed); i != f->tail; i++)
        if (mp_gw_coalesce_put(&c->pending, mp_gw_feed_at(f, i))) {
            resync(h, s, ch, MP_GW_RESYNC_BACKLOG);
            return;
        }
    c->fed = h->cursor;
}

/* The next batch of a lazy channel at position prev_seq that was sent everything up to
 * `from`: the changes of feed[i0, tail) coalesced per entity, sorted by seq, cut at 256
 * entities or a full frame. Built once per flush round for every lazy session at the same
 * positions. Whatever did not fit stays owed: each coalesced entity's newest change is
 * after the batch's seq, so the next batch starts after it. NULL when out of memory. */
static const mp_gw_batch_memo_t *lazy_batch(mp_gw_stream_hub_t *h, unsigned ch, uint64_t prev_seq,
                                            uint64_t from, uint32_t i0)
{
    const mp_gw_batch_memo_t *m = lazy_memo_find(h, ch, prev_seq, from);
    if (m) return m;
    const mp_gw_feed_t *f = &h->feed[ch];
    mp_gw_coalesce_t *sc = &h->scratch;
    mp_gw_coalesce_clear(sc);
    for (uint32_t i = i0; i != f->tail; i++)
        if (mp_gw_coalesce_put(sc, mp_gw_feed_at(f, i))) return NULL; /* feed <= pending cap */
    if (sc->count == 0) return NULL;
    qsort(sc->items, sc->count, sizeof *sc->items, cmp_seq);
    size_t budget = MP_GW_STREAM_FRAME_MAX - 512, used = 0;
    uint32_t n = 0;
    while (n < sc->count && n < MP_GW_STREAM_BATCH_ITEMS && used + sc->items[n]->len + 1 <= budget)
        used += sc->items[n++]->len + 1;
    mp_gw_frame_t *fr = n ? batch_build(h, ch, prev_seq, sc->items, n, used) : NULL;
    uint64_t last = n ? sc->items[n - 1]->seq : 0;
    mp_gw_coalesce_clear(sc);
    if (!fr) return NULL;
    h->batches_built_total++;
    mp_gw_batch_memo_t *slot = memo_slot(h);
    *slot = (mp_gw_batch_memo_t){.lazy = true,
                                 .channel = (uint8_t)ch,
                                 .prev_seq = prev_seq,
                                 .from = from,
                                 .last_seq = last,
                                 .count = n,
                                 .frame = fr};
    return slot;
}

/* Flush of a lazy channel: shared batches of what the feed holds after its position,
 * under the same credit and pacing rules; no memory falls back to materializing. */
static void flush_lazy(mp_gw_stream_hub_t *h, mp_gw_stream_session_t *s, unsigned ch,
                       bool ignore_credit, uint64_t now)
{
    mp_gw_stream_chan_t *c = &s->ch[ch];
    const mp_gw_feed_t *f = &h->feed[ch];
    if (c->fed < mp_gw_feed_floor(f)) {
        /* The feed dropped deltas this channel still needed (materialize_before_drops
         * should have prevented it): never send past a hole; materialize resyncs. */
        h->lazy_floor_misses_total++;
        materialize(h, s, ch);
        return;
    }
    uint32_t i0 = mp_gw_feed_after(f, c->fed);
    uint32_t owed = f->tail - i0;
    if (owed == 0) {
        c->fed = h->cursor > c->fed ? h->cursor : c->fed;
        return;
    }
    if (!ignore_credit && now < c->next_batch_ns && owed < MP_GW_STREAM_BATCH_ITEMS) return;
    bool sent_any = false;
    while (owed > 0 && s->state == MP_GW_SESS_LIVE) {
        if (!ignore_credit && c->credit == 0) {
            if (!c->held) h->credit_exhausted_total++;
            c->held = true;
            break;
        }
        const mp_gw_batch_memo_t *b = lazy_batch(h, ch, c->pos, c->fed, i0);
        if (!b) {
            materialize(h, s, ch);
            flush_channel(h, s, ch, ignore_credit, now);
            return;
        }
        if (mp_gw_session_send_frame(s, b->frame)) return;
        h->batches_total++;
        c->pos = c->fed = b->last_seq;
        c->held = false;
        sent_any = true;
        if (!ignore_credit) c->credit--;
        i0 = mp_gw_feed_after(f, c->fed);
        owed = f->tail - i0;
    }
    if (owed == 0) c->fed = h->cursor; /* nothing of this channel after the feed's tail */
    if (sent_any && !ignore_credit) c->next_batch_ns = now + batch_pace_ns(s, c, now);
}

/* Sends the front batch of channel ch's (seq-sorted) pending list and shifts it out.
 * Returns how many records went (0: the session cannot send). */
static uint32_t send_front(mp_gw_stream_hub_t *h, mp_gw_stream_session_t *s, unsigned ch)
{
    mp_gw_stream_chan_t *c = &s->ch[ch];
    uint32_t sent = send_batch(h, s, ch);
    for (uint32_t i = 0; i < sent; i++)
        mp_gw_enc_unref(c->pending.items[i]);
    memmove(c->pending.items, c->pending.items + sent,
            (size_t)(c->pending.count - sent) * sizeof *c->pending.items);
    c->pending.count -= sent;
    return sent;
}

static void flush_channel(mp_gw_stream_hub_t *h, mp_gw_stream_session_t *s, unsigned ch,
                          bool ignore_credit, uint64_t now)
{
    mp_gw_stream_chan_t *c = &s->ch[ch];
    if (!c->subscribed || c->paused || c->replaying) return;
    if (c->lazy) {
        flush_lazy(h, s, ch, ignore_credit, now);
        return;
    }
    if (c->pending.count == 0) {
        c->lazy = c->fed >= h->cursor; /* caught up: follow the feed from here */
        return;
    }
    if (!ignore_credit && now < c->next_batch_ns && c->pending.count < MP_GW_STREAM_BATCH_ITEMS)
        return;
    qsort(c->pending.items, c->pending.count, sizeof *c->pending.items, cmp_seq);
    bool sent_any = false;
    while (c->pending.count > 0 && s->state == MP_GW_SESS_LIVE) {
        if (!ignore_credit && c->credit == 0) {
            if (!c->held) h->credit_exhausted_total++;
            c->held = true;
            break;
        }
        if (send_front(h, s, ch) == 0) break;
        if (!ignore_credit) c->credit--;
        c->held = false;
        sent_any = true;
    }
    if (sent_any && !ignore_credit) c->next_batch_ns = now + batch_pace_ns(s, c, now);
    mp_gw_coalesce_reindex(&c->pending);
    if (c->pending.count == 0 && c->fed >= h->cursor) c->lazy = true;
}

void mp_gw_dispatch_flush(mp_gw_stream_hub_t *h, mp_gw_stream_session_t *s, bool ignore_credit)
{
    if (s->resume_pending) return; /* nothing goes out between a RESUME and its RESUMED */
    uint64_t now = mp_mono_ns();
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++)
        flush_channel(h, s, ch, ignore_credit, now);
    if (s->ws) mp_gw_ws_flush(s->ws);
}

/* ---- the follower -------------------------------------------------------------------- */

/* Sessions whose channel ch is followed delta by delta (not lazy), collected once per
 * tick so a delta costs nothing per lazy session. Returns 0 or -ENOMEM. */
static int eager_collect(mp_gw_stream_hub_t *h)
{
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++)
        h->eager[ch].count = 0;
    for (mp_gw_stream_session_t *s = h->sessions; s; s = s->next) {
        if (s->state != MP_GW_SESS_LIVE) continue;
        for (unsigned ch = 0; ch < MP_CH_COUNT; ch++) {
            const mp_gw_stream_chan_t *c = &s->ch[ch];
            if (!c->subscribed || c->paused || c->lazy || c->replaying) continue;
            mp_gw_session_list_t *l = &h->eager[ch];
            if (l->count == l->cap) {
                uint32_t cap = l->cap ? l->cap * 2 : 64;
                void *grown = realloc(l->items, (size_t)cap * sizeof *l->items);
                if (!grown) return -ENOMEM;
                l->items = grown;
                l->cap = cap;
            }
            l->items[l->count++] = s;
        }
    }
    return 0;
}

/* Hands record e to the feed (lazy sessions) and to every eager session following its
 * channel that has not seen it yet. */
static void fan_out(mp_gw_stream_hub_t *h, mp_gw_enc_t *e)
{
    mp_gw_feed_push(&h->feed[e->channel], e);
    const mp_gw_session_list_t *l = &h->eager[e->channel];
    for (uint32_t i = 0; i < l->count; i++) {
        mp_gw_stream_session_t *s = l->items[i];
        mp_gw_stream_chan_t *c = &s->ch[e->channel];
        if (s->state != MP_GW_SESS_LIVE || !c->subscribed || c->paused || c->replaying ||
            c->fed >= e->seq)
            continue;
        c->fed = e->seq;
        if (mp_gw_coalesce_put(&c->pending, e)) resync(h, s, e->channel, MP_GW_RESYNC_BACKLOG);
    }
}

/* Lazy channels owed a delta the feed may drop during this tick (it reads at most
 * MP_GW_STREAM_TICK_SCAN deltas) take their deltas into their own maps first. */
static void materialize_before_drops(mp_gw_stream_hub_t *h, uint64_t newest)
{
    uint64_t scan =
        newest - h->cursor < MP_GW_STREAM_TICK_SCAN ? newest - h->cursor : MP_GW_STREAM_TICK_SCAN;
    uint64_t limit[MP_CH_COUNT] = {0};
    bool any = false;
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++) {
        const mp_gw_feed_t *f = &h->feed[ch];
        uint64_t held = f->tail - f->head;
        if (held + scan <= MP_GW_FEED_CAP) continue;
        uint64_t drops = held + scan - MP_GW_FEED_CAP;
        if (drops > held) drops = held;
        if (drops == 0) continue;
        limit[ch] = mp_gw_feed_at(f, f->head + (uint32_t)drops - 1)->seq;
        any = true;
    }
    if (!any) return;
    for (mp_gw_stream_session_t *s = h->sessions; s; s = s->next) {
        if (s->state != MP_GW_SESS_LIVE) continue;
        for (unsigned ch = 0; ch < MP_CH_COUNT; ch++) {
            const mp_gw_stream_chan_t *c = &s->ch[ch];
            if (c->lazy && c->fed < limit[ch]) materialize(h, s, ch);
        }
    }
}

/* Every following channel whose changes since fed are no longer all readable. */
static void resync_behind(mp_gw_stream_hub_t *h, uint64_t oldest)
{
    for (mp_gw_stream_session_t *s = h->sessions; s; s = s->next) {
        if (s->state != MP_GW_SESS_LIVE) continue;
        for (unsigned ch = 0; ch < MP_CH_COUNT; ch++) {
            mp_gw_stream_chan_t *c = &s->ch[ch];
            if (c->subscribed && !c->paused && c->fed + 1 < oldest)
                resync(h, s, ch, MP_GW_RESYNC_REGION);
        }
    }
}

static void recent_clear(mp_gw_stream_hub_t *h)
{
    for (unsigned i = 0; i < MP_GW_STREAM_RECENT; i++) {
        mp_gw_enc_unref(h->recent[i]);
        h->recent[i] = NULL;
    }
}

static void recent_keep(mp_gw_stream_hub_t *h, mp_gw_enc_t *e)
{
    mp_gw_enc_t **slot = &h->recent[e->seq & (MP_GW_STREAM_RECENT - 1)];
    mp_gw_enc_unref(*slot);
    e->refs++;
    *slot = e;
}

/* The follower's own log lines, at most one a second (a flood of deltas can push it out
 * of the window at every tick); h->follower_skips counts the skips a line reports. */
static bool follower_log_due(mp_gw_stream_hub_t *h)
{
    uint64_t now = mp_mono_ns();
    if (h->follower_log_ns && now - h->follower_log_ns < 1000000000ull) return false;
    h->follower_log_ns = now;
    return true;
}

static void follow(mp_gw_stream_hub_t *h)
{
    const mp_rm_region_t *rm = mp_gw_regions_rm(h->regions, NULL);
    if (!rm) return;
    memo_clear(h); /* its frames carry the marks about to change */
    mp_rm_read_marks(rm, &h->marks);
    uint64_t newest = mp_rm_journal_newest(rm);
    if (!h->following || h->rm_gen != h->regions->rm_gen || newest < h->cursor) {
        /* First tick, or a new region (seqs restart): everyone following resyncs. The
         * journal may still be empty here (cursor 0): "not following yet" is its own flag,
         * or a session identified at seq 0 would have the first changes skipped when the
         * next tick took cursor 0 for a first tick again. */
        if (h->following) {
            mp_log("stream follower: %s (journal seq %" PRIu64 " after %" PRIu64
                   "): every following channel resyncs",
                   h->rm_gen != h->regions->rm_gen ? "the read-model region was mapped again"
                                                   : "the journal went back",
                   newest, h->cursor);
            resync_behind(h, UINT64_MAX);
        }
        recent_clear(h);
        for (unsigned ch = 0; ch < MP_CH_COUNT; ch++)
            mp_gw_feed_clear(&h->feed[ch]);
        h->cursor = newest;
        h->rm_gen = h->regions->rm_gen;
        h->following = true;
        return;
    }
    if (newest > h->cursor) {
        materialize_before_drops(h, newest);
        if (eager_collect(h)) return; /* out of memory: try again next tick */
    }
    uint64_t now_ms = mp_wall_ns() / 1000000ull;
    mp_rm_delta_t x;
    for (unsigned n = 0; h->cursor < newest && n < MP_GW_STREAM_TICK_SCAN; n++) {
        uint64_t seq = h->cursor + 1;
        int ret = mp_rm_journal_read(rm, seq, &x);
        if (ret == -EAGAIN) break;
        if (ret == -ERANGE) {
            /* The follower itself fell behind the window: skip to it, resync the rest. */
            uint64_t oldest = mp_rm_journal_oldest(rm);
            h->follower_skips++;
            if (follower_log_due(h)) {
                mp_log("stream follower: journal seq %" PRIu64 " left the window (oldest %" PRIu64
                       "): channels behind it resync (%" PRIu64 " such skips since the last line)",
                       seq, oldest, h->follower_skips);
                h->follower_skips = 0;
            }
            h->cursor = oldest > 0 ? oldest - 1 : 0;
            resync_behind(h, oldest);
            if (h->cursor < seq) h->cursor = seq;
            continue;
        }
        h->cursor = seq;
        if (ret || x.entry.channel >= MP_CH_COUNT ||
            (x.entry.op != MP_OP_UPSERT && x.entry.op != MP_OP_REMOVE))
            continue; /* a reset or a torn entry: clients converge on their next resync */
        mp_gw_enc_t *e = mp_gw_enc_create(&x);
        if (!e) continue;
        uint64_t ev_ms = x.entry.event_time_ns / 1000000ull;
        if (ev_ms && ev_ms <= now_ms) {
            h->latency_ms_sum += now_ms - ev_ms;
            h->latency_count++;
        }
        fan_out(h, e);
        recent_keep(h, e);
        mp_gw_enc_unref(e);
    }
    /* Every following channel has now considered the journal up to the cursor, changes or
     * not: a quiet channel is not mistaken for one that fell out of the window.
     * A channel held on zero credit with changes still pending whose next needed delta
     * (position + 1, the same gap rule as replays) left the journal window gets
     * RESYNC_REQUIRED (SPEC 4.2 "Backpressure"); the pending map's cap stays the memory
     * bound (fan_out). */
    uint64_t oldest = mp_rm_journal_oldest(rm);
    for (mp_gw_stream_session_t *s = h->sessions; s; s = s->next) {
        if (s->state != MP_GW_SESS_LIVE) continue;
        for (unsigned ch = 0; ch < MP_CH_COUNT; ch++) {
            mp_gw_stream_chan_t *c = &s->ch[ch];
            if (c->replaying) continue; /* its own reads; out of window: replay_step */
            if (!c->subscribed || c->paused || !c->held || c->pos + 1 >= oldest) {
                if (c->subscribed && !c->lazy && c->fed < h->cursor) c->fed = h->cursor;
                continue;
            }
            const mp_gw_feed_t *f = &h->feed[ch];
            bool owed = c->lazy ? mp_gw_feed_after(f, c->fed) != f->tail : c->pending.count > 0;
            if (owed)
                resync(h, s, ch, MP_GW_RESYNC_WINDOW);
            else if (!c->lazy && c->fed < h->cursor)
                c->fed = h->cursor;
        }
    }
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    mp_gw_stream_hub_t *h = H2O_STRUCT_FROM_MEMBER(mp_gw_stream_hub_t, tick_entry, entry);
    uint64_t start = mp_mono_ns();
    follow(h);
    uint64_t now = mp_mono_ns();
    mp_gw_stream_session_t *next;
    for (mp_gw_stream_session_t *s = h->sessions; s; s = next) {
        next = s->next;
        if (s->state == MP_GW_SESS_DEAD) {
            mp_gw_session_free(s);
            continue;
        }
        mp_gw_session_tick(s, now);
        /* resume_pending too: a replay the follower ended (resync_behind) still owes its
         * RESUMED. */
        if (s->state == MP_GW_SESS_LIVE && (s->replaying_count || s->resume_pending))
            mp_gw_dispatch_catch_up(h, s);
        if (s->state == MP_GW_SESS_LIVE)
            mp_gw_dispatch_flush(h, s, false); /* each channel when its pace allows */
        else if (s->ws)
            mp_gw_ws_flush(s->ws); /* HELLO, or a close the tick queued, goes out now */
    }
    /* A round that takes long means the writes themselves are the load: batches then
     * grow with it (the pace floor follows the round's smoothed duration), trading a few
     * milliseconds of latency for fewer, larger writes instead of falling further behind. */
    uint64_t took = mp_mono_ns() - start;
    h->round_ns = (7 * h->round_ns + took) / 8;
    h->rounds_total++;
    h->round_ns_total += took;
    h2o_timeout_link(h->loop, &h->tick_timeout, &h->tick_entry);
}

void mp_gw_dispatch_start(mp_gw_stream_hub_t *h, h2o_loop_t *loop)
{
    h->loop = loop;
    h2o_timeout_init(loop, &h->tick_timeout, MP_GW_STREAM_TICK_MS);
    h->tick_entry.cb = on_tick;
    h2o_timeout_link(loop, &h->tick_timeout, &h->tick_entry);
}

void mp_gw_dispatch_stop(mp_gw_stream_hub_t *h)
{
    recent_clear(h);
    memo_clear(h);
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++) {
        mp_gw_feed_clear(&h->feed[ch]);
        free(h->eager[ch].items);
        h->eager[ch] = (mp_gw_session_list_t){0};
    }
    mp_gw_coalesce_dispose(&h->scratch);
    if (!h->loop) return;
    if (h2o_timeout_is_linked(&h->tick_entry)) h2o_timeout_unlink(&h->tick_entry);
    h2o_timeout_dispose(h->loop, &h->tick_timeout);
    h->loop = NULL;
}

uint64_t mp_gw_dispatch_cursor(mp_gw_stream_hub_t *h)
{
    if (!h->following) follow(h);
    return h->cursor;
}

int mp_gw_dispatch_replay(mp_gw_stream_hub_t *h, mp_gw_stream_session_t *s, unsigned ch,
                          uint64_t from)
{
    const mp_rm_region_t *rm = mp_gw_regions_rm(h->regions, NULL);
    if (!rm) return -ENODEV;
    uint64_t until = mp_gw_dispatch_cursor(h);
    mp_gw_stream_chan_t *c = &s->ch[ch];
    if (c->replaying) s->replaying_count--;
    c->replaying = false;
    c->fed = from;
    c->lazy = false; /* until its first flush finds it caught up */
    if (from >= until) return 0;
    if (from + 1 < mp_rm_journal_oldest(rm)) return -ERANGE;
    c->replaying = true;
    s->replaying_count++;
    return 0;
}

/* Sends channel ch's pending changes as batches without spending credit: all of them, or
 * (all false) only while a full batch is waiting. */
static void replay_flush(mp_gw_stream_hub_t *h, mp_gw_stream_session_t *s, unsigned ch, bool all)
{
    mp_gw_stream_chan_t *c = &s->ch[ch];
    if (c->pending.count == 0) return;
    qsort(c->pending.items, c->pending.count, sizeof *c->pending.items, cmp_seq);
    while (c->pending.count >= (all ? 1u : MP_GW_STREAM_BATCH_ITEMS) && s->state == MP_GW_SESS_LIVE)
        if (send_front(h, s, ch) == 0) break;
    mp_gw_coalesce_reindex(&c->pending);
}

/* One tick's worth of channel ch's replay: reads the journal after its position toward the
 * follower's cursor (records the follower encoded are reused), coalescing per batch and
 * sending each batch as it fills, without credit. Stops for this tick after
 * MP_GW_STREAM_REPLAY_STEP deltas or when the connection's queue is half full, so memory
 * stays bounded however long the gap. Returns true once the channel caught up (it then
 * follows live) or fell out of the window (RESYNC_REQUIRED). */
static bool replay_step(mp_gw_stream_hub_t *h, mp_gw_stream_session_t *s, unsigned ch)
{
    mp_gw_stream_chan_t *c = &s->ch[ch];
    const mp_rm_region_t *rm = mp_gw_regions_rm(h->regions, NULL);
    if (!rm) return false;
    mp_rm_delta_t x;
    for (unsigned n = 0; c->fed < h->cursor && n < MP_GW_STREAM_REPLAY_STEP; n++) {
        if (!s->ws || s->state != MP_GW_SESS_LIVE) return false;
        if (mp_gw_ws_queued(s->ws) > h->send_cap / 2) return false; /* let it drain */
        uint64_t seq = c->fed + 1;
        mp_gw_enc_t *e = h->recent[seq & (MP_GW_STREAM_RECENT - 1)];
        if (e && e->seq == seq) {
            c->fed = seq;
            if (e->channel != ch) continue;
            e->refs++; /* the follower encoded it: reuse its bytes */
        } else {
            int ret = mp_rm_journal_read(rm, seq, &x);
            if (ret == -ERANGE) { /* the window passed it meanwhile */
                resync(h, s, ch, MP_GW_RESYNC_WINDOW);
                return true;
            }
            if (ret == -EAGAIN) return false;
            c->fed = seq;
            if (ret || x.entry.channel != ch) continue;
            if (x.entry.op != MP_OP_UPSERT && x.entry.op != MP_OP_REMOVE) continue;
            if (!(e = mp_gw_enc_create(&x))) continue;
        }
        int ret = mp_gw_coalesce_put(&c->pending, e);
        mp_gw_enc_unref(e);
        if (ret) { /* cannot happen: batches leave at 256 entities */
            resync(h, s, ch, MP_GW_RESYNC_BACKLOG);
            return true;
        }
        if (c->pending.count >= MP_GW_STREAM_BATCH_ITEMS) replay_flush(h, s, ch, false);
    }
    if (c->fed < h->cursor) return false;
    replay_flush(h, s, ch, true);
    return c->pending.count == 0;
}

void mp_gw_dispatch_catch_up(mp_gw_stream_hub_t *h, mp_gw_stream_session_t *s)
{
    for (unsigned ch = 0; ch < MP_CH_COUNT && s->state == MP_GW_SESS_LIVE; ch++) {
        mp_gw_stream_chan_t *c = &s->ch[ch];
        if (!c->replaying) continue;
        /* resync() ends a replay itself (the channel fell out of the window). */
        bool done = !c->subscribed || c->paused || replay_step(h, s, ch);
        if (done && c->replaying) {
            c->replaying = false;
            s->replaying_count--;
        }
    }
    if (s->replaying_count == 0 && s->resume_pending && s->state == MP_GW_SESS_LIVE)
        mp_gw_session_resumed(s);
    if (s->ws) mp_gw_ws_flush(s->ws);
}

/* ---- metrics ------------------------------------------------------------------------- */

static int counter(mp_gw_body_t *out, const char *name, const char *help, uint64_t v)
{
    int ret = mp_gw_prom_header(out, name, "counter", help);
    return ret ? ret : mp_gw_prom_u64(out, name, NULL, v);
}

static int gauge(mp_gw_body_t *out, const char *name, const char *help, uint64_t v)
{
    int ret = mp_gw_prom_header(out, name, "gauge", help);
    return ret ? ret : mp_gw_prom_u64(out, name, NULL, v);
}

int mp_gw_dispatch_metrics(void *ctx, mp_gw_body_t *out)
{
    mp_gw_stream_hub_t *h = ctx;
    uint64_t backlog = 0;
    for (mp_gw_stream_session_t *s = h->sessions; s; s = s->next)
        if (s->ws) backlog += mp_gw_ws_queued(s->ws);
    int ret = gauge(out, "stream_v2_sessions", "open stream-v2 connections", h->session_count);
    if (!ret)
        ret = gauge(out, "dashboard_stream_backlog", "bytes queued to stream-v2 clients", backlog);
    if (!ret)
        ret = counter(out, "stream_v2_credit_exhausted_total",
                      "times a channel's batches waited on zero credit", h->credit_exhausted_total);
    if (!ret)
        ret = counter(out, "stream_v2_gap_events_total",
                      "RESYNC_REQUIRED sent (cursor out of the journal window or backlog full)",
                      h->gap_events_total);
    static const char *const why[MP_GW_RESYNC_REASONS] = {"window", "backlog", "feed",
                                                          "region"};
    if (!ret)
        ret = mp_gw_prom_header(out, "stream_v2_resyncs_total", "counter",
                                "RESYNC_REQUIRED sent, by reason: window (the channel's next "
                                "change left the journal), backlog (its coalesced backlog was "
                                "full), feed (it fell behind the shared feed), region (the "
                                "follower fell behind or the region changed)");
    for (unsigned i = 0; !ret && i < MP_GW_RESYNC_REASONS; i++) {
        char labels[32];
        snprintf(labels, sizeof labels, "reason=\"%s\"", why[i]);
        ret = mp_gw_prom_u64(out, "stream_v2_resyncs_total", labels, h->resyncs_total[i]);
    }
    if (!ret)
        ret = counter(out, "stream_v2_lazy_floor_misses_total",
                      "shared-feed channels found behind the feed's oldest delta (resynced; "
                      "should stay 0)",
                      h->lazy_floor_misses_total);
    if (!ret)
        ret = counter(out, "stream_v2_resume_success_total", "RESUMEs answered with RESUMED",
                      h->resume_success_total);
    if (!ret)
        ret = counter(out, "stream_v2_resume_failures_total",
                      "RESUMEs answered with INVALID_SESSION", h->resume_fail_total);
    if (!ret)
        ret = counter(out, "stream_v2_batches_total", "DELTA_BATCH frames sent", h->batches_total);
    if (!ret)
        ret = counter(out, "stream_v2_lazy_fallbacks_total",
                      "caught-up channels that left the shared feed (held on credit too long)",
                      h->materialized_total);
    if (!ret)
        ret = counter(
            out, "stream_v2_batches_built_total",
            "DELTA_BATCH frames encoded (the rest reused a frame built for another session)",
            h->batches_built_total);
    if (!ret)
        ret = mp_gw_prom_header(out, "stream_v2_dispatch_latency_ms", "summary",
                                "event time to fan-out of journal deltas");
    if (!ret)
        ret = mp_gw_prom_u64(out, "stream_v2_dispatch_latency_ms_sum", NULL, h->latency_ms_sum);
    if (!ret)
        ret = mp_gw_prom_u64(out, "stream_v2_dispatch_latency_ms_count", NULL, h->latency_count);
    if (!ret)
        ret = mp_gw_prom_header(out, "stream_v2_closes_total", "counter",
                                "connections closed by the gateway, by 40xx close code");
    for (unsigned i = 0; !ret && i < 16; i++) {
        if (!h->closes_total[i]) continue;
        char labels[32];
        snprintf(labels, sizeof labels, "code=\"%u\"", 4000 + i);
        ret = mp_gw_prom_u64(out, "stream_v2_closes_total", labels, h->closes_total[i]);
    }
    if (!ret)
        ret = counter(out, "ui_client_metrics_reports_total", "CLIENT_METRICS messages received",
                      h->ui_reports_total);
    for (unsigned i = 0; !ret && i < h->ui_count; i++) {
        char name[64], help[96];
        snprintf(name, sizeof name, "ui_%s", h->ui[i].name);
        snprintf(help, sizeof help, "browser metric %s: last reported value", h->ui[i].name);
        ret = mp_gw_prom_header(out, name, "gauge", help);
        if (!ret) ret = mp_gw_prom_dbl(out, name, NULL, h->ui[i].last);
    }
    return ret;
}
