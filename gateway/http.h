/* Writing HTTP responses: JSON bodies and the JSON error shape of SPEC 4.1
 * ({"error":{"code","message"}}), zero-copy responses from shared bodies, a write
 * deadline on every response so a client that stops reading cannot pin memory, and a
 * filter that turns the plain-text errors h2o produces itself (oversized body, file
 * handler failures) into the same JSON shape. One event loop per process: the module
 * keeps that loop's deadline timer. */
#ifndef MP_GW_HTTP_H
#define MP_GW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <h2o.h>

#include "gateway/body.h"

#define MP_GW_CT_JSON "application/json"

/* Sets up the write deadline (write_timeout_ms) on loop. Call once before serving. */
void mp_gw_http_init(h2o_loop_t *loop, uint32_t write_timeout_ms);

/* Releases the deadline timer (after every connection closed). */
void mp_gw_http_dispose(void);

/* Responds with status and the len bytes of body (copied into the request's pool) as
 * content_type, Cache-Control: no-store, an exact Content-Length, no body for HEAD.
 * Headers the caller already added to req->res.headers (Allow, CORS) are kept. */
void mp_gw_send(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len);

/* Responds with status and {"error":{"code":code,"message":<printf>}}; 503 adds
 * Retry-After: 1. */
void mp_gw_send_error(h2o_req_t *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Responds with status and the concatenation of segs[0..nsegs) without copying them.
 * Takes over the nrefs body references (released when the request ends, however it
 * ends); the segments must lie in those bodies, in static memory, or in req's pool. */
/* Whether the request's Accept-Encoding allows gzip (gzip or *, without q=0). */
bool mp_gw_accepts_gzip(const h2o_req_t *req);

void mp_gw_send_segments(h2o_req_t *req, int status, const char *content_type,
                         const h2o_iovec_t *segs, size_t nsegs, mp_gw_body_t *const *refs,
                         size_t nrefs);

/* Registers on pathconf the filter that rewrites non-JSON error responses (status >= 400)
 * into the JSON error shape. */
void mp_gw_http_register_error_filter(h2o_pathconf_t *pathconf);

/* Responses cut because they missed the write deadline. */
uint64_t mp_gw_http_write_timeouts(void);

#endif
