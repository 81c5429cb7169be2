/* HTTP/1.1 keep-alive load generator: per-thread epoll loops over non-blocking
 * connections, an incremental response parser (Content-Length, chunked, read-to-close)
 * that discards bodies, and the latency histogram. */
#include "tools/bench/http_load.h"

#include "common/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define HEAD_MAX 8192u
#define RECV_BUF (256u * 1024u)
#define EPOLL_BATCH 64
/* A thread that cannot get a single connection up gives up after this many tries rather
 * than spinning for the whole window. */
#define CONNECT_FAILURES_MAX 1000u
#define TIMER_TAG UINT64_MAX /* epoll tag of the open loop's timerfd */

/* ---- histogram ---- */

static unsigned hist_index(uint64_t us)
{
    if (us < MP_LOAD_HIST_EXACT) return (unsigned)us;
    unsigned msb = 63u - (unsigned)__builtin_clzll(us); /* >= 7 */
    unsigned shift = msb - 6u;                          /* us >> shift lies in 64..127 */
    unsigned sub = (unsigned)(us >> shift) - MP_LOAD_HIST_SUB;
    return MP_LOAD_HIST_EXACT + (shift - 1u) * MP_LOAD_HIST_SUB + sub;
}

static double hist_value_us(unsigned idx)
{
    if (idx < MP_LOAD_HIST_EXACT) return (double)idx;
    unsigned k = idx - MP_LOAD_HIST_EXACT;
    unsigned shift = k / MP_LOAD_HIST_SUB + 1u;
    uint64_t low = (uint64_t)(k % MP_LOAD_HIST_SUB + MP_LOAD_HIST_SUB) << shift;
    return (double)low + (double)(1ull << shift) / 2.0;
}

void mp_load_hist_add(mp_load_hist_t *h, uint64_t us)
{
    h->counts[hist_index(us)]++;
    h->total++;
    if (us > h->max_us) h->max_us = us;
}

void mp_load_hist_merge(mp_load_hist_t *dst, const mp_load_hist_t *src)
{
    for (unsigned i = 0; i < MP_LOAD_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    if (src->max_us > dst->max_us) dst->max_us = src->max_us;
}

double mp_load_hist_percentile_ms(const mp_load_hist_t *h, double p)
{
    if (!h->total) return 0;
    uint64_t rank = (uint64_t)(p * (double)h->total + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > h->total) rank = h->total;
    uint64_t seen = 0;
    for (unsigned i = 0; i < MP_LOAD_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            double v = hist_value_us(i);
            /* The top bucket's midpoint may overshoot the largest value seen. */
            if (v > (double)h->max_us) v = (double)h->max_us;
            return v / 1000.0;
        }
    }
    return (double)h->max_us / 1000.0;
}

/* ---- response parsing ---- */

enum conn_state {
    ST_CLOSED,
    ST_CONNECTING,
    ST_IDLE, /* open, no request outstanding (the window or the budget is over) */
    ST_WAIT, /* open loop: open, the next request is not due yet */
    ST_SENDING,
    ST_HEAD,
    ST_BODY,       /* Content-Length bytes left in remaining */
    ST_BODY_EOF,   /* no length: the body ends when the server closes */
    ST_CHUNK_SIZE, /* reading a chunk-size line into line[] */
    ST_CHUNK_DATA,
    ST_CHUNK_CRLF, /* the CRLF after a chunk's data */
    ST_TRAILER,    /* after the last chunk: lines until an empty one */
};

typedef struct conn {
    int fd;
    enum conn_state state;
    const char *req;
    size_t req_len, sent;
    uint64_t t0_ns;  /* latency counts from here: sent (closed loop) or due (open loop) */
    uint64_t due_ns; /* open loop: when this connection's next request is due */
    uint64_t remaining;
    uint64_t body_bytes;
    int status;
    bool close_after;
    size_t head_len, line_len;
    char line[40];
    char head[HEAD_MAX];
} conn_t;

/* Case-insensitive search for needle in the n bytes at s. */
static bool has_token(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(s + i, needle, k) == 0) return true;
    return false;
}

/* Parses the status line and the framing headers of c->head (head_len bytes, ending in
 * the blank line). Returns 0 or -EPROTO. */
