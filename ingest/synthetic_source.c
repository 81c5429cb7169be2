/* The paced synthetic source: the mp_source_t that ingest runs around the pure generator
 * of ingest/synthetic.c. It holds the generator state (what checkpoints save and restore)
 * and paces event time against the monotonic clock. */
#include "ingest/synthetic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"

typedef struct synth_source {
    mp_source_t base;
    /* Pacing: the event due at anchor_event_ns is due at anchor_mono_ns on the monotonic
     * clock; later events are due proportionally later. Not part of the saved state. */
    uint64_t anchor_mono_ns;
    uint64_t anchor_event_ns;
    double speed; /* event time per wall time; 0: unpaced */
    mp_synth_t gen;
} synth_source_t;

static void anchor_now(synth_source_t *ss)
{
    ss->anchor_mono_ns = mp_mono_ns();
    ss->anchor_event_ns = mp_synth_peek_time(&ss->gen);
}

static int synth_source_next(mp_source_t *src, mp_event_t *ev, uint64_t *wait_ns)
{
    synth_source_t *ss = (synth_source_t *)src;
    if (ss->gen.cfg.rate && ss->speed > 0) {
        uint64_t t = mp_synth_peek_time(&ss->gen);
        uint64_t ahead = t > ss->anchor_event_ns ? t - ss->anchor_event_ns : 0;
        uint64_t due = ss->anchor_mono_ns + (uint64_t)((double)ahead / ss->speed);
        uint64_t now = mp_mono_ns();
        if (now < due) {
            *wait_ns = due - now;
            return MP_SOURCE_IDLE;
        }
    }
    mp_synth_next(&ss->gen, ev);
    return MP_SOURCE_EVENT;
}

static uint32_t synth_source_save(mp_source_t *src, void *buf, uint32_t cap)
{
    synth_source_t *ss = (synth_source_t *)src;
    if (cap < sizeof ss->gen) {
        mp_log("synthetic: checkpoint slot of %u bytes cannot hold the %zu-byte generator state",
               cap, sizeof ss->gen);
        return 0;
    }
    memcpy(buf, &ss->gen, sizeof ss->gen);
    return (uint32_t)sizeof ss->gen;
}

static int synth_source_restore(mp_source_t *src, const void *buf, uint32_t len)
{
    synth_source_t *ss = (synth_source_t *)src;
    if (!buf || len != sizeof ss->gen) return -EINVAL;
    /* Validate a private copy: the checkpoint buffer may be unaligned, and a bad image
     * must leave the running generator untouched. */
    mp_synth_t *img = malloc(sizeof *img);
    if (!img) return -ENOMEM;
    memcpy(img, buf, sizeof *img);
    int err = mp_synth_validate(img);
    if (!err && (img->cfg.seed != ss->gen.cfg.seed || img->cfg.rate != ss->gen.cfg.rate ||
                 img->cfg.chain_id != ss->gen.cfg.chain_id))
        err = -EINVAL;
    if (!err) {
        memcpy(&ss->gen, img, sizeof *img);
        anchor_now(ss);
    }
    free(img);
    return err;
}

/* Regenerates and discards n events as fast as the generator runs (the loop calls this
 * right after restore for events already committed), then re-anchors the pacing clock so
 * the rate holds from now on without a catch-up burst. */
static int synth_source_skip(mp_source_t *src, uint64_t n)
{
    synth_source_t *ss = (synth_source_t *)src;
    mp_event_t ev;
    for (uint64_t i = 0; i < n; i++)
        mp_synth_next(&ss->gen, &ev);
    anchor_now(ss);
    return 0;
}

static void synth_source_destroy(mp_source_t *src)
{
    free(src);
}

static const mp_source_ops_t synth_ops = {
    .next = synth_source_next,
    .save = synth_source_save,
    .restore = synth_source_restore,
    .skip = synth_source_skip,
    .destroy = synth_source_destroy,
};

mp_source_t *mp_synthetic_source_create(const mp_synth_config_t *cfg)
{
    if (!cfg) return NULL;
    synth_source_t *ss = calloc(1, sizeof *ss);
    if (!ss) {
        mp_log("synthetic: cannot allocate %zu bytes for the generator", sizeof *ss);
        return NULL;
    }
    if (mp_synth_init(&ss->gen, cfg) != 0) {
        free(ss);
        return NULL;
    }
    ss->base.ops = &synth_ops;
    ss->base.name = "synthetic";
    ss->base.fingerprint = mp_synth_fingerprint(cfg);
    /* A checkpoint is a 372 KiB copy; with skip, regenerating up to this many events
     * after a restart takes about 10 ms at any rate. */
    ss->base.checkpoint_every = MP_SYNTH_CHECKPOINT_EVERY;
    ss->speed = 1.0;
    anchor_now(ss);
    return &ss->base;
}

void mp_synthetic_source_set_speed(mp_source_t *src, double speed)
{
    synth_source_t *ss = (synth_source_t *)src;
    ss->speed = speed > 0 ? speed : 0;
    anchor_now(ss);
}
