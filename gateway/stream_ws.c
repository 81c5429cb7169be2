/* The stream-v2 WebSocket transport: upgrade route, wslay message intake with the frame
 * rules, bounded send queues, drain and dispose hooks, and the module registrar. */
#include "gateway/stream_ws.h"

#include "common/log.h"
#include "gateway/http.h"
#include "gateway/stream_session.h"
#include "gateway/ws_out.h"

#include <errno.h>
#include <h2o/websocket.h>
#include <stdlib.h>
#include <string.h>

#define WSLAY_MAX_MSG 65536         /* wslay buffers at most this (1009 beyond); 4002 past 4096 */
#define SEND_CAP_DEFAULT (4u << 20) /* queued bytes per connection before close 4010 */

/* Every text frame goes out through `out` (one writev per batch of frames, shared
 * buffers, no copy); wslay parses what the client sends and writes only control frames
 * (pong, close), and only while `out` has nothing in flight: h2o allows one write per
 * socket at a time, and a close is queued in wslay only once `out` drained (or after
 * dropping what waits, for 4010), so it follows every message queued before it. */
struct mp_gw_ws {
    h2o_websocket_conn_t *conn;
    mp_gw_stream_session_t *s;
    bool closing;     /* a close is queued in wslay: no more messages */
    bool in_callback; /* inside h2o_websocket_proceed (on_ws_msg): it writes wslay's frames */
    mp_gw_ws_out_t out;
    mp_gw_ws_stats_t stats;
};

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing past U+10FFFF. */
static bool utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0)
            k = 1, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
            k = 2, cp = c & 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0)
            k = 3, cp = c & 0x07, min = 0x10000;
        else
            return false;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (p[i + j] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (p[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += k + 1;
    }
    return true;
}

int mp_gw_ws_send(mp_gw_ws_t *ws, const char *text, size_t len, size_t cap)
{
    if (!ws->conn || ws->closing) return -EPIPE;
    mp_gw_frame_t *f = mp_gw_frame_text(text, len);
    if (!f) return -ENOBUFS; /* out of memory: the session closes 4010, resumable */
    int ret = mp_gw_ws_out_push(&ws->out, f, cap);
    mp_gw_frame_unref(f);
    return ret;
}

int mp_gw_ws_send_frame(mp_gw_ws_t *ws, mp_gw_frame_t *f, size_t cap)
{
    if (!ws->conn || ws->closing) return -EPIPE;
    return mp_gw_ws_out_push(&ws->out, f, cap);
}

static void ws_release(mp_gw_ws_t *ws);
static void on_out_written(h2o_socket_t *sock, const char *err);

/* Starts a write of the queued frames when the socket is free; with nothing of ours
 * queued, lets wslay write its control frames. May free ws (h2o_websocket_proceed ends
 * in on_ws_msg(NULL) when the close handshake is over): callers return after it. */
static void out_kick(mp_gw_ws_t *ws)
{
    h2o_websocket_conn_t *conn = ws->conn;
    /* sock is set once h2o finished the 101 response; until then nothing goes out. */
    if (!conn || !conn->sock || h2o_socket_is_writing(conn->sock)) return;
    h2o_iovec_t iov[MP_GW_WS_OUT_WRITE_MAX];
    unsigned n = mp_gw_ws_out_take(&ws->out, iov, MP_GW_WS_OUT_WRITE_MAX);
    if (n) {
        ws->stats.writes++;
        h2o_socket_write(conn->sock, iov, n, on_out_written);
        return;
    }
    if (!ws->in_callback && ws->out.inflight == 0 && wslay_event_want_write(conn->ws_ctx))
        h2o_websocket_proceed(conn);
}

static void on_out_written(h2o_socket_t *sock, const char *err)
{
    h2o_websocket_conn_t *conn = sock->data;
    mp_gw_ws_t *ws = conn->data;
    mp_gw_ws_out_written(&ws->out);
    ws->stats.writes_done++;
    if (err) {
        ws_release(ws);
        return;
    }
    out_kick(ws);
}

void mp_gw_ws_close(mp_gw_ws_t *ws, uint16_t code, const char *reason)
{
    if (!ws->conn || ws->closing) return;
    ws->closing = true;
    mp_gw_ws_out_drop_waiting(&ws->out);
    wslay_event_queue_close(ws->conn->ws_ctx, code, (const uint8_t *)reason, strlen(reason));
}

mp_gw_ws_stats_t mp_gw_ws_stats(const mp_gw_ws_t *ws)
{
    mp_gw_ws_stats_t st = ws->stats;
    st.upgraded = ws->conn && ws->conn->sock;
    st.queued_frames = mp_gw_ws_out_count(&ws->out);
    return st;
}

size_t mp_gw_ws_queued(const mp_gw_ws_t *ws)
{
    return ws->conn ? ws->out.bytes + wslay_event_get_queued_msg_length(ws->conn->ws_ctx) : 0;
}

void mp_gw_ws_flush(mp_gw_ws_t *ws)
{
    out_kick(ws);
}

static void ws_release(mp_gw_ws_t *ws)
{
    if (ws->s) mp_gw_session_detach(ws->s);
    h2o_websocket_close(ws->conn); /* closes the socket: no write callback after this */
    mp_gw_ws_out_clear(&ws->out);
    free(ws);
}

void mp_gw_ws_abort(mp_gw_ws_t *ws)
{
    ws_release(ws);
}

static void on_ws_msg(h2o_websocket_conn_t *conn, const struct wslay_event_on_msg_recv_arg *arg)
{
    mp_gw_ws_t *ws = conn->data;
    if (!arg) { /* closed (by the peer, an error, or the end of the close handshake) */
        ws_release(ws);
        return;
    }
    mp_gw_stream_session_t *s = ws->s;
    if (!s) return;
    ws->stats.msgs_in++;
    ws->in_callback = true;
    if (arg->opcode == WSLAY_BINARY_FRAME) {
        mp_gw_session_close(s, MP_GW_CLOSE_UNSUPPORTED, "text frames only");
    } else if (arg->opcode == WSLAY_TEXT_FRAME) {
        if (arg->msg_length > MP_GW_STREAM_MAX_PAYLOAD)
            mp_gw_session_close(s, MP_GW_CLOSE_DECODE, "message over 4096 bytes");
        else if (!utf8_valid(arg->msg, arg->msg_length))
            mp_gw_session_close(s, MP_GW_CLOSE_BAD_UTF8, "invalid UTF-8");
        else
            mp_gw_session_on_message(s, (const char *)arg->msg, arg->msg_length);
    }
    /* Pings are answered by wslay; pongs and the peer's close need nothing here.
     * Replies go out now, not at the next tick. */
    out_kick(ws);
    ws->in_callback = false;
}

static int on_stream(void *ctx, h2o_req_t *req)
{
    mp_gw_stream_hub_t *h = ctx;
    const char *client_key;
    if (h->draining) {
        mp_gw_send_error(req, 503, "draining", "this gateway process is draining; reconnect");
        return 0;
    }
    if (req->version != 0x101 || h2o_is_websocket_handshake(req, &client_key) != 0 || !client_key) {
        mp_gw_send_error(req, 400, "websocket_required",
                         "GET /dashboard/stream-v2 is a WebSocket endpoint (HTTP/1.1 Upgrade)");
        return 0;
    }
    if (h->cfg->origin_count > 0 &&
        h2o_find_header_by_str(&req->headers, H2O_STRLIT("origin"), -1) != -1 &&
        !mp_gw_router_origin_allowed(h->router, req)) {
        mp_gw_send_error(req, 400, "origin_not_allowed", "Origin is not on the allow-list");
        return 0;
    }
    mp_gw_ws_t *ws = calloc(1, sizeof *ws);
    if (!ws) {
        mp_gw_send_error(req, 503, "out_of_memory", "no memory for a new stream");
        return 0;
    }
    if (!h->loop) mp_gw_dispatch_start(h, req->conn->ctx->loop);
    mp_gw_conns_detach(req);
    ws->conn = h2o_upgrade_to_websocket(req, client_key, ws, on_ws_msg);
    wslay_event_config_set_max_recv_msg_length(ws->conn->ws_ctx, WSLAY_MAX_MSG);
    ws->s = mp_gw_session_open(h, ws); /* HELLO is queued; h2o sends it after the 101 */
    if (!ws->s) mp_gw_ws_close(ws, 1011, "out of memory");
    return 0;
}

static void on_drain(void *ctx)
{
    mp_gw_stream_hub_t *h = ctx;
    h->draining = true;
    for (mp_gw_stream_session_t *s = h->sessions; s; s = s->next)
        mp_gw_session_reconnect(s);
}

static void on_dispose(void *ctx)
{
    mp_gw_stream_hub_t *h = ctx;
    mp_gw_dispatch_stop(h);
    while (h->sessions) {
        mp_gw_stream_session_t *s = h->sessions;
        /* A connection still open here was cut by the server's forced shutdown. */
        if (s->ws) s->ws->s = NULL;
        mp_gw_session_free(s);
    }
    free(h);
}

static uint32_t env_ms(const char *name, uint32_t def)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (*end || n < 10 || n > 3600000) {
        mp_log("ignoring %s='%s' (10..3600000 ms)", name, v);
        return def;
    }
    return (uint32_t)n;
}

