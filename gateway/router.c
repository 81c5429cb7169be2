/* Routes, method rules, bearer auth, CORS headers and request counters. */
#include "gateway/router.h"

#include "gateway/conns.h"
#include "gateway/http.h"
#include "gateway/prom.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define ALLOW "GET, HEAD, OPTIONS"

static const int status_codes[MP_GW_STATUS_SLOTS - 1] = {200, 204, 301, 304, 400, 401, 403, 404,
                                                         405, 413, 416, 429, 500, 503, 504};

typedef struct router_handler {
    h2o_handler_t super;
    mp_gw_router_t *r;
} router_handler_t;

typedef struct router_logger {
    h2o_logger_t super;
    mp_gw_router_t *r;
} router_logger_t;

void mp_gw_router_init(mp_gw_router_t *r, const mp_gw_config_t *cfg)
{
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
}

int mp_gw_router_add(mp_gw_router_t *r, const mp_gw_route_t *route)
{
    if (!route->path || !route->name || !route->fn) return -EINVAL;
    if (r->count >= MP_GW_MAX_ROUTES) return -ENOSPC;
    r->routes[r->count++] = *route;
    return 0;
}

/* Index of the route for path, or r->count when none matches. */
static unsigned find_route(const mp_gw_router_t *r, h2o_iovec_t path)
{
    for (unsigned i = 0; i < r->count; i++) {
        const mp_gw_route_t *rt = &r->routes[i];
        size_t n = strlen(rt->path);
        if (rt->flags & MP_GW_ROUTE_PREFIX) {
            if (path.len >= n && memcmp(path.base, rt->path, n) == 0) return i;
        } else if (path.len == n && memcmp(path.base, rt->path, n) == 0) {
            return i;
        }
    }
    return r->count;
}

static bool method_is(h2o_req_t *req, const char *m, size_t n)
{
    return h2o_memis(req->method.base, req->method.len, m, n);
}

static h2o_iovec_t request_header(h2o_req_t *req, const char *name, size_t len)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, len, -1);
    return i < 0 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

bool mp_gw_router_origin_allowed(const mp_gw_router_t *r, h2o_req_t *req)
{
    h2o_iovec_t origin = request_header(req, H2O_STRLIT("origin"));
    if (!origin.base) return false;
    for (unsigned i = 0; i < r->cfg->origin_count; i++) {
        const char *o = r->cfg->origins[i];
        if (strcmp(o, "*") == 0 || h2o_memis(origin.base, origin.len, o, strlen(o))) return true;
    }
    return false;
}

bool mp_gw_router_token_ok(const mp_gw_router_t *r, h2o_req_t *req)
{
    const char *token = r->cfg->token;
    size_t n = strlen(token);
    if (n == 0) return true;
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0) return false;
    h2o_iovec_t v = req->headers.entries[i].value;
    if (v.len != 7 + n || !h2o_lcstris(v.base, 7, H2O_STRLIT("bearer "))) return false;
    return CRYPTO_memcmp(v.base + 7, token, n) == 0;
}

/* CORS: only an allowed Origin is echoed; others get no CORS headers, so a browser keeps
 * the response from the page. */
