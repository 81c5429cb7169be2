/* HTTP/1.1 keep-alive load generator for benchmarks: N connections spread over a few
 * epoll threads, closed loop (each connection sends its next GET when the previous
 * response ends: the figures of a saturated server) or open loop at a fixed offered rate
 * (latency at that load), bounded by a duration and a request count, with a per-request
 * latency histogram in microseconds. Also a blocking one-shot GET for readiness probes. */
#ifndef MP_HTTP_LOAD_H
#define MP_HTTP_LOAD_H

#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Log-linear buckets: values below 128 us are exact, above that each power of two is cut
 * into 64 buckets (relative error under 1.6%), up to 2^63 us. */
#define MP_LOAD_HIST_EXACT 128u
#define MP_LOAD_HIST_SUB 64u
#define MP_LOAD_HIST_BUCKETS (MP_LOAD_HIST_EXACT + 57u * MP_LOAD_HIST_SUB)

typedef struct mp_load_hist {
    uint64_t counts[MP_LOAD_HIST_BUCKETS];
    uint64_t total;
    uint64_t max_us;
} mp_load_hist_t;

/* Records one latency of us microseconds. */
void mp_load_hist_add(mp_load_hist_t *h, uint64_t us);

/* Adds every count of src to dst. */
void mp_load_hist_merge(mp_load_hist_t *dst, const mp_load_hist_t *src);

/* The latency (ms, bucket midpoint) at or below which a fraction p (0..1] of the recorded
 * values lie; 0 when nothing was recorded. */
double mp_load_hist_percentile_ms(const mp_load_hist_t *h, double p);

typedef struct mp_load_config {
    struct sockaddr_in addr;  /* server, loopback in practice */
    const char *const *paths; /* request targets, cycled per thread; borrowed */
    size_t path_count;
    unsigned conns;                    /* concurrent keep-alive connections */
    unsigned threads;                  /* epoll threads sharing the connections (1..conns) */
    uint64_t duration_ns;              /* measurement window */
    uint64_t max_requests;             /* no request is sent past this count (all threads) */
    const volatile sig_atomic_t *stop; /* ends the run early when set; may be NULL */
    const char *headers; /* extra request header lines, each ending in CRLF; may be NULL */
    /* Open loop when > 0: requests are due at this total rate (req/s), spread evenly over
     * the connections, whatever the responses do; a request's latency counts from when it
     * was due, so time spent waiting for a busy connection counts too (no coordinated
     * omission). 0: closed loop (the next request as soon as the previous one ended). */
    double rate;
} mp_load_config_t;

typedef struct mp_load_result {
    mp_load_hist_t hist; /* completed responses only */
    uint64_t completed;  /* responses read to their end within the window */
    uint64_t non_200;    /* of those, status other than 200 */
    uint64_t errors;     /* connect failures, resets, malformed responses */
    uint64_t reconnects; /* connections reopened (server close or error) */
    uint64_t unfinished; /* requests in flight when the window closed (not counted) */
    uint64_t body_bytes; /* response body bytes of completed responses */
    uint64_t elapsed_ns; /* actual window */
} mp_load_result_t;

/* Runs the load described by cfg; out is filled (it is large: allocate it, do not put it
 * on a small stack). Returns 0, -EINVAL for a bad config, or the negative errno of a
 * thread or epoll setup failure. A server that refuses every connection shows up as
 * errors with no completions, not as a failure. */
int mp_load_run(const mp_load_config_t *cfg, mp_load_result_t *out);

/* One blocking GET of path with "Connection: close", bounded by timeout_ms overall and
 * max_body bytes. On 0, *status is the HTTP status and *body (malloc'd, NUL-terminated,
 * the caller frees) holds *len body bytes, de-chunked. Returns 0, -ETIMEDOUT, -EPROTO for
 * a malformed or oversized response, -ENOMEM, or the negative errno of a socket call. */
int mp_http_get(const struct sockaddr_in *addr, const char *path, uint32_t timeout_ms,
                size_t max_body, int *status, char **body, size_t *len);

/* The same with extra request header lines (each ending in CRLF; NULL for none). */
int mp_http_get_with(const struct sockaddr_in *addr, const char *path, const char *headers,
                     uint32_t timeout_ms, size_t max_body, int *status, char **body, size_t *len);

#endif