int mp_gw_stream_register(mp_gw_services_t *svc)
{
    mp_gw_stream_hub_t *h = calloc(1, sizeof *h);
    if (!h) return -ENOMEM;
    h->cfg = svc->cfg;
    h->regions = svc->regions;
    h->router = svc->router;
    h->key = svc->session_key;
    h->heartbeat_ms = env_ms("MEMPULSE_STREAM_HEARTBEAT_MS", 15000);
    h->identify_ms = env_ms("MEMPULSE_STREAM_IDENTIFY_MS", 10000);
    h->send_cap = env_ms("MEMPULSE_STREAM_SEND_CAP", SEND_CAP_DEFAULT); /* bytes, same bounds */
    mp_gw_route_t route = {
        .path = "/dashboard/stream-v2", .name = "stream_v2", .fn = on_stream, .ctx = h};
    int ret = mp_gw_router_add(svc->router, &route);
    if (!ret) ret = mp_gw_metrics_add(svc->metrics, mp_gw_dispatch_metrics, h);
    if (!ret) ret = mp_gw_services_on_drain(svc, on_drain, h);
    if (!ret) ret = mp_gw_services_on_dispose(svc, on_dispose, h);
    if (ret) free(h); /* registration failed: startup fails, no hook holds h */
    return ret;
}
