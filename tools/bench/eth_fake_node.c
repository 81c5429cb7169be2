/* The fake Ethereum node of eth-feed-bench: the WebSocket upgrade, wslay framing through
 * bounded buffers, JSON-RPC answers and the feed's announcements. */
#include "tools/bench/eth_fake_node.h"

#include "common/clock.h"
#include "common/hex.h"
#include "common/log.h"
#include "ingest/ws_handshake.h"
#include "tools/bench/eth_feed.h"
#include "tools/bench/json_text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#define SUB_PENDING "0x9cef478923ff08bf67fde6c64013158d"
#define SUB_HEADS "0x1f6b2a4c8d3e5f7091a2b3c4d5e6f708"

/* Bounds. */
#define NOTE_MAX (MP_ETH_FEED_TX_JSON_MAX + 192u) /* one eth_subscription notification */
#define BATCH_MAX 64u                             /* requests answered in one batch (ingest: 16) */
#define ID_MAX 64u                                /* a JSON-RPC id echoed back */
#define RESPONSE_ITEM_MAX (MP_ETH_FEED_TX_JSON_MAX + 128u) /* one response inside a batch */
#define RESPONSE_MAX (BATCH_MAX * RESPONSE_ITEM_MAX + 16u)
#define REQUEST_MAX (1u << 20)          /* largest client message accepted */
#define HANDSHAKE_MAX 8192u             /* upgrade request head */
#define SEND_QUEUE_BYTES (256u << 10)   /* backlogged while wslay holds this much */
#define RESPONSE_QUEUE_BYTES (4u << 20) /* requests are not read while wslay holds this much */
#define OUT_BUF_BYTES (256u << 10)      /* framed bytes, written with one send() */
#define RECV_BUDGET (256u << 10)        /* input bytes parsed per turn */
#define FLUSH_ROUNDS 64                 /* frame-then-write rounds per turn */
#define EINTR_RETRIES 16
#define IO_WAIT_MS 100 /* poll step of the blocking handshake */

/* ---- the connection: wslay, socket buffers ---- */

struct mp_fake_node {
    int fd;
    wslay_event_context_ptr ws;
    mp_fake_node_status_t st;
    /* Bytes that followed the upgrade request head: wslay reads them first. */
    uint8_t carry[HANDSHAKE_MAX];
    size_t carry_len, carry_off;
    /* Frames wslay produced, not yet accepted by the socket: [out_off, out_len). */
    uint8_t out[OUT_BUF_BYTES];
    size_t out_off, out_len;
    size_t recv_budget; /* bytes recv_cb may still hand wslay in this turn */
    char note[NOTE_MAX];
    char response[RESPONSE_MAX];
};

/* Records why the connection ended (the first reason only) and returns -EPIPE. */
static int node_gone(mp_fake_node_t *n, const char *why)
{
    if (!n->st.why[0]) snprintf(n->st.why, sizeof n->st.why, "%s", why);
    return -EPIPE;
}

static ssize_t recv_cb(wslay_event_context_ptr ws, uint8_t *buf, size_t len, int flags, void *user)
{
    mp_fake_node_t *n = user;
    if (len > n->recv_budget) len = n->recv_budget;
    if (len && n->carry_off < n->carry_len) {
        size_t k = n->carry_len - n->carry_off < len ? n->carry_len - n->carry_off : len;
        memcpy(buf, n->carry + n->carry_off, k);
        n->carry_off += k;
        n->recv_budget -= k;
        return (ssize_t)k;
    }
    for (int tries = 0; len && tries < EINTR_RETRIES; tries++) {
        ssize_t got = recv(n->fd, buf, len, 0);
        if (got > 0) {
            n->recv_budget -= (size_t)got;
            return got;
        }
        if (got == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
            node_gone(n, got == 0 ? "the ingest closed the connection" : strerror(errno));
            wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
            return -1;
        }
        if (errno != EINTR) break;
    }
    wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
    return -1;
}

