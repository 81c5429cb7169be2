/* Ingest's view of the readmodel for ring backpressure (SPEC 2.2 tethering): maps the
 * read-model region's header read-only, when it exists, and reports the applied seq and
 * whether its writer is alive. */
#ifndef MP_TETHER_H
#define MP_TETHER_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/region.h"

#define MP_READMODEL_KIND "readmodel"

typedef struct mp_tether {
    char path[256];
    mp_region_t region;
    bool mapped;
    bool alive;
    uint64_t next_open_mono_ns;  /* retry opening a missing region at most once a second */
    uint64_t next_probe_mono_ns; /* re-probe the writer lock at most every 100 ms */
} mp_tether_t;

/* Prepares a tether to the instance's read-model region; maps nothing yet. Returns 0 or
 * -EINVAL for a bad instance name. */
int mp_tether_init(mp_tether_t *t, const char *instance);

/* mp_ring_tether_t callback (ctx is the mp_tether_t): the readmodel's applied seq, 0
 * without a region; *alive false when no readmodel holds the region's writer lock. */
uint64_t mp_tether_applied(void *ctx, bool *alive);

void mp_tether_close(mp_tether_t *t);

#endif
