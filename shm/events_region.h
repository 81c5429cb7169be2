/* The events region (/dev/shm/mempulse.<instance>.events): its section layout and the
 * open calls for its writer (ingest) and its readers (readmodel, tools, benches). */
#ifndef MP_EVENTS_REGION_H
#define MP_EVENTS_REGION_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/checkpoint.h"
#include "shm/metrics.h"
#include "shm/region.h"
#include "shm/ring.h"

#define MP_EVENTS_KIND "events"
#define MP_EVENTS_RING_DEFAULT_BYTES (64ull << 20)
#define MP_EVENTS_METRICS_CAPACITY 126u /* + header: 8 KiB section */

/* Metric names ingest keeps in the region (SPEC 4.3 ring metrics). */
#define MP_M_INGEST_EVENTS "ingest_events_total"
#define MP_M_INGEST_MALFORMED "ingest_malformed_total"
#define MP_M_RING_OVERRUNS "ring_overruns_total"
#define MP_M_RING_TETHER_WAITS "ring_tether_waits_total"
#define MP_M_RING_TETHER_WAIT_NS "ring_tether_wait_ns_total"

typedef struct mp_events_region {
    mp_region_t region;
    mp_ring_ctl_t *ctl;
    uint8_t *data;
    mp_metrics_t *metrics;
    mp_checkpoint_area_t *checkpoint;
} mp_events_region_t;

/* Opens (creating if missing) the events region as its writer. ring_bytes is the data
 * capacity (power of two); 0 keeps an existing region's size, or the default for a new
 * one. reinit replaces a region of another layout or size. Returns 0 or a negative errno
 * with err (MP_REGION_ERR_MAX bytes) set; -EBUSY when another ingest is running. */
int mp_events_open_writer(mp_events_region_t *e, const char *instance, uint64_t ring_bytes,
                          bool reinit, char *err);

/* Maps the events region read-only and validates it. Returns 0, -ENOENT or -EPROTO. */
int mp_events_open_reader(mp_events_region_t *e, const char *instance, char *err);

void mp_events_close(mp_events_region_t *e);

#endif
