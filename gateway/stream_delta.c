/* Journal deltas encoded once (entity JSON or id) in reference-counted records, and the
 * per-entity coalescing maps built on them. */
#include "gateway/stream_delta.h"

#include "proto/json_writer.h"
#include "readmodel/rm_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- encoded deltas ---------------------------------------------------------------- */

void mp_gw_enc_unref(mp_gw_enc_t *e)
{
    if (e && --e->refs == 0) free(e);
}

static uint64_t key_hash(unsigned channel, const mp_rm_id_t *id, uint8_t id_len)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (channel * 0x9e3779b97f4a7c15ull) ^ id_len;
    for (unsigned i = 0; i < MP_RM_ID_LEN; i++)
        h = (h ^ id->bytes[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

mp_gw_enc_t *mp_gw_enc_create(const mp_rm_delta_t *x)
{
    char buf[MP_RM_JSON_ENTITY_MAX];
    mp_jw_t jw;
    mp_jw_init(&jw, buf, sizeof buf);
    const mp_rm_journal_entry_t *e = &x->entry;
    if (e->op == MP_OP_UPSERT)
        mp_rm_entity_json(&jw, (mp_rm_kind_t)e->kind, &x->u);
    else
        mp_rm_id_json(&jw, (mp_rm_kind_t)e->kind, &e->id, e->id_len);
    ssize_t len = mp_jw_finish(&jw);
    if (len <= 0) return NULL;
    mp_gw_enc_t *r = malloc(sizeof *r + (size_t)len);
    if (!r) return NULL;
    r->refs = 1;
    r->len = (uint32_t)len;
    r->seq = e->seq;
    r->channel = e->channel;
    r->op = e->op;
    r->id_len = e->id_len;
    r->id = e->id;
    r->hash = key_hash(e->channel, &e->id, e->id_len);
    memcpy(r->json, buf, (size_t)len);
    return r;
}

/* ---- coalescing maps ----------------------------------------------------------------- */

static bool same_entity(const mp_gw_enc_t *a, const mp_gw_enc_t *b)
{
    return a->hash == b->hash && a->channel == b->channel && a->id_len == b->id_len &&
           memcmp(a->id.bytes, b->id.bytes, MP_RM_ID_LEN) == 0;
}

void mp_gw_coalesce_reindex(mp_gw_coalesce_t *c)
{
    if (!c->slots) return; /* never grown: no index yet */
    memset(c->index, 0, (size_t)c->slots * sizeof *c->index);
    for (uint32_t i = 0; i < c->count; i++) {
        uint32_t j = (uint32_t)c->items[i]->hash & (c->slots - 1);
        while (c->index[j])
            j = (j + 1) & (c->slots - 1);
        c->index[j] = i + 1;
    }
}

static int coalesce_grow(mp_gw_coalesce_t *c)
{
    uint32_t cap = c->cap ? c->cap * 2 : 32;
    if (cap > MP_GW_STREAM_PENDING_MAX) cap = MP_GW_STREAM_PENDING_MAX;
    if (cap <= c->cap) return -ENOSPC;
    mp_gw_enc_t **items = realloc(c->items, (size_t)cap * sizeof *items);
    if (!items) return -ENOMEM;
    c->items = items;
    uint32_t *index = calloc((size_t)cap * 2, sizeof *index);
    if (!index) return -ENOMEM;
    free(c->index);
    c->index = index;
    c->cap = cap;
    c->slots = cap * 2;
    mp_gw_coalesce_reindex(c);
    return 0;
}

int mp_gw_coalesce_put(mp_gw_coalesce_t *c, mp_gw_enc_t *e)
{
    if (c->slots) {
        uint32_t j = (uint32_t)e->hash & (c->slots - 1);
        for (; c->index[j]; j = (j + 1) & (c->slots - 1)) {
            mp_gw_enc_t **slot = &c->items[c->index[j] - 1];
            if (same_entity(*slot, e)) {
                /* Newest change wins: an upsert then a remove leaves the remove. */
                e->refs++;
                mp_gw_enc_unref(*slot);
                *slot = e;
                return 0;
            }
        }
    }
    if (c->count == c->cap) {
        int ret = coalesce_grow(c);
        if (ret) return ret;
    }
    uint32_t j = (uint32_t)e->hash & (c->slots - 1);
    while (c->index[j])
        j = (j + 1) & (c->slots - 1);
    e->refs++;
    c->items[c->count++] = e;
    c->index[j] = c->count;
    return 0;
}

void mp_gw_coalesce_clear(mp_gw_coalesce_t *c)
{
    for (uint32_t i = 0; i < c->count; i++)
        mp_gw_enc_unref(c->items[i]);
    c->count = 0;
    if (c->slots) memset(c->index, 0, (size_t)c->slots * sizeof *c->index);
}

void mp_gw_coalesce_dispose(mp_gw_coalesce_t *c)
{
    mp_gw_coalesce_clear(c);
    free(c->items);
    free(c->index);
    memset(c, 0, sizeof *c);
}
