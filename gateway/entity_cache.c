/* Two open-addressing tables keyed by entity seq (the committed build and the one being
 * recorded); slots carry a generation so starting a build never clears a table. */
#include "gateway/entity_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct enc_slot {
    uint64_t seq;
    uint64_t check;
    uint32_t gen; /* in use for the table's current build only when gen == table gen */
    uint32_t off;
    uint32_t len;
    uint8_t kind;
    uint8_t list;
} enc_slot_t;

typedef struct enc_table {
    enc_slot_t *slots;
    uint32_t gen;
    uint32_t count;
} enc_table_t;

struct mp_gw_enc_cache {
    uint32_t capacity; /* entities recorded per build at most */
    uint32_t mask;     /* slots - 1; slots >= 2 * capacity */
    enc_table_t t[2];
    int committed; /* index of the table find reads; -1 when none */
    int recording; /* index of the table add writes */
};

int mp_gw_enc_cache_create(uint32_t capacity, mp_gw_enc_cache_t **out)
{
    *out = NULL;
    if (capacity == 0 || capacity > (1u << 26)) return -EINVAL;
    mp_gw_enc_cache_t *c = calloc(1, sizeof *c);
    if (!c) return -ENOMEM;
    uint32_t slots = 1;
    while (slots < 2 * capacity)
        slots <<= 1;
    c->capacity = capacity;
    c->mask = slots - 1;
    for (int i = 0; i < 2; i++) {
        c->t[i].slots = calloc(slots, sizeof(enc_slot_t));
        c->t[i].gen = 1;
        if (!c->t[i].slots) {
            mp_gw_enc_cache_destroy(c);
            return -ENOMEM;
        }
    }
    c->committed = -1;
    c->recording = 0;
    *out = c;
    return 0;
}

void mp_gw_enc_cache_destroy(mp_gw_enc_cache_t *c)
{
    if (!c) return;
    free(c->t[0].slots);
    free(c->t[1].slots);
    free(c);
}

uint32_t mp_gw_enc_cache_capacity(const mp_gw_enc_cache_t *c)
{
    return c->capacity;
}

static inline uint32_t slot_of(const mp_gw_enc_cache_t *c, uint64_t seq)
{
    uint64_t h = seq * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 32) & c->mask;
}

void mp_gw_enc_cache_begin(mp_gw_enc_cache_t *c)
{
    c->recording = c->committed == 0 ? 1 : 0;
    enc_table_t *t = &c->t[c->recording];
    if (++t->gen == 0) { /* wrapped: stale stamps could match again */
        memset(t->slots, 0, ((size_t)c->mask + 1) * sizeof *t->slots);
        t->gen = 1;
    }
    t->count = 0;
}

void mp_gw_enc_cache_add(mp_gw_enc_cache_t *c, uint64_t seq, uint64_t check, uint8_t kind,
                         mp_gw_enc_loc_t loc)
{
    enc_table_t *t = &c->t[c->recording];
    if (t->count >= c->capacity) return;
    for (uint32_t i = slot_of(c, seq);; i = (i + 1) & c->mask) {
        enc_slot_t *s = &t->slots[i];
        if (s->gen != t->gen) {
            *s = (enc_slot_t){.seq = seq,
                              .check = check,
                              .gen = t->gen,
                              .off = loc.off,
                              .len = loc.len,
                              .kind = kind,
                              .list = loc.list};
            t->count++;
            return;
        }
        if (s->seq == seq) return; /* listed twice in one build (it moved slots): keep one */
    }
}

void mp_gw_enc_cache_commit(mp_gw_enc_cache_t *c)
{
    c->committed = c->recording;
}

void mp_gw_enc_cache_reset(mp_gw_enc_cache_t *c)
{
    c->committed = -1;
}

bool mp_gw_enc_cache_find(const mp_gw_enc_cache_t *c, uint64_t seq, uint64_t check, uint8_t kind,
                          mp_gw_enc_loc_t *loc)
{
    if (c->committed < 0) return false;
    const enc_table_t *t = &c->t[c->committed];
    for (uint32_t i = slot_of(c, seq);; i = (i + 1) & c->mask) {
        const enc_slot_t *s = &t->slots[i];
        if (s->gen != t->gen) return false;
        if (s->seq == seq) {
            if (s->check != check || s->kind != kind) return false;
            *loc = (mp_gw_enc_loc_t){.off = s->off, .len = s->len, .list = s->list};
            return true;
        }
    }
}
