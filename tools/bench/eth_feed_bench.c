/* eth-feed-bench: throughput of ingest's eth source. A loopback fake Ethereum node (RFC 6455
 * server through wslay, JSON-RPC through jansson) feeds a spawned mempulse-ingest realistic
 * pending transactions, as full objects and then as hashes whose bodies it serves in batches,
 * while this process reads the ingest's events ring and checks every TX_SEEN against what it
 * delivered. Last line: `eth_full_tx_per_s=N eth_hashes_tx_per_s=N ingest_cpu_full=X%
 * ingest_cpu_hashes=Y%`. This file runs the modes and checks the ring; the node is
 * eth_fake_node.c, its transactions eth_feed.c. */
#include "common/clock.h"
#include "common/log.h"
#include "common/opts.h"
#include "proto/event.h"
#include "shm/events_region.h"
#include "tools/bench/bench_child.h"
#include "tools/bench/eth_fake_node.h"
#include "tools/bench/eth_feed.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define NS_PER_MS 1000000ull
#define NS_PER_SEC 1000000000ull

/* Bounds of the feeding loop. */
#define PRODUCE_PER_TURN 512u /* notifications queued per turn */
#define POLL_WAIT_MS 10
#define ACCEPT_WAIT_MS 100        /* the child is checked between waits for its connection */
#define HASH_WINDOW_DEFAULT 4096u /* announced, unfetched hashes; ingest queues 16384 */

/* Bounds of the checker. */
#define READ_BATCH 65536u /* ring records read per turn */
#define LAT_STRIDE 64u    /* every 64th tx's announce time is kept */
#define LAT_SLOTS 8192u   /* ... for the last 64 * 8192 announced txs */
#define LAT_SAMPLES_MAX 32768u
#define FAULT_MAX 320u

/* Deadlines. */
#define SETUP_DEADLINE_NS (10 * NS_PER_SEC)  /* spawn -> subscribed */
#define DRAIN_DEADLINE_NS (10 * NS_PER_SEC)  /* end of window -> every delivered tx published */
#define METRICS_DEADLINE_NS (3 * NS_PER_SEC) /* ingest mirrors metrics every 100 ms */
#define CHILD_CHECK_NS (100 * NS_PER_MS)

static volatile sig_atomic_t stop_requested;

typedef struct bench_opts {
    uint64_t duration_ns, warmup_ns;
    uint64_t rate;        /* offered tx/s; 0: as fast as the ingest takes them */
    uint32_t hash_window; /* hashes announced but not fetched yet; 0: only the socket bounds it */
    bool run_full, run_hashes;
    char ingest[PATH_MAX];
    char tmp[64];      /* private dir under /dev/shm: MEMPULSE_SHM_DIR and the ingest logs */
    char instance[48]; /* prefix of the per-mode instance names */
} bench_opts_t;

/* ---- the checker: the ingest's events ring and metrics ---- */

/* Counters that must not grow while the node feeds well-formed, distinct transactions. */
static const char *const must_stay[] = {
    "eth_duplicates_total",        MP_M_INGEST_MALFORMED,       "eth_replacements_total",
    "eth_fetch_dropped_total",     "eth_reconnects_total",      "eth_rpc_errors_total",
    "eth_oversize_messages_total", "eth_protocol_errors_total",
};
#define MUST_STAY_COUNT (sizeof must_stay / sizeof must_stay[0])

typedef struct watch {
    mp_events_region_t ev;
    bool open;
    mp_ring_reader_t rd;
    uint64_t tx_seen; /* TX_SEEN read; the next must carry tx index tx_seen */
    uint64_t events;  /* records read, TICKs included */
    uint64_t base[MUST_STAY_COUNT];
    uint64_t base_notifications, base_fetches;
    char fault[FAULT_MAX]; /* the first inconsistency; the run fails with it */
    /* Wall-clock announce time of every LAT_STRIDE-th tx, by (index / LAT_STRIDE) % LAT_SLOTS:
     * compared with the ring record's publish stamp (the same clock), so the checker's own
     * reading delay does not count. */
    uint64_t lat_index[LAT_SLOTS];
    uint64_t lat_sent_wall_ns[LAT_SLOTS];
    bool sampling; /* latency samples are taken (the measured window) */
    uint32_t nlat;
    uint32_t lat_us[LAT_SAMPLES_MAX];
    uint8_t buf[MP_RING_MAX_PAYLOAD];
} watch_t;

