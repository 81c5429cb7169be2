/* One stream-v2 connection's protocol: client message parsing (jansson), the op state
 * machine, READY / RESUMED / SUBSCRIBED frames, limits and close codes, timers. */
#include "gateway/stream_session.h"

#include "common/clock.h"
#include "common/log.h"
#include "gateway/stream_ws.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLOSE_DEADLINE_MS 2000 /* a client that does not answer our close is cut after it */
#define FRAME_SMALL 2048       /* control frames (READY, SUBSCRIBED, ...) fit in this */

static uint64_t wall_ms(void)
{
    return mp_wall_ns() / 1000000ull;
}

int mp_gw_session_send(mp_gw_stream_session_t *s, const char *text, size_t len)
{
    if (!s->ws || s->state == MP_GW_SESS_CLOSING || s->state == MP_GW_SESS_DEAD) return -EPIPE;
    int ret = mp_gw_ws_send(s->ws, text, len, s->hub->send_cap);
    if (ret == -ENOBUFS) {
        mp_gw_session_close(s, MP_GW_CLOSE_BACKPRESSURE, "send queue full");
        return -EPIPE;
    }
    return ret;
}

int mp_gw_session_send_frame(mp_gw_stream_session_t *s, struct mp_gw_frame *f)
{
    if (!s->ws || s->state == MP_GW_SESS_CLOSING || s->state == MP_GW_SESS_DEAD) return -EPIPE;
    int ret = mp_gw_ws_send_frame(s->ws, f, s->hub->send_cap);
    if (ret == -ENOBUFS) {
        mp_gw_session_close(s, MP_GW_CLOSE_BACKPRESSURE, "send queue full");
        return -EPIPE;
    }
    return ret;
}

static void close_now(mp_gw_stream_session_t *s)
{
    if (s->close_sent) return;
    s->close_sent = true;
    if (s->ws) mp_gw_ws_close(s->ws, s->close_code, s->close_reason);
}

void mp_gw_session_close(mp_gw_stream_session_t *s, uint16_t code, const char *reason)
{
    if (s->state == MP_GW_SESS_CLOSING || s->state == MP_GW_SESS_DEAD) return;
    s->state = MP_GW_SESS_CLOSING;
    s->closing_ns = mp_mono_ns();
    if (code >= 4000 && code < 4016) s->hub->closes_total[code - 4000]++;
    s->close_code = code;
    snprintf(s->close_reason, sizeof s->close_reason, "%s", reason);
    /* wslay sends control frames ahead of queued messages: the close waits until the
     * frames queued before it (RECONNECT, an ERROR) are out, except for 4010 whose queue
     * is the problem. */
    if (code == MP_GW_CLOSE_BACKPRESSURE || !s->ws || mp_gw_ws_queued(s->ws) == 0) close_now(s);
}

/* A small frame built with snprintf; a frame that does not fit is a bug, not input. */
static void send_fmt(mp_gw_stream_session_t *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void send_fmt(mp_gw_stream_session_t *s, const char *fmt, ...)
{
    char buf[FRAME_SMALL];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof buf) mp_gw_session_send(s, buf, (size_t)n);
}

static void send_error(mp_gw_stream_session_t *s, const char *code, const char *message)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "op", "DISPATCH", "type", "ERROR", "code", code,
                          "message", message);
    char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (t) mp_gw_session_send(s, t, strlen(t));
    free(t);
    json_decref(o);
}