static int parse_head(conn_t *c)
{
    const char *p = c->head, *end = c->head + c->head_len;
    if (c->head_len < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ') return -EPROTO;
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9') return -EPROTO;
        status = status * 10 + (p[i] - '0');
    }
    c->status = status;
    c->close_after = p[7] == '0'; /* HTTP/1.0 closes unless it says keep-alive */
    bool chunked = false, has_len = false;
    uint64_t len = 0;
    const char *line = memchr(p, '\n', c->head_len);
    while (line && line + 1 < end) {
        line++;
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol) break;
        size_t n = (size_t)(eol - line);
        if (n >= 15 && strncasecmp(line, "content-length:", 15) == 0) {
            const char *v = line + 15;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            if (v == eol || *v < '0' || *v > '9') return -EPROTO;
            for (len = 0; v < eol && *v >= '0' && *v <= '9'; v++)
                len = len * 10 + (uint64_t)(*v - '0');
            has_len = true;
        } else if (n >= 18 && strncasecmp(line, "transfer-encoding:", 18) == 0) {
            chunked = has_token(line + 18, n - 18, "chunked");
        } else if (n >= 11 && strncasecmp(line, "connection:", 11) == 0) {
            if (has_token(line + 11, n - 11, "close")) c->close_after = true;
            if (has_token(line + 11, n - 11, "keep-alive")) c->close_after = false;
        }
        line = eol;
    }
    c->body_bytes = 0;
    if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
        c->remaining = 0;
        c->state = ST_BODY;
    } else if (chunked) {
        c->line_len = 0;
        c->state = ST_CHUNK_SIZE;
    } else if (has_len) {
        c->remaining = len;
        c->state = ST_BODY;
    } else {
        c->close_after = true;
        c->state = ST_BODY_EOF;
    }
    return 0;
}

/* Feeds n received bytes to c's parser. Sets *done when a response ended (bytes after it
 * are not expected: requests are not pipelined). Returns 0 or -EPROTO. */
static int feed(conn_t *c, const char *buf, size_t n, bool *done)
{
    size_t i = 0;
    *done = false;
    while (i < n && !*done) {
        switch (c->state) {
        case ST_HEAD: {
            size_t old = c->head_len, take = n - i;
            if (take > HEAD_MAX - old) take = HEAD_MAX - old;
            memcpy(c->head + old, buf + i, take);
            size_t from = old >= 3 ? old - 3 : 0, e = 0;
            for (size_t k = from; k + 4 <= old + take; k++) {
                if (memcmp(c->head + k, "\r\n\r\n", 4) == 0) {
                    e = k + 4;
                    break;
                }
            }
            if (!e) {
                if (old + take == HEAD_MAX) return -EPROTO;
                c->head_len = old + take;
                i += take;
                break;
            }
            c->head_len = e;
            i += e - old;
            if (parse_head(c)) return -EPROTO;
            if (c->state == ST_BODY && c->remaining == 0) *done = true;
            break;
        }
        case ST_BODY:
        case ST_CHUNK_DATA: {
            uint64_t take = n - i;
            if (take > c->remaining) take = c->remaining;
            c->remaining -= take;
            c->body_bytes += take;
            i += (size_t)take;
            if (!c->remaining) {
                if (c->state == ST_BODY) {
                    *done = true;
                } else {
                    c->remaining = 2;
                    c->state = ST_CHUNK_CRLF;
                }
            }
            break;
        }
        case ST_BODY_EOF:
            c->body_bytes += n - i;
            i = n;
            break;
        case ST_CHUNK_CRLF:
            i++;
            if (--c->remaining == 0) {
                c->line_len = 0;
                c->state = ST_CHUNK_SIZE;
            }
            break;
        case ST_CHUNK_SIZE: {
            char ch = buf[i++];
            if (ch != '\n') {
                if (c->line_len == sizeof c->line - 1) return -EPROTO;
                c->line[c->line_len++] = ch;
                break;
            }
            c->line[c->line_len] = '\0';
            char *endp;
            errno = 0;
            unsigned long long size = strtoull(c->line, &endp, 16);
            if (errno || endp == c->line) return -EPROTO;
            if (size == 0) {
                c->line_len = 0;
                c->state = ST_TRAILER;
            } else {
                c->remaining = size;
                c->state = ST_CHUNK_DATA;
            }
            break;
        }
        case ST_TRAILER: {
            char ch = buf[i++];
            if (ch == '\n') {
                if (c->line_len == 0) *done = true;
                c->line_len = 0;
            } else if (ch != '\r') {
                c->line_len++;
            }
            break;
        }
        default: return -EPROTO;
        }
    }
    if (*done && i != n) return -EPROTO;
    return 0;
}

