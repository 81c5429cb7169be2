/* /healthz, /readyz and /metrics. */
#include "gateway/ops_routes.h"

#include "gateway/http.h"
#include "proto/json_writer.h"
#include "readmodel/rm_reader.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define CT_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"

static int healthz(void *ctx, h2o_req_t *req)
{
    mp_gw_ops_t *ops = ctx;
    char body[256];
    mp_jw_t jw;
    mp_jw_init(&jw, body, sizeof body);
    mp_jw_obj_begin(&jw);
    mp_jw_keyz(&jw, "status");
    mp_jw_strz(&jw, "ok");
    mp_jw_keyz(&jw, "instance");
    mp_jw_strz(&jw, ops->instance);
    mp_jw_keyz(&jw, "pid"); /* which process of the port answered */
    mp_jw_i64(&jw, (int64_t)getpid());
    mp_jw_obj_end(&jw);
    ssize_t n = mp_jw_finish(&jw);
    mp_gw_send(req, 200, MP_GW_CT_JSON, body, n > 0 ? (size_t)n : 0);
    return 0;
}

static int readyz(void *ctx, h2o_req_t *req)
{
    mp_gw_ops_t *ops = ctx;
    char why[1024];
    if (!mp_gw_regions_ready(ops->regions, why, sizeof why)) {
        mp_gw_send_error(req, 503, "not_ready", "%s", why);
        return 0;
    }
    const mp_rm_region_t *rm = mp_gw_regions_rm(ops->regions, NULL);
    mp_rm_marks_t m;
    mp_rm_read_marks(rm, &m);
    char body[256];
    mp_jw_t jw;
    mp_jw_init(&jw, body, sizeof body);
    mp_jw_obj_begin(&jw);
    mp_jw_keyz(&jw, "ready");
    mp_jw_bool(&jw, true);
    mp_jw_keyz(&jw, "applied_seq");
    mp_jw_u64(&jw, m.applied_seq);
    mp_jw_keyz(&jw, "journal_seq");
    mp_jw_u64(&jw, m.journal_seq);
    mp_jw_obj_end(&jw);
    ssize_t n = mp_jw_finish(&jw);
    mp_gw_send(req, 200, MP_GW_CT_JSON, body, n > 0 ? (size_t)n : 0);
    return 0;
}

static int metrics(void *ctx, h2o_req_t *req)
{
    mp_gw_ops_t *ops = ctx;
    mp_gw_body_t *b;
    int ret = mp_gw_body_get(ops->bodies, (size_t)32 * 1024, &b);
    if (ret) {
        mp_gw_send_error(req, 503, "unavailable", "response memory budget exhausted; retry");
        return 0;
    }
    ret = mp_gw_metrics_render(ops->metrics, b);
    if (ret) {
        mp_gw_body_unref(b);
        mp_gw_send_error(req, 503, "unavailable", "cannot render metrics: %s", strerror(-ret));
        return 0;
    }
    h2o_iovec_t seg = h2o_iovec_init(b->data, b->len);
    mp_gw_send_segments(req, 200, CT_PROMETHEUS, &seg, 1, &b, 1);
    return 0;
}

int mp_gw_ops_register(mp_gw_ops_t *ops, mp_gw_router_t *r)
{
    const mp_gw_route_t routes[] = {
        {.path = "/healthz", .name = "healthz", .fn = healthz, .ctx = ops},
        {.path = "/readyz", .name = "readyz", .fn = readyz, .ctx = ops},
        {.path = "/metrics", .name = "metrics", .fn = metrics, .ctx = ops},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        int ret = mp_gw_router_add(r, &routes[i]);
        if (ret) return ret;
    }
    return 0;
}
