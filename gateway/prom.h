/* Prometheus text exposition (format 0.0.4) into a body: HELP/TYPE headers, samples, and
 * a fixed-bucket histogram this process fills (build and dispatch latencies). */
#ifndef MP_GW_PROM_H
#define MP_GW_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/body.h"

#define MP_GW_HIST_MAX_BUCKETS 16

/* Observations per bucket. Invariant: count == sum of counts[0..n] (the last one is +Inf). */
typedef struct mp_gw_hist {
    const double *bounds; /* n ascending upper bounds; +Inf is implied after them */
    unsigned n;
    uint64_t counts[MP_GW_HIST_MAX_BUCKETS + 1];
    uint64_t count;
    double sum;
} mp_gw_hist_t;

/* Millisecond bounds from 0.1 ms to 2.5 s, for latencies. */
extern const double mp_gw_ms_bounds[];
extern const unsigned mp_gw_ms_bounds_count;

/* Starts an empty histogram over bounds (n <= MP_GW_HIST_MAX_BUCKETS; more are ignored). */
void mp_gw_hist_init(mp_gw_hist_t *h, const double *bounds, unsigned n);

/* Counts one observation. */
void mp_gw_hist_observe(mp_gw_hist_t *h, double v);

/* True when name is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, 1..len bytes). */
bool mp_gw_prom_name_ok(const char *name, size_t len);

/* "# HELP name help" and "# TYPE name type" lines; type is "counter", "gauge" or
 * "histogram". Returns 0 or the body's error. */
int mp_gw_prom_header(mp_gw_body_t *b, const char *name, const char *type, const char *help);

/* One sample line: name{labels} value. labels is NULL or the inside of the braces,
 * already escaped (e.g. `route="metrics",status="200"`). Return 0 or the body's error. */
int mp_gw_prom_u64(mp_gw_body_t *b, const char *name, const char *labels, uint64_t v);
int mp_gw_prom_dbl(mp_gw_body_t *b, const char *name, const char *labels, double v);

/* A whole histogram with its header: cumulative _bucket{le=...} lines, _sum and _count.
 * Returns 0 or the body's error. */
int mp_gw_prom_hist(mp_gw_body_t *b, const char *name, const char *help, const mp_gw_hist_t *h);

#endif
