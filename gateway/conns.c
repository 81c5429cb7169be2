/* Listening, accepting with a cap, per-connection records, aborts and the drain. */
#include "gateway/conns.h"

#include "common/log.h"
#include "gateway/prom.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_BATCH 64
#define ACCEPT_RETRY_MS 100

/* Sent to a connection over the cap before closing it. */
#define REFUSAL_BODY                                                                               \
    "{\"error\":{\"code\":\"unavailable\",\"message\":\"too many connections to this gateway "     \
    "process\"}}"
static const char refusal[] = "HTTP/1.1 503 Service Unavailable\r\n"
                              "Content-Type: application/json\r\n"
                              "Retry-After: 1\r\n"
                              "Connection: close\r\n"
                              "Content-Length: 89\r\n"
                              "\r\n" REFUSAL_BODY;
_Static_assert(sizeof(REFUSAL_BODY) - 1 == 89, "refusal Content-Length");

int mp_gw_conns_init(mp_gw_conns_t *c, uint32_t cap)
{
    memset(c, 0, sizeof *c);
    c->listen_fd = -1;
    c->slots = calloc(cap, sizeof *c->slots);
    if (!c->slots) return -ENOMEM;
    c->cap = cap;
    for (uint32_t i = 0; i < cap; i++) {
        c->slots[i].owner = c;
        c->slots[i].fd = -1;
        c->slots[i].next_free = i + 2 <= cap ? i + 2 : 0;
    }
    c->free_head = cap ? 1 : 0;
    return 0;
}

static void on_close(void *data)
{
    mp_gw_conn_t *rec = data;
    mp_gw_conns_t *c = rec->owner;
    rec->live = rec->busy = rec->detached = false;
    rec->sock = NULL;
    rec->fd = -1;
    rec->next_free = c->free_head;
    c->free_head = (uint32_t)(rec - c->slots) + 1;
    c->live--;
}

static void refuse(mp_gw_conns_t *c, int fd)
{
    /* A fresh socket has an empty send buffer: the write does not block or truncate. */
    ssize_t n = write(fd, refusal, sizeof refusal - 1);
    (void)n;
    close(fd);
    c->refused_total++;
}

static void on_accept(h2o_socket_t *listener, const char *err);

static void accept_retry(h2o_timeout_entry_t *entry)
{
    mp_gw_conns_t *c = H2O_STRUCT_FROM_MEMBER(mp_gw_conns_t, retry_entry, entry);
    if (c->listener) h2o_socket_read_start(c->listener, on_accept);
}

/* Accepts up to ACCEPT_BATCH queued connections. */
static void accept_some(mp_gw_conns_t *c)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            if (errno == ECONNABORTED || errno == EPROTO) continue;
            /* Out of descriptors or memory: the listener would stay readable and spin the
             * loop; pause accepting briefly instead. */
            if (c->accept_errors_total++ % 100 == 0)
                mp_log("accept failed: %s; pausing accepts for %d ms", strerror(errno),
                       ACCEPT_RETRY_MS);
            h2o_socket_read_stop(c->listener);
            h2o_timeout_link(c->loop, &c->retry_timeout, &c->retry_entry);
            return;
        }
        if (c->free_head == 0) {
            refuse(c, fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        mp_gw_conn_t *rec = &c->slots[c->free_head - 1];
        c->free_head = rec->next_free;
        h2o_socket_t *sock =
            h2o_evloop_socket_create(c->loop, fd, H2O_SOCKET_FLAG_IS_ACCEPTED_CONNECTION);
        rec->sock = sock;
        rec->fd = fd;
        rec->live = true;
        rec->busy = rec->detached = false;
        c->live++;
        c->accepted_total++;
        sock->on_close.cb = on_close;
        sock->on_close.data = rec;
        h2o_accept(c->accept_ctx, sock);
    }
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    mp_gw_conns_t *c = listener->data;
    if (err) return;
    accept_some(c);
}

/* Splits "HOST:PORT" / "[V6]:PORT" into host and port (both NUL-terminated copies). */
static int split_hostport(const char *s, char *host, size_t hostcap, char *port, size_t portcap)
{
    const char *colon;
    const char *h = s;
    size_t hlen;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':') return -EINVAL;
        h = s + 1;
        hlen = (size_t)(end - h);
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) return -EINVAL;
        hlen = (size_t)(colon - s);
    }
    const char *p = colon + 1;
    size_t plen = strlen(p);
    if (hlen == 0 || hlen >= hostcap || plen == 0 || plen >= portcap) return -EINVAL;
    for (size_t i = 0; i < plen; i++)
        if (p[i] < '0' || p[i] > '9') return -EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, p, plen + 1);
    return 0;
}