mp_gw_stream_session_t *mp_gw_session_open(mp_gw_stream_hub_t *h, struct mp_gw_ws *ws)
{
    mp_gw_stream_session_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (mp_gw_token_session_new(h->key, s->sid)) {
        free(s);
        return NULL;
    }
    s->hub = h;
    s->ws = ws;
    s->state = MP_GW_SESS_OPEN;
    s->opened_ns = s->last_msg_ns = mp_mono_ns();
    s->credit_cap = MP_GW_STREAM_CREDIT_MAX;
    s->refill_ns = MP_GW_STREAM_REFILL_MS * 1000000ull;
    s->last_credit_ns = s->opened_ns; /* the first CREDIT is due a period after opening */
    s->next = h->sessions;
    if (h->sessions) h->sessions->prev = s;
    h->sessions = s;
    h->session_count++;
    char channels[160] = "";
    size_t off = 0;
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++)
        off += (size_t)snprintf(channels + off, sizeof channels - off, "%s\"%s\"", ch ? "," : "",
                                mp_rm_channel_name(ch));
    send_fmt(s,
             "{\"op\":\"HELLO\",\"heartbeat_interval_ms\":%" PRIu32 ",\"session_id\":\"%s\","
             "\"server_time_unix_ms\":%" PRIu64 ",\"resume_token_ttl_ms\":%" PRIu32
             ",\"max_payload_bytes\":%d,\"channels\":[%s]}",
             h->heartbeat_ms, s->sid, wall_ms(), h->cfg->resume_token_ttl_ms,
             MP_GW_STREAM_MAX_PAYLOAD, channels);
    return s;
}

void mp_gw_session_detach(mp_gw_stream_session_t *s)
{
    s->ws = NULL;
    s->state = MP_GW_SESS_DEAD;
}

void mp_gw_session_free(mp_gw_stream_session_t *s)
{
    mp_gw_stream_hub_t *h = s->hub;
    if (s->prev)
        s->prev->next = s->next;
    else
        h->sessions = s->next;
    if (s->next) s->next->prev = s->prev;
    h->session_count--;
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++)
        mp_gw_coalesce_dispose(&s->ch[ch].pending);
    free(s);
}

/* ---- frames -------------------------------------------------------------------------- */

/* Appends "[\"a\",\"b\"]" of the subscribed channels and "{\"a\":pos,...}" to buf. */
static void subs_and_positions(const mp_gw_stream_session_t *s, char *subs, size_t subs_cap,
                               char *pos, size_t pos_cap)
{
    size_t a = 0, b = 0;
    bool first = true;
    a += (size_t)snprintf(subs + a, subs_cap - a, "[");
    b += (size_t)snprintf(pos + b, pos_cap - b, "{");
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++) {
        if (!s->ch[ch].subscribed) continue;
        a += (size_t)snprintf(subs + a, subs_cap - a, "%s\"%s\"", first ? "" : ",",
                              mp_rm_channel_name(ch));
        b += (size_t)snprintf(pos + b, pos_cap - b, "%s\"%s\":%" PRIu64, first ? "" : ",",
                              mp_rm_channel_name(ch), s->ch[ch].pos);
        first = false;
    }
    snprintf(subs + a, subs_cap - a, "]");
    snprintf(pos + b, pos_cap - b, "}");
}

/* READY, RESUMED or RECONNECT: session id, a fresh resume token, subscriptions, positions. */
static void send_session_frame(mp_gw_stream_session_t *s, const char *head)
{
    char tok[MP_GW_RESUME_TOKEN_TEXT], subs[256], pos[512];
    if (mp_gw_token_issue(s->hub->key, s->sid, strlen(s->sid), wall_ms(),
                          s->hub->cfg->resume_token_ttl_ms, tok))
        tok[0] = '\0';
    subs_and_positions(s, subs, sizeof subs, pos, sizeof pos);
    send_fmt(
        s,
        "{%s,\"session_id\":\"%s\",\"resume_token\":\"%s\",\"subscriptions\":%s,\"positions\":%s}",
        head, s->sid, tok, subs, pos);
}

/* ---- ops ----------------------------------------------------------------------------- */

/* Channel index of a JSON string, or -1 (then a non-fatal ERROR went out). */
static int channel_of(mp_gw_stream_session_t *s, json_t *v)
{
    if (json_is_string(v)) {
        int ch = mp_rm_channel_from_name(json_string_value(v), json_string_length(v));
        if (ch >= 0) return ch;
    }
    char msg[128];
    snprintf(msg, sizeof msg, "unknown channel '%.64s'",
             json_is_string(v) ? json_string_value(v) : "?");
    send_error(s, "unknown_channel", msg);
    return -1;
}

