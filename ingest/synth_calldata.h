/* The ABI calldata writer the synthetic encoders share: gen_t, the state of one tx's
 * content being generated, and the 32-byte word writers, holes patched later with
 * offsets or lengths, and sub-buffers for calldata nested in a bytes argument. */
#ifndef MP_SYNTH_CALLDATA_H
#define MP_SYNTH_CALLDATA_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ingest/synth_rng.h"
#include "proto/event.h"

typedef struct gen {
    uint64_t seed;
    uint64_t rng; /* the tx content's own stream: same content_id, same calldata */
    uint8_t *buf;
    uint32_t cap;
    uint32_t len;
    uint32_t full_len; /* calldata length when longer than buf (deployments), else 0 */
    uint8_t from[MP_ADDR_LEN];
    uint8_t to[MP_ADDR_LEN];
    bool has_to;
    u128 value;
    uint64_t now_s;
    double eth_usd;
    double btc_per_eth;
    uint8_t sink[32]; /* absorbs words past cap; encoders stay far below it by design */
} gen_t;

static inline uint8_t *word(gen_t *g)
{
    if (g->len + 32 > g->cap) {
        memset(g->sink, 0, sizeof g->sink);
        return g->sink;
    }
    uint8_t *w = g->buf + g->len;
    memset(w, 0, 32);
    g->len += 32;
    return w;
}

static inline void w_u64(gen_t *g, uint64_t v)
{
    put_be64(word(g) + 24, v);
}

static inline void w_u128(gen_t *g, u128 v)
{
    uint8_t *w = word(g);
    put_be64(w + 16, (uint64_t)(v >> 64));
    put_be64(w + 24, (uint64_t)v);
}

/* Two 128-bit halves in one word (ERC-4337 v0.7 packed gas fields). */
static inline void w_pair128(gen_t *g, uint64_t hi, uint64_t lo)
{
    uint8_t *w = word(g);
    put_be64(w + 8, hi);
    put_be64(w + 24, lo);
}

static inline void w_max(gen_t *g)
{
    memset(word(g), 0xff, 32);
}

static inline void w_addr(gen_t *g, const uint8_t *a)
{
    memcpy(word(g) + 12, a, MP_ADDR_LEN);
}

static inline void w_rand(gen_t *g)
{
    uint8_t *w = word(g);
    for (int i = 0; i < 4; i++)
        put_be64(w + 8 * i, rng_next(&g->rng));
}

/* Reserves a word to patch later (an offset or a length); returns its position. */
static inline uint32_t w_hole(gen_t *g)
{
    uint32_t at = g->len;
    word(g);
    return at;
}

static inline void patch(gen_t *g, uint32_t at, uint64_t v)
{
    if (at + 32 <= g->len) put_be64(g->buf + at + 24, v);
}

/* Patches the offset word at `at` to point here, relative to `base`. */
static inline void patch_here(gen_t *g, uint32_t at, uint32_t base)
{
    patch(g, at, g->len - base);
}

static inline void w_bytes(gen_t *g, const uint8_t *p, uint32_t n)
{
    w_u64(g, n);
    for (uint32_t i = 0; i < n; i += 32) {
        uint8_t *w = word(g);
        memcpy(w, p + i, n - i < 32 ? n - i : 32);
    }
}

static inline void w_rand_bytes(gen_t *g, uint32_t n)
{
    w_u64(g, n);
    for (uint32_t i = 0; i < n; i += 32) {
        uint8_t *w = word(g);
        uint8_t tmp[32];
        for (int j = 0; j < 4; j++)
            put_be64(tmp + 8 * j, rng_next(&g->rng));
        memcpy(w, tmp, n - i < 32 ? n - i : 32);
    }
}

static inline void put_sel(gen_t *g, uint32_t sel)
{
    g->buf[0] = (uint8_t)(sel >> 24);
    g->buf[1] = (uint8_t)(sel >> 16);
    g->buf[2] = (uint8_t)(sel >> 8);
    g->buf[3] = (uint8_t)sel;
    g->len = 4;
}

/* A nested encoding (bytes argument holding a call) into tmp; continue the parent's
 * stream afterwards with end_sub. */
static inline gen_t begin_sub(const gen_t *g, uint8_t *tmp, uint32_t cap)
{
    gen_t sub = *g;
    sub.buf = tmp;
    sub.cap = cap;
    sub.len = 0;
    return sub;
}

static inline void end_sub(gen_t *g, const gen_t *sub)
{
    g->rng = sub->rng;
    w_bytes(g, sub->buf, sub->len);
}

#endif
