/* Operational routes: GET /healthz (the process runs), GET /readyz (both regions mapped
 * and the readmodel heartbeat fresh, else 503 with the reason), GET /metrics (every
 * registered metrics writer, Prometheus text). */
#ifndef MP_GW_OPS_ROUTES_H
#define MP_GW_OPS_ROUTES_H

#include "gateway/body.h"
#include "gateway/metrics.h"
#include "gateway/regions.h"
#include "gateway/router.h"

typedef struct mp_gw_ops {
    const char *instance;
    mp_gw_regions_t *regions;
    mp_gw_metrics_t *metrics;
    mp_gw_body_pool_t *bodies;
} mp_gw_ops_t;

/* Adds /healthz, /readyz and /metrics to r; ops (and what it points to) must outlive the
 * server. Returns 0 or the router's error. */
int mp_gw_ops_register(mp_gw_ops_t *ops, mp_gw_router_t *r);

#endif
