/* The ingest loop: opens the events region as its writer, resumes the source from its
 * checkpoint, then moves events source -> msgpack -> ring until stopped. */
#include "ingest/ingest_loop.h"

#include "common/clock.h"
#include "common/log.h"
#include "ingest/eth_source.h"
#include "ingest/file_source.h"
#include "ingest/source.h"
#include "ingest/synthetic.h"
#include "proto/event.h"
#include "shm/events_region.h"
#include "shm/tether.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define IDLE_WAIT_MAX_NS 50000000ull /* longest sleep between polls: SIGTERM latency */
#define HEARTBEAT_EVERY_NS 100000000ull
#define MP_INGEST_SOURCE_STATS_MAX 32

typedef struct ingest {
    const mp_ingest_config_t *cfg;
    mp_events_region_t ev;
    mp_ring_writer_t writer;
    mp_tether_t tether;
    mp_source_t *src;
    uint8_t *ckpt_buf;
    uint64_t malformed_base;
    _Atomic uint64_t *m_events;
    _Atomic uint64_t *m_malformed;
    /* The source's own stats, mirrored by name; counters add to their value at start. */
    _Atomic uint64_t *m_stats[MP_INGEST_SOURCE_STATS_MAX];
    uint64_t stats_base[MP_INGEST_SOURCE_STATS_MAX];
    uint32_t since_checkpoint;
    uint64_t next_heartbeat_ns;
    volatile sig_atomic_t *stop;
} ingest_t;

static mp_source_t *create_source(const mp_ingest_config_t *cfg)
{
    if (strcmp(cfg->source, "synthetic") == 0) {
        mp_synth_config_t sc = {
            .seed = cfg->seed,
            .rate = cfg->rate,
            .start_unix_ns = cfg->start_unix_ns,
            .chain_id = cfg->chain_id,
        };
        mp_source_t *s = mp_synthetic_source_create(&sc);
        if (!s) mp_log("cannot create the synthetic source: out of memory");
        else if (cfg->speed >= 0) mp_synthetic_source_set_speed(s, cfg->speed);
        return s;
    }
    if (strncmp(cfg->source, "file:", 5) == 0 && cfg->source[5]) {
        char err[256] = "";
        mp_file_source_config_t fc = {
            .path = cfg->source + 5,
            .speed = cfg->speed < 0 ? 1.0 : cfg->speed,
            .chain_id = cfg->chain_id,
        };
        mp_source_t *s = mp_file_source_create(&fc, err, sizeof err);
        if (!s) mp_log("%s", err);
        return s;
    }
    if (strncmp(cfg->source, "eth:", 4) == 0) {
        char err[256] = "";
        mp_eth_source_config_t ec = {
            .url = cfg->source + 4,
            .chain_id = cfg->chain_id,
            .hashes_only = cfg->eth_hashes_only,
            .ca_file = cfg->eth_ca_file,
        };
        mp_source_t *s = mp_eth_source_create(&ec, err, sizeof err);
        if (!s) mp_log("%s", err);
        return s;
    }
    mp_log("unknown source '%s' (use synthetic, file:PATH, file:- or eth:ws[s]://HOST:PORT)",
           cfg->source);
    return NULL;
}

/* Saves the source's position after its last event, labelled with the seq that event
 * has (or will get: a save may precede the publish, see publish()). */
static void save_checkpoint(ingest_t *in, uint64_t as_of_seq)
{
    uint32_t len = in->src->ops->save(in->src, in->ckpt_buf, MP_CHECKPOINT_STATE_MAX);
    if (len) mp_checkpoint_save(in->ev.checkpoint, as_of_seq, in->src->fingerprint, in->ckpt_buf, len);
    in->since_checkpoint = 0;
}

/* Puts the source exactly after the last committed record: restore the newest
 * checkpoint not ahead of it, then regenerate and discard what was committed since. */
