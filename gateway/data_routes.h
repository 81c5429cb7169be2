/* Data routes over the read model: GET /dashboard/snapshot-v2 (query checks, then the
 * snapshot builder), GET /transactions/{hash} (detail lookup), and the legacy
 * /dashboard/snapshot and /stream answering 404 with where to go instead. 503 while the
 * read-model region is not mapped. */
#ifndef MP_GW_DATA_ROUTES_H
#define MP_GW_DATA_ROUTES_H

#include "gateway/regions.h"
#include "gateway/router.h"
#include "gateway/snapshot.h"

typedef struct mp_gw_data {
    mp_gw_regions_t *regions;
    mp_gw_snapshot_t *snapshot;
} mp_gw_data_t;

/* Adds the data and legacy routes to r (the data routes require the bearer token when
 * one is configured); d must outlive the server. Returns 0 or the router's error. */
int mp_gw_data_register(mp_gw_data_t *d, mp_gw_router_t *r);

#endif
