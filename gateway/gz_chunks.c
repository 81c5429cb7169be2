/* Chunked section compression with reuse of the previous build's unchanged chunks. */
#include "gateway/gz_chunks.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct chunk {
    uint32_t crc;
    uint32_t plain_off, len; /* in the build's plain body */
    uint32_t gz_off, gz_len; /* in the build's compressed body */
} chunk_t;

/* One build's chunks, looked up by CRC (open addressing, slots a power of two >= 2n). */
typedef struct build {
    mp_gw_body_t *plain, *gz; /* references; NULL when there is no build */
    chunk_t *chunks;
    uint32_t n, cap;
    uint32_t *index; /* chunk number + 1; 0 is empty */
    uint32_t slots;
} build_t;

struct mp_gw_gz_chunks {
    build_t prev, next; /* next: scratch for the build in progress, swapped in on success */
};

mp_gw_gz_chunks_t *mp_gw_gz_chunks_create(void)
{
    return calloc(1, sizeof(mp_gw_gz_chunks_t));
}

static void build_drop(build_t *b)
{
    mp_gw_body_unref(b->plain);
    mp_gw_body_unref(b->gz);
    b->plain = b->gz = NULL;
    b->n = 0;
}

void mp_gw_gz_chunks_reset(mp_gw_gz_chunks_t *c)
{
    build_drop(&c->prev);
    build_drop(&c->next);
}

void mp_gw_gz_chunks_destroy(mp_gw_gz_chunks_t *c)
{
    if (!c) return;
    mp_gw_gz_chunks_reset(c);
    free(c->prev.chunks);
    free(c->prev.index);
    free(c->next.chunks);
    free(c->next.index);
    free(c);
}

/* Room for n chunks and their index in b (its old contents are dropped). */
static int build_reserve(build_t *b, uint32_t n)
{
    if (n > b->cap) {
        chunk_t *chunks = realloc(b->chunks, (size_t)n * sizeof *chunks);
        if (!chunks) return -ENOMEM;
        b->chunks = chunks;
        b->cap = n;
    }
    uint32_t slots = 16;
    while (slots < 2 * n)
        slots *= 2;
    if (slots > b->slots) {
        uint32_t *index = malloc((size_t)slots * sizeof *index);
        if (!index) return -ENOMEM;
        free(b->index);
        b->index = index;
        b->slots = slots;
    }
    return 0;
}

static void build_index(build_t *b)
{
    memset(b->index, 0, (size_t)b->slots * sizeof *b->index);
    for (uint32_t i = 0; i < b->n; i++) {
        uint32_t j = b->chunks[i].crc & (b->slots - 1);
        while (b->index[j])
            j = (j + 1) & (b->slots - 1);
        b->index[j] = i + 1;
    }
}

/* The previous build's chunk with exactly these bytes, or NULL. */
static const chunk_t *find_same(const build_t *b, uint32_t crc, const char *p, uint32_t len)
{
    if (!b->plain || !b->n) return NULL;
    for (uint32_t j = crc & (b->slots - 1); b->index[j]; j = (j + 1) & (b->slots - 1)) {
        const chunk_t *k = &b->chunks[b->index[j] - 1];
        if (k->crc == crc && k->len == len && memcmp(b->plain->data + k->plain_off, p, len) == 0)
            return k;
    }
    return NULL;
}

int mp_gw_gz_chunks_compress(mp_gw_gz_chunks_t *c, mp_gw_gz_t *z, mp_gw_body_pool_t *pool,
                             mp_gw_body_t *body, const uint32_t *bounds, uint32_t n,
                             mp_gw_body_t **out, uint32_t *crc, mp_gw_gz_chunk_stats_t *st)
{
    if (n == 0 || bounds[n - 1] != body->len) return -EINVAL;
    build_t *nb = &c->next;
    build_drop(nb);
    int ret = build_reserve(nb, n);
    if (ret) return ret;
    mp_gw_body_t *gz = NULL;
    /* Most of a rebuild is reused: about a third of the plain size is a fair first guess. */
    if ((ret = mp_gw_body_get(pool, body->len / 3 + 1024, &gz))) return ret;
    mp_gw_gz_chunk_stats_t add = {0};
    uint32_t total_crc = 0, start = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t end = bounds[i];
        if (end < start) {
            ret = -EINVAL;
            break;
        }
        uint32_t len = end - start;
        if (len == 0) continue;
        const char *p = body->data + start;
        uint32_t chunk_crc = mp_gw_gz_crc(0, p, len);
        chunk_t *k = &nb->chunks[nb->n];
        *k = (chunk_t){.crc = chunk_crc, .plain_off = start, .len = len, .gz_off = (uint32_t)gz->len};
        const chunk_t *same = find_same(&c->prev, chunk_crc, p, len);
        if (same) {
            ret = mp_gw_body_append(gz, c->prev.gz->data + same->gz_off, same->gz_len);
            add.reused++;
        } else {
            ret = mp_gw_gz_deflate(z, p, len, gz);
            add.compressed++;
            add.compressed_bytes += len;
        }
        if (ret) break;
        k->gz_len = (uint32_t)gz->len - k->gz_off;
        total_crc = nb->n == 0 ? chunk_crc : mp_gw_gz_crc_combine(total_crc, chunk_crc, len);
        nb->n++;
        start = end;
    }
    if (ret) {
        nb->n = 0;
        mp_gw_body_unref(gz);
        return ret;
    }
    mp_gw_body_ref(body);
    mp_gw_body_ref(gz);
    nb->plain = body;
    nb->gz = gz;
    build_index(nb);
    build_drop(&c->prev);
    build_t t = c->prev;
    c->prev = *nb;
    *nb = t;
    if (st) {
        st->compressed += add.compressed;
        st->reused += add.reused;
        st->compressed_bytes += add.compressed_bytes;
    }
    *out = gz;
    *crc = total_crc;
    return 0;
}
