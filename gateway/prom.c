/* Prometheus text exposition helpers and fixed-bucket histograms. */
#include "gateway/prom.h"

#include <math.h>
#include <string.h>

const double mp_gw_ms_bounds[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500};
const unsigned mp_gw_ms_bounds_count = sizeof mp_gw_ms_bounds / sizeof mp_gw_ms_bounds[0];

void mp_gw_hist_init(mp_gw_hist_t *h, const double *bounds, unsigned n)
{
    memset(h, 0, sizeof *h);
    h->bounds = bounds;
    h->n = n > MP_GW_HIST_MAX_BUCKETS ? MP_GW_HIST_MAX_BUCKETS : n;
}

void mp_gw_hist_observe(mp_gw_hist_t *h, double v)
{
    unsigned i = 0;
    while (i < h->n && v > h->bounds[i])
        i++;
    h->counts[i]++;
    h->count++;
    if (isfinite(v)) h->sum += v;
}

bool mp_gw_prom_name_ok(const char *name, size_t len)
{
    if (len == 0) return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

int mp_gw_prom_header(mp_gw_body_t *b, const char *name, const char *type, const char *help)
{
    return mp_gw_body_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int mp_gw_prom_u64(mp_gw_body_t *b, const char *name, const char *labels, uint64_t v)
{
    int ret =
        labels ? mp_gw_body_printf(b, "%s{%s} ", name, labels) : mp_gw_body_printf(b, "%s ", name);
    if (!ret) ret = mp_gw_body_u64(b, v);
    if (!ret) ret = mp_gw_body_append(b, "\n", 1);
    return ret;
}

int mp_gw_prom_dbl(mp_gw_body_t *b, const char *name, const char *labels, double v)
{
    if (labels) return mp_gw_body_printf(b, "%s{%s} %.17g\n", name, labels, v);
    return mp_gw_body_printf(b, "%s %.17g\n", name, v);
}

int mp_gw_prom_hist(mp_gw_body_t *b, const char *name, const char *help, const mp_gw_hist_t *h)
{
    int ret = mp_gw_prom_header(b, name, "histogram", help);
    uint64_t cum = 0;
    for (unsigned i = 0; i < h->n && !ret; i++) {
        cum += h->counts[i];
        ret = mp_gw_body_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i],
                                (unsigned long long)cum);
    }
    if (!ret)
        ret = mp_gw_body_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.17g\n%s_count %llu\n",
                                name, (unsigned long long)h->count, name, h->sum, name,
                                (unsigned long long)h->count);
    return ret;
}
