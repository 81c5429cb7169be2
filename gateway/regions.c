/* Read-only mappings of the read-model and events regions: (re)mapping by polling,
 * readiness from the readmodel heartbeat, and the export of their metrics sections. */
#include "gateway/regions.h"

#include "common/clock.h"
#include "common/log.h"
#include "gateway/prom.h"
#include "readmodel/journal.h"
#include "readmodel/rm_reader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* True when the file at the region's path is no longer the one mapped (removed, or
 * replaced by a writer that recreated it under a temporary name and renamed it). */
static bool file_replaced(const mp_region_t *reg)
{
    struct stat now, mapped;
    if (stat(reg->path, &now) != 0 || fstat(reg->fd, &mapped) != 0) return true;
    return now.st_ino != mapped.st_ino || now.st_dev != mapped.st_dev;
}

static void poll_rm(mp_gw_regions_t *r)
{
    if (r->rm_mapped && file_replaced(&r->rm.region)) {
        mp_log("%s was removed or replaced: unmapping it", r->rm.region.path);
        mp_rm_close(&r->rm);
        r->rm_mapped = false;
        snprintf(r->rm_why, sizeof r->rm_why, "the read-model region was removed or replaced");
    }
    if (r->rm_mapped) return;
    char err[MP_REGION_ERR_MAX];
    int ret = mp_rm_open_reader(&r->rm, r->instance, err);
    if (ret == 0) {
        r->rm_mapped = true;
        r->rm_gen++;
        r->rm_why[0] = '\0';
        mp_log("mapped %s read-only", r->rm.region.path);
    } else {
        snprintf(r->rm_why, sizeof r->rm_why, "%s", err);
        if (ret != r->rm_last_ret) mp_log("read model not available: %s", err);
    }
    r->rm_last_ret = ret;
}

static void poll_ev(mp_gw_regions_t *r)
{
    if (r->ev_mapped && file_replaced(&r->ev.region)) {
        mp_log("%s was removed or replaced: unmapping it", r->ev.region.path);
        mp_events_close(&r->ev);
        r->ev_mapped = false;
        snprintf(r->ev_why, sizeof r->ev_why, "the events region was removed or replaced");
    }
    if (r->ev_mapped) return;
    char err[MP_REGION_ERR_MAX];
    int ret = mp_events_open_reader(&r->ev, r->instance, err);
    if (ret == 0) {
        r->ev_mapped = true;
        r->ev_why[0] = '\0';
        mp_log("mapped %s read-only", r->ev.region.path);
    } else {
        snprintf(r->ev_why, sizeof r->ev_why, "%s", err);
        if (ret != r->ev_last_ret) mp_log("events region not available: %s", err);
    }
    r->ev_last_ret = ret;
}

void mp_gw_regions_init(mp_gw_regions_t *r, const char *instance, uint64_t heartbeat_limit_ns)
{
    memset(r, 0, sizeof *r);
    r->instance = instance;
    r->heartbeat_limit_ns = heartbeat_limit_ns;
    r->rm.region.fd = -1;
    r->ev.region.fd = -1;
    r->rm_last_ret = r->ev_last_ret = 1; /* neither success nor an errno: the first result logs */
    mp_gw_regions_poll(r);
}

void mp_gw_regions_poll(mp_gw_regions_t *r)
{
    poll_rm(r);
    poll_ev(r);
}

const mp_rm_region_t *mp_gw_regions_rm(const mp_gw_regions_t *r, const char **why)
{
    if (r->rm_mapped) return &r->rm;
    if (why) *why = r->rm_why;
    return NULL;
}

const mp_events_region_t *mp_gw_regions_events(const mp_gw_regions_t *r)
{
    return r->ev_mapped ? &r->ev : NULL;
}

/* Age of the readmodel's last heartbeat in ns; UINT64_MAX when it never beat. */
static uint64_t heartbeat_age_ns(const mp_gw_regions_t *r)
{
    uint64_t beat = atomic_load_explicit(&mp_region_header(&r->rm.region)->writer_heartbeat_mono_ns,
                                         memory_order_relaxed);
    if (beat == 0) return UINT64_MAX;
    uint64_t now = mp_mono_ns();
    return now > beat ? now - beat : 0;
}

bool mp_gw_regions_ready(const mp_gw_regions_t *r, char *why, size_t whylen)
{
    if (!r->rm_mapped) {
        snprintf(why, whylen, "read model not mapped: %s", r->rm_why);
        return false;
    }
    if (!r->ev_mapped) {
        snprintf(why, whylen, "events region not mapped: %s", r->ev_why);
        return false;
    }
    uint64_t age = heartbeat_age_ns(r);
    if (age > r->heartbeat_limit_ns) {
        if (age == UINT64_MAX)
            snprintf(why, whylen, "mempulse-readmodel never beat in %s: is it running?",
                     r->rm.region.path);
        else
            snprintf(
                why, whylen,
                "mempulse-readmodel heartbeat in %s is %.1f s old (limit %.1f s): is it running?",
                r->rm.region.path, (double)age / 1e9, (double)r->heartbeat_limit_ns / 1e9);
        return false;
    }
    return true;
}

/* Appends the named slots of a metrics section; names already written from an earlier
 * section (seen, *seen_count of them) are skipped so each name is exported once. */