/* ---- load loop ---- */

typedef struct request {
    char *text;
    size_t len;
} request_t;

typedef struct worker {
    const mp_load_config_t *cfg;
    const request_t *reqs;
    size_t req_count, next_req;
    unsigned conns;
    unsigned first_conn;  /* index of this thread's first connection among all */
    uint64_t interval_ns; /* open loop: between one connection's requests; 0: closed loop */
    uint64_t start_ns, end_ns;
    uint64_t *budget; /* shared request budget, atomically decremented */
    mp_load_result_t res;
    int err;
    pthread_t tid;
} worker_t;

static bool stopped(const worker_t *w)
{
    return w->cfg->stop && *w->cfg->stop;
}

static bool take_budget(worker_t *w)
{
    uint64_t left = __atomic_load_n(w->budget, __ATOMIC_RELAXED);
    while (left) {
        if (__atomic_compare_exchange_n(w->budget, &left, left - 1, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return true;
    }
    return false;
}

static void conn_close(int ep, conn_t *c)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = ST_CLOSED;
}

static int conn_open(worker_t *w, int ep, conn_t *c, size_t idx)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->state = ST_CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = idx};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
        int ret = -errno;
        close(fd);
        c->fd = -1;
        c->state = ST_CLOSED;
        return ret;
    }
    if (connect(fd, (const struct sockaddr *)&w->cfg->addr, sizeof w->cfg->addr) &&
        errno != EINPROGRESS) {
        conn_close(ep, c);
        return -ECONNREFUSED;
    }
    return 0;
}

/* Sends what is left of c's request; waits for EPOLLOUT when the socket is full. */
static int conn_send(int ep, conn_t *c, size_t idx)
{
    while (c->sent < c->req_len) {
        ssize_t n = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) return -errno;
            if (c->state != ST_SENDING) {
                c->state = ST_SENDING;
                struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = idx};
                if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev)) return -errno;
            }
            return 0;
        }
        c->sent += (size_t)n;
    }
    bool was_waiting = c->state == ST_SENDING || c->state == ST_CONNECTING;
    c->state = ST_HEAD;
    c->head_len = 0;
    if (was_waiting) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = idx};
        if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev)) return -errno;
    }
    return 0;
}

/* Sends c's next request now; latency counts from t0. */
static int conn_fire(worker_t *w, int ep, conn_t *c, size_t idx, uint64_t t0, bool *started)
{
    *started = false;
    if (stopped(w) || mp_mono_ns() >= w->end_ns || !take_budget(w)) {
        c->state = ST_IDLE;
        return 0;
    }
    const request_t *r = &w->reqs[w->next_req];
    w->next_req = (w->next_req + 1) % w->req_count;
    c->req = r->text;
    c->req_len = r->len;
    c->sent = 0;
    c->t0_ns = t0;
    *started = true;
    return conn_send(ep, c, idx);
}

/* Starts the next request on an open, idle connection: at once (closed loop), or when it
 * is due (open loop: the connection waits, and a request already late goes now). *started
 * is false when the window or the budget is over (the connection then stays idle). */
static int conn_next(worker_t *w, int ep, conn_t *c, size_t idx, bool *started)
{
    if (!w->interval_ns) return conn_fire(w, ep, c, idx, mp_mono_ns(), started);
    *started = !stopped(w) && c->due_ns < w->end_ns;
    if (!*started) {
        c->state = ST_IDLE;
        return 0;
    }
    if (c->state == ST_CONNECTING) { /* now only a server close is of interest */
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = idx};
        if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev)) return -errno;
    }
    c->state = ST_WAIT;
    if (c->due_ns > mp_mono_ns()) return 0;
    uint64_t due = c->due_ns;
    c->due_ns += w->interval_ns;
    return conn_fire(w, ep, c, idx, due, started);
}

/* Drops c after a failure or a server close and opens a fresh connection in its place. */
static void conn_reopen(worker_t *w, int ep, conn_t *c, size_t idx, unsigned *connect_failures)
{
    conn_close(ep, c);
    if (stopped(w) || mp_mono_ns() >= w->end_ns) return;
    w->res.reconnects++;
    if (conn_open(w, ep, c, idx)) {
        w->res.errors++;
        (*connect_failures)++;
    }
}