static bool seq_of(json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

/* Starts following channel ch from position pos (replaying (pos, cursor] when pos is
 * behind). Returns 0 or the replay's error (the channel is then not followed). */
static int follow_from(mp_gw_stream_session_t *s, unsigned ch, uint64_t pos)
{
    mp_gw_stream_chan_t *c = &s->ch[ch];
    mp_gw_coalesce_clear(&c->pending);
    if (!c->subscribed) c->credit = s->credit_cap;
    c->subscribed = true;
    c->paused = false;
    c->held = false;
    c->pos = pos;
    int ret = mp_gw_dispatch_replay(s->hub, s, ch, pos);
    if (ret) {
        mp_gw_coalesce_clear(&c->pending);
        c->paused = true;
    }
    return ret;
}

static void send_resync(mp_gw_stream_session_t *s, unsigned ch, uint64_t since)
{
    s->hub->gap_events_total++;
    s->hub->resyncs_total[MP_GW_RESYNC_WINDOW]++;
    send_fmt(s,
             "{\"op\":\"DISPATCH\",\"type\":\"RESYNC_REQUIRED\",\"channel\":\"%s\",\"since_seq\":"
             "%" PRIu64 "}",
             mp_rm_channel_name(ch), since);
}

/* IDENTIFY's or RESUME's `credit` sizes the session's window: the cap on outstanding
 * credit per channel is 64 (SPEC 4.2's default) or the largest number asked, at most
 * MP_GW_STREAM_CREDIT_LIMIT, so a client that can take more batches than 64 per CREDIT
 * period says so once instead of sending CREDIT more often than the rate limit allows. */
static void size_credit_window(mp_gw_stream_session_t *s, json_t *credit)
{
    json_int_t ask = 0;
    if (json_is_integer(credit)) {
        ask = json_integer_value(credit);
    } else {
        const char *name;
        json_t *v;
        json_object_foreach(credit, name, v)
        {
            if (json_is_integer(v) && json_integer_value(v) > ask) ask = json_integer_value(v);
        }
    }
    if (ask > MP_GW_STREAM_CREDIT_LIMIT) ask = MP_GW_STREAM_CREDIT_LIMIT;
    s->credit_cap = ask > MP_GW_STREAM_CREDIT_MAX ? (uint32_t)ask : MP_GW_STREAM_CREDIT_MAX;
}

static uint32_t credit_sum(const mp_gw_stream_session_t *s, uint32_t have, json_int_t n)
{
    uint64_t v = (uint64_t)have + (uint64_t)(n < 0 ? 0 : n);
    return v > s->credit_cap ? s->credit_cap : (uint32_t)v;
}

/* Applies credit: a number for every channel or {channel: n}; add (CREDIT) or set
 * (IDENTIFY, RESUME). */
static void apply_credit(mp_gw_stream_session_t *s, json_t *credit, bool add)
{
    if (json_is_integer(credit)) {
        json_int_t n = json_integer_value(credit);
        for (unsigned ch = 0; ch < MP_CH_COUNT; ch++) {
            s->ch[ch].credit = credit_sum(s, add ? s->ch[ch].credit : 0, n);
            if (s->ch[ch].credit > 0) s->ch[ch].held = false;
        }
        return;
    }
    const char *name;
    json_t *v;
    json_object_foreach(credit, name, v)
    {
        json_t *tmp = json_string(name);
        int ch = channel_of(s, tmp);
        json_decref(tmp);
        if (ch < 0 || !json_is_integer(v)) continue;
        s->ch[ch].credit = credit_sum(s, add ? s->ch[ch].credit : 0, json_integer_value(v));
        if (s->ch[ch].credit > 0) s->ch[ch].held = false;
    }
}

/* A CREDIT arrived: the time since the previous one feeds the refill-period estimate
 * that paces batches (stream_dispatch's batch_pace_ns). */
static void note_credit_period(mp_gw_stream_session_t *s, uint64_t now)
{
    if (s->credit_periods++ > 0) {
        uint64_t gap = now - s->last_credit_ns, lo = 50000000ull, hi = 5000000000ull;
        gap = gap < lo ? lo : gap > hi ? hi : gap;
        s->refill_ns = (3 * s->refill_ns + gap) / 4;
    }
    s->last_credit_ns = now;
}

static void op_identify(mp_gw_stream_session_t *s, json_t *m)
{
    mp_gw_stream_hub_t *h = s->hub;
    if (s->state == MP_GW_SESS_LIVE) {
        mp_gw_session_close(s, MP_GW_CLOSE_ALREADY_AUTHENTICATED, "already identified");
        return;
    }
    json_t *subs = json_object_get(m, "subscriptions"), *snap = json_object_get(m, "snapshot_seq");
    json_t *credit = json_object_get(m, "credit"), *token = json_object_get(m, "token");
    uint64_t snapshot_seq = 0;
    if ((subs && !json_is_array(subs)) || (snap && !seq_of(snap, &snapshot_seq)) ||
        (credit && !json_is_integer(credit) && !json_is_object(credit)) ||
        (token && !json_is_string(token))) {
        mp_gw_session_close(s, MP_GW_CLOSE_DECODE, "invalid IDENTIFY");
        return;
    }
    if (h->cfg->token[0]) {
        size_t want = strlen(h->cfg->token);
        if (!token || json_string_length(token) != want ||
            CRYPTO_memcmp(json_string_value(token), h->cfg->token, want) != 0) {
            mp_gw_session_close(s, MP_GW_CLOSE_AUTH_FAILED, "authentication failed");
            return;
        }
    }
    uint64_t cursor = mp_gw_dispatch_cursor(h);
    if (!snap) snapshot_seq = cursor;
    s->state = MP_GW_SESS_LIVE;
    bool want[MP_CH_COUNT] = {0};
    if (!subs) {
        for (unsigned ch = 0; ch < MP_CH_COUNT; ch++)
            want[ch] = true;
    } else {
        size_t i;
        json_t *v;
        json_array_foreach(subs, i, v)
        {
            int ch = channel_of(s, v);
            if (ch >= 0) want[ch] = true;
        }
    }
    if (credit) size_credit_window(s, credit);
    int failed[MP_CH_COUNT] = {0};
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++)
        if (want[ch]) failed[ch] = follow_from(s, ch, snapshot_seq);
    if (credit) apply_credit(s, credit, false);
    send_session_frame(s, "\"op\":\"DISPATCH\",\"type\":\"READY\"");
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++)
        if (failed[ch]) send_resync(s, ch, snapshot_seq);
}