/* wslay's frames go to n->out; out_flush writes them in large sends. */
static ssize_t send_cb(wslay_event_context_ptr ws, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    mp_fake_node_t *n = user;
    if (n->out_off == n->out_len) n->out_off = n->out_len = 0;
    if (n->out_off && sizeof n->out - n->out_len < len) {
        memmove(n->out, n->out + n->out_off, n->out_len - n->out_off);
        n->out_len -= n->out_off;
        n->out_off = 0;
    }
    size_t room = sizeof n->out - n->out_len;
    if (room == 0) {
        wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t k = len < room ? len : room;
    memcpy(n->out + n->out_len, data, k);
    n->out_len += k;
    return (ssize_t)k;
}

/* Writes buffered frames. Returns 0 when the buffer emptied, 1 when the socket is full (the
 * ingest is behind: backpressure), or -EPIPE. */
static int out_flush(mp_fake_node_t *n)
{
    for (int tries = 0; n->out_off < n->out_len && tries < EINTR_RETRIES;) {
        ssize_t w = send(n->fd, n->out + n->out_off, n->out_len - n->out_off, MSG_NOSIGNAL);
        if (w > 0) {
            n->out_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) {
            tries++;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
        return node_gone(n, w < 0 ? strerror(errno) : "send wrote nothing");
    }
    return n->out_off < n->out_len ? 1 : 0;
}

static bool node_has_output(mp_fake_node_t *n)
{
    return n->out_off < n->out_len || wslay_event_want_write(n->ws);
}

/* Alternates writing and framing until the socket is full or nothing is queued. */
static int node_flush(mp_fake_node_t *n)
{
    for (int round = 0; round < FLUSH_ROUNDS; round++) {
        int ret = out_flush(n);
        if (ret < 0) return ret;
        if (ret == 1 || !wslay_event_want_write(n->ws)) return 0;
        if (wslay_event_send(n->ws) != 0) return node_gone(n, "wslay could not frame a message");
    }
    return 0;
}

static int node_queue_text(mp_fake_node_t *n, const char *data, size_t len)
{
    struct wslay_event_msg m = {
        .opcode = WSLAY_TEXT_FRAME, .msg = (const uint8_t *)data, .msg_length = len};
    int r = wslay_event_queue_msg(n->ws, &m);
    if (r == WSLAY_ERR_NOMEM) return node_gone(n, "out of memory queueing a message");
    if (r != 0) return node_gone(n, "the connection is closing");
    return 0;
}

/* Parses requests only while less than RESPONSE_QUEUE_BYTES of answers wait: a client that
 * does not read is not answered without bound. */
int mp_fake_node_turn(mp_fake_node_t *n, int wait_ms)
{
    bool may_read = wslay_event_get_queued_msg_length(n->ws) < RESPONSE_QUEUE_BYTES &&
                    wslay_event_want_read(n->ws);
    short events = (short)((may_read ? POLLIN : 0) | (node_has_output(n) ? POLLOUT : 0));
    struct pollfd p = {.fd = n->fd, .events = events};
    if (poll(&p, 1, wait_ms) < 0 && errno != EINTR) return node_gone(n, strerror(errno));
    if (may_read && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
        n->recv_budget = RECV_BUDGET;
        if (wslay_event_recv(n->ws) != 0) return node_gone(n, "invalid frame from the ingest");
    }
    if (wslay_event_get_close_received(n->ws)) {
        node_flush(n); /* the close reply, best effort */
        return node_gone(n, "the ingest sent a close frame");
    }
    return node_flush(n);
}

/* ---- JSON-RPC ---- */

static void put_head(mp_json_text_t *t, const char *id)
{
    mp_json_text_lit(t, "{\"jsonrpc\":\"2.0\",\"id\":");
    mp_json_text_lit(t, id);
}

/* message must be JSON-safe (the node's own constants). */
static void put_error(mp_fake_node_t *n, mp_json_text_t *t, const char *id, int code,
                      const char *message)
{
    char tail[200];
    snprintf(tail, sizeof tail, ",\"error\":{\"code\":%d,\"message\":\"%s\"}}", code, message);
    put_head(t, id);
    mp_json_text_lit(t, tail);
    n->st.errors_sent++;
}

static void answer_subscribe(mp_fake_node_t *n, mp_json_text_t *t, const char *id,
                             const json_t *params)
{
    const char *what = json_string_value(json_array_get(params, 0));
    if (what && strcmp(what, "newPendingTransactions") == 0) {
        n->st.pending = json_is_true(json_array_get(params, 1)) ? MP_FAKE_NODE_PENDING_FULL
                                                                : MP_FAKE_NODE_PENDING_HASHES;
        put_head(t, id);
        mp_json_text_lit(t, ",\"result\":\"" SUB_PENDING "\"}");
    } else if (what && strcmp(what, "newHeads") == 0) {
        n->st.heads = true;
        put_head(t, id);
        mp_json_text_lit(t, ",\"result\":\"" SUB_HEADS "\"}");
    } else {
        put_error(n, t, id, -32602, "eth-feed-bench serves newPendingTransactions and newHeads");
    }
}

/* The body of an announced tx; null (and a counted fault) for any other hash. */
static void answer_get_tx(mp_fake_node_t *n, mp_json_text_t *t, const char *id,
                          const json_t *params)
{
    const json_t *h = json_array_get(params, 0);
    uint8_t hash[MP_HASH_LEN];
    uint64_t index;
    if (!json_is_string(h) ||
        mp_hex_decode_fixed(hash, MP_HASH_LEN, json_string_value(h), json_string_length(h))) {
        put_error(n, t, id, -32602, "params[0] is not a 32-byte hex hash");
        return;
    }
    put_head(t, id);
    mp_json_text_lit(t, ",\"result\":");
    if (mp_eth_feed_index_of(hash, &index) == 0 && index < n->st.announced) {
        mp_eth_feed_put_tx(t, index);
        n->st.served++;
    } else {
        mp_json_text_lit(t, "null");
        n->st.unknown_fetches++;
    }
    mp_json_text_lit(t, "}");
}

/* Appends the answer to one request object. */
static void answer_one(mp_fake_node_t *n, mp_json_text_t *t, const json_t *req)
{
    char id[ID_MAX];
    const json_t *idv = json_object_get(req, "id");
    size_t idlen = idv && (json_is_integer(idv) || json_is_string(idv))
                       ? json_dumpb(idv, id, sizeof id - 1, JSON_ENCODE_ANY | JSON_COMPACT)
                       : 0;
    if (!json_is_object(req) || idlen == 0 || idlen >= sizeof id) {
        put_error(n, t, "null", -32600, "a request needs an object with a number or string id");
        return;
    }
    id[idlen] = '\0';
    const char *method = json_string_value(json_object_get(req, "method"));
    const json_t *params = json_object_get(req, "params");
    if (!method) {
        put_error(n, t, id, -32600, "method is missing");
    } else if (strcmp(method, "eth_chainId") == 0) {
        put_head(t, id);
        mp_json_text_lit(t, ",\"result\":\"0x1\"}");
    } else if (strcmp(method, "eth_subscribe") == 0) {
        answer_subscribe(n, t, id, params);
    } else if (strcmp(method, "eth_getTransactionByHash") == 0) {
        answer_get_tx(n, t, id, params);
    } else {
        put_error(n, t, id, -32601, "method not served by eth-feed-bench");
    }
}

/* Answers a request or a batch (a JSON array of requests, answered with an array). */
static void on_request(mp_fake_node_t *n, const uint8_t *data, size_t len)
{
    mp_json_text_t t = {.p = n->response, .cap = sizeof n->response};
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, len, 0, &jerr);
    if (!root) {
        put_error(n, &t, "null", -32700, "invalid JSON");
    } else if (json_is_array(root)) {
        size_t count = json_array_size(root);
        n->st.batches++;
        if (count == 0 || count > BATCH_MAX) {
            put_error(n, &t, "null", -32600, "batches hold 1 to 64 requests");
        } else {
            mp_json_text_lit(&t, "[");
            for (size_t i = 0; i < count; i++) {
                if (i) mp_json_text_lit(&t, ",");
                answer_one(n, &t, json_array_get(root, i));
            }
            mp_json_text_lit(&t, "]");
        }
    } else {
        answer_one(n, &t, root);
    }
    json_decref(root);
    if (t.overflow) {
        /* Cannot happen within BATCH_MAX; the ingest's fetches would then time out. */
        node_gone(n, "an answer did not fit the response buffer");
        return;
    }
    node_queue_text(n, t.p, t.len);
}

static void on_msg_cb(wslay_event_context_ptr ws, const struct wslay_event_on_msg_recv_arg *arg,
                      void *user)
{
    mp_fake_node_t *n = user;
    if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME)
        on_request(n, arg->msg, arg->msg_length);
}