/* Open loop: sends every waiting request that is due (a connection that fails is
 * reopened) and arms the timer for the next one. */
static void fire_due(worker_t *w, int ep, int tfd, conn_t *conns, unsigned *connect_failures)
{
    uint64_t now = mp_mono_ns(), next = 0;
    for (unsigned i = 0; i < w->conns; i++) {
        conn_t *c = &conns[i];
        if (c->state != ST_WAIT) continue;
        bool started;
        if (c->due_ns <= now && conn_next(w, ep, c, i, &started)) {
            w->res.errors++;
            conn_reopen(w, ep, c, i, connect_failures);
            continue;
        }
        if (c->state == ST_WAIT && (!next || c->due_ns < next)) next = c->due_ns;
    }
    struct itimerspec its = {0};
    if (next) {
        its.it_value.tv_sec = (time_t)(next / 1000000000u);
        its.it_value.tv_nsec = (long)(next % 1000000000u);
    }
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void response_done(worker_t *w, conn_t *c)
{
    uint64_t now = mp_mono_ns();
    if (now > w->end_ns) return; /* finished after the window: not part of the figures */
    mp_load_hist_add(&w->res.hist, (now - c->t0_ns) / 1000u);
    w->res.completed++;
    w->res.body_bytes += c->body_bytes;
    if (c->status != 200) w->res.non_200++;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    conn_t *conns = calloc(w->conns, sizeof *conns);
    char *buf = malloc(RECV_BUF);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int tfd = w->interval_ns ? timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC) : -1;
    unsigned connect_failures = 0;
    if (!conns || !buf || ep < 0) {
        w->err = -ENOMEM;
        goto out;
    }
    if (w->interval_ns) {
        struct epoll_event tev = {.events = EPOLLIN, .data.u64 = TIMER_TAG};
        if (tfd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev)) {
            w->err = -errno;
            goto out;
        }
    }
    for (unsigned i = 0; i < w->conns; i++) {
        conns[i].fd = -1;
        /* Open loop: connection k of all is due at start + k / rate, then every interval. */
        conns[i].due_ns =
            w->start_ns + w->interval_ns * (w->first_conn + i) / (uint64_t)w->cfg->conns;
        if (conn_open(w, ep, &conns[i], i)) {
            w->res.errors++;
            connect_failures++;
        }
    }
    struct epoll_event evs[EPOLL_BATCH];
    for (;;) {
        uint64_t now = mp_mono_ns();
        if (now >= w->end_ns || stopped(w) || connect_failures >= CONNECT_FAILURES_MAX) break;
        int timeout_ms = (int)((w->end_ns - now) / 1000000u) + 1;
        if (timeout_ms > 100) timeout_ms = 100; /* re-check the stop flag */
        int n = epoll_wait(ep, evs, EPOLL_BATCH, timeout_ms);
        if (n < 0) {
            if (errno == EINTR) continue;
            w->err = -errno;
            break;
        }
        for (int k = 0; k < n; k++) {
            if (evs[k].data.u64 == TIMER_TAG) {
                uint64_t expirations; /* fire_due, after this batch, sends what is due */
                if (read(tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
                    w->res.errors++;
                continue;
            }
            size_t idx = (size_t)evs[k].data.u64;
            conn_t *c = &conns[idx];
            bool started;
            if (c->fd < 0) continue;
            if (c->state == ST_CONNECTING) {
                int soerr = 0;
                socklen_t sl = sizeof soerr;
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) || soerr) {
                    w->res.errors++;
                    connect_failures++;
                    conn_reopen(w, ep, c, idx, &connect_failures);
                    continue;
                }
                if (conn_next(w, ep, c, idx, &started)) goto fail_conn;
                if (!started) conn_close(ep, c);
                continue;
            }
            if (c->state == ST_SENDING) {
                if (conn_send(ep, c, idx)) goto fail_conn;
                continue;
            }
            if (c->state == ST_IDLE) { /* the server closed a connection we no longer use */
                conn_close(ep, c);
                continue;
            }
            if (c->state == ST_WAIT) { /* closed by the server between two requests */
                conn_reopen(w, ep, c, idx, &connect_failures);
                continue;
            }
            ssize_t got = recv(c->fd, buf, RECV_BUF, 0);
            if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (got <= 0) {
                /* EOF ends a read-to-close body; anywhere else the response was cut. */
                if (got == 0 && c->state == ST_BODY_EOF) {
                    response_done(w, c);
                } else {
                    w->res.errors++;
                }
                conn_reopen(w, ep, c, idx, &connect_failures);
                continue;
            }
            bool done;
            if (feed(c, buf, (size_t)got, &done)) goto fail_conn;
            if (!done) continue;
            response_done(w, c);
            c->state = ST_IDLE;
            if (c->close_after) {
                conn_reopen(w, ep, c, idx, &connect_failures);
                continue;
            }
            if (conn_next(w, ep, c, idx, &started)) goto fail_conn;
            continue;
        fail_conn:
            w->res.errors++;
            conn_reopen(w, ep, c, idx, &connect_failures);
        }
        if (w->interval_ns) fire_due(w, ep, tfd, conns, &connect_failures);
    }
    for (unsigned i = 0; i < w->conns; i++) {
        enum conn_state s = conns[i].state;
        if (s != ST_CLOSED && s != ST_CONNECTING && s != ST_IDLE && s != ST_WAIT)
            w->res.unfinished++;
        conn_close(ep, &conns[i]);
    }
