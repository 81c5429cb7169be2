/* Response bodies: growable byte buffers with a reference count, so one encoded snapshot
 * section is written to many sockets without a copy, and a pool that bounds what all
 * bodies hold together (cache, in-flight responses and spares) and recycles large
 * buffers instead of returning them to malloc after every build. Single-threaded: the
 * gateway's event loop owns every body. */
#ifndef MP_GW_BODY_H
#define MP_GW_BODY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct mp_gw_body_pool;

typedef struct mp_gw_body {
    char *data;
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated; counted against the pool's budget */
    uint32_t refs;
    struct mp_gw_body_pool *pool;
    struct mp_gw_body *next_spare;
} mp_gw_body_t;

typedef struct mp_gw_body_pool {
    size_t max_body; /* one body never grows past this */
    size_t budget;   /* sum of cap over live and spare bodies stays <= budget */
    size_t held;     /* that sum now */
    mp_gw_body_t *spares;
    unsigned spare_count;
    unsigned max_spares;
    uint64_t refusals; /* growths refused by max_body or the budget */
} mp_gw_body_pool_t;

/* Sets up an empty pool. */
void mp_gw_body_pool_init(mp_gw_body_pool_t *pool, size_t max_body, size_t budget);

/* Frees the spares. Live bodies must have been released before. */
void mp_gw_body_pool_dispose(mp_gw_body_pool_t *pool);

/* A body with len 0 and one reference, at least hint bytes of room when the budget allows
 * (a spare is reused when one is large enough). Returns 0, -ENOMEM when the budget or
 * malloc refuses even a small buffer. */
int mp_gw_body_get(mp_gw_body_pool_t *pool, size_t hint, mp_gw_body_t **out);

/* Makes room for n more bytes (cap - len >= n), growing by doubling. Returns 0;
 * -ENOSPC when the body would pass max_body; -ENOMEM when the pool's budget or malloc
 * refuses. Only a body with one reference may grow (others may point into it). */
int mp_gw_body_reserve(mp_gw_body_t *b, size_t n);

/* Appends n bytes. Returns 0 or the error of mp_gw_body_reserve. */
int mp_gw_body_append(mp_gw_body_t *b, const void *p, size_t n);

/* Appends printf output (never truncated: it grows as needed). Returns 0 or the error of
 * mp_gw_body_reserve, -EINVAL on a format error. */
int mp_gw_body_printf(mp_gw_body_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends the decimal digits of v. Returns 0 or the error of mp_gw_body_reserve. */
int mp_gw_body_u64(mp_gw_body_t *b, uint64_t v);

/* Adds a reference. */
void mp_gw_body_ref(mp_gw_body_t *b);

/* Drops a reference; the last one returns the buffer to the pool's spares or frees it. */
void mp_gw_body_unref(mp_gw_body_t *b);

#endif
