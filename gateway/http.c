/* JSON and zero-copy responses with a write deadline, and the JSON error filter. */
#include "gateway/http.h"

#include "gateway/conns.h"
#include "proto/json_writer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ERROR_MAX 1024
#define MAX_REFS 8

/* Process-wide: the gateway runs one loop, and this is its response deadline. */
static struct {
    h2o_loop_t *loop;
    h2o_timeout_t deadline;
    uint64_t timeouts;
} http;

void mp_gw_http_init(h2o_loop_t *loop, uint32_t write_timeout_ms)
{
    http.loop = loop;
    h2o_timeout_init(loop, &http.deadline, write_timeout_ms);
}

void mp_gw_http_dispose(void)
{
    if (http.loop) h2o_timeout_dispose(http.loop, &http.deadline);
    http.loop = NULL;
}

uint64_t mp_gw_http_write_timeouts(void)
{
    return http.timeouts;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return status < 400 ? "OK" : "Error";
    }
}

static bool is_head(h2o_req_t *req)
{
    return h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD"));
}

/* What a response holds until its request ends: body references and the deadline. The
 * request's pool owns it; disposing the pool releases everything. */
typedef struct response {
    h2o_timeout_entry_t deadline;
    h2o_req_t *req;
    mp_gw_body_t *refs[MAX_REFS];
    size_t nrefs;
} response_t;

static void response_dispose(void *p)
{
    response_t *r = p;
    if (h2o_timeout_is_linked(&r->deadline)) h2o_timeout_unlink(&r->deadline);
    for (size_t i = 0; i < r->nrefs; i++)
        mp_gw_body_unref(r->refs[i]);
}

/* The response was not written in time: the client is not reading. Breaking the
 * connection makes h2o fail the write, close, and release the request (and its bodies). */
static void on_deadline(h2o_timeout_entry_t *entry)
{
    response_t *r = H2O_STRUCT_FROM_MEMBER(response_t, deadline, entry);
    http.timeouts++;
    mp_gw_conns_abort(r->req);
}

void mp_gw_send_segments(h2o_req_t *req, int status, const char *content_type,
                         const h2o_iovec_t *segs, size_t nsegs, mp_gw_body_t *const *refs,
                         size_t nrefs)
{
    static h2o_generator_t generator = {NULL, NULL}; /* everything goes in one final send */
    response_t *r = h2o_mem_alloc_shared(&req->pool, sizeof *r, response_dispose);
    memset(r, 0, sizeof *r);
    r->req = req;
    for (size_t i = 0; i < nrefs; i++) {
        if (r->nrefs < MAX_REFS)
            r->refs[r->nrefs++] = refs[i];
        else
            mp_gw_body_unref(refs[i]); /* cannot happen: callers pass a few */
    }
    size_t total = 0;
    for (size_t i = 0; i < nsegs; i++)
        total += segs[i].len;
    req->res.status = status;
    req->res.reason = reason(status);
    /* 204 carries neither a body nor Content-Length (RFC 9110 8.6). */
    req->res.content_length = status == 204 ? SIZE_MAX : total;
    if (status != 204)
        h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, content_type,
                       strlen(content_type), 1);
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT("no-store"),
                   1);
    if (http.loop) {
        r->deadline.cb = on_deadline;
        h2o_timeout_link(http.loop, &http.deadline, &r->deadline);
    }
    h2o_start_response(req, &generator);
    if (is_head(req) || nsegs == 0) {
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    } else {
        h2o_iovec_t *bufs = h2o_mem_alloc_pool(&req->pool, nsegs * sizeof *bufs);
        memcpy(bufs, segs, nsegs * sizeof *bufs);
        h2o_send(req, bufs, nsegs, H2O_SEND_STATE_FINAL);
    }
}