static void invalid_session(mp_gw_stream_session_t *s, const char *reason)
{
    s->hub->resume_fail_total++;
    send_fmt(s, "{\"op\":\"INVALID_SESSION\",\"reason\":\"%s\"}", reason);
    /* The client rebootstraps (a snapshot, then IDENTIFY on this connection): its
     * IDENTIFY deadline starts now, not when the connection opened. */
    s->opened_ns = mp_mono_ns();
}

static void op_resume(mp_gw_stream_session_t *s, json_t *m)
{
    mp_gw_stream_hub_t *h = s->hub;
    if (s->state == MP_GW_SESS_LIVE) {
        mp_gw_session_close(s, MP_GW_CLOSE_ALREADY_AUTHENTICATED, "already identified");
        return;
    }
    json_t *sid = json_object_get(m, "session_id"), *tok = json_object_get(m, "resume_token");
    json_t *subs = json_object_get(m, "subscriptions"),
           *positions = json_object_get(m, "positions"), *credit = json_object_get(m, "credit");
    uint64_t last_seq;
    if (!json_is_string(sid) || !json_is_string(tok) ||
        !seq_of(json_object_get(m, "last_seq"), &last_seq) || (subs && !json_is_array(subs)) ||
        (positions && !json_is_object(positions)) ||
        (credit && !json_is_integer(credit) && !json_is_object(credit))) {
        mp_gw_session_close(s, MP_GW_CLOSE_DECODE, "invalid RESUME");
        return;
    }
    int ret = mp_gw_token_verify(h->key, json_string_value(sid), json_string_length(sid),
                                 json_string_value(tok), json_string_length(tok), wall_ms());
    if (ret) {
        invalid_session(s, ret == -ETIMEDOUT ? "token_expired" : "bad_token");
        return;
    }
    bool want[MP_CH_COUNT] = {0};
    uint64_t from[MP_CH_COUNT];
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++) {
        want[ch] = !subs;
        from[ch] = last_seq;
    }
    size_t i;
    json_t *v;
    json_array_foreach(subs, i, v)
    {
        int ch = channel_of(s, v);
        if (ch < 0) continue;
        want[ch] = true;
        json_t *p = positions ? json_object_get(positions, mp_rm_channel_name((unsigned)ch)) : NULL;
        if (p && !seq_of(p, &from[ch])) from[ch] = last_seq;
    }
    /* The session takes the resumed id: its tokens keep working across processes. */
    snprintf(s->sid, sizeof s->sid, "%s", json_string_value(sid));
    s->state = MP_GW_SESS_LIVE;
    if (credit) size_credit_window(s, credit);
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++) {
        if (!want[ch]) continue;
        ret = follow_from(s, ch, from[ch]);
        if (ret) {
            for (unsigned c = 0; c < MP_CH_COUNT; c++) {
                mp_gw_coalesce_clear(&s->ch[c].pending);
                s->ch[c].subscribed = false;
                s->ch[c].replaying = false;
            }
            s->replaying_count = 0;
            s->state = MP_GW_SESS_OPEN;
            mp_gw_token_session_new(h->key, s->sid);
            invalid_session(s, ret == -ERANGE ? "out_of_window" : "too_far_behind");
            return;
        }
    }
    if (credit) apply_credit(s, credit, false);
    /* Missed changes first (replayed from the journal in batches, no credit spent), then
     * RESUMED: at once for a short gap, after a few ticks for a long one. */
    s->resume_pending = true;
    mp_gw_dispatch_catch_up(h, s);
}

