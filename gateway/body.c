/* Reference-counted response bodies and their bounded pool (see body.h). */
#include "gateway/body.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MIN_CAP 4096u
#define MAX_SPARES 4u

void mp_gw_body_pool_init(mp_gw_body_pool_t *pool, size_t max_body, size_t budget)
{
    memset(pool, 0, sizeof *pool);
    pool->max_body = max_body < BODY_MIN_CAP ? BODY_MIN_CAP : max_body;
    pool->budget = budget < pool->max_body ? pool->max_body : budget;
    pool->max_spares = MAX_SPARES;
}

static void body_free(mp_gw_body_t *b)
{
    b->pool->held -= b->cap;
    free(b->data);
    free(b);
}

void mp_gw_body_pool_dispose(mp_gw_body_pool_t *pool)
{
    while (pool->spares) {
        mp_gw_body_t *b = pool->spares;
        pool->spares = b->next_spare;
        body_free(b);
    }
    pool->spare_count = 0;
}

/* Resizes b's buffer to cap bytes within the budget. */
static int body_resize(mp_gw_body_t *b, size_t cap)
{
    mp_gw_body_pool_t *pool = b->pool;
    if (cap > pool->max_body) {
        pool->refusals++;
        return -ENOSPC;
    }
    if (cap > b->cap && pool->held + (cap - b->cap) > pool->budget) {
        /* Spares are the first thing to give back. */
        while (pool->spares && pool->held + (cap - b->cap) > pool->budget) {
            mp_gw_body_t *s = pool->spares;
            pool->spares = s->next_spare;
            pool->spare_count--;
            body_free(s);
        }
        if (pool->held + (cap - b->cap) > pool->budget) {
            pool->refusals++;
            return -ENOMEM;
        }
    }
    char *p = realloc(b->data, cap);
    if (!p) return -ENOMEM;
    pool->held = pool->held - b->cap + cap;
    b->data = p;
    b->cap = cap;
    return 0;
}

int mp_gw_body_get(mp_gw_body_pool_t *pool, size_t hint, mp_gw_body_t **out)
{
    *out = NULL;
    /* The smallest spare that fits, else the largest (it grows), else a new body. */
    mp_gw_body_t **fit = NULL, **largest = NULL;
    for (mp_gw_body_t **pp = &pool->spares; *pp; pp = &(*pp)->next_spare) {
        if ((*pp)->cap >= hint && (!fit || (*pp)->cap < (*fit)->cap)) fit = pp;
        if (!largest || (*pp)->cap > (*largest)->cap) largest = pp;
    }
    mp_gw_body_t **pick = fit ? fit : largest;
    mp_gw_body_t *b;
    if (pick) {
        b = *pick;
        *pick = b->next_spare;
        pool->spare_count--;
    } else {
        b = calloc(1, sizeof *b);
        if (!b) return -ENOMEM;
        b->pool = pool;
    }
    b->len = 0;
    b->refs = 1;
    b->next_spare = NULL;
    size_t want = hint < BODY_MIN_CAP ? BODY_MIN_CAP : hint;
    if (want > pool->max_body) want = pool->max_body;
    /* Under budget pressure a smaller buffer still serves small responses. */
    if (b->cap < want && body_resize(b, want) != 0 && b->cap == 0 &&
        body_resize(b, BODY_MIN_CAP) != 0) {
        body_free(b);
        return -ENOMEM;
    }
    *out = b;
    return 0;
}

int mp_gw_body_reserve(mp_gw_body_t *b, size_t n)
{
    if (b->cap - b->len >= n) return 0;
    if (n > b->pool->max_body - b->len || b->len > b->pool->max_body) {
        b->pool->refusals++;
        return -ENOSPC;
    }
    size_t need = b->len + n, cap = b->cap ? b->cap : BODY_MIN_CAP;
    while (cap < need)
        cap = cap > b->pool->max_body / 2 ? b->pool->max_body : cap * 2;
    return body_resize(b, cap);
}

int mp_gw_body_append(mp_gw_body_t *b, const void *p, size_t n)
{
    int ret = mp_gw_body_reserve(b, n);
    if (ret) return ret;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int mp_gw_body_printf(mp_gw_body_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) return -EINVAL;
    if ((size_t)n >= b->cap - b->len) {
        int ret = mp_gw_body_reserve(b, (size_t)n + 1);
        if (ret) return ret;
        va_start(ap, fmt);
        n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) return -EINVAL;
    }
    b->len += (size_t)n;
    return 0;
}

int mp_gw_body_u64(mp_gw_body_t *b, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    int ret = mp_gw_body_reserve(b, n);
    if (ret) return ret;
    while (n)
        b->data[b->len++] = tmp[--n];
    return 0;
}

void mp_gw_body_ref(mp_gw_body_t *b)
{
    b->refs++;
}

void mp_gw_body_unref(mp_gw_body_t *b)
{
    if (!b || --b->refs) return;
    mp_gw_body_pool_t *pool = b->pool;
    if (pool->spare_count < pool->max_spares) {
        b->len = 0;
        b->next_spare = pool->spares;
        pool->spares = b;
        pool->spare_count++;
        return;
    }
    body_free(b);
}
