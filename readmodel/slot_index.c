/* Open-addressing key -> slot index with backward-shift deletion under a seqlock. */
#include "readmodel/slot_index.h"

#include <errno.h>
#include <string.h>

#define LOOKUP_TRIES 64

#define TAG(h) ((uint32_t)((h) >> 32))
#define VALUE(bucket) ((uint32_t)(bucket))

uint32_t mp_rm_index_find(const mp_rm_index_t *ix, const uint8_t key[MP_RM_KEY_LEN], uint32_t *bucket)
{
    uint64_t h = mp_rm_index_hash(key);
    uint32_t b = (uint32_t)h & ix->mask, tag = TAG(h);
    for (uint32_t i = 0; i <= ix->mask; i++, b = (b + 1) & ix->mask) {
        uint64_t cell = ix->buckets[b];
        if (!cell) return 0;
        if ((uint32_t)(cell >> 32) != tag) continue;
        uint32_t v = VALUE(cell);
        const uint8_t *k = ix->key_of(ix->ctx, v);
        if (k && memcmp(k, key, MP_RM_KEY_LEN) == 0) {
            if (bucket) *bucket = b;
            return v;
        }
    }
    return 0;
}

static void set_bucket(mp_rm_writer_t *w, const mp_rm_index_t *ix, uint32_t b, uint64_t cell)
{
    mp_rm_save(w, &ix->buckets[b], sizeof(uint64_t));
    ix->buckets[b] = cell;
}

void mp_rm_index_insert(mp_rm_writer_t *w, const mp_rm_index_t *ix, const uint8_t key[MP_RM_KEY_LEN],
                        uint32_t value)
{
    uint64_t h = mp_rm_index_hash(key);
    uint32_t b = (uint32_t)h & ix->mask;
    while (ix->buckets[b]) b = (b + 1) & ix->mask; /* load <= 1/2: always finds one */
    mp_rm_slot_begin(w, ix->lock, sizeof *ix->lock);
    set_bucket(w, ix, b, (uint64_t)TAG(h) << 32 | value);
    mp_rm_slot_end(w, ix->lock);
}

void mp_rm_index_remove(mp_rm_writer_t *w, const mp_rm_index_t *ix, uint32_t b)
{
    uint32_t mask = ix->mask;
    mp_rm_slot_begin(w, ix->lock, sizeof *ix->lock);
    set_bucket(w, ix, b, 0);
    for (uint32_t j = (b + 1) & mask;; j = (j + 1) & mask) {
        uint64_t cell = ix->buckets[j];
        if (!cell) break;
        const uint8_t *k = ix->key_of(ix->ctx, VALUE(cell));
        uint32_t home = k ? mp_rm_index_bucket(k, mask) : j;
        /* Move it into the hole unless its home lies cyclically after the hole. */
        if (((j - home) & mask) >= ((j - b) & mask)) {
            set_bucket(w, ix, b, cell);
            set_bucket(w, ix, j, 0);
            b = j;
        }
    }
    mp_rm_slot_end(w, ix->lock);
}

int mp_rm_index_lookup(const mp_rm_index_t *ix, const uint8_t key[MP_RM_KEY_LEN],
                       int (*match)(void *mctx, uint32_t value), void *mctx)
{
    for (int tries = 0; tries < LOOKUP_TRIES; tries++) {
        uint32_t start = mp_seqlock_read_begin(ix->lock);
        if (start & 1) continue;
        int found = 0;
        uint64_t h = mp_rm_index_hash(key);
        uint32_t b = (uint32_t)h & ix->mask, tag = TAG(h);
        for (uint32_t i = 0; i <= ix->mask; i++, b = (b + 1) & ix->mask) {
            uint64_t cell = atomic_load_explicit((const _Atomic uint64_t *)&ix->buckets[b],
                                                 memory_order_relaxed);
            uint32_t v = VALUE(cell);
            if (!cell || v == 0 || v > ix->max_value) break; /* chain end, or torn: retried */
            if ((uint32_t)(cell >> 32) != tag) continue;
            found = match(mctx, v);
            if (found) break;
        }
        if (!mp_seqlock_read_valid(ix->lock, start)) continue;
        return found;
    }
    return -EAGAIN;
}