void mp_gw_session_resumed(mp_gw_stream_session_t *s)
{
    s->resume_pending = false;
    s->hub->resume_success_total++;
    send_session_frame(s, "\"op\":\"DISPATCH\",\"type\":\"RESUMED\"");
}

static void op_subscribe(mp_gw_stream_session_t *s, json_t *m, bool subscribe)
{
    json_t *chans = json_object_get(m, "channels"), *since = json_object_get(m, "since_seq");
    uint64_t since_seq = 0;
    if (!json_is_array(chans) || (subscribe && since && !seq_of(since, &since_seq))) {
        mp_gw_session_close(s, MP_GW_CLOSE_DECODE,
                            subscribe ? "invalid SUBSCRIBE" : "invalid UNSUBSCRIBE");
        return;
    }
    bool done[MP_CH_COUNT] = {0};
    int failed[MP_CH_COUNT] = {0};
    size_t i;
    json_t *v;
    json_array_foreach(chans, i, v)
    {
        int ch = channel_of(s, v);
        if (ch < 0 || done[ch]) continue;
        done[ch] = true;
        if (!subscribe) {
            mp_gw_coalesce_clear(&s->ch[ch].pending);
            s->ch[ch].subscribed = false;
            continue;
        }
        failed[ch] =
            follow_from(s, (unsigned)ch, since ? since_seq : mp_gw_dispatch_cursor(s->hub));
    }
    char list[256], pos[512];
    size_t a = 0, b = 0;
    bool first = true;
    a += (size_t)snprintf(list, sizeof list, "[");
    b += (size_t)snprintf(pos, sizeof pos, "{");
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++) {
        if (!done[ch]) continue;
        a += (size_t)snprintf(list + a, sizeof list - a, "%s\"%s\"", first ? "" : ",",
                              mp_rm_channel_name(ch));
        b += (size_t)snprintf(pos + b, sizeof pos - b, "%s\"%s\":%" PRIu64, first ? "" : ",",
                              mp_rm_channel_name(ch), s->ch[ch].pos);
        first = false;
    }
    snprintf(list + a, sizeof list - a, "]");
    snprintf(pos + b, sizeof pos - b, "}");
    if (subscribe)
        send_fmt(s,
                 "{\"op\":\"DISPATCH\",\"type\":\"SUBSCRIBED\",\"channels\":%s,\"positions\":%s}",
                 list, pos);
    else
        send_fmt(s, "{\"op\":\"DISPATCH\",\"type\":\"UNSUBSCRIBED\",\"channels\":%s}", list);
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++)
        if (failed[ch]) send_resync(s, ch, since_seq);
}