/* ---- announcing ---- */

bool mp_fake_node_backlogged(const mp_fake_node_t *n)
{
    return wslay_event_get_queued_msg_length(n->ws) >= SEND_QUEUE_BYTES;
}

int mp_fake_node_announce(mp_fake_node_t *n, bool full)
{
    uint64_t index = n->st.announced;
    mp_json_text_t t = {.p = n->note, .cap = sizeof n->note};
    mp_json_text_lit(&t, "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":{"
                         "\"subscription\":\"" SUB_PENDING "\",\"result\":");
    if (full) {
        mp_eth_feed_put_tx(&t, index);
    } else {
        uint8_t hash[MP_HASH_LEN];
        mp_eth_feed_hash(hash, index);
        mp_json_text_hex(&t, hash, MP_HASH_LEN);
    }
    mp_json_text_lit(&t, "}}");
    if (t.overflow) return node_gone(n, "a notification did not fit its buffer");
    int ret = node_queue_text(n, t.p, t.len);
    if (ret) return ret;
    n->st.announced++;
    return 0;
}

/* ---- listening, accepting, the upgrade ---- */

int mp_fake_node_listen(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        int e = -errno;
        close(fd);
        return e;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

int mp_fake_node_accept(int lfd, int wait_ms)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, wait_ms) <= 0) return -EAGAIN;
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return errno == EINTR || errno == ECONNABORTED ? -EAGAIN : -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Blocks (poll, deadline) until fd took all of data. Returns 0 or -errno. */
static int send_all(int fd, const char *data, size_t len, uint64_t deadline)
{
    size_t off = 0;
    while (off < len) {
        if (mp_mono_ns() >= deadline) return -ETIMEDOUT;
        ssize_t w = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, IO_WAIT_MS);
        } else if (!(w < 0 && errno == EINTR)) {
            return w < 0 ? -errno : -EIO;
        }
    }
    return 0;
}