static int resume_source(ingest_t *in)
{
    uint64_t last = in->writer.next_seq - 1, at = 0;
    uint32_t len = 0;
    if (mp_checkpoint_load(in->ev.checkpoint, in->src->fingerprint, last, in->ckpt_buf,
                           MP_CHECKPOINT_STATE_MAX, &len, &at) != 0 ||
        in->src->ops->restore(in->src, in->ckpt_buf, len) != 0) {
        if (last) mp_log("no checkpoint for this source; it starts fresh after seq %" PRIu64, last);
        save_checkpoint(in, last);
        return 0;
    }
    uint64_t skip = last - at;
    if (in->src->ops->skip) {
        int ret = in->src->ops->skip(in->src, skip);
        if (ret) return ret;
    } else {
        mp_event_t ev;
        for (uint64_t i = 0; i < skip && !*in->stop;) {
            uint64_t wait = 0;
            int r = in->src->ops->next(in->src, &ev, &wait);
            if (r == MP_SOURCE_EVENT) i++;
            else if (r == MP_SOURCE_IDLE) mp_sleep_ns(wait < IDLE_WAIT_MAX_NS ? wait : IDLE_WAIT_MAX_NS);
            else return r == MP_SOURCE_END ? 0 : r;
        }
    }
    mp_log("resumed the %s source after seq %" PRIu64 " (checkpoint at %" PRIu64 ", %" PRIu64
           " events regenerated)", in->src->name, last, at, skip);
    return 0;
}

static void heartbeat(ingest_t *in, uint64_t now)
{
    mp_region_heartbeat(&in->ev.region);
    mp_metric_set(in->m_malformed, in->malformed_base + in->src->malformed_total);
    for (uint32_t i = 0; i < in->src->nstats && i < MP_INGEST_SOURCE_STATS_MAX; i++)
        mp_metric_set(in->m_stats[i], in->stats_base[i] + in->src->stats[i].value);
    in->next_heartbeat_ns = now + HEARTBEAT_EVERY_NS;
}

static int publish(ingest_t *in, const mp_event_t *ev, uint8_t *buf)
{
    size_t len = 0;
    int ret = mp_event_encode(ev, buf, MP_EVENT_MAX_ENCODED, &len);
    if (ret) {
        /* A source bug, not bad input (sources validate): count it as malformed. */
        in->src->malformed_total++;
        return 0;
    }
    /* The checkpoint is saved before the record it describes is published, labelled with
     * that record's seq: a crash in between leaves it ahead of the last committed seq,
     * so a restart ignores it and uses the previous one. Sources that save after every
     * event (files) thus never need to regenerate anything; TICKs, which a file source
     * cannot reproduce, are never skipped by count. */
    if (++in->since_checkpoint >= in->src->checkpoint_every)
        save_checkpoint(in, mp_ring_next_seq(&in->writer));
    uint64_t seq = mp_ring_publish(&in->writer, ev->type, buf, (uint32_t)len, mp_wall_ns());
    /* Pairs with readers' acquire of progress_seq (tools, gateway). */
    atomic_store_explicit(&mp_region_header(&in->ev.region)->progress_seq, seq,
                          memory_order_release);
    mp_metric_add(in->m_events, 1);
    return 0;
}

static int run_loop(ingest_t *in, uint64_t *published, uint64_t *tx_seen)
{
    uint8_t buf[MP_EVENT_MAX_ENCODED];
    uint64_t start = mp_mono_ns();
    uint64_t deadline = in->cfg->duration_s > 0 ? start + (uint64_t)(in->cfg->duration_s * 1e9) : 0;
    uint32_t n = 0;
    while (!*in->stop) {
        /* Checked before asking the source, so its saved position never runs ahead. */
        if (in->cfg->max_seq && mp_ring_next_seq(&in->writer) > in->cfg->max_seq) {
            mp_log("reached --max-seq %" PRIu64, in->cfg->max_seq);
            break;
        }
        mp_event_t ev;
        uint64_t wait = 0;
        int r = in->src->ops->next(in->src, &ev, &wait);
        if (r == MP_SOURCE_EVENT) {
            publish(in, &ev, buf);
            (*published)++;
            *tx_seen += ev.type == MP_EV_TX_SEEN;
            if ((++n & 255) != 0) continue; /* clock reads amortized over 256 events */
        } else if (r == MP_SOURCE_IDLE) {
            mp_sleep_ns(wait < IDLE_WAIT_MAX_NS ? wait : IDLE_WAIT_MAX_NS);
        } else if (r == MP_SOURCE_END) {
            mp_log("end of input");
            break;
        } else {
            return 1;
        }
        uint64_t now = mp_mono_ns();
        if (now >= in->next_heartbeat_ns) heartbeat(in, now);
        if (deadline && now >= deadline) break;
    }
    return 0;
}