static void op_client_metrics(mp_gw_stream_session_t *s, json_t *m)
{
    mp_gw_stream_hub_t *h = s->hub;
    json_t *metrics = json_object_get(m, "metrics");
    if (!json_is_object(metrics)) {
        mp_gw_session_close(s, MP_GW_CLOSE_DECODE, "invalid CLIENT_METRICS");
        return;
    }
    h->ui_reports_total++;
    const char *name;
    json_t *v;
    json_object_foreach(metrics, name, v)
    {
        size_t n = strlen(name);
        if (!json_is_number(v) || n == 0 || n >= sizeof h->ui[0].name) continue;
        if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != n) continue;
        unsigned i = 0;
        while (i < h->ui_count && strcmp(h->ui[i].name, name) != 0)
            i++;
        if (i == h->ui_count) {
            if (h->ui_count == MP_GW_STREAM_UI_METRICS) continue; /* bounded: first names win */
            memcpy(h->ui[i].name, name, n + 1);
            h->ui_count++;
        }
        double d = json_number_value(v);
        h->ui[i].last = d;
        h->ui[i].sum += d;
        h->ui[i].samples++;
    }
}

/* True when this message passes the rate limit (MP_GW_STREAM_RATE_MSGS per window). */
static bool rate_ok(mp_gw_stream_session_t *s, uint64_t now_ms)
{
    uint32_t oldest = s->rate_next; /* ring is full: the slot about to be overwritten */
    if (s->rate_count == MP_GW_STREAM_RATE_MSGS &&
        now_ms - s->rate_ms[oldest] < MP_GW_STREAM_RATE_WINDOW_MS)
        return false;
    s->rate_ms[s->rate_next] = now_ms;
    s->rate_next = (s->rate_next + 1) % MP_GW_STREAM_RATE_MSGS;
    if (s->rate_count < MP_GW_STREAM_RATE_MSGS) s->rate_count++;
    return true;
}

