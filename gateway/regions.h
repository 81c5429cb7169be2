/* The shared-memory regions the gateway reads: the read model (data routes) and the
 * events region (ring metrics), both mapped PROT_READ. A region that is missing, not yet
 * formatted, or replaced (reset, --reinit) is (re)mapped by polling, so the gateway can
 * start before its writers and survive their restarts; readiness follows the
 * readmodel's heartbeat. Also exports both regions' metrics sections at /metrics. */
#ifndef MP_GW_REGIONS_H
#define MP_GW_REGIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/body.h"
#include "readmodel/rm_region.h"
#include "shm/events_region.h"

typedef struct mp_gw_regions {
    const char *instance;
    uint64_t heartbeat_limit_ns; /* readmodel heartbeat older than this: not ready */
    mp_rm_region_t rm;
    mp_events_region_t ev;
    bool rm_mapped;
    bool ev_mapped;
    /* +1 every time the read-model region is mapped: anything derived from a previous
     * mapping (cached snapshot sections) is keyed by it and dropped when it changes. */
    uint64_t rm_gen;
    int rm_last_ret; /* result of the last open attempt, so only changes are logged */
    int ev_last_ret;
    char rm_why[MP_REGION_ERR_MAX]; /* why the region is not mapped */
    char ev_why[MP_REGION_ERR_MAX];
} mp_gw_regions_t;

/* Prepares the state for instance (not copied: it must outlive r) and tries a first
 * mapping. Never fails: a region that cannot be mapped yet is retried by poll. */
void mp_gw_regions_init(mp_gw_regions_t *r, const char *instance, uint64_t heartbeat_limit_ns);

/* Maps a region that appeared, unmaps one whose file was removed or replaced (then maps
 * the new one). Two stat calls when both are mapped; call it a few times a second. No
 * pointer into a region may be kept across calls. */
void mp_gw_regions_poll(mp_gw_regions_t *r);

/* The read-model region, or NULL (then why, if given, gets the reason). */
const mp_rm_region_t *mp_gw_regions_rm(const mp_gw_regions_t *r, const char **why);

/* The events region, or NULL. */
const mp_events_region_t *mp_gw_regions_events(const mp_gw_regions_t *r);

/* True when both regions are mapped and the readmodel's heartbeat is fresh; otherwise
 * false with the reason in why (a sentence naming the file or the process). */
bool mp_gw_regions_ready(const mp_gw_regions_t *r, char *why, size_t whylen);

/* Metrics writer (mp_gw_metrics_fn): every named counter and gauge of both regions'
 * metrics sections, plus watermarks and ring levels the gateway reads itself. */
int mp_gw_regions_metrics(void *ctx, mp_gw_body_t *out);

/* Unmaps both regions. */
void mp_gw_regions_close(mp_gw_regions_t *r);

#endif