static void add_cors(mp_gw_router_t *r, h2o_req_t *req, bool preflight)
{
    h2o_iovec_t origin = request_header(req, H2O_STRLIT("origin"));
    if (!origin.base || !mp_gw_router_origin_allowed(r, req)) return;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL,
                   origin.base, origin.len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Origin"));
    if (preflight) {
        h2o_add_header_by_str(&req->pool, &req->res.headers,
                              H2O_STRLIT("access-control-allow-methods"), 0, NULL,
                              H2O_STRLIT(ALLOW));
        h2o_add_header_by_str(&req->pool, &req->res.headers,
                              H2O_STRLIT("access-control-allow-headers"), 0, NULL,
                              H2O_STRLIT("Authorization"));
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-max-age"),
                              0, NULL, H2O_STRLIT("600"));
    }
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    mp_gw_router_t *r = ((router_handler_t *)self)->r;
    mp_gw_conns_req_begin(req);
    unsigned i = find_route(r, req->path_normalized);
    const mp_gw_route_t *rt = i < r->count ? &r->routes[i] : NULL;
    bool get = method_is(req, H2O_STRLIT("GET")) || method_is(req, H2O_STRLIT("HEAD"));
    if (method_is(req, H2O_STRLIT("OPTIONS"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT(ALLOW));
        add_cors(r, req, true);
        mp_gw_send(req, 204, "text/plain", "", 0);
        return 0;
    }
    if (!get) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT(ALLOW));
        mp_gw_send_error(req, 405, "method_not_allowed", "%.*s is not allowed here; use GET",
                         (int)(req->method.len > 16 ? 16 : req->method.len), req->method.base);
        return 0;
    }
    if (!rt) return -1; /* static files, then the 404 fallback */
    add_cors(r, req, false);
    if ((rt->flags & MP_GW_ROUTE_AUTH) && !mp_gw_router_token_ok(r, req)) {
        r->auth_failures++;
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                       H2O_STRLIT("Bearer realm=\"mempulse\""));
        mp_gw_send_error(req, 401, "unauthorized",
                         "this route needs the header 'Authorization: Bearer <token>' with the "
                         "gateway's token");
        return 0;
    }
    return rt->fn(rt->ctx, req);
}

static unsigned status_slot(int status)
{
    for (unsigned i = 0; i < MP_GW_STATUS_SLOTS - 1; i++)
        if (status_codes[i] == status) return i;
    return MP_GW_STATUS_SLOTS - 1;
}

static void log_access(h2o_logger_t *self, h2o_req_t *req)
{
    mp_gw_router_t *r = ((router_logger_t *)self)->r;
    unsigned i = req->path_normalized.base ? find_route(r, req->path_normalized) : r->count;
    r->requests[i][status_slot(req->res.status)]++;
    mp_gw_conns_req_end(req);
}

void mp_gw_router_attach_logger(mp_gw_router_t *r, h2o_pathconf_t *pathconf)
{
    router_logger_t *l = (void *)h2o_create_logger(pathconf, sizeof *l);
    l->super.log_access = log_access;
    l->r = r;
}

void mp_gw_router_attach(mp_gw_router_t *r, h2o_pathconf_t *pathconf)
{
    router_handler_t *h = (void *)h2o_create_handler(pathconf, sizeof *h);
    h->super.on_req = on_req;
    h->r = r;
    mp_gw_router_attach_logger(r, pathconf);
}

int mp_gw_router_metrics(void *ctx, mp_gw_body_t *out)
{
    mp_gw_router_t *r = ctx;
    int ret = mp_gw_prom_header(out, "gateway_http_requests_total", "counter",
                                "HTTP requests answered by this process, by route and status");
    for (unsigned i = 0; i <= r->count && !ret; i++) {
        const char *name = i < r->count ? r->routes[i].name : "static";
        for (unsigned s = 0; s < MP_GW_STATUS_SLOTS && !ret; s++) {
            uint64_t v = r->requests[i][s];
            if (!v) continue;
            char labels[96], status[8];
            if (s < MP_GW_STATUS_SLOTS - 1)
                snprintf(status, sizeof status, "%d", status_codes[s]);
            else
                snprintf(status, sizeof status, "other");
            snprintf(labels, sizeof labels, "route=\"%s\",status=\"%s\"", name, status);
            ret = mp_gw_prom_u64(out, "gateway_http_requests_total", labels, v);
        }
    }
    if (!ret)
        ret = mp_gw_prom_header(out, "gateway_auth_failures_total", "counter",
                                "requests refused for a missing or wrong bearer token");
    if (!ret) ret = mp_gw_prom_u64(out, "gateway_auth_failures_total", NULL, r->auth_failures);
    return ret;
}