void mp_gw_session_on_message(mp_gw_stream_session_t *s, const char *data, size_t len)
{
    if (s->state == MP_GW_SESS_CLOSING || s->state == MP_GW_SESS_DEAD) return;
    uint64_t now = mp_mono_ns();
    s->last_msg_ns = now;
    if (!rate_ok(s, now / 1000000ull)) {
        mp_gw_session_close(s, MP_GW_CLOSE_RATE_LIMITED, "rate limited");
        return;
    }
    json_error_t jerr;
    json_t *m = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *op = m ? json_object_get(m, "op") : NULL;
    if (!json_is_object(m) || !json_is_string(op)) {
        mp_gw_session_close(s, MP_GW_CLOSE_DECODE, "invalid message");
        json_decref(m);
        return;
    }
    const char *o = json_string_value(op);
    bool live = s->state == MP_GW_SESS_LIVE;
    if (!strcmp(o, "IDENTIFY")) {
        op_identify(s, m);
    } else if (!strcmp(o, "RESUME")) {
        op_resume(s, m);
    } else if (!strcmp(o, "HEARTBEAT")) {
        uint64_t last = 0;
        seq_of(json_object_get(m, "last_seq"), &last);
        send_fmt(s,
                 "{\"op\":\"HEARTBEAT_ACK\",\"last_seq\":%" PRIu64
                 ",\"server_time_unix_ms\":%" PRIu64 "}",
                 last, wall_ms());
    } else if (!strcmp(o, "SUBSCRIBE") || !strcmp(o, "UNSUBSCRIBE") || !strcmp(o, "CREDIT") ||
               !strcmp(o, "CLIENT_METRICS")) {
        if (!live) {
            mp_gw_session_close(s, MP_GW_CLOSE_NOT_AUTHENTICATED, "IDENTIFY or RESUME first");
        } else if (o[0] == 'S') {
            op_subscribe(s, m, true);
        } else if (o[0] == 'U') {
            op_subscribe(s, m, false);
        } else if (o[1] == 'R') {
            json_t *cc = json_object_get(m, "channel_credit");
            if (!json_is_object(cc)) {
                mp_gw_session_close(s, MP_GW_CLOSE_DECODE, "invalid CREDIT");
            } else {
                note_credit_period(s, mp_mono_ns());
                apply_credit(s, cc, true);
            }
        } else {
            op_client_metrics(s, m);
        }
    } else {
        mp_gw_session_close(s, MP_GW_CLOSE_UNKNOWN_OP, "unknown op");
    }
    json_decref(m);
}

void mp_gw_session_tick(mp_gw_stream_session_t *s, uint64_t now)
{
    mp_gw_stream_hub_t *h = s->hub;
    if (s->state == MP_GW_SESS_CLOSING) {
        if (!s->close_sent && s->ws && mp_gw_ws_queued(s->ws) == 0) close_now(s);
        if (now - s->closing_ns > CLOSE_DEADLINE_MS * 1000000ull && s->ws) mp_gw_ws_abort(s->ws);
        return;
    }
    if (s->state == MP_GW_SESS_OPEN && now - s->opened_ns > (uint64_t)h->identify_ms * 1000000ull) {
        if (s->ws) {
            mp_gw_ws_stats_t st = mp_gw_ws_stats(s->ws);
            mp_log("stream session %s: no IDENTIFY or RESUME within %u ms, closing 4003 "
                   "(socket %s, %u client messages, %u of %u writes done, %u frames queued)",
                   s->sid, h->identify_ms, st.upgraded ? "upgraded" : "not upgraded",
                   st.msgs_in, st.writes_done, st.writes, st.queued_frames);
        }
        mp_gw_session_close(s, MP_GW_CLOSE_NOT_AUTHENTICATED, "no IDENTIFY or RESUME in time");
        return;
    }
    /* 1.5 x the interval without any client message, once identified (before that the
     * IDENTIFY deadline rules). */
    if (s->state == MP_GW_SESS_LIVE &&
        now - s->last_msg_ns > (uint64_t)h->heartbeat_ms * 1500000ull)
        mp_gw_session_close(s, MP_GW_CLOSE_HEARTBEAT_TIMEOUT, "heartbeat timeout");
}

void mp_gw_session_reconnect(mp_gw_stream_session_t *s)
{
    if (s->state == MP_GW_SESS_LIVE) {
        mp_gw_dispatch_flush(s->hub, s, false);
        send_session_frame(s, "\"op\":\"RECONNECT\"");
    } else if (s->state == MP_GW_SESS_OPEN) {
        send_fmt(s, "{\"op\":\"RECONNECT\"}");
    }
    mp_gw_session_close(s, MP_GW_CLOSE_GOING_AWAY, "gateway draining");
    if (s->ws) mp_gw_ws_flush(s->ws);
}
