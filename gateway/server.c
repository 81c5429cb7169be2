/* The gateway server: module wiring, the h2o configuration and loop, periodic region
 * polling, and the SIGTERM drain. */
#include "gateway/server.h"

#include "common/clock.h"
#include "common/log.h"
#include "gateway/data_routes.h"
#include "gateway/http.h"
#include "gateway/ops_routes.h"
#include "gateway/prom.h"
#include "gateway/snapshot.h"
#include "gateway/static_files.h"
#include "gateway/stream_ws.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REGION_POLL_MS 250
#define LOOP_WAIT_MS 200    /* bounds how late a stop request is noticed */
#define FINAL_CLOSE_MS 1000 /* after the drain deadline: wait for forced closes */
/* The API takes no request bodies: a small cap, 413 beyond it. */
#define MAX_REQUEST_BODY ((size_t)16 * 1024)

/* ---- extensions -------------------------------------------------------------------
 * Registrars of route families that live in their own modules. Each adds its routes,
 * metrics writer and hooks to the services and returns 0 or a negative errno (startup
 * then fails). The stream module adds `mp_gw_stream_register` (gateway/stream*.c) here. */
static int (*const extensions[])(mp_gw_services_t *) = {
    mp_gw_stream_register,
    NULL, /* sentinel */
};

typedef struct server {
    const mp_gw_config_t *cfg;
    mp_gw_services_t svc;
    h2o_globalconf_t gconf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    mp_gw_regions_t regions;
    mp_gw_body_pool_t bodies;
    mp_gw_router_t router;
    mp_gw_metrics_t metrics;
    mp_gw_conns_t conns;
    mp_gw_snapshot_t *snapshot;
    mp_gw_static_t statics;
    mp_gw_ops_t ops;
    mp_gw_data_t data;
    h2o_timeout_t poll_timeout;
    h2o_timeout_entry_t poll_entry;
    uint64_t started_ns;
} server_t;

int mp_gw_services_on_drain(mp_gw_services_t *s, mp_gw_hook_fn fn, void *ctx)
{
    if (s->drain_count >= MP_GW_HOOKS) return -ENOSPC;
    s->drain_hooks[s->drain_count].fn = fn;
    s->drain_hooks[s->drain_count].ctx = ctx;
    s->drain_count++;
    return 0;
}

int mp_gw_services_on_dispose(mp_gw_services_t *s, mp_gw_hook_fn fn, void *ctx)
{
    if (s->dispose_count >= MP_GW_HOOKS) return -ENOSPC;
    s->dispose_hooks[s->dispose_count].fn = fn;
    s->dispose_hooks[s->dispose_count].ctx = ctx;
    s->dispose_count++;
    return 0;
}

static void on_poll(h2o_timeout_entry_t *entry)
{
    server_t *s = H2O_STRUCT_FROM_MEMBER(server_t, poll_entry, entry);
    mp_gw_regions_poll(&s->regions);
    h2o_timeout_link(s->ctx.loop, &s->poll_timeout, &s->poll_entry);
}

/* The process's own figures: write deadlines, response memory, uptime. */
static int server_metrics(void *ctx, mp_gw_body_t *out)
{
    server_t *s = ctx;
    int ret = mp_gw_prom_header(out, "gateway_write_timeouts_total", "counter",
                                "responses cut because the client did not read them in time");
    if (!ret)
        ret =
            mp_gw_prom_u64(out, "gateway_write_timeouts_total", NULL, mp_gw_http_write_timeouts());
    if (!ret)
        ret = mp_gw_prom_header(out, "gateway_body_bytes", "gauge",
                                "bytes held by response bodies (snapshot cache, in-flight, spare)");
    if (!ret) ret = mp_gw_prom_u64(out, "gateway_body_bytes", NULL, s->bodies.held);
    if (!ret)
        ret = mp_gw_prom_header(out, "gateway_body_refusals_total", "counter",
                                "bodies refused by the size limit or the memory budget");
    if (!ret) ret = mp_gw_prom_u64(out, "gateway_body_refusals_total", NULL, s->bodies.refusals);
    if (!ret)
        ret = mp_gw_prom_header(out, "gateway_uptime_seconds", "gauge", "seconds since start");
    if (!ret)
        ret = mp_gw_prom_u64(out, "gateway_uptime_seconds", NULL,
                             (mp_mono_ns() - s->started_ns) / 1000000000ull);
    return ret;
}

/* h2o configuration: one host, one path "/" whose handlers are the router, the static
 * files and the 404 fallback, in that order. */
