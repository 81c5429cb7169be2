/* ws-fanout: many stream-v2 clients in one epoll thread, for tools/bench/gateway-fanout.
 * Measures the gateway's memory per idle connection and the receipt latency of tx
 * upserts across CLIENTS subscribed connections. A minimal RFC 6455 client: unmasked
 * server frames in, masked frames out, no fragmentation (the gateway sends none).
 * With FANOUT_INSTANCE set, a watcher thread maps that instance's read-model region
 * read-only and notes when each journal seq was committed (polling journal_seq every
 * COMMIT_POLL_US), so a tx's first upsert is also timed from its readmodel commit.
 * Usage: ws-fanout PORT GATEWAY_PID [CLIENTS [SECONDS [CREDIT [CREDIT_PERIOD_MS]]]] */
#include "common/clock.h"
#include "readmodel/journal.h"
#include "readmodel/rm_region.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_CAP (160u << 10) /* one frame of at most 64 KiB plus what follows it */
#define HIST_MAX 120000     /* latency histogram: 1 ms bins up to 120 s */
#define OPEN_WAVE 100       /* connections opened before waiting for their READY */
#define COMMIT_POLL_US 100  /* the watcher's journal_seq polling period */
/* One client in this many parses its tx upserts for latency samples; the others only
 * frame, count and credit, so the load generator's own CPU does not become the latency
 * it measures (every client still receives every batch). */
#define TIMED_EVERY 10
#define COMMITS (1u << 20)  /* commits remembered (power of two): minutes of history */
#define HIST_US_BIN 100     /* commit latency histogram: 0.1 ms bins ... */
#define HIST_US_MAX 200000  /* ... up to 20 s */

static const char *const CHANNELS[] = {"tx.main", "feature.main", "opportunity.main", "chain.main",
                                       "market.main"};
enum { NCH = 5 };

typedef enum { C_CONNECTING, C_UPGRADING, C_OPEN, C_CLOSED } conn_state_t;

typedef struct conn {
    int fd;
    conn_state_t state;
    bool ready, subscribe;
    bool timed; /* parses its tx upserts for latency (one client in TIMED_EVERY) */
    uint32_t in_len;
    uint32_t spent[NCH];
    uint64_t next_credit_ms, next_beat_ms, beat_ms;
    uint8_t *in;
} conn_t;

static struct {
    uint16_t port;
    uint32_t credit, credit_period_ms;
    int ep;
    bool measuring;
    uint64_t ready, failed, resync, batches, upserts, samples, negative, close_codes[5000];
    uint32_t hist[HIST_MAX + 1];
    uint64_t sec0;           /* wall second the measurement started */
    uint32_t sec_max[3600];  /* worst latency seen per measured second */
    uint32_t sec_over[3600]; /* samples over 20 ms per measured second */
    uint64_t commit_samples, commit_unknown;
    uint32_t commit_hist[HIST_US_MAX + 1];
} B;

/* Commits seen by the watcher: the newest journal seq at each observed change and the
 * wall time (us) it was observed, in seq order. One writer (the watcher), one reader. */
static struct {
    mp_rm_region_t rm;
    bool on;
    _Atomic uint64_t count; /* entries written; entry i lives at i & (COMMITS - 1) */
    _Atomic bool stop;
    uint64_t seq[COMMITS], at_us[COMMITS];
    pthread_t tid;
} W;

static uint64_t wall_us(void)
{
    return mp_wall_ns() / 1000u;
}

static void *watch_commits(void *arg)
{
    (void)arg;
    uint64_t last = 0;
    while (!atomic_load_explicit(&W.stop, memory_order_relaxed)) {
        uint64_t j = mp_rm_journal_newest(&W.rm);
        if (j > last) {
            uint64_t i = atomic_load_explicit(&W.count, memory_order_relaxed);
            W.seq[i & (COMMITS - 1)] = j;
            W.at_us[i & (COMMITS - 1)] = wall_us();
            atomic_store_explicit(&W.count, i + 1, memory_order_release);
            last = j;
        }
        mp_sleep_ns(COMMIT_POLL_US * 1000u);
    }
    return NULL;
}