out:
    if (tfd >= 0) close(tfd);
    if (ep >= 0) close(ep);
    free(buf);
    free(conns);
    return NULL;
}

int mp_load_run(const mp_load_config_t *cfg, mp_load_result_t *out)
{
    memset(out, 0, sizeof *out);
    if (!cfg->path_count || !cfg->conns || !cfg->threads || cfg->threads > cfg->conns ||
        !cfg->duration_ns || !cfg->max_requests)
        return -EINVAL;
    int ret = 0;
    char host[64];
    inet_ntop(AF_INET, &cfg->addr.sin_addr, host, sizeof host);
    request_t *reqs = calloc(cfg->path_count, sizeof *reqs);
    worker_t *ws = calloc(cfg->threads, sizeof *ws);
    if (!reqs || !ws) {
        ret = -ENOMEM;
        goto out_free;
    }
    for (size_t i = 0; i < cfg->path_count; i++) {
        int n =
            asprintf(&reqs[i].text, "GET %s HTTP/1.1\r\nHost: %s:%u\r\n%s\r\n", cfg->paths[i], host,
                     (unsigned)ntohs(cfg->addr.sin_port), cfg->headers ? cfg->headers : "");
        if (n < 0) {
            reqs[i].text = NULL;
            ret = -ENOMEM;
            goto out_free;
        }
        reqs[i].len = (size_t)n;
    }
    uint64_t budget = cfg->max_requests;
    uint64_t start = mp_mono_ns(), end = start + cfg->duration_ns;
    unsigned started = 0, first_conn = 0;
    for (unsigned t = 0; t < cfg->threads; t++) {
        worker_t *w = &ws[t];
        w->cfg = cfg;
        w->reqs = reqs;
        w->req_count = cfg->path_count;
        /* Threads start at different points of the path list so they do not ask in step. */
        w->next_req = (cfg->path_count * t) / cfg->threads;
        w->conns = cfg->conns / cfg->threads + (t < cfg->conns % cfg->threads);
        w->first_conn = first_conn;
        first_conn += w->conns;
        w->interval_ns = cfg->rate > 0 ? (uint64_t)((double)cfg->conns * 1e9 / cfg->rate) : 0;
        w->start_ns = start;
        w->end_ns = end;
        w->budget = &budget;
        int e = pthread_create(&w->tid, NULL, worker_main, w);
        if (e) {
            ret = -e;
            break;
        }
        started++;
    }
    for (unsigned t = 0; t < started; t++) {
        pthread_join(ws[t].tid, NULL);
        const mp_load_result_t *r = &ws[t].res;
        mp_load_hist_merge(&out->hist, &r->hist);
        out->completed += r->completed;
        out->non_200 += r->non_200;
        out->errors += r->errors;
        out->reconnects += r->reconnects;
        out->unfinished += r->unfinished;
        out->body_bytes += r->body_bytes;
        if (!ret && ws[t].err) ret = ws[t].err;
    }
    uint64_t stop = mp_mono_ns();
    out->elapsed_ns = (stop < end ? stop : end) - start;
out_free:
    if (reqs)
        for (size_t i = 0; i < cfg->path_count; i++)
            free(reqs[i].text);
    free(reqs);
    free(ws);
    return ret;
}