static void watch_fault(watch_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void watch_fault(watch_t *w, const char *fmt, ...)
{
    if (w->fault[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->fault, sizeof w->fault, fmt, ap);
    va_end(ap);
}

static uint64_t metric(const watch_t *w, const char *name)
{
    return mp_metrics_read(w->ev.metrics, name);
}

/* Maps the instance's events region read-only once the ingest has formatted it. */
static int watch_open(watch_t *w, const char *instance, uint64_t deadline)
{
    char err[MP_REGION_ERR_MAX] = "";
    int ret;
    while ((ret = mp_events_open_reader(&w->ev, instance, err)) == -ENOENT || ret == -EAGAIN) {
        if (mp_mono_ns() >= deadline || stop_requested) break;
        mp_sleep_ns(20 * NS_PER_MS);
    }
    if (ret) {
        mp_log("events region of instance %s: %s", instance, err[0] ? err : strerror(-ret));
        return ret;
    }
    w->open = true;
    mp_ring_reader_init(&w->rd, w->ev.ctl, w->ev.data, MP_RING_FROM_OLDEST);
    for (size_t i = 0; i < MUST_STAY_COUNT; i++)
        w->base[i] = metric(w, must_stay[i]);
    w->base_notifications = metric(w, "eth_notifications_total");
    w->base_fetches = metric(w, "eth_fetches_total");
    return 0;
}

/* Keeps the announce time of every LAT_STRIDE-th tx, for the latency samples. Called right
 * after the node queued tx index. */
static void watch_note_announced(watch_t *w, uint64_t index)
{
    if (index % LAT_STRIDE) return;
    uint32_t slot = (uint32_t)(index / LAT_STRIDE % LAT_SLOTS);
    w->lat_index[slot] = index;
    w->lat_sent_wall_ns[slot] = mp_wall_ns();
}

/* Checks one TX_SEEN: it must be the next tx of the feed (none lost, duplicated or
 * reordered), with the feed's sender and nonce. */
static void watch_tx(watch_t *w, const mp_ring_record_t *rec)
{
    mp_event_t ev;
    uint64_t want = w->tx_seen, got;
    uint8_t hash[MP_HASH_LEN], from[MP_ADDR_LEN];
    if (mp_event_decode(&ev, w->buf, rec->len) != 0) {
        watch_fault(w, "TX_SEEN at seq %" PRIu64 " does not decode", rec->seq);
        return;
    }
    mp_eth_feed_hash(hash, want);
    mp_eth_feed_sender(from, want);
    if (memcmp(ev.u.tx.hash, hash, MP_HASH_LEN) != 0) {
        if (mp_eth_feed_index_of(ev.u.tx.hash, &got) == 0)
            watch_fault(w,
                        "TX_SEEN #%" PRIu64 " (seq %" PRIu64 ") is tx %" PRIu64
                        " of the feed, expected tx %" PRIu64 ": lost, duplicated or reordered",
                        want, rec->seq, got, want);
        else
            watch_fault(w, "TX_SEEN #%" PRIu64 " (seq %" PRIu64 ") has a hash the node never sent",
                        want, rec->seq);
        return;
    }
    if (memcmp(ev.u.tx.from, from, MP_ADDR_LEN) != 0 || ev.u.tx.nonce != mp_eth_feed_nonce(want)) {
        watch_fault(w, "TX_SEEN #%" PRIu64 " (seq %" PRIu64 ") has the wrong sender or nonce", want,
                    rec->seq);
        return;
    }
    w->tx_seen++;
    uint32_t slot = (uint32_t)(want / LAT_STRIDE % LAT_SLOTS);
    if (w->sampling && want % LAT_STRIDE == 0 && w->lat_index[slot] == want &&
        w->nlat < LAT_SAMPLES_MAX) {
        uint64_t sent = w->lat_sent_wall_ns[slot];
        uint64_t us = rec->ingest_unix_ns > sent ? (rec->ingest_unix_ns - sent) / 1000 : 0;
        w->lat_us[w->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    }
}

/* Reads what the ingest published since the last call (at most READ_BATCH records). */
static void watch_drain(watch_t *w)
{
    for (uint32_t k = 0; k < READ_BATCH && !w->fault[0]; k++) {
        mp_ring_record_t rec;
        int r = mp_ring_read(&w->rd, &rec, w->buf, sizeof w->buf);
        if (r == MP_RING_EMPTY) return;
        if (r == MP_RING_LAPPED) {
            watch_fault(w,
                        "the checker fell a ring lap behind (seqs %" PRIu64 "..%" PRIu64
                        " lost): this machine is too loaded to check the run",
                        rec.gap_first, rec.gap_last);
            return;
        }
        if (r < 0) {
            watch_fault(w, "a ring record is larger than %u bytes", MP_RING_MAX_PAYLOAD);
            return;
        }
        w->events++;
        if (rec.type == MP_EV_TX_SEEN)
            watch_tx(w, &rec);
        else if (rec.type != MP_EV_TICK)
            watch_fault(w,
                        "unexpected %s event at seq %" PRIu64
                        " (the node sends no blocks and no replacements)",
                        mp_event_type_name(rec.type), rec.seq);
    }
}

/* ---- one mode: spawn, subscribe, warm up, measure, drain, check ---- */

typedef struct sample {
    uint64_t mono_ns, tx_seen, events, announced, ingest_ticks, self_us, waited_ns;
} sample_t;

typedef struct mode_result {
    double tx_per_s, events_per_s, ingest_cpu, node_cpu, waited_share;
    uint64_t measured_tx, in_flight, delivered;
    double lat_p50_ms, lat_p99_ms, lat_max_ms;
    uint32_t lat_samples;
} mode_result_t;

typedef struct run {
    const bench_opts_t *o;
    bool hashes;
    const char *label;
    char instance[64];
    mp_bench_child_t child;
    mp_fake_node_t *node;
    watch_t *watch;
    uint64_t rate_start_ns;    /* offered rate: txs due since then */
    uint64_t waited_ns;        /* turns spent waiting on the ingest (socket, fetch window) */
    uint64_t next_child_check; /* mono ns */
} run_t;

/* Announces txs while allowed: not while the node is backlogged, at most hash_window
 * announced but unfetched hashes, at most the offered rate. Sets *wait_ms for the next
 * socket wait and *blocked when the ingest is what holds the feed back. */
static int produce(run_t *r, uint64_t now, int *wait_ms, bool *blocked)
{
    const mp_fake_node_status_t *ns = mp_fake_node_status(r->node);
    uint64_t due = UINT64_MAX;
    if (r->o->rate)
        due = (uint64_t)((unsigned __int128)(now - r->rate_start_ns) * r->o->rate / NS_PER_SEC);
    *wait_ms = 0;
    for (uint32_t k = 0; k < PRODUCE_PER_TURN; k++) {
        if (ns->announced >= due) {
            *wait_ms = 1;
            return 0;
        }
        if (mp_fake_node_backlogged(r->node) ||
            (r->hashes && r->o->hash_window && ns->announced - ns->served >= r->o->hash_window)) {
            *wait_ms = POLL_WAIT_MS;
            *blocked = true;
            return 0;
        }
        uint64_t index = ns->announced;
        int ret = mp_fake_node_announce(r->node, !r->hashes);
        if (ret) return ret;
        watch_note_announced(r->watch, index);
    }
    return 0;
}

/* One turn of the loop: feed (when producing), serve, read the ring, watch the child. */
static int turn(run_t *r, bool producing)
{
    uint64_t now = mp_mono_ns();
    int wait_ms = POLL_WAIT_MS, ret;
    bool blocked = false;
    if (producing && (ret = produce(r, now, &wait_ms, &blocked))) return ret;
    ret = mp_fake_node_turn(r->node, wait_ms);
    if (blocked) r->waited_ns += mp_mono_ns() - now;
    if (ret) return ret;
    watch_drain(r->watch);
    if (r->watch->fault[0]) return -EPROTO;
    if (now >= r->next_child_check) {
        if (!mp_bench_child_running(&r->child)) return -ECHILD;
        r->next_child_check = now + CHILD_CHECK_NS;
    }
    return stop_requested ? -EINTR : 0;
}

static int feed_until(run_t *r, uint64_t until_ns)
{
    int ret = 0;
    while (!ret && mp_mono_ns() < until_ns)
        ret = turn(r, true);
    return ret;
}

/* CPU time of this process (the node and the checker), in microseconds. */
static uint64_t self_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void take_sample(run_t *r, sample_t *s)
{
    watch_drain(r->watch);
    s->mono_ns = mp_mono_ns();
    s->tx_seen = r->watch->tx_seen;
    s->events = r->watch->events;
    s->announced = mp_fake_node_status(r->node)->announced;
    s->self_us = self_cpu_us();
    s->waited_ns = r->waited_ns;
    s->ingest_ticks = 0;
    if (mp_bench_proc_cpu_ticks(r->child.pid, &s->ingest_ticks))
        mp_log("cannot read /proc/%d/stat; ingest CPU will read 0", (int)r->child.pid);
}

/* Until everything announced is published (hashes fetched first), and the ingest has
 * mirrored its counters for all of it. */
static bool drained(const run_t *r)
{
    const mp_fake_node_status_t *n = mp_fake_node_status(r->node);
    const watch_t *w = r->watch;
    return w->tx_seen == n->announced &&
           metric(w, "eth_notifications_total") - w->base_notifications >= n->announced &&
           (!r->hashes || metric(w, "eth_fetches_total") - w->base_fetches >= n->served);
}

static int drain(run_t *r)
{
    uint64_t deadline = mp_mono_ns() + DRAIN_DEADLINE_NS + METRICS_DEADLINE_NS;
    int ret = 0;
    while (!ret && !drained(r) && mp_mono_ns() < deadline)
        ret = turn(r, false);
    return ret;
}

/* Serves the ingest's setup requests until it subscribed to pending txs and heads. */
static int await_subscriptions(run_t *r, uint64_t deadline)
{
    const mp_fake_node_status_t *n = mp_fake_node_status(r->node);
    while (n->pending == MP_FAKE_NODE_PENDING_NONE || !n->heads) {
        if (mp_mono_ns() >= deadline) {
            mp_log("%s: the ingest did not subscribe within %llu s", r->label,
                   SETUP_DEADLINE_NS / NS_PER_SEC);
            return -ETIMEDOUT;
        }
        int ret = mp_fake_node_turn(r->node, POLL_WAIT_MS);
        if (ret) return ret;
        if (!mp_bench_child_running(&r->child)) return -ECHILD;
    }
    mp_fake_node_pending_t want =
        r->hashes ? MP_FAKE_NODE_PENDING_HASHES : MP_FAKE_NODE_PENDING_FULL;
    if (n->pending != want) {
        mp_log("%s: the ingest subscribed to %s, expected %s", r->label,
               n->pending == MP_FAKE_NODE_PENDING_FULL ? "full objects" : "hashes",
               r->hashes ? "hashes" : "full objects");
        return -EPROTO;
    }
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void figures(run_t *r, const sample_t *a, const sample_t *b, mode_result_t *res)
{
    double secs = (double)(b->mono_ns - a->mono_ns) / 1e9;
    double tick = (double)sysconf(_SC_CLK_TCK);
    res->measured_tx = b->tx_seen - a->tx_seen;
    res->tx_per_s = (double)res->measured_tx / secs;
    res->events_per_s = (double)(b->events - a->events) / secs;
    res->ingest_cpu = 100.0 * (double)(b->ingest_ticks - a->ingest_ticks) / tick / secs;
    res->node_cpu = 100.0 * (double)(b->self_us - a->self_us) / 1e6 / secs;
    res->waited_share = 100.0 * (double)(b->waited_ns - a->waited_ns) / 1e9 / secs;
    res->in_flight = b->announced - b->tx_seen;
    watch_t *w = r->watch;
    res->lat_samples = w->nlat;
    if (w->nlat) {
        qsort(w->lat_us, w->nlat, sizeof w->lat_us[0], cmp_u32);
        res->lat_p50_ms = w->lat_us[w->nlat / 2] / 1e3;
        res->lat_p99_ms = w->lat_us[(uint64_t)w->nlat * 99 / 100] / 1e3;
        res->lat_max_ms = w->lat_us[w->nlat - 1] / 1e3;
    }
}

/* Logs every must_stay counter that grew since the connection opened; returns how many. */
static int log_counter_growth(const run_t *r)
{
    const watch_t *w = r->watch;
    int grown = 0;
    for (size_t i = 0; w->open && i < MUST_STAY_COUNT; i++) {
        uint64_t grew = metric(w, must_stay[i]) - w->base[i];
        if (grew) {
            mp_log("%s: %s grew by %" PRIu64, r->label, must_stay[i], grew);
            grown++;
        }
    }
    return grown;
}

/* The checks after the drain; logs the first failure. Returns 0 or -EPROTO. */
static int check_totals(const run_t *r)
{
    const mp_fake_node_status_t *n = mp_fake_node_status(r->node);
    const watch_t *w = r->watch;
    if (w->tx_seen != n->announced) {
        mp_log("%s: the node delivered %" PRIu64 " transactions (%" PRIu64
               " bodies fetched), the ingest published %" PRIu64 " TX_SEEN after %llu s of drain",
               r->label, n->announced, n->served, w->tx_seen, DRAIN_DEADLINE_NS / NS_PER_SEC);
        return -EPROTO;
    }
    if (r->hashes && n->served != n->announced) {
        mp_log("%s: %" PRIu64 " hashes announced but %" PRIu64 " bodies fetched", r->label,
               n->announced, n->served);
        return -EPROTO;
    }
    if (n->unknown_fetches || n->errors_sent) {
        mp_log("%s: the ingest fetched %" PRIu64 " hashes never announced and sent %" PRIu64
               " requests answered with an error",
               r->label, n->unknown_fetches, n->errors_sent);
        return -EPROTO;
    }
    if (log_counter_growth(r)) {
        mp_log("%s: the feed has no duplicates, replacements or malformed messages, and the "
               "connection stays up: those counters must not grow",
               r->label);
        return -EPROTO;
    }
    return 0;
}

static void print_mode(const run_t *r, const mode_result_t *res)
{
    const mp_fake_node_status_t *ns = mp_fake_node_status(r->node);
    const bench_opts_t *o = r->o;
    char head[16], offered[48] = "unpaced";
    snprintf(head, sizeof head, "%s:", r->label);
    if (o->rate) snprintf(offered, sizeof offered, "offered %" PRIu64 " tx/s", o->rate);
    printf("%-12s %.1f s (%s) after %.1f s warm-up: %" PRIu64 " TX_SEEN, %.0f tx/s (%.0f "
           "events/s with TICKs); ingest CPU %.1f%%, node+checker CPU %.1f%%; the node waited on "
           "the ingest %.0f%% of the window; %" PRIu64 " tx in flight at its end; announce to "
           "publish p50 %.1f ms p99 %.1f ms max %.1f ms (%u samples)\n",
           head, (double)o->duration_ns / 1e9, offered, (double)o->warmup_ns / 1e9,
           res->measured_tx, res->tx_per_s, res->events_per_s, res->ingest_cpu, res->node_cpu,
           res->waited_share, res->in_flight, res->lat_p50_ms, res->lat_p99_ms, res->lat_max_ms,
           res->lat_samples);
    printf("%-12s checked after the drain: %" PRIu64 " delivered = %" PRIu64
           " TX_SEEN in feed order%s; %" PRIu64 " JSON-RPC batches served; duplicates, "
           "malformed, replacements, fetch drops, reconnects, RPC errors: none\n",
           "", ns->announced, r->watch->tx_seen, r->hashes ? " (every hash fetched once)" : "",
           ns->batches);
    fflush(stdout);
}

/* Warm-up, measured window, drain and checks on a subscribed connection. */
static int measure(run_t *r, mode_result_t *res)
{
    const bench_opts_t *o = r->o;
    sample_t a, b;
    r->rate_start_ns = mp_mono_ns();
    int ret = feed_until(r, r->rate_start_ns + o->warmup_ns);
    if (ret) return ret;
    take_sample(r, &a);
    r->watch->sampling = true;
    ret = feed_until(r, a.mono_ns + o->duration_ns);
    if (ret) return ret;
    take_sample(r, &b);
    r->watch->sampling = false;
    figures(r, &a, &b, res);
    if ((ret = drain(r)) || (ret = check_totals(r))) return ret;
    res->delivered = mp_fake_node_status(r->node)->announced;
    print_mode(r, res);
    return 0;
}

static void explain_failure(run_t *r, int ret)
{
    if (ret == -EINTR) return;
    if (r->watch && r->watch->fault[0]) {
        mp_log("%s: %s", r->label, r->watch->fault);
        mp_sleep_ns(200 * NS_PER_MS); /* the ingest mirrors its counters every 100 ms */
        log_counter_growth(r);
    }
    const mp_fake_node_status_t *ns = r->node ? mp_fake_node_status(r->node) : NULL;
    if (ns && ns->why[0]) mp_log("%s: connection to the ingest ended: %s", r->label, ns->why);
    /* mp_bench_child_running reports an exited ingest's status and log tail itself. */
    if (mp_bench_child_running(&r->child)) mp_bench_print_log_tail(r->child.log);
}

/* Waits for the ingest's connection to the node; gives up when it exits or at the deadline.
 * Returns the connection's fd or -errno. */
static int accept_ingest(int lfd, mp_bench_child_t *c, uint64_t deadline)
{
    while (!stop_requested && mp_mono_ns() < deadline) {
        int fd = mp_fake_node_accept(lfd, ACCEPT_WAIT_MS);
        if (fd != -EAGAIN) return fd;
        if (!mp_bench_child_running(c)) return -ECHILD;
    }
    return stop_requested ? -EINTR : -ETIMEDOUT;
}

/* One mode on a fresh ingest (own instance, own connection). Returns 0, or -errno after
 * logging what failed. */
static int run_mode(const bench_opts_t *o, bool hashes, mode_result_t *res)
{
    run_t r = {.o = o, .hashes = hashes, .label = hashes ? "hashes" : "full objects"};
    char log_path[PATH_MAX];
    snprintf(r.instance, sizeof r.instance, "%s-%s", o->instance, hashes ? "hashes" : "full");
    snprintf(log_path, sizeof log_path, "%s/ingest-%s.log", o->tmp, hashes ? "hashes" : "full");
    uint16_t port = 0;
    int lfd = mp_fake_node_listen(&port);
    if (lfd < 0) {
        mp_log("cannot listen on 127.0.0.1: %s", strerror(-lfd));
        return lfd;
    }
    int ret = -ENOMEM;
    r.watch = calloc(1, sizeof *r.watch);
    if (!r.watch) goto out;
    char url[64];
    snprintf(url, sizeof url, "eth:ws://127.0.0.1:%u", (unsigned)port);
    char *const argv[] = {(char *)o->ingest,
                          "--instance",
                          r.instance,
                          "--source",
                          url,
                          hashes ? "--eth-hashes-only" : NULL,
                          NULL};
    if ((ret = mp_bench_child_spawn(&r.child, "mempulse-ingest", log_path, argv))) {
        mp_log("cannot start %s: %s", o->ingest, strerror(-ret));
        goto out;
    }
    uint64_t deadline = mp_mono_ns() + SETUP_DEADLINE_NS;
    int fd = accept_ingest(lfd, &r.child, deadline);
    if (fd < 0) {
        ret = fd;
        if (ret == -ETIMEDOUT) mp_log("%s: the ingest did not connect to %s", r.label, url + 4);
        goto out;
    }
    if ((ret = mp_fake_node_open(&r.node, fd, deadline)) ||
        (ret = await_subscriptions(&r, deadline)) ||
        (ret = watch_open(r.watch, r.instance, deadline)))
        goto out;
    ret = measure(&r, res);
out:
    if (ret) explain_failure(&r, ret);
    mp_bench_child_stop(&r.child);
    if (r.watch && r.watch->open) mp_events_close(&r.watch->ev);
    mp_fake_node_close(r.node);
    free(r.watch);
    close(lfd);
    return ret;
}

/* ---- main ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: eth-feed-bench [--duration SEC] [--warmup SEC] [--rate N] [--mode M]\n"
            "                      [--hash-window N] [--ingest PATH]\n"
            "  --duration SEC    measured window per mode (10)\n"
            "  --warmup SEC      feeding before the window (2)\n"
            "  --rate N          offered tx/s (0, the default: as fast as the ingest takes them)\n"
            "  --mode M          full, hashes or both (both)\n"
            "  --hash-window N   hashes mode: announced hashes not yet fetched, at most (%u; the\n"
            "                    source queues 16384 and drops the rest; 0: only the socket\n"
            "                    limits the node, which shows those drops as a failed check)\n"
            "  --ingest PATH     mempulse-ingest to run (default: this build's)\n"
            "A fake Ethereum node on 127.0.0.1 feeds a private mempulse-ingest (eth:ws:// source)\n"
            "with distinct transactions from %u senders, plain transfers and ERC-20 transfers:\n"
            "full objects in eth_subscription notifications, then hashes whose bodies it serves\n"
            "to batched eth_getTransactionByHash. TX_SEEN/s and the ingest's CPU come from its\n"
            "events ring and /proc over the window; every TX_SEEN is checked against the feed,\n"
            "and a lost, duplicated or reordered tx, or a growing duplicate, malformed, drop or\n"
            "reconnect counter, fails the run (exit 1). The last line is\n"
            "eth_full_tx_per_s=N eth_hashes_tx_per_s=N ingest_cpu_full=X%% ingest_cpu_hashes=Y%%\n"
            "(0 for a mode not run).\n",
            HASH_WINDOW_DEFAULT, MP_ETH_FEED_SENDERS);
}

/* Fills o from the command line. Returns 0 to run, 1 after --help (exit 0), 2 on a usage
 * error (exit 2, message logged). */
static int parse_options(int argc, char **argv, bench_opts_t *o)
{
    static const struct option opts[] = {
        {"duration", required_argument, 0, 'd'},
        {"warmup", required_argument, 0, 'w'},
        {"rate", required_argument, 0, 'r'},
        {"mode", required_argument, 0, 'm'},
        {"hash-window", required_argument, 0, 'W'},
        {"ingest", required_argument, 0, 'i'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    uint64_t v;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (mp_opts_uint("duration", optarg, 1, 600, &v)) return 2;
            o->duration_ns = v * NS_PER_SEC;
            break;
        case 'w':
            if (mp_opts_uint("warmup", optarg, 0, 60, &v)) return 2;
            o->warmup_ns = v * NS_PER_SEC;
            break;
        case 'r':
            if (mp_opts_uint("rate", optarg, 0, 10000000, &o->rate)) return 2;
            break;
        case 'W':
            if (mp_opts_uint("hash-window", optarg, 0, 1u << 20, &v)) return 2;
            o->hash_window = (uint32_t)v;
            break;
        case 'm':
            o->run_full = strcmp(optarg, "full") == 0 || strcmp(optarg, "both") == 0;
            o->run_hashes = strcmp(optarg, "hashes") == 0 || strcmp(optarg, "both") == 0;
            if (!o->run_full && !o->run_hashes) {
                mp_log("invalid value '%s' for --mode (full, hashes or both)", optarg);
                return 2;
            }
            break;
        case 'i':
            if (snprintf(o->ingest, sizeof o->ingest, "%s", optarg) >= (int)sizeof o->ingest) {
                mp_log("--ingest path too long");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        mp_log("unexpected argument '%s'", argv[optind]);
        return 2;
    }
    return 0;
}

/* Removes the private dir: the ingest logs and region files in it, nothing outside it. */
static void remove_tmp(const char *tmp)
{
    DIR *d = opendir(tmp);
    if (d) {
        struct dirent *e;
        for (int i = 0; i < 64 && (e = readdir(d)); i++) {
            if (e->d_name[0] == '.') continue;
            char p[PATH_MAX];
            snprintf(p, sizeof p, "%s/%s", tmp, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    if (rmdir(tmp)) mp_log("could not remove %s: %s", tmp, strerror(errno));
}

int main(int argc, char **argv)
{
    mp_log_init("eth-feed-bench");
    bench_opts_t o = {.duration_ns = 10 * NS_PER_SEC,
                      .warmup_ns = 2 * NS_PER_SEC,
                      .hash_window = HASH_WINDOW_DEFAULT,
                      .run_full = true,
                      .run_hashes = true};
    int ret = parse_options(argc, argv, &o);
    if (ret) return ret == 1 ? 0 : ret;
    if (!o.ingest[0] && mp_bench_build_path("ingest/mempulse-ingest", o.ingest, sizeof o.ingest)) {
        mp_log("cannot locate this build's mempulse-ingest; pass --ingest PATH");
        return 2;
    }
    if (access(o.ingest, X_OK)) {
        mp_log("%s: %s; build it first (ninja -C <build dir>) or pass --ingest PATH", o.ingest,
               strerror(errno));
        return 2;
    }
    /* Regions on tmpfs as in production, private to this run: the ingest inherits the dir. */
    snprintf(o.tmp, sizeof o.tmp, "/dev/shm/mempulse-ethbench.XXXXXX");
    if (!mkdtemp(o.tmp)) {
        mp_log("mkdtemp %s: %s", o.tmp, strerror(errno));
        return 1;
    }
    setenv("MEMPULSE_SHM_DIR", o.tmp, 1);
    snprintf(o.instance, sizeof o.instance, "ethbench-%d", (int)getpid());
    mp_opts_stop_on_signals(&stop_requested);
    signal(SIGPIPE, SIG_IGN);

    printf("eth-feed-bench: %s, %.0f s warm-up + %.0f s per mode, %ld CPU(s) shared by the "
           "ingest and this node+checker, regions in %s\n",
           o.ingest, (double)o.warmup_ns / 1e9, (double)o.duration_ns / 1e9,
           sysconf(_SC_NPROCESSORS_ONLN), o.tmp);
    fflush(stdout);
    mode_result_t full = {0}, hashes = {0};
    ret = 0;
    if (o.run_full) ret = run_mode(&o, false, &full);
    if (!ret && o.run_hashes) ret = run_mode(&o, true, &hashes);
    if (!ret)
        printf("eth_full_tx_per_s=%.0f eth_hashes_tx_per_s=%.0f ingest_cpu_full=%.1f%% "
               "ingest_cpu_hashes=%.1f%%\n",
               full.tx_per_s, hashes.tx_per_s, full.ingest_cpu, hashes.ingest_cpu);
    remove_tmp(o.tmp);
    if (stop_requested) mp_log("interrupted; the ingest was stopped and temp files removed");
    return ret ? 1 : 0;
}