static void configure_h2o(server_t *s)
{
    const mp_gw_config_t *cfg = s->cfg;
    h2o_config_init(&s->gconf);
    s->gconf.server_name = h2o_iovec_init(H2O_STRLIT("mempulse-gateway"));
    s->gconf.max_request_entity_size = MAX_REQUEST_BODY;
    /* One deadline for the request head and for keep-alive idleness (h2o arms it when it
     * starts reading a request and never extends it): a slowloris client is cut after it. */
    s->gconf.http1.req_timeout = cfg->header_timeout_ms;
    /* HTTP/1.1 only: the WebSocket upgrade of stream-v2 needs it, and no cleartext h2c. */
    s->gconf.http1.upgrade_to_http2 = 0;
    /* Without TLS (ALPN) or h2c no HTTP/2 connection exists, and its graceful-shutdown
     * callback would only leave a GOAWAY timer armed on the context we dispose. */
    s->gconf.http2.callbacks.request_shutdown = NULL;
    h2o_hostconf_t *host =
        h2o_config_register_host(&s->gconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *root = h2o_config_register_path(host, "/", 0);
    mp_gw_http_register_error_filter(root);
    mp_gw_http_register_error_filter(&host->fallback_path);
    mp_gw_router_attach(&s->router, root);
    mp_gw_router_attach_logger(&s->router, &host->fallback_path);
    mp_gw_static_register(&s->statics, root, cfg->static_dir);
}

static int setup(server_t *s)
{
    const mp_gw_config_t *cfg = s->cfg;
    char path[300], err[MP_GW_SESSION_KEY_ERR_MAX];
    if (mp_gw_session_key_path(path, sizeof path, cfg->instance)) {
        mp_log("invalid instance name '%s'", cfg->instance);
        return 2;
    }
    if (mp_gw_session_key_load(path, s->svc.session_key, err)) {
        mp_log("%s", err);
        return 1;
    }
    mp_gw_regions_init(&s->regions, cfg->instance, (uint64_t)cfg->ready_heartbeat_ms * 1000000ull);
    mp_gw_body_pool_init(&s->bodies, cfg->max_body_bytes, cfg->body_budget_bytes);
    mp_gw_snapshot_cfg_t scfg = {.coalesce_ns = (uint64_t)cfg->coalesce_ms * 1000000ull,
                                 .resume_token_ttl_ms = cfg->resume_token_ttl_ms};
    if (mp_gw_snapshot_create(&scfg, &s->bodies, &s->snapshot) ||
        mp_gw_conns_init(&s->conns, cfg->max_conns)) {
        mp_log("out of memory");
        return 1;
    }
    mp_gw_router_init(&s->router, cfg);
    mp_gw_metrics_init(&s->metrics);
    s->ops = (mp_gw_ops_t){.instance = cfg->instance,
                           .regions = &s->regions,
                           .metrics = &s->metrics,
                           .bodies = &s->bodies};
    s->data = (mp_gw_data_t){.regions = &s->regions, .snapshot = s->snapshot};
    s->svc.cfg = cfg;
    s->svc.ctx = &s->ctx;
    s->svc.router = &s->router;
    s->svc.metrics = &s->metrics;
    s->svc.regions = &s->regions;
    s->svc.conns = &s->conns;
    s->svc.bodies = &s->bodies;

    int ret = mp_gw_ops_register(&s->ops, &s->router);
    if (!ret) ret = mp_gw_data_register(&s->data, &s->router);
    for (size_t i = 0; !ret && extensions[i]; i++)
        ret = extensions[i](&s->svc);
    if (!ret) ret = mp_gw_metrics_add(&s->metrics, mp_gw_snapshot_metrics, s->snapshot);
    if (!ret) ret = mp_gw_metrics_add(&s->metrics, mp_gw_router_metrics, &s->router);
    if (!ret) ret = mp_gw_metrics_add(&s->metrics, mp_gw_conns_metrics, &s->conns);
    if (!ret) ret = mp_gw_metrics_add(&s->metrics, server_metrics, s);
    if (!ret) ret = mp_gw_metrics_add(&s->metrics, mp_gw_regions_metrics, &s->regions);
    if (ret) {
        mp_log("cannot register the routes and metrics: %s", strerror(-ret));
        return 1;
    }
    configure_h2o(s);
    h2o_context_init(&s->ctx, h2o_evloop_create(), &s->gconf);
    mp_gw_http_init(s->ctx.loop, cfg->write_timeout_ms);
    s->accept_ctx.ctx = &s->ctx;
    s->accept_ctx.hosts = s->gconf.hosts;
    char lerr[512];
    ret =
        mp_gw_conns_listen(&s->conns, s->ctx.loop, cfg->listen, &s->accept_ctx, lerr, sizeof lerr);
    if (ret) {
        mp_log("%s", lerr);
        return ret == -EINVAL ? 2 : 1;
    }
    h2o_timeout_init(s->ctx.loop, &s->poll_timeout, REGION_POLL_MS);
    s->poll_entry.cb = on_poll;
    h2o_timeout_link(s->ctx.loop, &s->poll_timeout, &s->poll_entry);
    return 0;
}

/* Runs the loop until no connection is left or deadline (CLOCK_MONOTONIC ns) passes. */
static void run_until_closed(server_t *s, uint64_t deadline)
{
    while (mp_gw_conns_live(&s->conns) > 0 && mp_mono_ns() < deadline)
        h2o_evloop_run(s->ctx.loop, 50);
}

static void drain(server_t *s)
{
    uint32_t at_start = mp_gw_conns_live(&s->conns);
    mp_gw_conns_stop_accepting(&s->conns);
    for (unsigned i = 0; i < s->svc.drain_count; i++)
        s->svc.drain_hooks[i].fn(s->svc.drain_hooks[i].ctx);
    /* In-flight responses go out with Connection: close; idle connections are closed. */
    h2o_context_request_shutdown(&s->ctx);
    mp_gw_conns_drain(&s->conns);
    run_until_closed(s, mp_mono_ns() + (uint64_t)s->cfg->drain_timeout_ms * 1000000ull);
    uint32_t left = mp_gw_conns_live(&s->conns);
    if (left) {
        mp_log("drain deadline passed with %u connections open: closing them", left);
        mp_gw_conns_shutdown_all(&s->conns);
        run_until_closed(s, mp_mono_ns() + FINAL_CLOSE_MS * 1000000ull);
    }
    mp_log("drained %u connections; exiting", at_start);
}

static void teardown(server_t *s, bool loop_ready)
{
    for (unsigned i = 0; i < s->svc.dispose_count; i++)
        s->svc.dispose_hooks[i].fn(s->svc.dispose_hooks[i].ctx);
    if (loop_ready) {
        h2o_loop_t *loop = s->ctx.loop;
        if (h2o_timeout_is_linked(&s->poll_entry)) h2o_timeout_unlink(&s->poll_entry);
        if (s->poll_entry.cb) h2o_timeout_dispose(loop, &s->poll_timeout);
        mp_gw_conns_dispose(&s->conns);
        mp_gw_http_dispose();
        /* Connections still open after the forced close would be torn down under h2o:
         * only a clean loop is disposed (the process exits right after either way). */
        if (mp_gw_conns_live(&s->conns) == 0) {
            h2o_multithread_queue_t *queue = s->ctx.queue;
            h2o_context_dispose(&s->ctx);
#if H2O_VERSION_MAJOR == 2 && H2O_VERSION_MINOR < 3
            /* h2o before 2.3 destroys the context's queue without freeing it (fixed
             * upstream by "release memory in destroy", 6b0a76ef). */
            free(queue);
#else
            (void)queue;
#endif
            h2o_evloop_destroy(loop);
        }
        h2o_config_dispose(&s->gconf);
    } else {
        mp_gw_conns_dispose(&s->conns);
    }
    mp_gw_snapshot_destroy(s->snapshot);
    mp_gw_body_pool_dispose(&s->bodies);
    mp_gw_regions_close(&s->regions);
    OPENSSL_cleanse(s->svc.session_key, sizeof s->svc.session_key);
}

int mp_gw_server_run(const mp_gw_config_t *cfg, volatile sig_atomic_t *stop)
{
    server_t *s = calloc(1, sizeof *s);
    if (!s) {
        mp_log("out of memory");
        return 1;
    }
    s->cfg = cfg;
    s->started_ns = mp_mono_ns();
    int code = setup(s);
    bool loop_ready = s->ctx.loop != NULL;
    if (code == 0) {
        mp_log("listening on %s (instance %s, pid %d)%s", cfg->listen, cfg->instance, (int)getpid(),
               cfg->token[0] ? ", bearer token required on data routes" : "");
        while (!*stop)
            h2o_evloop_run(s->ctx.loop, LOOP_WAIT_MS);
        drain(s);
    }
    teardown(s, loop_ready);
    free(s);
    return code;
}
