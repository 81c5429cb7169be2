/* The /metrics writer registry. */
#include "gateway/metrics.h"

#include <errno.h>
#include <string.h>

void mp_gw_metrics_init(mp_gw_metrics_t *m)
{
    memset(m, 0, sizeof *m);
}

int mp_gw_metrics_add(mp_gw_metrics_t *m, mp_gw_metrics_fn fn, void *ctx)
{
    if (m->count >= MP_GW_METRICS_WRITERS) return -ENOSPC;
    m->writers[m->count].fn = fn;
    m->writers[m->count].ctx = ctx;
    m->count++;
    return 0;
}

int mp_gw_metrics_render(const mp_gw_metrics_t *m, mp_gw_body_t *out)
{
    for (unsigned i = 0; i < m->count; i++) {
        int ret = m->writers[i].fn(m->writers[i].ctx, out);
        if (ret) return ret;
    }
    return 0;
}