bool mp_gw_accepts_gzip(const h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_ACCEPT_ENCODING, -1);
    if (i < 0) return false;
    const char *p = req->headers.entries[i].value.base;
    const char *end = p + req->headers.entries[i].value.len;
    /* Comma-separated codings with optional parameters; only q=0 refuses (RFC 9110 12.5.3). */
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *tok = p;
        while (p < end && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t tlen = (size_t)(p - tok);
        const char *params = p;
        while (p < end && *p != ',')
            p++;
        bool named = (tlen == 4 && !strncasecmp(tok, "gzip", 4)) || (tlen == 1 && *tok == '*');
        if (!named) continue;
        const char *q = memmem(params, (size_t)(p - params), "q=", 2);
        if (!q) return true;
        q += 2;
        bool zero = true; /* "0", "0.", "0.000" */
        if (q < p && *q == '0') {
            for (q++; q < p && *q != ' ' && *q != '\t'; q++)
                if (*q != '.' && *q != '0') zero = false;
        } else {
            zero = false;
        }
        if (!zero) return true;
    }
    return false;
}

void mp_gw_send(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len)
{
    h2o_iovec_t seg = h2o_strdup(&req->pool, body, len);
    mp_gw_send_segments(req, status, content_type, &seg, len ? 1 : 0, NULL, 0);
}

/* {"error":{"code":...,"message":...}} into out; returns its length (0 on failure). */
static size_t error_json(char *out, size_t cap, const char *code, const char *message)
{
    mp_jw_t jw;
    mp_jw_init(&jw, out, cap);
    mp_jw_obj_begin(&jw);
    mp_jw_keyz(&jw, "error");
    mp_jw_obj_begin(&jw);
    mp_jw_keyz(&jw, "code");
    mp_jw_strz(&jw, code);
    mp_jw_keyz(&jw, "message");
    mp_jw_strz(&jw, message);
    mp_jw_obj_end(&jw);
    mp_jw_obj_end(&jw);
    ssize_t n = mp_jw_finish(&jw);
    return n > 0 ? (size_t)n : 0;
}

void mp_gw_send_error(h2o_req_t *req, int status, const char *code, const char *fmt, ...)
{
    char message[ERROR_MAX / 2], body[ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    size_t n = error_json(body, sizeof body, code, message);
    if (status == 503)
        h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, H2O_STRLIT("1"), 1);
    mp_gw_send(req, status, MP_GW_CT_JSON, body, n);
}

/* ---- the error filter ---- */

static const char *error_code(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 413: return "payload_too_large";
    case 416: return "range_not_satisfiable";
    case 417: return "expectation_failed";
    case 429: return "too_many_requests";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "error";
    }
}

typedef struct json_error_ostream {
    h2o_ostream_t super;
    h2o_iovec_t body;
    bool head;
} json_error_ostream_t;

/* Forwards the JSON body in place of whatever h2o's error body was: h2o sends its error
 * bodies in one final send (h2o_send_inline), which is when ours goes out. */
static void json_error_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                            h2o_send_state_t state)
{
    json_error_ostream_t *o = (json_error_ostream_t *)self;
    (void)bufs;
    (void)bufcnt;
    if (h2o_send_state_is_in_progress(state) || o->head)
        h2o_ostream_send_next(self, req, NULL, 0, state);
    else
        h2o_ostream_send_next(self, req, &o->body, 1, state);
}

static bool response_is_json(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i < 0) return false;
    h2o_iovec_t v = req->res.headers.entries[i].value;
    return v.len >= sizeof MP_GW_CT_JSON - 1 &&
           memcmp(v.base, MP_GW_CT_JSON, sizeof MP_GW_CT_JSON - 1) == 0;
}

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    if (req->res.status >= 400 && !response_is_json(req)) {
        char message[128], body[512];
        snprintf(message, sizeof message, "%s", req->res.reason ? req->res.reason : "error");
        for (char *c = message; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
        size_t n = error_json(body, sizeof body, error_code(req->res.status), message);
        json_error_ostream_t *o = (void *)h2o_add_ostream(req, sizeof *o, slot);
        o->super.do_send = json_error_send;
        o->body = h2o_strdup(&req->pool, body, n);
        o->head = is_head(req);
        req->res.content_length = n;
        h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
                       H2O_STRLIT(MP_GW_CT_JSON), 1);
        slot = &o->super.next;
    }
    h2o_setup_next_ostream(req, slot);
}

void mp_gw_http_register_error_filter(h2o_pathconf_t *pathconf)
{
    h2o_filter_t *f = h2o_create_filter(pathconf, sizeof *f);
    f->on_setup_ostream = on_setup_ostream;
}
