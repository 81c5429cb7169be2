/* Events region layout: ring control, ring data, metrics, source checkpoint. */
#include "shm/events_region.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static void events_spec(mp_region_spec_t *spec, uint64_t ring_bytes)
{
    memset(spec, 0, sizeof *spec);
    spec->kind = MP_EVENTS_KIND;
    spec->section_count = 4;
    spec->sections[0].name = "ring_ctl";
    spec->sections[0].size = sizeof(mp_ring_ctl_t);
    spec->sections[1].name = "ring_data";
    spec->sections[1].size = ring_bytes;
    spec->sections[1].capacity = ring_bytes;
    spec->sections[2].name = "metrics";
    spec->sections[2].size = MP_METRICS_SECTION_SIZE(MP_EVENTS_METRICS_CAPACITY);
    spec->sections[2].item_size = sizeof(mp_metric_slot_t);
    spec->sections[2].capacity = MP_EVENTS_METRICS_CAPACITY;
    spec->sections[3].name = "source_checkpoint";
    spec->sections[3].size = sizeof(mp_checkpoint_area_t);
    spec->sections[3].item_size = sizeof(mp_checkpoint_slot_t);
    spec->sections[3].capacity = 2;
}

/* Resolves section pointers and checks the ring control block. */
static int bind_sections(mp_events_region_t *e, char *err)
{
    mp_region_t *r = &e->region;
    const mp_section_t *data = mp_region_section(r, "ring_data");
    e->ctl = mp_region_section_ptr(r, "ring_ctl", sizeof(mp_ring_ctl_t));
    e->metrics = mp_region_section_ptr(r, "metrics", sizeof(mp_metrics_t));
    e->checkpoint = mp_region_section_ptr(r, "source_checkpoint", sizeof(mp_checkpoint_area_t));
    if (!e->ctl || !data || !e->metrics || !e->checkpoint) {
        snprintf(err, MP_REGION_ERR_MAX, "%s lacks a section of the events layout", r->path);
        return -EPROTO;
    }
    e->data = r->base + data->offset;
    if (e->metrics->capacity > MP_EVENTS_METRICS_CAPACITY) {
        snprintf(err, MP_REGION_ERR_MAX, "%s: metrics section claims %u slots", r->path,
                 e->metrics->capacity);
        return -EPROTO;
    }
    return 0;
}

int mp_events_open_writer(mp_events_region_t *e, const char *instance, uint64_t ring_bytes,
                          bool reinit, char *err)
{
    char path[256];
    memset(e, 0, sizeof *e);
    if (mp_region_path(path, sizeof path, instance, MP_EVENTS_KIND)) {
        snprintf(err, MP_REGION_ERR_MAX, "invalid instance name '%s' (use [A-Za-z0-9_.-], at most %u)",
                 instance, MP_INSTANCE_MAX);
        return -EINVAL;
    }
    if (ring_bytes && (ring_bytes < MP_RING_MIN_CAPACITY || (ring_bytes & (ring_bytes - 1)))) {
        snprintf(err, MP_REGION_ERR_MAX, "ring size %" PRIu64 " is not a power of two >= %u",
                 ring_bytes, MP_RING_MIN_CAPACITY);
        return -EINVAL;
    }
    if (!ring_bytes) {
        /* Keep the size of an existing region so a restart needs no flags. */
        mp_events_region_t old;
        char ignored[MP_REGION_ERR_MAX];
        ring_bytes = MP_EVENTS_RING_DEFAULT_BYTES;
        if (mp_events_open_reader(&old, instance, ignored) == 0) {
            ring_bytes = old.ctl->capacity;
            mp_events_close(&old);
        }
    }
    mp_region_spec_t spec;
    events_spec(&spec, ring_bytes);
    int ret = mp_region_open_writer(&e->region, path, &spec, reinit, err);
    if (ret) return ret;
    ret = bind_sections(e, err);
    if (ret) goto out_close;
    /* Fault the ring in now: no page-fault stalls on the publish path. Best effort. */
    madvise(e->region.base, e->region.size, MADV_POPULATE_WRITE);
    if (e->ctl->capacity == 0) { /* fresh region: zero-filled by ftruncate */
        mp_ring_format(e->ctl, ring_bytes);
        mp_metrics_format(e->metrics, MP_EVENTS_METRICS_CAPACITY);
    }
    if (mp_ring_check(e->ctl, ring_bytes)) {
        snprintf(err, MP_REGION_ERR_MAX, "%s: ring control block is inconsistent; "
                 "run 'mempulse-shm reset --instance %s' or start with --reinit", path, instance);
        ret = -EPROTO;
        goto out_close;
    }
    return 0;
out_close:
    mp_region_close(&e->region);
    return ret;
}

int mp_events_open_reader(mp_events_region_t *e, const char *instance, char *err)
{
    char path[256];
    memset(e, 0, sizeof *e);
    if (mp_region_path(path, sizeof path, instance, MP_EVENTS_KIND)) {
        snprintf(err, MP_REGION_ERR_MAX, "invalid instance name '%s'", instance);
        return -EINVAL;
    }
    int ret = mp_region_open(&e->region, path, MP_EVENTS_KIND, false, err);
    if (ret) return ret;
    ret = bind_sections(e, err);
    if (ret) goto out_close;
    const mp_section_t *data = mp_region_section(&e->region, "ring_data");
    if (e->ctl->capacity && mp_ring_check(e->ctl, data->size)) {
        snprintf(err, MP_REGION_ERR_MAX, "%s: ring control block is inconsistent", path);
        ret = -EPROTO;
        goto out_close;
    }
    if (e->ctl->capacity == 0) {
        snprintf(err, MP_REGION_ERR_MAX, "%s: ring not yet formatted by its writer", path);
        ret = -EAGAIN;
        goto out_close;
    }
    return 0;
out_close:
    mp_region_close(&e->region);
    return ret;
}

void mp_events_close(mp_events_region_t *e)
{
    mp_region_close(&e->region);
    memset(e, 0, sizeof *e);
    e->region.fd = -1;
}