int mp_gw_conns_listen(mp_gw_conns_t *c, h2o_loop_t *loop, const char *address,
                       h2o_accept_ctx_t *actx, char *err, size_t errlen)
{
    char host[256], port[8];
    if (split_hostport(address, host, sizeof host, port, sizeof port)) {
        snprintf(err, errlen, "--listen '%s' is not HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)",
                 address);
        return -EINVAL;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", address, gai_strerror(gai));
        return -EINVAL;
    }
    int ret = 0, fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        ret = -errno;
        snprintf(err, errlen, "socket for %s: %s", address, strerror(errno));
        goto out_free;
    }
    int one = 1;
    /* SO_REUSEPORT: every gateway process of the stack binds the same port and the kernel
     * spreads new connections among them. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        ret = -errno;
        snprintf(err, errlen, "cannot listen on %s: %s%s", address, strerror(errno),
                 errno == EADDRINUSE ? " (a process that is not a mempulse gateway holds the port?)"
                                     : "");
        close(fd);
        goto out_free;
    }
    c->listen_fd = fd;
    c->loop = loop;
    c->accept_ctx = actx;
    h2o_timeout_init(loop, &c->retry_timeout, ACCEPT_RETRY_MS);
    c->retry_entry.cb = accept_retry;
    c->listener = h2o_evloop_socket_create(loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    c->listener->data = c;
    h2o_socket_read_start(c->listener, on_accept);
out_free:
    freeaddrinfo(ai);
    return ret;
}

void mp_gw_conns_stop_accepting(mp_gw_conns_t *c)
{
    if (!c->listener) return;
    /* Connections already in this socket's queue would be reset when it closes. */
    for (int i = 0; i < 16 && c->free_head; i++) {
        uint64_t before = c->accepted_total + c->refused_total;
        accept_some(c);
        if (c->accepted_total + c->refused_total == before) break;
    }
    if (h2o_timeout_is_linked(&c->retry_entry)) h2o_timeout_unlink(&c->retry_entry);
    h2o_socket_read_stop(c->listener);
    h2o_socket_close(c->listener); /* closes listen_fd */
    c->listener = NULL;
    c->listen_fd = -1;
}

void mp_gw_conns_drain(mp_gw_conns_t *c)
{
    c->draining = true;
    for (uint32_t i = 0; i < c->cap; i++) {
        mp_gw_conn_t *rec = &c->slots[i];
        /* An idle keep-alive connection (or one still sending a request head): h2o reads
         * EOF and closes it; the client retries its idempotent GET elsewhere. */
        if (rec->live && !rec->busy && !rec->detached) shutdown(rec->fd, SHUT_RDWR);
    }
}

void mp_gw_conns_shutdown_all(mp_gw_conns_t *c)
{
    for (uint32_t i = 0; i < c->cap; i++)
        if (c->slots[i].live) shutdown(c->slots[i].fd, SHUT_RDWR);
}

uint32_t mp_gw_conns_live(const mp_gw_conns_t *c)
{
    return c->live;
}

mp_gw_conn_t *mp_gw_conns_of(h2o_req_t *req)
{
    if (!req->conn || !req->conn->callbacks || !req->conn->callbacks->get_socket) return NULL;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (!sock || sock->on_close.cb != on_close) return NULL;
    return sock->on_close.data;
}

void mp_gw_conns_req_begin(h2o_req_t *req)
{
    mp_gw_conn_t *rec = mp_gw_conns_of(req);
    if (rec) rec->busy = true;
}

void mp_gw_conns_req_end(h2o_req_t *req)
{
    mp_gw_conn_t *rec = mp_gw_conns_of(req);
    if (!rec) return;
    rec->busy = false;
    /* The request is logged when its response was handed to the kernel: shutting the
     * connection now sends FIN after those bytes, losing nothing. */
    if (rec->owner->draining && !rec->detached) shutdown(rec->fd, SHUT_RDWR);
}

void mp_gw_conns_detach(h2o_req_t *req)
{
    mp_gw_conn_t *rec = mp_gw_conns_of(req);
    if (rec) rec->detached = true;
}

int mp_gw_conns_abort(h2o_req_t *req)
{
    mp_gw_conn_t *rec = mp_gw_conns_of(req);
    if (!rec) return -ENOENT;
    /* Linger 0: when h2o closes the socket the kernel resets it and drops what the client
     * never read, instead of keeping megabytes of send buffer for a reader that stalls. */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(rec->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    shutdown(rec->fd, SHUT_RDWR);
    rec->owner->aborted_total++;
    return 0;
}

int mp_gw_conns_metrics(void *ctx, mp_gw_body_t *out)
{
    mp_gw_conns_t *c = ctx;
    int ret = mp_gw_prom_header(out, "gateway_connections", "gauge", "open client connections");
    if (!ret) ret = mp_gw_prom_u64(out, "gateway_connections", NULL, c->live);
    if (!ret)
        ret = mp_gw_prom_header(out, "gateway_connections_total", "counter",
                                "connections by outcome: accepted, refused over the cap, "
                                "aborted when a response missed its write deadline");
    if (!ret)
        ret = mp_gw_prom_u64(out, "gateway_connections_total", "outcome=\"accepted\"",
                             c->accepted_total);
    if (!ret)
        ret = mp_gw_prom_u64(out, "gateway_connections_total", "outcome=\"refused\"",
                             c->refused_total);
    if (!ret)
        ret = mp_gw_prom_u64(out, "gateway_connections_total", "outcome=\"aborted\"",
                             c->aborted_total);
    return ret;
}

void mp_gw_conns_dispose(mp_gw_conns_t *c)
{
    if (c->listener) {
        h2o_socket_read_stop(c->listener);
        h2o_socket_close(c->listener);
        c->listener = NULL;
    }
    if (c->loop) {
        if (h2o_timeout_is_linked(&c->retry_entry)) h2o_timeout_unlink(&c->retry_entry);
        h2o_timeout_dispose(c->loop, &c->retry_timeout);
    }
    free(c->slots);
    c->slots = NULL;
}
