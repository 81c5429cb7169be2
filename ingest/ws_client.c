/* WebSocket client connection: handshake (key, request, 101 and Sec-WebSocket-Accept
 * check) and the wslay event context fed from / draining into sock_io's buffers. */
#include "ingest/ws_client.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <wslay/wslay.h>

#include "common/clock.h"
#include "ingest/sock_io.h"
#include "ingest/tls_io.h"
#include "ingest/ws_handshake.h"

#define RECV_BUF (512u * 1024u)
#define SEND_BUF (256u * 1024u)
#define HANDSHAKE_MAX 8192u
/* Input handed to wslay per pump: bounds the messages one call can deliver. */
#define RECV_BUDGET (256u * 1024u)
#define CLOSE_LINGER_NS 500000000ull /* to flush our close frame once reading is over */

struct mp_ws_client {
    mp_sock_io_t *io;
    mp_tls_io_t *tls; /* wss:// only */
    wslay_event_context_ptr ws;
    int state;
    mp_ws_close_reason_t why;
    char why_text[160];
    bool request_sent;
    uint64_t open_deadline_ns;
    size_t max_message;
    uint64_t closing_deadline_ns; /* set when reading ended: how long the close may take */
    bool in_frame;   /* a frame's header arrived, its end not yet: EOF now is mid-frame */
    size_t budget;   /* input bytes wslay may still read in this pump */
    char accept[MP_WS_ACCEPT_LEN + 1]; /* expected Sec-WebSocket-Accept */
    char *request;
    size_t request_len, request_off;
    mp_ws_on_message_fn on_message;
    void *ctx;
};

static void close_as(mp_ws_client_t *c, mp_ws_close_reason_t why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void close_as(mp_ws_client_t *c, mp_ws_close_reason_t why, const char *fmt, ...)
{
    if (c->state == MP_WS_CLOSED) return;
    c->state = MP_WS_CLOSED;
    c->why = why;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why_text, sizeof c->why_text, fmt, ap);
    va_end(ap);
}

/* ---- transport: the socket, or TLS over it ---- */

static void in_data(const mp_ws_client_t *c, const uint8_t **data, size_t *len)
{
    if (c->tls)
        mp_tls_io_rdata(c->tls, data, len);
    else
        mp_sock_io_rdata(c->io, data, len);
}

static void in_consume(mp_ws_client_t *c, size_t n)
{
    if (c->tls)
        mp_tls_io_rconsume(c->tls, n);
    else
        mp_sock_io_rconsume(c->io, n);
}

static size_t out_write(mp_ws_client_t *c, const void *data, size_t len)
{
    return c->tls ? mp_tls_io_write(c->tls, data, len) : mp_sock_io_write(c->io, data, len);
}

static size_t out_unsent(const mp_ws_client_t *c)
{
    return mp_sock_io_unsent(c->io) + (c->tls ? mp_tls_io_unsent(c->tls) : 0);
}

/* ---- wslay callbacks ---- */

