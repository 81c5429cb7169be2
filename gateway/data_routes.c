/* /dashboard/snapshot-v2, /transactions/{hash}, and the legacy 404s. */
#include "gateway/data_routes.h"

#include "common/clock.h"
#include "gateway/http.h"
#include "gateway/query.h"
#include "gateway/tx_detail.h"

#include <errno.h>
#include <string.h>

#define TX_PREFIX "/transactions/"

/* The read model, or NULL after answering 503 with the reason. */
static const mp_rm_region_t *need_rm(mp_gw_data_t *d, h2o_req_t *req)
{
    const char *why = "";
    const mp_rm_region_t *rm = mp_gw_regions_rm(d->regions, &why);
    if (!rm) mp_gw_send_error(req, 503, "unavailable", "read model not available: %s", why);
    return rm;
}

static int snapshot_v2(void *ctx, h2o_req_t *req)
{
    mp_gw_data_t *d = ctx;
    uint64_t t0 = mp_mono_ns();
    const char *q = "";
    size_t qlen = 0;
    if (req->query_at != SIZE_MAX) {
        q = req->path.base + req->query_at + 1;
        qlen = req->path.len - req->query_at - 1;
    }
    mp_gw_snapshot_query_t query;
    char err[256];
    int ret = mp_gw_query_parse_snapshot(q, qlen, &query, err, sizeof err);
    if (ret) {
        if (ret == -E2BIG)
            mp_gw_send_error(req, 413, "query_too_long", "%s", err);
        else
            mp_gw_send_error(req, 400, "bad_request", "%s", err);
        return 0;
    }
    query.accept_gzip = mp_gw_accepts_gzip(req);
    const mp_rm_region_t *rm = need_rm(d, req);
    if (!rm) return 0;
    /* The response lives in the request's pool: its head and tail are segments too. */
    mp_gw_snapshot_resp_t *resp = h2o_mem_alloc_pool(&req->pool, sizeof *resp);
    ret = mp_gw_snapshot_build(d->snapshot, rm, d->regions->rm_gen, &query, resp);
    if (ret == -ENOSPC) {
        mp_gw_send_error(req, 503, "unavailable",
                         "the snapshot is larger than the gateway's body limit (--max-body-mb)");
        return 0;
    }
    if (ret) {
        mp_gw_send_error(req, 503, "unavailable", "response memory budget exhausted; retry");
        return 0;
    }
    h2o_iovec_t segs[MP_GW_SNAPSHOT_SEGS];
    for (unsigned i = 0; i < resp->nsegs; i++)
        segs[i] = h2o_iovec_init(resp->segs[i].base, resp->segs[i].len);
    /* Full responses may be compressed: caches between must keep the encodings apart. */
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL,
                   H2O_STRLIT("Accept-Encoding"));
    if (resp->gzip)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_ENCODING, NULL,
                       H2O_STRLIT("gzip"));
    /* The references move to the response, released when the request ends. */
    mp_gw_send_segments(req, 200, MP_GW_CT_JSON, segs, resp->nsegs, resp->refs, resp->nrefs);
    resp->nrefs = 0;
    mp_gw_snapshot_observe_request(d->snapshot, (double)(mp_mono_ns() - t0) / 1e6);
    return 0;
}

static int transaction(void *ctx, h2o_req_t *req)
{
    mp_gw_data_t *d = ctx;
    h2o_iovec_t p = req->path_normalized;
    const char *text = p.base + strlen(TX_PREFIX);
    size_t len = p.len - strlen(TX_PREFIX);
    uint8_t hash[MP_HASH_LEN];
    if (mp_gw_tx_hash_parse(text, len, hash)) {
        mp_gw_send_error(req, 400, "bad_request",
                         "malformed transaction hash: expected 0x followed by 64 hex digits");
        return 0;
    }
    const mp_rm_region_t *rm = need_rm(d, req);
    if (!rm) return 0;
    /* One request at a time on this loop: a static buffer keeps 32 KiB off the stack. */
    static char buf[MP_GW_TX_DETAIL_MAX];
    ssize_t n = mp_gw_tx_detail_json(rm, hash, buf, sizeof buf);
    if (n == -ENOENT) {
        mp_gw_send_error(req, 404, "not_found",
                         "transaction %.66s is unknown or was evicted from tx_detail_index", text);
    } else if (n == -EAGAIN) {
        mp_gw_send_error(req, 503, "unavailable", "the transaction is being updated; retry");
    } else if (n < 0) {
        mp_gw_send_error(req, 503, "unavailable", "cannot encode the transaction: %s",
                         strerror((int)-n));
    } else {
        mp_gw_send(req, 200, MP_GW_CT_JSON, buf, (size_t)n);
    }
    return 0;
}

static int legacy_snapshot(void *ctx, h2o_req_t *req)
{
    (void)ctx;
    mp_gw_send_error(req, 404, "not_found",
                     "/dashboard/snapshot was removed: use /dashboard/snapshot-v2");
    return 0;
}

static int legacy_stream(void *ctx, h2o_req_t *req)
{
    (void)ctx;
    mp_gw_send_error(req, 404, "not_found",
                     "/stream was removed: use the WebSocket /dashboard/stream-v2");
    return 0;
}

int mp_gw_data_register(mp_gw_data_t *d, mp_gw_router_t *r)
{
    const mp_gw_route_t routes[] = {
        {.path = "/dashboard/snapshot-v2",
         .name = "snapshot_v2",
         .flags = MP_GW_ROUTE_AUTH,
         .fn = snapshot_v2,
         .ctx = d},
        {.path = TX_PREFIX,
         .name = "transactions",
         .flags = MP_GW_ROUTE_AUTH | MP_GW_ROUTE_PREFIX,
         .fn = transaction,
         .ctx = d},
        {.path = "/dashboard/snapshot", .name = "legacy_snapshot", .fn = legacy_snapshot},
        {.path = "/stream", .name = "legacy_stream", .fn = legacy_stream},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        int ret = mp_gw_router_add(r, &routes[i]);
        if (ret) return ret;
    }
    return 0;
}