static int export_section(const mp_metrics_t *m, mp_gw_body_t *out, const char **seen,
                          unsigned *seen_count, unsigned seen_cap)
{
    uint32_t n = mp_metrics_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const mp_metric_slot_t *s = &m->slots[i];
        /* The name is shared memory: bounded, and checked before it reaches the output. */
        size_t len = strnlen(s->name, MP_METRIC_NAME_MAX);
        if (len == MP_METRIC_NAME_MAX || !mp_gw_prom_name_ok(s->name, len)) continue;
        bool dup = false;
        for (unsigned k = 0; k < *seen_count && !dup; k++)
            dup = strncmp(seen[k], s->name, MP_METRIC_NAME_MAX) == 0;
        if (dup) continue;
        if (*seen_count < seen_cap) seen[(*seen_count)++] = s->name;
        char name[MP_METRIC_NAME_MAX];
        memcpy(name, s->name, len);
        name[len] = '\0';
        uint32_t kind = s->kind;
        int ret = mp_gw_body_printf(out, "# TYPE %s %s\n", name,
                                    kind == MP_METRIC_COUNTER ? "counter" : "gauge");
        if (!ret)
            ret = mp_gw_prom_u64(out, name, NULL,
                                 atomic_load_explicit(&s->value, memory_order_relaxed));
        if (ret) return ret;
    }
    return 0;
}

static int gauge(mp_gw_body_t *out, const char *name, const char *help, uint64_t v)
{
    int ret = mp_gw_prom_header(out, name, "gauge", help);
    return ret ? ret : mp_gw_prom_u64(out, name, NULL, v);
}

int mp_gw_regions_metrics(void *ctx, mp_gw_body_t *out)
{
    mp_gw_regions_t *r = ctx;
    int ret = mp_gw_prom_header(out, "gateway_region_mapped", "gauge",
                                "1 while this gateway maps the region read-only");
    if (!ret)
        ret = mp_gw_prom_u64(out, "gateway_region_mapped", "region=\"readmodel\"", r->rm_mapped);
    if (!ret) ret = mp_gw_prom_u64(out, "gateway_region_mapped", "region=\"events\"", r->ev_mapped);
    if (!ret)
        ret = gauge(out, "gateway_region_maps_total", "times the read-model region was mapped",
                    r->rm_gen);
    if (ret) return ret;

    /* Names written here come first in the seen list, so a writer that later keeps a
     * metric of the same name in its section cannot make /metrics repeat a name. */
    enum { SEEN_CAP = 288 };
    static const char *const own[] = {
        "ring_last_seq",
        "ring_used_bytes",
        "ring_capacity_bytes",
        "readmodel_applied_seq",
        "readmodel_journal_seq",
        "readmodel_journal_oldest_seq",
        "readmodel_revision",
        "readmodel_heartbeat_age_ms",
        "ring_lag_events",
        "gateway_region_mapped",
        "gateway_region_maps_total",
    };
    const char *seen[SEEN_CAP];
    unsigned seen_count = 0;
    for (unsigned i = 0; i < sizeof own / sizeof own[0]; i++)
        seen[seen_count++] = own[i];
    uint64_t last_seq = 0;
    bool have_last = false;
    if (r->ev_mapped) {
        const mp_ring_ctl_t *c = r->ev.ctl;
        uint64_t tail = atomic_load_explicit(&c->tail, memory_order_acquire);
        uint64_t head = atomic_load_explicit(&c->head, memory_order_acquire);
        last_seq = atomic_load_explicit(&c->last_seq, memory_order_relaxed);
        have_last = true;
        ret = gauge(out, "ring_last_seq", "newest seq published in the events ring", last_seq);
        if (!ret)
            ret = gauge(out, "ring_used_bytes", "events ring bytes holding records",
                        tail >= head ? tail - head : 0);
        if (!ret) ret = gauge(out, "ring_capacity_bytes", "events ring capacity", c->capacity);
        if (!ret) ret = export_section(r->ev.metrics, out, seen, &seen_count, SEEN_CAP);
        if (ret) return ret;
    }
    if (r->rm_mapped) {
        mp_rm_marks_t m;
        mp_rm_read_marks(&r->rm, &m);
        uint64_t age = heartbeat_age_ns(r);
        ret = gauge(out, "readmodel_applied_seq", "last events-ring seq applied to the read model",
                    m.applied_seq);
        if (!ret) ret = gauge(out, "readmodel_journal_seq", "newest journal seq", m.journal_seq);
        if (!ret)
            ret = gauge(out, "readmodel_journal_oldest_seq", "oldest journal seq still readable",
                        m.oldest_journal_seq);
        if (!ret)
            ret = gauge(out, "readmodel_revision", "committed read-model batches", m.revision);
        if (!ret)
            ret = gauge(out, "readmodel_heartbeat_age_ms",
                        "age of the readmodel heartbeat (18446744073709551615: never)",
                        age == UINT64_MAX ? UINT64_MAX : age / 1000000);
        if (!ret && have_last)
            ret = gauge(out, "ring_lag_events", "events published but not yet applied",
                        last_seq > m.applied_seq ? last_seq - m.applied_seq : 0);
        if (!ret) ret = export_section(r->rm.metrics, out, seen, &seen_count, SEEN_CAP);
        if (ret) return ret;
    }
    return 0;
}

void mp_gw_regions_close(mp_gw_regions_t *r)
{
    if (r->rm_mapped) mp_rm_close(&r->rm);
    if (r->ev_mapped) mp_events_close(&r->ev);
    r->rm_mapped = r->ev_mapped = false;
}
