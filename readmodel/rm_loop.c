/* readmodel loop: ring reader -> decode -> apply engine, batched under the undo log. */
#include "readmodel/rm_loop.h"

#include "common/clock.h"
#include "common/log.h"
#include "readmodel/apply.h"
#include "shm/events_region.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#define BATCH_MAX 4096u
#define HEARTBEAT_NS 100000000ull
#define IDLE_SLEEP_MAX_NS 2000000ull

typedef struct rm_loop {
    mp_rm_region_t rm;
    mp_events_region_t ev;
    mp_rm_engine_t engine;
    mp_ring_reader_t reader;
    uint8_t *buf;
    _Atomic uint64_t *m_batches, *m_apply_ns, *m_gap_events, *m_lag, *m_detail_size, *m_bytes;
} rm_loop_t;

static int open_events(rm_loop_t *l, const mp_rm_config_t *cfg, volatile sig_atomic_t *stop)
{
    char err[MP_REGION_ERR_MAX];
    uint64_t deadline = mp_mono_ns() + (uint64_t)(cfg->wait_events_s * 1e9);
    bool said = false;
    for (;;) {
        int ret = mp_events_open_reader(&l->ev, cfg->instance, err);
        if (ret == 0) return 0;
        if (ret == -EPROTO || ret == -EINVAL) {
            mp_log("%s", err);
            return 2;
        }
        if (*stop || mp_mono_ns() > deadline) {
            mp_log("%s", err);
            return 1;
        }
        if (!said) mp_log("waiting for %s", err);
        said = true;
        mp_sleep_ns(50000000);
    }
}

/* Positions the ring reader right after the last applied event. */
static int position_reader(rm_loop_t *l)
{
    uint64_t applied = atomic_load_explicit(&l->rm.ctl->applied_seq, memory_order_relaxed);
    uint64_t last = atomic_load_explicit(&l->ev.ctl->last_seq, memory_order_acquire);
    mp_ring_reader_init(&l->reader, l->ev.ctl, l->ev.data, MP_RING_FROM_OLDEST);
    if (applied > last) {
        mp_log("the read model applied up to seq %" PRIu64 " but the events ring ends at %" PRIu64
               ": the ring was recreated; run 'mempulse-shm reset --instance <name>' or start "
               "the readmodel with --reinit", applied, last);
        return 2;
    }
    if (mp_ring_reader_seek(&l->reader, applied + 1) != 0)
        mp_log("seq %" PRIu64 " is no longer in the events ring: the gap is counted", applied + 1);
    return 0;
}

static void publish_gauges(rm_loop_t *l)
{
    uint64_t applied = atomic_load_explicit(&l->rm.ctl->applied_seq, memory_order_relaxed);
    uint64_t last = atomic_load_explicit(&l->ev.ctl->last_seq, memory_order_acquire);
    mp_metric_set(l->m_lag, last > applied ? last - applied : 0);
    mp_metric_set(l->m_detail_size, l->rm.ctl->detail_count);
    mp_metric_set(l->m_bytes, atomic_load_explicit(&l->rm.ctl->bytes_used, memory_order_relaxed));
    mp_region_heartbeat(&l->rm.region);
}

/* One batch, with the commit-time gauges and metrics of the loop. */
static uint32_t run_batch(rm_loop_t *l)
{
    uint64_t t0 = mp_mono_ns(), gap_events = 0;
    uint32_t n = mp_rm_apply_batch(&l->engine, &l->reader, l->buf, BATCH_MAX, &gap_events);
    mp_metric_add(l->m_gap_events, gap_events);
    if (n) {
        mp_metric_add(l->m_batches, 1);
        mp_metric_add(l->m_apply_ns, mp_mono_ns() - t0);
    }
    return n;
}

int mp_rm_run(const mp_rm_config_t *cfg, volatile sig_atomic_t *stop)
{
    rm_loop_t *l = calloc(1, sizeof *l);
    if (!l) {
        mp_log("out of memory");
        return 1;
    }
    int code = 0;
    char err[MP_REGION_ERR_MAX];
    int ret = mp_rm_open_writer(&l->rm, cfg->instance, &cfg->caps, cfg->reinit, err);
    if (ret) {
        mp_log("%s", err);
        if (ret == -EPROTO)
            mp_log("run 'mempulse-shm reset --instance %s' or start with --reinit to recreate it",
                   cfg->instance);
        free(l);
        return ret == -EPROTO || ret == -EINVAL || ret == -EBUSY ? 2 : 1;
    }
    mp_region_header_t *h = mp_region_header(&l->rm.region);
    mp_log("writer start %" PRIu64 " on %s (%" PRIu64 " MiB): applied seq %" PRIu64
           ", journal seq %" PRIu64 "%s",
           atomic_load_explicit(&h->writer_starts, memory_order_relaxed), l->rm.region.path,
           (uint64_t)(l->rm.region.size >> 20),
           atomic_load_explicit(&l->rm.ctl->applied_seq, memory_order_relaxed),
           atomic_load_explicit(&l->rm.ctl->journal_seq, memory_order_relaxed),
           l->rm.recovered_ranges ? ", rolled back an unfinished batch" : "");
    l->buf = malloc(MP_RING_MAX_PAYLOAD);
    if (!l->buf) {
        code = 1;
        goto out_rm;
    }
    code = open_events(l, cfg, stop);
    if (code) goto out_buf;
    code = position_reader(l);
    if (code) goto out_ev;
    mp_rm_engine_init(&l->engine, &l->rm);
    mp_metrics_t *m = l->rm.metrics;
    l->m_batches = mp_metrics_get(m, "readmodel_batches_total", MP_METRIC_COUNTER);
    l->m_apply_ns = mp_metrics_get(m, "readmodel_apply_ns_total", MP_METRIC_COUNTER);
    l->m_gap_events = mp_metrics_get(m, "readmodel_ring_gap_events_total", MP_METRIC_COUNTER);
    l->m_lag = mp_metrics_get(m, "readmodel_ring_lag_events", MP_METRIC_GAUGE);
    l->m_detail_size = mp_metrics_get(m, "tx_detail_index_size", MP_METRIC_GAUGE);
    l->m_bytes = mp_metrics_get(m, "dashboard_read_model_bytes", MP_METRIC_GAUGE);

    uint64_t start = mp_mono_ns(), next_beat = 0, idle_ns = 10000;
    uint64_t deadline = cfg->duration_s > 0 ? start + (uint64_t)(cfg->duration_s * 1e9) : 0;
    while (!*stop) {
        uint32_t n = run_batch(l);
        uint64_t now = mp_mono_ns();
        if (now >= next_beat) {
            publish_gauges(l);
            next_beat = now + HEARTBEAT_NS;
        }
        if (deadline && now >= deadline) break;
        if (n) {
            idle_ns = 10000;
        } else {
            mp_sleep_ns(idle_ns);
            if (idle_ns < IDLE_SLEEP_MAX_NS) idle_ns *= 2;
        }
    }
    publish_gauges(l);
    mp_log("stopped at applied seq %" PRIu64 ", journal seq %" PRIu64,
           atomic_load_explicit(&l->rm.ctl->applied_seq, memory_order_relaxed),
           atomic_load_explicit(&l->rm.ctl->journal_seq, memory_order_relaxed));
out_ev:
    mp_events_close(&l->ev);
out_buf:
    free(l->buf);
out_rm:
    mp_rm_close(&l->rm);
    free(l);
    return code;
}