/* When the commit holding journal seq was observed (us), or 0 when it is not remembered. */
static uint64_t commit_time_us(uint64_t seq)
{
    uint64_t n = atomic_load_explicit(&W.count, memory_order_acquire);
    uint64_t lo = n > COMMITS ? n - COMMITS + 1 : 0, hi = n; /* first entry with seq >= seq */
    if (lo == hi || W.seq[(hi - 1) & (COMMITS - 1)] < seq || W.seq[lo & (COMMITS - 1)] >= seq)
        return 0; /* not yet seen, or older than what is remembered */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (W.seq[mid & (COMMITS - 1)] >= seq)
            hi = mid;
        else
            lo = mid + 1;
    }
    return W.at_us[lo & (COMMITS - 1)];
}

static void record_commit_latency(uint64_t seq, uint64_t now_us)
{
    uint64_t at = commit_time_us(seq);
    if (!at) {
        B.commit_unknown++;
        return;
    }
    uint64_t bin = now_us > at ? (now_us - at) / HIST_US_BIN : 0;
    B.commit_hist[bin > HIST_US_MAX ? HIST_US_MAX : bin]++;
    B.commit_samples++;
}

static double commit_percentile_ms(double p)
{
    if (!B.commit_samples) return 0;
    uint64_t want = (uint64_t)((double)B.commit_samples * p + 0.999999), seen = 0;
    for (unsigned i = 0; i <= HIST_US_MAX; i++)
        if ((seen += B.commit_hist[i]) >= want) return (i + 1) * HIST_US_BIN / 1000.0;
    return HIST_US_MAX * HIST_US_BIN / 1000.0;
}

static uint64_t wall_ms(void)
{
    return mp_wall_ns() / 1000000u;
}

static uint64_t mono_ms(void)
{
    return mp_mono_ns() / 1000000u;
}

static long rss_kib(const char *pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%s/status", pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &v) == 1) break;
    fclose(f);
    return v;
}