int mp_ingest_run(const mp_ingest_config_t *cfg, volatile sig_atomic_t *stop)
{
    ingest_t in = {.cfg = cfg, .stop = stop};
    char err[MP_REGION_ERR_MAX];
    int code = 0;
    int ret = mp_events_open_writer(&in.ev, cfg->instance, cfg->ring_bytes, cfg->reinit, err);
    if (ret) {
        mp_log("%s", err);
        if (ret == -EPROTO)
            mp_log("run 'mempulse-shm reset --instance %s' or start with --reinit to recreate it",
                   cfg->instance);
        return ret == -EBUSY || ret == -EPROTO || ret == -EINVAL ? 2 : 1;
    }
    mp_ring_writer_init(&in.writer, in.ev.ctl, in.ev.data);
    in.writer.stop = stop;
    in.writer.metrics.overruns_total = mp_metrics_get(in.ev.metrics, MP_M_RING_OVERRUNS, MP_METRIC_COUNTER);
    in.writer.metrics.tether_waits_total =
        mp_metrics_get(in.ev.metrics, MP_M_RING_TETHER_WAITS, MP_METRIC_COUNTER);
    in.writer.metrics.tether_wait_ns_total =
        mp_metrics_get(in.ev.metrics, MP_M_RING_TETHER_WAIT_NS, MP_METRIC_COUNTER);
    in.m_events = mp_metrics_get(in.ev.metrics, MP_M_INGEST_EVENTS, MP_METRIC_COUNTER);
    in.m_malformed = mp_metrics_get(in.ev.metrics, MP_M_INGEST_MALFORMED, MP_METRIC_COUNTER);
    in.malformed_base = in.m_malformed ? atomic_load_explicit(in.m_malformed, memory_order_relaxed) : 0;
    if (mp_tether_init(&in.tether, cfg->instance) == 0) {
        in.writer.tether.applied = mp_tether_applied;
        in.writer.tether.ctx = &in.tether;
        in.writer.tether.lag_timeout_ns = cfg->lag_timeout_ns;
    }
    mp_region_header_t *h = mp_region_header(&in.ev.region);
    mp_log("writer start %" PRIu64 " on %s: ring %" PRIu64 " MiB, next seq %" PRIu64,
           atomic_load_explicit(&h->writer_starts, memory_order_relaxed), in.ev.region.path,
           in.ev.ctl->capacity >> 20, in.writer.next_seq);

    in.src = create_source(cfg);
    if (!in.src) {
        code = 2;
        goto out_close;
    }
    for (uint32_t i = 0; i < in.src->nstats && i < MP_INGEST_SOURCE_STATS_MAX; i++) {
        const mp_source_stat_t *st = &in.src->stats[i];
        in.m_stats[i] = mp_metrics_get(in.ev.metrics, st->name,
                                       st->gauge ? MP_METRIC_GAUGE : MP_METRIC_COUNTER);
        in.stats_base[i] = in.m_stats[i] && !st->gauge
                               ? atomic_load_explicit(in.m_stats[i], memory_order_relaxed)
                               : 0;
    }
    in.ckpt_buf = malloc(MP_CHECKPOINT_STATE_MAX);
    if (!in.ckpt_buf) {
        mp_log("out of memory");
        code = 1;
        goto out_source;
    }
    if (resume_source(&in) != 0) {
        code = 1;
        goto out_buf;
    }
    uint64_t published = 0, tx_seen = 0, t0 = mp_mono_ns();
    code = run_loop(&in, &published, &tx_seen);
    double secs = (double)(mp_mono_ns() - t0) / 1e9;
    save_checkpoint(&in, in.writer.next_seq - 1);
    heartbeat(&in, mp_mono_ns());
    /* A source's gauges describe a live process (eth_upstream_connected): zero them. */
    for (uint32_t i = 0; i < in.src->nstats && i < MP_INGEST_SOURCE_STATS_MAX; i++)
        if (in.src->stats[i].gauge) mp_metric_set(in.m_stats[i], 0);
    mp_log("published %" PRIu64 " events in %.2f s (%.0f events/s, %.0f tx/s); last seq %" PRIu64
           ", malformed %" PRIu64, published, secs, secs > 0 ? (double)published / secs : 0.0,
           secs > 0 ? (double)tx_seen / secs : 0.0, in.writer.next_seq - 1, in.src->malformed_total);
out_buf:
    free(in.ckpt_buf);
out_source:
    in.src->ops->destroy(in.src);
out_close:
    mp_tether_close(&in.tether);
    mp_events_close(&in.ev);
    return code;
}