static ssize_t recv_cb(wslay_event_context_ptr ws, uint8_t *buf, size_t len, int flags, void *user)
{
    mp_ws_client_t *c = user;
    const uint8_t *data;
    size_t have;
    in_data(c, &data, &have);
    size_t n = have < len ? have : len;
    if (n > c->budget) n = c->budget;
    if (n == 0) {
        wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    memcpy(buf, data, n);
    in_consume(c, n);
    c->budget -= n;
    return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ws, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    mp_ws_client_t *c = user;
    size_t n = out_write(c, data, len);
    if (n == 0) {
        wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    return (ssize_t)n;
}

static int genmask_cb(wslay_event_context_ptr ws, uint8_t *buf, size_t len, void *user)
{
    /* Masks only need to be unpredictable to other web content; getrandom never fails
     * for a few bytes once the pool is initialized. */
    if (getrandom(buf, len, 0) != (ssize_t)len) {
        wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return 0;
}

static void on_msg_cb(wslay_event_context_ptr ws, const struct wslay_event_on_msg_recv_arg *arg,
                      void *user)
{
    mp_ws_client_t *c = user;
    if ((arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME) && c->on_message)
        c->on_message(c->ctx, arg->msg, arg->msg_length);
}

static void frame_start_cb(wslay_event_context_ptr ws,
                           const struct wslay_event_on_frame_recv_start_arg *arg, void *user)
{
    ((mp_ws_client_t *)user)->in_frame = true;
}

static void frame_end_cb(wslay_event_context_ptr ws, void *user)
{
    ((mp_ws_client_t *)user)->in_frame = false;
}

/* ---- handshake ---- */

static int base64(char *out, size_t cap, const uint8_t *in, size_t n)
{
    if (cap < 4 * ((n + 2) / 3) + 1) return -ENOSPC;
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return 0;
}

/* Builds the upgrade request and the Sec-WebSocket-Accept value it must get back. */
static int make_request(mp_ws_client_t *c, const mp_ws_config_t *cfg)
{
    uint8_t nonce[16];
    char key[32];
    if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce) return -EIO;
    base64(key, sizeof key, nonce, sizeof nonce);

    if (mp_ws_accept_value(key, c->accept) != 0) return -EIO;

    const char *path = cfg->path && *cfg->path ? cfg->path : "/";
    bool v6 = strchr(cfg->host, ':') != NULL;
    int len = asprintf(&c->request,
                       "GET %s HTTP/1.1\r\nHost: %s%s%s:%u\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                       "Sec-WebSocket-Version: 13\r\nUser-Agent: mempulse-ingest\r\n\r\n",
                       path, v6 ? "[" : "", cfg->host, v6 ? "]" : "", (unsigned)cfg->port, key);
    if (len < 0) {
        c->request = NULL;
        return -ENOMEM;
    }
    c->request_len = (size_t)len;
    return 0;
}

static int start_wslay(mp_ws_client_t *c, size_t max_message)
{
    struct wslay_event_callbacks cbs = {
        .recv_callback = recv_cb,
        .send_callback = send_cb,
        .genmask_callback = genmask_cb,
        .on_frame_recv_start_callback = frame_start_cb,
        .on_frame_recv_end_callback = frame_end_cb,
        .on_msg_recv_callback = on_msg_cb,
    };
    if (wslay_event_context_client_init(&c->ws, &cbs, c) != 0) return -ENOMEM;
    wslay_event_config_set_max_recv_msg_length(c->ws, max_message);
    return 0;
}

/* Checks the response once its head is complete; leaves any bytes after it (early
 * frames) in the receive buffer for wslay. */
static void read_response(mp_ws_client_t *c, size_t max_message)
{
    const uint8_t *data;
    size_t len;
    in_data(c, &data, &len);
    const char *head = (const char *)data;
    const char *end = memmem(head, len, "\r\n\r\n", 4);
    if (!end) {
        if (len >= HANDSHAKE_MAX)
            close_as(c, MP_WS_CLOSE_HANDSHAKE, "handshake response head longer than %u bytes",
                     HANDSHAKE_MAX);
        return;
    }
    size_t head_len = (size_t)(end - head) + 4;
    if (head_len < 12 || memcmp(head, "HTTP/1.1 101", 12) != 0) {
        const char *eol = memchr(head, '\r', head_len);
        int show = eol ? (int)(eol - head) : 0;
        close_as(c, MP_WS_CLOSE_HANDSHAKE, "upgrade refused: '%.*s'", show > 80 ? 80 : show, head);
        return;
    }
    char got[64];
    if (mp_http_header_value(head, end, "Sec-WebSocket-Accept", got, sizeof got) != 0 ||
        strcmp(got, c->accept) != 0) {
        close_as(c, MP_WS_CLOSE_HANDSHAKE, "missing or wrong Sec-WebSocket-Accept");
        return;
    }
    in_consume(c, head_len);
    if (start_wslay(c, max_message) != 0) {
        close_as(c, MP_WS_CLOSE_IO, "out of memory");
        return;
    }
    c->state = MP_WS_OPEN;
}

/* ---- public ---- */

int mp_ws_client_open(mp_ws_client_t **out, const mp_ws_config_t *cfg, char *err, size_t errlen)
{
    *out = NULL;
    mp_ws_client_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    c->max_message = cfg->max_message;
    int ret = make_request(c, cfg);
    if (ret) {
        snprintf(err, errlen, "cannot build the upgrade request: %s", strerror(-ret));
        free(c);
        return ret;
    }
    ret = mp_sock_io_open(&c->io, cfg->host, cfg->port, RECV_BUF, SEND_BUF);
    if (ret) {
        snprintf(err, errlen, "cannot connect to %s:%u: %s", cfg->host, (unsigned)cfg->port,
                 ret == -EHOSTUNREACH ? "name not resolved" : strerror(-ret));
        free(c->request);
        free(c);
        return ret;
    }
    if (cfg->tls) {
        ret = mp_tls_io_open(&c->tls, c->io, cfg->host, cfg->ca_file, err, errlen);
        if (ret) {
            mp_sock_io_close(c->io);
            free(c->request);
            free(c);
            return ret;
        }
    }
    c->state = MP_WS_CONNECTING;
    c->open_deadline_ns = mp_mono_ns() + cfg->open_timeout_ns;
    *out = c;
    return 0;
}

static void pump_connecting(mp_ws_client_t *c, int st)
{
    if (st == MP_SOCK_CONNECTED && c->request_off < c->request_len)
        c->request_off +=
            out_write(c, c->request + c->request_off, c->request_len - c->request_off);
    if (st == MP_SOCK_CONNECTED) c->request_sent = true;
    if (c->request_sent) read_response(c, c->max_message);
    if (c->state != MP_WS_CONNECTING) return;
    if (st == MP_SOCK_CLOSED) {
        int e = mp_sock_io_error(c->io);
        if (c->request_sent)
            close_as(c, MP_WS_CLOSE_HANDSHAKE, "connection closed during the handshake%s%s",
                     e ? ": " : "", e ? strerror(-e) : "");
        else
            close_as(c, MP_WS_CLOSE_CONNECT, "connect failed: %s", strerror(e ? -e : ECONNREFUSED));
    } else if (mp_mono_ns() > c->open_deadline_ns) {
        close_as(c, c->request_sent ? MP_WS_CLOSE_HANDSHAKE : MP_WS_CLOSE_CONNECT,
                 c->request_sent ? "no handshake response in time" : "connect timed out");
    }
}

static void pump_open(mp_ws_client_t *c, int st, bool may_receive)
{
    const uint8_t *data;
    size_t have;
    in_data(c, &data, &have);
    if (may_receive && have && wslay_event_want_read(c->ws)) {
        c->budget = RECV_BUDGET;
        if (wslay_event_recv(c->ws) != 0) {
            close_as(c, MP_WS_CLOSE_PROTOCOL, "receive failed (framing or memory)");
            return;
        }
    }
    if (wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0) {
        close_as(c, MP_WS_CLOSE_IO, "send failed");
        return;
    }
    uint16_t sent = wslay_event_get_status_code_sent(c->ws);
    bool read_on = wslay_event_want_read(c->ws);
    if (read_on && st != MP_SOCK_CLOSED) return;
    /* Reading is over: let our close frame leave (bounded), unless the socket is gone. */
    if (!c->closing_deadline_ns) c->closing_deadline_ns = mp_mono_ns() + CLOSE_LINGER_NS;
    if (st != MP_SOCK_CLOSED && (wslay_event_want_write(c->ws) || out_unsent(c)) &&
        mp_mono_ns() < c->closing_deadline_ns)
        return;
    in_data(c, &data, &have);
    if (read_on && st == MP_SOCK_CLOSED && have && may_receive) return; /* deliver first */
    if (sent == WSLAY_CODE_MESSAGE_TOO_BIG)
        close_as(c, MP_WS_CLOSE_OVERSIZE, "message larger than %zu bytes", c->max_message);
    else if (sent == WSLAY_CODE_PROTOCOL_ERROR || sent == WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA)
        close_as(c, MP_WS_CLOSE_PROTOCOL, "invalid frame from the server (close %u)", sent);
    else if (wslay_event_get_close_received(c->ws))
        close_as(c, MP_WS_CLOSE_PEER, "server closed the connection (code %u)",
                 wslay_event_get_status_code_received(c->ws));
    else if (st == MP_SOCK_CLOSED && (have || c->in_frame))
        close_as(c, MP_WS_CLOSE_TRUNCATED,
                 "server closed the connection in the middle of a frame%s%s",
                 mp_sock_io_error(c->io) ? ": " : "",
                 mp_sock_io_error(c->io) ? strerror(-mp_sock_io_error(c->io)) : "");
    else if (st == MP_SOCK_CLOSED && mp_sock_io_error(c->io))
        close_as(c, MP_WS_CLOSE_IO, "socket error: %s", strerror(-mp_sock_io_error(c->io)));
    else if (st == MP_SOCK_CLOSED)
        close_as(c, MP_WS_CLOSE_PEER, "server closed the connection without a close frame");
    else
        close_as(c, MP_WS_CLOSE_PROTOCOL, "connection unusable (close %u sent)", sent);
}

int mp_ws_client_pump(mp_ws_client_t *c, uint64_t timeout_ns, bool may_receive,
                      mp_ws_on_message_fn on_message, void *ctx)
{
    if (c->state == MP_WS_CLOSED) return c->state;
    c->on_message = on_message;
    c->ctx = ctx;
    const uint8_t *data;
    size_t have;
    in_data(c, &data, &have);
    /* Input already buffered is work to do now: do not sleep on the socket. */
    if (c->state == MP_WS_OPEN && may_receive && have) timeout_ns = 0;
    /* Frame what was queued since the last call before waiting, so a request leaves now
     * rather than after the wait. */
    if (c->state == MP_WS_OPEN && wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0) {
        close_as(c, MP_WS_CLOSE_IO, "send failed");
        return c->state;
    }
    int st = mp_sock_io_pump(c->io, timeout_ns);
    if (c->tls && (st == MP_SOCK_CONNECTED || st == MP_SOCK_CLOSED)) {
        int r = mp_tls_io_pump(c->tls);
        if (r < 0) {
            close_as(c, mp_tls_io_ready(c->tls) ? MP_WS_CLOSE_PROTOCOL : MP_WS_CLOSE_HANDSHAKE,
                     "%s", mp_tls_io_why(c->tls));
            return c->state;
        }
        if (r == 1) st = MP_SOCK_CLOSED; /* close_notify: the stream ended */
        /* Until TLS is up the WebSocket handshake waits, as for a TCP connect. */
        if (st == MP_SOCK_CONNECTED && !mp_tls_io_ready(c->tls)) st = MP_SOCK_CONNECTING;
    }
    if (c->state == MP_WS_CONNECTING) pump_connecting(c, st);
    if (c->state == MP_WS_OPEN) pump_open(c, st, may_receive);
    return c->state;
}

int mp_ws_client_send_text(mp_ws_client_t *c, const char *data, size_t len)
{
    if (c->state != MP_WS_OPEN) return -ENOTCONN;
    struct wslay_event_msg msg = {
        .opcode = WSLAY_TEXT_FRAME, .msg = (const uint8_t *)data, .msg_length = len};
    int r = wslay_event_queue_msg(c->ws, &msg);
    if (r == WSLAY_ERR_NOMEM) return -ENOMEM;
    if (r != 0) return -ENOTCONN; /* closing: no more messages */
    return 0;
}

mp_ws_close_reason_t mp_ws_client_why(const mp_ws_client_t *c)
{
    return c->why;
}

const char *mp_ws_client_why_text(const mp_ws_client_t *c)
{
    return c->why_text;
}

bool mp_ws_client_uses_uring(const mp_ws_client_t *c)
{
    return mp_sock_io_uses_uring(c->io);
}

void mp_ws_client_close(mp_ws_client_t *c)
{
    if (!c) return;
    if (c->ws) wslay_event_context_free(c->ws);
    mp_tls_io_close(c->tls);
    mp_sock_io_close(c->io);
    free(c->request);
    free(c);
}