/* utime + stime of a process in seconds (/proc/PID/stat fields 14 and 15). */
static double cpu_s(const char *pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void conn_fail(conn_t *c)
{
    if (c->state == C_CLOSED) return;
    if (!c->ready) B.failed++;
    epoll_ctl(B.ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->state = C_CLOSED;
}

/* Sends one masked frame (opcode op). Client messages are small: a short write is a
 * failure of the connection, not something to queue. */
static void send_frame(conn_t *c, uint8_t op, const char *p, size_t n)
{
    uint8_t f[4096 + 14];
    if (c->state != C_OPEN || n > 4096) return;
    size_t h = 0;
    f[h++] = 0x80 | op;
    if (n < 126) {
        f[h++] = 0x80 | (uint8_t)n;
    } else {
        f[h++] = 0x80 | 126;
        f[h++] = (uint8_t)(n >> 8);
        f[h++] = (uint8_t)n;
    }
    uint32_t r = (uint32_t)random();
    uint8_t mask[4] = {(uint8_t)r, (uint8_t)(r >> 8), (uint8_t)(r >> 16), (uint8_t)(r >> 24)};
    memcpy(f + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        f[h + i] = (uint8_t)p[i] ^ mask[i & 3];
    if (send(c->fd, f, h + n, MSG_NOSIGNAL) != (ssize_t)(h + n)) conn_fail(c);
}

static void send_text(conn_t *c, const char *p)
{
    send_frame(c, 0x1, p, strlen(p));
}

static void record_latency(int64_t ms, uint64_t now_ms)
{
    if (ms < 0) {
        B.negative++;
        ms = 0;
    }
    uint64_t sec = now_ms / 1000 - B.sec0;
    if (sec < 3600) {
        if ((uint64_t)ms > B.sec_max[sec]) B.sec_max[sec] = (uint32_t)ms;
        if (ms > 20) B.sec_over[sec]++;
    }
    B.hist[ms > HIST_MAX ? HIST_MAX : ms]++;
    B.samples++;
}

static uint64_t percentile(double p)
{
    if (!B.samples) return 0;
    uint64_t want = (uint64_t)(B.samples * p + 0.999999), seen = 0;
    for (unsigned i = 0; i <= HIST_MAX; i++)
        if ((seen += B.hist[i]) >= want) return i;
    return HIST_MAX;
}

/* The tx.main upserts of one batch: a transaction's first upsert (seen == updated) is
 * timed from its seen_unix_ms, and from the commit of its journal seq when the watcher
 * runs; later upserts (status changes) would time its age. A tx object starts with its
 * id and seq (readmodel/rm_json.c). */
static void time_tx_batch(const char *m, size_t n, uint64_t now)
{
    uint64_t now_us = wall_us();
    const char *up = memmem(m, n, "\"upsert\":[", 10);
    const char *end = memmem(m, n, "],\"remove\":[", 12);
    if (!up || !end) return;
    const char *p = up;
    static const char seq_key[] = "\"seq\":";
    static const char seen_key[] = "\"seen_unix_ms\":";
    static const char upd_key[] = ",\"updated_unix_ms\":";
    while ((p = memmem(p, (size_t)(end - p), seq_key, sizeof seq_key - 1))) {
        char *q;
        uint64_t seq = strtoull(p + sizeof seq_key - 1, &q, 10);
        p = memmem(q, (size_t)(end - q), seen_key, sizeof seen_key - 1);
        if (!p) break;
        uint64_t seen = strtoull(p + sizeof seen_key - 1, &q, 10);
        p = q;
        B.upserts++;
        if (strncmp(q, upd_key, sizeof upd_key - 1)) continue;
        uint64_t upd = strtoull(q + sizeof upd_key - 1, &q, 10);
        if (upd != seen) continue;
        record_latency((int64_t)now - (int64_t)seen, now);
        if (W.on) record_commit_latency(seq, now_us);
    }
}

static int channel_index(const char *m, size_t n)
{
    const char *p = memmem(m, n < 200 ? n : 200, "\"channel\":\"", 11);
    if (!p) return -1;
    p += 11;
    for (int i = 0; i < NCH; i++) {
        size_t l = strlen(CHANNELS[i]);
        if (!strncmp(p, CHANNELS[i], l) && p[l] == '"') return i;
    }
    return -1;
}

static void on_text(conn_t *c, const char *m, size_t n, uint64_t now_wall)
{
    static const char hello[] = "{\"op\":\"HELLO\"", disp[] = "{\"op\":\"DISPATCH\",\"type\":\"";
    if (n >= sizeof hello - 1 && !memcmp(m, hello, sizeof hello - 1)) {
        const char *iv = memmem(m, n, "\"heartbeat_interval_ms\":", 24);
        c->beat_ms = iv ? strtoull(iv + 24, NULL, 10) : 15000;
        c->next_beat_ms = mono_ms() + (uint64_t)(random() % (long)(c->beat_ms ? c->beat_ms : 1));
        char id[512];
        if (c->subscribe)
            snprintf(id, sizeof id,
                     "{\"op\":\"IDENTIFY\",\"subscriptions\":[\"tx.main\",\"feature.main\","
                     "\"opportunity.main\",\"chain.main\",\"market.main\"],\"credit\":%u}",
                     B.credit);
        else
            snprintf(id, sizeof id, "{\"op\":\"IDENTIFY\",\"subscriptions\":[]}");
        send_text(c, id);
        return;
    }
    if (n < sizeof disp - 1 || memcmp(m, disp, sizeof disp - 1)) return;
    const char *type = m + sizeof disp - 1;
    size_t rest = n - (sizeof disp - 1);
    if (rest >= 6 && !memcmp(type, "READY\"", 6)) {
        c->ready = true;
        B.ready++;
        c->next_credit_ms = mono_ms() + B.credit_period_ms + (uint64_t)(random() % 100);
    } else if (rest >= 12 && !memcmp(type, "DELTA_BATCH\"", 12)) {
        int ch = channel_index(m, n);
        if (ch < 0) return;
        c->spent[ch]++;
        if (B.measuring) {
            B.batches++;
            if (ch == 0 && c->timed) time_tx_batch(m, n, now_wall);
        }
    } else if (rest >= 16 && !memcmp(type, "RESYNC_REQUIRED\"", 16)) {
        B.resync++;
    }
}

/* Parses every complete frame in c->in. */
static void on_frames(conn_t *c)
{
    uint64_t now_wall = wall_ms();
    uint32_t off = 0;
    while (c->state == C_OPEN && c->in_len - off >= 2) {
        const uint8_t *f = c->in + off;
        uint8_t op = f[0] & 0x0f;
        uint64_t len = f[1] & 0x7f;
        uint32_t h = 2;
        if (len == 126) {
            if (c->in_len - off < 4) break;
            len = ((uint64_t)f[2] << 8) | f[3];
            h = 4;
        } else if (len == 127) {
            if (c->in_len - off < 10) break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = (len << 8) | f[2 + i];
            h = 10;
        }
        if (f[1] & 0x80 || len > IN_CAP - 16) { /* a masked server frame or a giant one */
            conn_fail(c);
            return;
        }
        if (c->in_len - off < h + len) break;
        const char *p = (const char *)f + h;
        if (op == 0x1) {
            on_text(c, p, (size_t)len, now_wall);
        } else if (op == 0x8) {
            unsigned code = len >= 2 ? ((unsigned)(uint8_t)p[0] << 8) | (uint8_t)p[1] : 1005;
            if (code < 5000) B.close_codes[code]++;
            conn_fail(c);
            return;
        } else if (op == 0x9) {
            send_frame(c, 0xA, p, (size_t)len);
        }
        off += h + (uint32_t)len;
    }
    if (off && c->state == C_OPEN) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
}

static void on_readable(conn_t *c)
{
    for (;;) {
        if (c->in_len == IN_CAP) {
            conn_fail(c);
            return;
        }
        ssize_t r = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (r <= 0) {
            conn_fail(c);
            return;
        }
        c->in_len += (uint32_t)r;
        if (c->state == C_UPGRADING) {
            char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
            if (!end) continue;
            if (strncmp((char *)c->in, "HTTP/1.1 101", 12)) {
                conn_fail(c);
                return;
            }
            uint32_t used = (uint32_t)((uint8_t *)end + 4 - c->in);
            memmove(c->in, c->in + used, c->in_len - used);
            c->in_len -= used;
            c->state = C_OPEN;
        }
        if (c->state == C_OPEN) on_frames(c);
        if (c->state == C_CLOSED) return;
    }
}

static void on_writable(conn_t *c)
{
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) {
        conn_fail(c);
        return;
    }
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /dashboard/stream-v2 HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: bWVtcHVsc2UtZmFub3V0IQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     B.port);
    if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        conn_fail(c);
        return;
    }
    c->state = C_UPGRADING;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(B.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int conn_open(conn_t *c, bool subscribe)
{
    memset(c->spent, 0, sizeof c->spent);
    c->ready = false;
    c->subscribe = subscribe;
    c->in_len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return -errno;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(B.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) && errno != EINPROGRESS) {
        close(c->fd);
        return -errno;
    }
    c->state = C_CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    return epoll_ctl(B.ep, EPOLL_CTL_ADD, c->fd, &ev) ? -errno : 0;
}

/* Credit back what each channel spent, and heartbeats, per SPEC 4.2's client rules. */
static void on_timers(conn_t *cs, unsigned n)
{
    uint64_t now = mono_ms();
    for (unsigned i = 0; i < n; i++) {
        conn_t *c = &cs[i];
        if (c->state != C_OPEN || !c->ready) continue;
        if (c->beat_ms && now >= c->next_beat_ms) {
            send_text(c, "{\"op\":\"HEARTBEAT\",\"last_seq\":0}");
            c->next_beat_ms = now + c->beat_ms;
        }
        if (c->subscribe && now >= c->next_credit_ms) {
            char msg[256];
            int len = snprintf(msg, sizeof msg, "{\"op\":\"CREDIT\",\"channel_credit\":{");
            bool any = false;
            for (int ch = 0; ch < NCH; ch++) {
                if (!c->spent[ch]) continue;
                len += snprintf(msg + len, sizeof msg - (size_t)len, "%s\"%s\":%u", any ? "," : "",
                                CHANNELS[ch], c->spent[ch]);
                c->spent[ch] = 0;
                any = true;
            }
            snprintf(msg + len, sizeof msg - (size_t)len, "}}");
            if (any) send_text(c, msg);
            c->next_credit_ms = now + B.credit_period_ms;
        }
    }
}

static void pump(conn_t *cs, unsigned n, uint64_t until_ms, bool (*done)(conn_t *, unsigned))
{
    struct epoll_event evs[256];
    uint64_t next_timers = 0;
    while (mono_ms() < until_ms && !(done && done(cs, n))) {
        int k = epoll_wait(B.ep, evs, 256, 10);
        for (int i = 0; i < k; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->state == C_CONNECTING)
                on_writable(c);
            else if (c->state != C_CLOSED)
                on_readable(c);
        }
        if (mono_ms() >= next_timers) {
            on_timers(cs, n);
            next_timers = mono_ms() + 20;
        }
    }
}

