/* The /metrics registry: modules add a writer that appends their Prometheus text (the
 * snapshot histograms, request counters, connection gauges, the regions' shared-memory
 * metrics; later the stream module's stream_v2_* and dashboard_stream_backlog), and a
 * scrape runs the writers in the order they were added. */
#ifndef MP_GW_METRICS_H
#define MP_GW_METRICS_H

#include "gateway/body.h"

#define MP_GW_METRICS_WRITERS 16

/* Appends one module's metrics to out. Returns 0 or a negative errno (the body's). */
typedef int (*mp_gw_metrics_fn)(void *ctx, mp_gw_body_t *out);

typedef struct mp_gw_metrics {
    struct {
        mp_gw_metrics_fn fn;
        void *ctx;
    } writers[MP_GW_METRICS_WRITERS];
    unsigned count;
} mp_gw_metrics_t;

/* Starts an empty registry. */
void mp_gw_metrics_init(mp_gw_metrics_t *m);

/* Adds a writer; ctx stays the caller's and must outlive the registry. Returns 0 or
 * -ENOSPC when MP_GW_METRICS_WRITERS are registered. */
int mp_gw_metrics_add(mp_gw_metrics_t *m, mp_gw_metrics_fn fn, void *ctx);

/* Runs every writer into out. Each metric name must come from one writer only (their
 * prefixes keep them apart). Returns 0 or the first writer's error. */
int mp_gw_metrics_render(const mp_gw_metrics_t *m, mp_gw_body_t *out);

#endif
