/* Open-addressing key -> slot index with backward-shift deletion under a seqlock. */
#include "readmodel/slot_index.h"

#include <errno.h>
#include <string.h>

#define LOOKUP_TRIES 64

uint32_t mp_rm_index_find(const mp_rm_index_t *ix, const uint8_t key[MP_RM_KEY_LEN], uint32_t *bucket)
{
    uint32_t b = mp_rm_index_bucket(key, ix->mask);
    for (uint32_t i = 0; i <= ix->mask; i++, b = (b + 1) & ix->mask) {
        uint32_t v = ix->buckets[b];
        if (!v) return 0;
        const uint8_t *k = ix->key_of(ix->ctx, v);
        if (k && memcmp(k, key, MP_RM_KEY_LEN) == 0) {
            if (bucket) *bucket = b;
            return v;
        }
    }
    return 0;
}

static void set_bucket(mp_rm_writer_t *w, const mp_rm_index_t *ix, uint32_t b, uint32_t v)
{
    mp_rm_save(w, &ix->buckets[b], sizeof(uint32_t));
    ix->buckets[b] = v;
}

void mp_rm_index_insert(mp_rm_writer_t *w, const mp_rm_index_t *ix, const uint8_t key[MP_RM_KEY_LEN],
                        uint32_t value)
{
    uint32_t b = mp_rm_index_bucket(key, ix->mask);
    while (ix->buckets[b]) b = (b + 1) & ix->mask; /* load <= 1/2: always finds one */
    mp_rm_slot_begin(w, ix->lock, sizeof *ix->lock);
    set_bucket(w, ix, b, value);
    mp_rm_slot_end(w, ix->lock);
}

void mp_rm_index_remove(mp_rm_writer_t *w, const mp_rm_index_t *ix, uint32_t b)
{
    uint32_t mask = ix->mask;
    mp_rm_slot_begin(w, ix->lock, sizeof *ix->lock);
    set_bucket(w, ix, b, 0);
    for (uint32_t j = (b + 1) & mask;; j = (j + 1) & mask) {
        uint32_t v = ix->buckets[j];
        if (!v) break;
        const uint8_t *k = ix->key_of(ix->ctx, v);
        uint32_t home = k ? mp_rm_index_bucket(k, mask) : j;
        /* Move it into the hole unless its home lies cyclically after the hole. */
        if (((j - home) & mask) >= ((j - b) & mask)) {
            set_bucket(w, ix, b, v);
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
        uint32_t b = mp_rm_index_bucket(key, ix->mask);
        for (uint32_t i = 0; i <= ix->mask; i++, b = (b + 1) & ix->mask) {
            uint32_t v = atomic_load_explicit((const _Atomic uint32_t *)&ix->buckets[b],
                                              memory_order_relaxed);
            if (!v || v > ix->max_value) break; /* end of chain, or torn: retried below */
            found = match(mctx, v);
            if (found) break;
        }
        if (!mp_seqlock_read_valid(ix->lock, start)) continue;
        return found;
    }
    return -EAGAIN;
}
