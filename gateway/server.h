/* The gateway server: one h2o context on one evloop in one thread, listening with
 * SO_REUSEPORT beside the other gateway processes of the stack. It wires the modules
 * (regions, router, snapshot and detail routes, operational routes, static files,
 * metrics), runs until asked to stop, then drains: stops accepting, runs the drain hooks,
 * finishes in-flight requests, closes idle connections and returns.
 *
 * Extension point: a module that adds a route family (the stream module's
 * GET /dashboard/stream-v2) gets the services below from a registrar listed in server.c
 * (see `extensions[]` there). */
#ifndef MP_GW_SERVER_H
#define MP_GW_SERVER_H

#include <signal.h>
#include <stdint.h>

#include <h2o.h>

#include "gateway/body.h"
#include "gateway/config.h"
#include "gateway/conns.h"
#include "gateway/metrics.h"
#include "gateway/regions.h"
#include "gateway/router.h"
#include "gateway/session_key.h"

#define MP_GW_HOOKS 8

/* Called once when the drain starts (SIGTERM), before idle connections are closed; the
 * loop keeps running afterwards until the connections are gone or the drain deadline
 * passes. The stream module broadcasts RECONNECT here and closes its sockets. */
typedef void (*mp_gw_hook_fn)(void *ctx);

/* What an extension receives. Everything is owned by the server and lives until
 * mp_gw_server_run returns. At registration time the h2o context is not initialized yet
 * (routes must be added before it is): keep ctx for later, do not use it yet. */
typedef struct mp_gw_services {
    const mp_gw_config_t *cfg; /* origins, token, resume_token_ttl_ms, ... */
    h2o_context_t *ctx;        /* the loop: ctx->loop (usable once serving) */
    mp_gw_router_t *router;    /* add routes; mp_gw_router_origin_allowed / token_ok */
    mp_gw_metrics_t *metrics;  /* add a metrics writer */
    mp_gw_regions_t *regions;  /* the read model (journal) and its mapping generation */
    mp_gw_conns_t *conns;      /* mp_gw_conns_detach after an upgrade */
    mp_gw_body_pool_t *bodies; /* bounded shared buffers */
    uint8_t session_key[MP_GW_SESSION_KEY_LEN]; /* shared by the instance's gateways */
    struct {
        mp_gw_hook_fn fn;
        void *ctx;
    } drain_hooks[MP_GW_HOOKS], dispose_hooks[MP_GW_HOOKS];
    unsigned drain_count, dispose_count;
} mp_gw_services_t;

/* Registers a drain hook (see mp_gw_hook_fn). Returns 0 or -ENOSPC. */
int mp_gw_services_on_drain(mp_gw_services_t *s, mp_gw_hook_fn fn, void *ctx);

/* Registers a hook run after the loop stopped and every connection closed, before the
 * server frees its services: release what the extension allocated. Returns 0 or -ENOSPC. */
int mp_gw_services_on_dispose(mp_gw_services_t *s, mp_gw_hook_fn fn, void *ctx);

/* Serves until *stop becomes non-zero (the signal handler's flag), then drains within
 * cfg->drain_timeout_ms. Returns the process exit code: 0 after a drain, 1 on a runtime
 * failure (cannot listen, no session key), 2 on a configuration error (bad address). */
int mp_gw_server_run(const mp_gw_config_t *cfg, volatile sig_atomic_t *stop);

#endif
