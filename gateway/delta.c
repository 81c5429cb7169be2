/* Journal coalescing for snapshot-v2 delta mode: a fixed table of entities keyed by
 * (channel, id) in an open-addressing index whose slots carry a generation, so a new
 * collect starts empty without clearing the index. */
#include "gateway/delta.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct index_slot {
    uint32_t gen; /* slot is in use for this collect only when gen == d->gen */
    uint32_t item;
} index_slot_t;

typedef struct order_key {
    uint64_t seq;
    uint32_t item;
} order_key_t;

struct mp_gw_delta {
    uint32_t cap;
    uint32_t count;
    uint32_t gen;
    uint32_t mask; /* index slots - 1; slots >= 2 * cap keeps probe chains short */
    mp_rm_delta_t *items;
    order_key_t *order;
    index_slot_t *index;
    uint64_t channel_seq[MP_CH_COUNT];
};

int mp_gw_delta_create(uint32_t cap, mp_gw_delta_t **out)
{
    *out = NULL;
    if (cap == 0 || cap > (1u << 26)) return -EINVAL;
    mp_gw_delta_t *d = calloc(1, sizeof *d);
    if (!d) return -ENOMEM;
    uint32_t slots = 1;
    while (slots < 2 * cap)
        slots <<= 1;
    d->cap = cap;
    d->mask = slots - 1;
    d->gen = 1;
    /* One entry more than cap: the next change is read into items[count] before its id is
     * known, so a full table still has room to read and then refuse it. */
    d->items = malloc((size_t)(cap + 1) * sizeof *d->items);
    d->order = malloc((size_t)cap * sizeof *d->order);
    d->index = calloc(slots, sizeof *d->index);
    if (!d->items || !d->order || !d->index) {
        mp_gw_delta_destroy(d);
        return -ENOMEM;
    }
    *out = d;
    return 0;
}

void mp_gw_delta_destroy(mp_gw_delta_t *d)
{
    if (!d) return;
    free(d->items);
    free(d->order);
    free(d->index);
    free(d);
}

uint32_t mp_gw_delta_capacity(const mp_gw_delta_t *d)
{
    return d->cap;
}

static uint64_t key_hash(unsigned channel, const mp_rm_id_t *id)
{
    uint64_t h = 0x9e3779b97f4a7c15ull * (channel + 1);
    for (int i = 0; i < MP_RM_ID_LEN; i += 8) {
        uint64_t w;
        memcpy(&w, id->bytes + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 33;
    }
    return h;
}

static bool same_key(const mp_rm_journal_entry_t *a, const mp_rm_journal_entry_t *b)
{
    return a->channel == b->channel && a->id_len == b->id_len &&
           memcmp(a->id.bytes, b->id.bytes, MP_RM_ID_LEN) == 0;
}

/* Bytes of a delta worth copying: the entry and its entity. */
static size_t delta_size(const mp_rm_delta_t *x)
{
    return offsetof(mp_rm_delta_t, u) + x->entry.data_len;
}

static int cmp_order(const void *a, const void *b)
{
    uint64_t x = ((const order_key_t *)a)->seq, y = ((const order_key_t *)b)->seq;
    return x < y ? -1 : x > y;
}

int mp_gw_delta_collect(mp_gw_delta_t *d, const mp_rm_region_t *rm, uint64_t since, uint64_t until,
                        uint32_t mask, uint64_t max_scan, uint32_t max_items)
{
    d->count = 0;
    memset(d->channel_seq, 0, sizeof d->channel_seq);
    if (++d->gen == 0) { /* wrapped: old stamps could match again */
        memset(d->index, 0, ((size_t)d->mask + 1) * sizeof *d->index);
        d->gen = 1;
    }
    if (max_items > d->cap) max_items = d->cap;
    if (until <= since) return 0;
    if (since + 1 < mp_rm_journal_oldest(rm)) return -ERANGE;
    if (until - since > max_scan) return -E2BIG;

    for (uint64_t seq = since + 1; seq <= until; seq++) {
        mp_rm_delta_t *x = &d->items[d->count];
        int ret = mp_rm_journal_read(rm, seq, x);
        if (ret == -ERANGE) return -ERANGE;
        if (ret) return -EPROTO; /* -EAGAIN cannot happen below until; -EPROTO as is */
        const mp_rm_journal_entry_t *e = &x->entry;
        if (e->channel >= MP_CH_COUNT || e->id_len > MP_RM_ID_LEN) return -EPROTO;
        if (!(mask & (1u << e->channel))) continue;
        if (e->op == MP_OP_RESET) return -EPROTO; /* the whole channel changed: full */
        if (e->op != MP_OP_UPSERT && e->op != MP_OP_REMOVE) return -EPROTO;
        d->channel_seq[e->channel] = seq;
        uint32_t i = (uint32_t)key_hash(e->channel, &e->id) & d->mask;
        for (;; i = (i + 1) & d->mask) {
            index_slot_t *s = &d->index[i];
            if (s->gen != d->gen) {
                /* A new entity: it stays where it was read. */
                if (d->count >= max_items) return -E2BIG;
                s->gen = d->gen;
                s->item = d->count++;
                break;
            }
            mp_rm_delta_t *old = &d->items[s->item];
            if (same_key(&old->entry, e)) {
                memcpy(old, x, delta_size(x)); /* newest change wins */
                break;
            }
        }
    }
    for (uint32_t i = 0; i < d->count; i++) {
        d->order[i].seq = d->items[i].entry.seq;
        d->order[i].item = i;
    }
    qsort(d->order, d->count, sizeof *d->order, cmp_order);
    return 0;
}

uint32_t mp_gw_delta_count(const mp_gw_delta_t *d)
{
    return d->count;
}

const mp_rm_delta_t *mp_gw_delta_item(const mp_gw_delta_t *d, uint32_t i)
{
    return &d->items[d->order[i].item];
}

uint64_t mp_gw_delta_channel_seq(const mp_gw_delta_t *d, unsigned ch)
{
    return ch < MP_CH_COUNT ? d->channel_seq[ch] : 0;
}
