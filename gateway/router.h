/* Request routing for the gateway's one h2o path ("/"): a small table of API routes
 * (exact paths or prefixes) tried before the static file handler, the method rules
 * (GET/HEAD served, OPTIONS answered with Allow and CORS preflight, others 405), bearer
 * token checks on data routes, CORS headers for allowed origins, and per route and status
 * request counters (a logger sees every finished request, static files included). */
#ifndef MP_GW_ROUTER_H
#define MP_GW_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include <h2o.h>

#include "gateway/body.h"
#include "gateway/config.h"

#define MP_GW_MAX_ROUTES 16
#define MP_GW_STATUS_SLOTS 16

/* Answers req (always: it must send a response) and returns 0. The router already
 * checked the method (GET or HEAD) and, for MP_GW_ROUTE_AUTH routes, the token. */
typedef int (*mp_gw_route_fn)(void *ctx, h2o_req_t *req);

enum {
    MP_GW_ROUTE_PREFIX = 1, /* path is a prefix ("/transactions/"), else matched exactly */
    MP_GW_ROUTE_AUTH = 2,   /* needs "Authorization: Bearer <token>" when a token is set */
};

typedef struct mp_gw_route {
    const char *path; /* normalized path (h2o decoded %xx and removed dot segments) */
    const char *name; /* label of gateway_http_requests_total */
    unsigned flags;
    mp_gw_route_fn fn;
    void *ctx;
} mp_gw_route_t;

typedef struct mp_gw_router {
    const mp_gw_config_t *cfg; /* token and origin allow-list */
    mp_gw_route_t routes[MP_GW_MAX_ROUTES];
    unsigned count;
    /* requests[route][status slot]; row `count` is "static" (everything not routed) */
    uint64_t requests[MP_GW_MAX_ROUTES + 1][MP_GW_STATUS_SLOTS];
    uint64_t auth_failures;
} mp_gw_router_t;

/* Starts an empty table; cfg must outlive the router. */
void mp_gw_router_init(mp_gw_router_t *r, const mp_gw_config_t *cfg);

/* Adds a route (path and name are not copied). Routes are matched in the order added.
 * Returns 0, -ENOSPC when the table is full, -EINVAL without path, name or fn. */
int mp_gw_router_add(mp_gw_router_t *r, const mp_gw_route_t *route);

/* Installs the router as the first handler of pathconf (unrouted GET/HEAD fall through to
 * the handlers registered after it) and its request logger. */
void mp_gw_router_attach(mp_gw_router_t *r, h2o_pathconf_t *pathconf);

/* Installs only the request logger (for h2o's fallback path, where its own errors land). */
void mp_gw_router_attach_logger(mp_gw_router_t *r, h2o_pathconf_t *pathconf);

/* True when the request's Origin header is on the allow-list (the stream module checks
 * WebSocket upgrades with it). A request without Origin is not a browser's cross-origin
 * request and gets false: callers decide whether that is allowed. */
bool mp_gw_router_origin_allowed(const mp_gw_router_t *r, h2o_req_t *req);

/* True when no token is configured or req carries the right bearer token (constant-time
 * comparison). */
bool mp_gw_router_token_ok(const mp_gw_router_t *r, h2o_req_t *req);

/* Metrics writer (mp_gw_metrics_fn): gateway_http_requests_total{route,status}. */
int mp_gw_router_metrics(void *ctx, mp_gw_body_t *out);

#endif