/* ---- one-shot GET ---- */

/* Removes chunked framing in place; returns the body length or -EPROTO. */
static ssize_t dechunk(char *b, size_t n)
{
    size_t in = 0, out = 0;
    for (;;) {
        char *eol = memchr(b + in, '\n', n - in);
        if (!eol) return -EPROTO;
        char *endp;
        errno = 0;
        unsigned long long size = strtoull(b + in, &endp, 16);
        if (errno || endp == b + in) return -EPROTO;
        in = (size_t)(eol - b) + 1;
        if (size == 0) return (ssize_t)out;
        if (size > n - in || n - in - size < 2) return -EPROTO;
        memmove(b + out, b + in, size);
        out += size;
        in += size + 2;
    }
}

int mp_http_get(const struct sockaddr_in *addr, const char *path, uint32_t timeout_ms,
                size_t max_body, int *status, char **body, size_t *len)
{
    return mp_http_get_with(addr, path, NULL, timeout_ms, max_body, status, body, len);
}

int mp_http_get_with(const struct sockaddr_in *addr, const char *path, const char *headers,
                     uint32_t timeout_ms, size_t max_body, int *status, char **body, size_t *len)
{
    int ret = 0;
    uint64_t deadline = mp_mono_ns() + (uint64_t)timeout_ms * 1000000u;
    size_t cap = max_body + HEAD_MAX, used = 0;
    char *buf = NULL, *req = NULL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) && errno != EINPROGRESS) {
        ret = -errno;
        goto out_close;
    }
    buf = malloc(cap + 1);
    char host[64];
    inet_ntop(AF_INET, &addr->sin_addr, host, sizeof host);
    int rlen = asprintf(&req, "GET %s HTTP/1.1\r\nHost: %s:%u\r\nConnection: close\r\n%s\r\n", path,
                        host, (unsigned)ntohs(addr->sin_port), headers ? headers : "");
    if (!buf || rlen < 0) {
        req = rlen < 0 ? NULL : req;
        ret = -ENOMEM;
        goto out_free;
    }
    size_t sent = 0;
    bool eof = false;
    /* Each pass waits at most until the deadline; the loop ends on EOF, error or deadline. */
    while (!eof) {
        uint64_t now = mp_mono_ns();
        if (now >= deadline) {
            ret = -ETIMEDOUT;
            goto out_free;
        }
        struct pollfd pfd = {.fd = fd, .events = sent < (size_t)rlen ? POLLOUT : POLLIN};
        int pr = poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1);
        if (pr < 0 && errno != EINTR) {
            ret = -errno;
            goto out_free;
        }
        if (pr <= 0) continue;
        if (sent < (size_t)rlen) {
            ssize_t n = send(fd, req + sent, (size_t)rlen - sent, MSG_NOSIGNAL);
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                ret = -errno;
                goto out_free;
            }
            if (n > 0) sent += (size_t)n;
            continue;
        }
        if (used == cap) {
            ret = -EPROTO;
            goto out_free;
        }
        ssize_t n = recv(fd, buf + used, cap - used, 0);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            ret = -errno;
            goto out_free;
        }
        if (n == 0) eof = true;
        if (n > 0) used += (size_t)n;
    }
    buf[used] = '\0';
    char *sep = memmem(buf, used, "\r\n\r\n", 4);
    if (!sep || used < 12 || strncmp(buf, "HTTP/1.", 7) != 0) {
        ret = -EPROTO;
        goto out_free;
    }
    *status = atoi(buf + 9);
    size_t head_len = (size_t)(sep - buf) + 4, blen = used - head_len;
    bool chunked = has_token(buf, head_len, "transfer-encoding: chunked");
    memmove(buf, buf + head_len, blen);
    if (chunked) {
        ssize_t d = dechunk(buf, blen);
        if (d < 0) {
            ret = (int)d;
            goto out_free;
        }
        blen = (size_t)d;
    }
    buf[blen] = '\0';
    *body = buf;
    *len = blen;
    buf = NULL;
out_free:
    free(req);
    free(buf);
out_close:
    close(fd);
    return ret;
}