static bool all_settled(conn_t *cs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (cs[i].state != C_CLOSED && !cs[i].ready) return false;
    return true;
}

/* Opens n connections in waves and waits until each is READY or failed. */
static unsigned open_all(conn_t *cs, unsigned n, bool subscribe)
{
    for (unsigned i = 0; i < n; i += OPEN_WAVE) {
        unsigned m = n - i < OPEN_WAVE ? n - i : OPEN_WAVE;
        for (unsigned j = 0; j < m; j++) {
            cs[i + j].timed = (i + j) % TIMED_EVERY == 0;
            if (conn_open(&cs[i + j], subscribe)) {
                cs[i + j].state = C_CLOSED;
                B.failed++;
            }
        }
        pump(cs, i + m, mono_ms() + 15000, all_settled);
    }
    unsigned ready = 0;
    for (unsigned i = 0; i < n; i++)
        ready += cs[i].ready && cs[i].state == C_OPEN;
    return ready;
}

static void close_all(conn_t *cs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (cs[i].state != C_CLOSED) {
            cs[i].ready = true; /* not a failure */
            conn_fail(&cs[i]);
        }
}

static void print_closes(void)
{
    printf("{");
    bool any = false;
    for (unsigned i = 0; i < 5000; i++)
        if (B.close_codes[i]) {
            printf("%s\"%u\":%" PRIu64, any ? "," : "", i, B.close_codes[i]);
            any = true;
        }
    printf("}");
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ws-fanout PORT GATEWAY_PID [CLIENTS [SECONDS [CREDIT "
                        "[CREDIT_PERIOD_MS]]]]\n");
        return 2;
    }
    B.port = (uint16_t)atoi(argv[1]);
    const char *gw = argv[2];
    unsigned clients = argc > 3 ? (unsigned)atoi(argv[3]) : 1000;
    unsigned seconds = argc > 4 ? (unsigned)atoi(argv[4]) : 20;
    B.credit = argc > 5 ? (unsigned)atoi(argv[5]) : 64;
    B.credit_period_ms = argc > 6 ? (unsigned)atoi(argv[6]) : 1000;
    if (!clients || clients > 10000 || !seconds || seconds > 3600 || !B.port) {
        fprintf(stderr, "ws-fanout: CLIENTS 1..10000, SECONDS 1..3600\n");
        return 2;
    }
    srandom((unsigned)getpid());
    B.ep = epoll_create1(EPOLL_CLOEXEC);
    conn_t *cs = calloc(clients, sizeof *cs);
    if (B.ep < 0 || !cs) return 1;
    for (unsigned i = 0; i < clients; i++)
        if (!(cs[i].in = malloc(IN_CAP))) return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);

    printf("gateway pid %s, port %u, %u clients, credit %u refilled every %u ms\n", gw, B.port,
           clients, B.credit, B.credit_period_ms);
    const char *instance = getenv("FANOUT_INSTANCE");
    if (instance && *instance) {
        char err[MP_REGION_ERR_MAX];
        if (mp_rm_open_reader(&W.rm, instance, err)) {
            fprintf(stderr, "ws-fanout: read-model region of %s: %s\n", instance, err);
            return 1;
        }
        if (pthread_create(&W.tid, NULL, watch_commits, NULL)) return 1;
        W.on = true;
    }
    pump(cs, 0, mono_ms() + 2000, NULL);
    long rss0 = rss_kib(gw);
    uint64_t t0 = mono_ms();
    unsigned idle = open_all(cs, clients, false);
    printf("idle phase: %u clients READY in %" PRIu64 " ms (failed %" PRIu64 ")\n", idle,
           mono_ms() - t0, B.failed);
    pump(cs, clients, mono_ms() + 3000, NULL);
    long rss1 = rss_kib(gw);
    double per_conn = (double)(rss1 - rss0) / (idle ? idle : 1);
    printf("idle phase: gateway VmRSS %ld KiB with no clients, %ld KiB with %u idle clients -> "
           "%.1f KiB per idle connection\n",
           rss0, rss1, idle, per_conn);
    close_all(cs, clients);
    pump(cs, 0, mono_ms() + 1000, NULL);

    B.failed = B.ready = 0;
    memset(B.close_codes, 0, sizeof B.close_codes);
    t0 = mono_ms();
    unsigned subs = open_all(cs, clients, true);
    printf("subscribed phase: %u clients READY in %" PRIu64 " ms (failed %" PRIu64
           "); warming up 2 s\n",
           subs, mono_ms() - t0, B.failed);
    pump(cs, clients, mono_ms() + 2000, NULL);
    B.measuring = true;
    B.sec0 = wall_ms() / 1000;
    double gw_cpu0 = cpu_s(gw), me_cpu0 = cpu_s("self");
    uint64_t t1 = mono_ms();
    pump(cs, clients, t1 + seconds * 1000ull, NULL);
    B.measuring = false;
    double secs = (double)(mono_ms() - t1) / 1000.0;
    double gw_cpu = (cpu_s(gw) - gw_cpu0) / secs, me_cpu = (cpu_s("self") - me_cpu0) / secs;
    long rss2 = rss_kib(gw);
    unsigned open = 0;
    for (unsigned i = 0; i < clients; i++)
        open += cs[i].state == C_OPEN;
    printf("subscribed phase: %.1f s measured, %u/%u clients still open, closes by code ", secs,
           open, subs);
    print_closes();
    printf(", RESYNC_REQUIRED %" PRIu64 ", gateway VmRSS %ld KiB\n", B.resync, rss2);
    printf("subscribed phase: %" PRIu64 " DELTA_BATCH frames (%.0f/s) to all clients; the %u "
           "timed clients got %" PRIu64 " tx upserts (%.0f/s), %" PRIu64 " first sightings timed%s\n",
           B.batches, B.batches / secs, (clients + TIMED_EVERY - 1) / TIMED_EVERY, B.upserts,
           B.upserts / secs, B.samples,
           B.negative ? " (some with event time after receipt: counted as 0)" : "");
    printf("CPU in the measured window: gateway %.0f%% of a core, these clients %.0f%%, of %ld "
           "CPUs (the rest: ingest, readmodel, anything else on the machine)\n",
           gw_cpu * 100, me_cpu * 100, sysconf(_SC_NPROCESSORS_ONLN));
    printf("latency = client receipt wall time - tx seen_unix_ms (ingest event time): an\n"
           "  ingest-to-client figure, an upper bound of readmodel-commit-to-client\n");
    printf("  p50 %" PRIu64 " ms, p99 %" PRIu64 " ms, max bin %" PRIu64 " ms\n", percentile(0.5),
           percentile(0.99), percentile(1.0));
    if (W.on)
        printf("latency from the readmodel commit (journal_seq observed by a watcher polling every "
               "%u us) to client receipt:\n  p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms over %" PRIu64
               " samples (%" PRIu64 " not matched to a commit)\n",
               COMMIT_POLL_US, commit_percentile_ms(0.5), commit_percentile_ms(0.99),
               commit_percentile_ms(0.999), B.commit_samples, B.commit_unknown);
    printf("per measured second: worst latency ms / samples over 20 ms:");
    for (unsigned i = 0; i < seconds + 1 && i < 3600; i++)
        printf(" %u/%u", B.sec_max[i], B.sec_over[i]);
    printf("\n");
    close_all(cs, clients);
    if (W.on) {
        atomic_store(&W.stop, true);
        pthread_join(W.tid, NULL);
        mp_rm_close(&W.rm);
        printf("dispatch_p50_ms=%.1f dispatch_p99_ms=%.1f ingest_to_client_p99_ms=%" PRIu64
               " idle_conn_kib=%.1f clients=%u\n",
               commit_percentile_ms(0.5), commit_percentile_ms(0.99), percentile(0.99), per_conn,
               clients);
    } else {
        printf("dispatch_p50_ms=%" PRIu64 " dispatch_p99_ms=%" PRIu64
               " idle_conn_kib=%.1f clients=%u\n",
               percentile(0.5), percentile(0.99), per_conn, clients);
    }
    for (unsigned i = 0; i < clients; i++)
        free(cs[i].in);
    free(cs);
    close(B.ep);
    return 0;
}