/* Reads the upgrade request head (at most HANDSHAKE_MAX bytes) into head; *len is its size
 * including any bytes after it. Returns the head's length or -errno. */
static ssize_t read_request_head(int fd, char *head, size_t *len, uint64_t deadline)
{
    for (;;) {
        const char *end = memmem(head, *len, "\r\n\r\n", 4);
        if (end) return end + 4 - head;
        if (*len == HANDSHAKE_MAX) return -EMSGSIZE;
        if (mp_mono_ns() >= deadline) return -ETIMEDOUT;
        ssize_t r = recv(fd, head + *len, HANDSHAKE_MAX - *len, 0);
        if (r > 0) {
            *len += (size_t)r;
        } else if (r == 0) {
            return -ECONNRESET;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, IO_WAIT_MS);
        } else if (errno != EINTR) {
            return -errno;
        }
    }
}

/* The server side of the upgrade: checks the request, answers 101 with the accept value,
 * keeps bytes after the head for wslay. Returns 0 or -errno (logged). */
static int ws_handshake(mp_fake_node_t *n, uint64_t deadline)
{
    char head[HANDSHAKE_MAX], key[64], upgrade[32], accept[MP_WS_ACCEPT_LEN + 1];
    size_t len = 0;
    ssize_t head_len = read_request_head(n->fd, head, &len, deadline);
    if (head_len < 0) {
        mp_log("reading the ingest's upgrade request: %s", strerror((int)-head_len));
        return (int)head_len;
    }
    if (strncmp(head, "GET ", 4) != 0 ||
        mp_http_header_value(head, head + head_len, "Upgrade", upgrade, sizeof upgrade) ||
        strcasecmp(upgrade, "websocket") != 0 ||
        mp_http_header_value(head, head + head_len, "Sec-WebSocket-Key", key, sizeof key) ||
        mp_ws_accept_value(key, accept)) {
        static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        send_all(n->fd, bad, sizeof bad - 1, deadline);
        mp_log("the ingest's upgrade request is not a WebSocket upgrade: '%.*s'",
               (int)(head_len > 120 ? 120 : head_len), head);
        return -EPROTO;
    }
    n->carry_len = len - (size_t)head_len;
    memcpy(n->carry, head + head_len, n->carry_len);
    char resp[256];
    int rlen = snprintf(resp, sizeof resp,
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                        accept);
    int ret = send_all(n->fd, resp, (size_t)rlen, deadline);
    if (ret) mp_log("answering the upgrade: %s", strerror(-ret));
    return ret;
}

static int node_start_wslay(mp_fake_node_t *n)
{
    struct wslay_event_callbacks cbs = {
        .recv_callback = recv_cb,
        .send_callback = send_cb,
        .on_msg_recv_callback = on_msg_cb,
    };
    if (wslay_event_context_server_init(&n->ws, &cbs, n) != 0) return -ENOMEM;
    wslay_event_config_set_max_recv_msg_length(n->ws, REQUEST_MAX);
    return 0;
}

int mp_fake_node_open(mp_fake_node_t **out, int fd, uint64_t deadline)
{
    mp_fake_node_t *n = calloc(1, sizeof *n);
    if (!n) {
        close(fd);
        return -ENOMEM;
    }
    n->fd = fd;
    int ret = ws_handshake(n, deadline);
    if (!ret) ret = node_start_wslay(n);
    if (ret) {
        mp_fake_node_close(n);
        return ret;
    }
    *out = n;
    return 0;
}

void mp_fake_node_close(mp_fake_node_t *n)
{
    if (!n) return;
    if (n->ws) wslay_event_context_free(n->ws);
    close(n->fd);
    free(n);
}

const mp_fake_node_status_t *mp_fake_node_status(const mp_fake_node_t *n)
{
    return &n->st;
}
