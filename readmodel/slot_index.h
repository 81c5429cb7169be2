/* A hash index from a 32-byte key (tx hash, opportunity id) to a slot number, in shared
 * memory: open addressing with linear probing, load <= 1/2, backward-shift deletion (no
 * tombstones), one seqlock over its structure so readers retry a lookup that overlapped
 * a change. The keys live in the slots, not in the index. */
#ifndef MP_RM_SLOT_INDEX_H
#define MP_RM_SLOT_INDEX_H

#include <stdint.h>

#include "readmodel/rm_writer.h"
#include "shm/seqlock.h"

#define MP_RM_KEY_LEN 32

/* The key of the slot behind value (slot + 1) as the caller's data holds it, or NULL when
 * that slot holds no key (readers: a torn or stale value; the probe goes on). */
typedef const uint8_t *(*mp_rm_key_of_fn)(const void *ctx, uint32_t value);

typedef struct mp_rm_index {
    /* Each bucket: a 32-bit tag of the key's hash (high half) and slot + 1 (low half);
     * 0 = empty. Probes compare tags first and touch a slot only on a tag match. */
    uint64_t *buckets;
    uint32_t mask;     /* bucket count - 1, a power of two */
    uint32_t max_value;
    mp_seqlock_t *lock;
    mp_rm_key_of_fn key_of;
    const void *ctx;
} mp_rm_index_t;

/* Hash of a key (deterministic, no seed: state must be a function of the events). The
 * low bits pick the bucket, the high 32 bits are the tag. */
static inline uint64_t mp_rm_index_hash(const uint8_t key[MP_RM_KEY_LEN])
{
    uint64_t a, b, c;
    __builtin_memcpy(&a, key, 8);
    __builtin_memcpy(&b, key + 8, 8);
    __builtin_memcpy(&c, key + 16, 8);
    uint64_t x = (a ^ (b * 0x9e3779b97f4a7c15ull) ^ (c * 0xc2b2ae3d27d4eb4full)) * 0xbf58476d1ce4e5b9ull;
    return x ^ (x >> 29);
}

static inline uint32_t mp_rm_index_bucket(const uint8_t key[MP_RM_KEY_LEN], uint32_t mask)
{
    return (uint32_t)mp_rm_index_hash(key) & mask;
}

/* Writer: the value of key, or 0; *bucket (optional) gets where it sits. */
uint32_t mp_rm_index_find(const mp_rm_index_t *ix, const uint8_t key[MP_RM_KEY_LEN], uint32_t *bucket);

/* Writer: adds key -> value (key must be absent; the slot must already hold the key). */
void mp_rm_index_insert(mp_rm_writer_t *w, const mp_rm_index_t *ix, const uint8_t key[MP_RM_KEY_LEN],
                        uint32_t value);

/* Writer: removes the value in bucket (from mp_rm_index_find). */
void mp_rm_index_remove(mp_rm_writer_t *w, const mp_rm_index_t *ix, uint32_t bucket);

/* Reader: calls match(ctx, value) for each candidate in key's probe chain until it
 * returns non-zero; consistent against concurrent changes (bounded retries). Returns
 * match's result, 0 when absent, -EAGAIN when the writer kept changing the index. */
int mp_rm_index_lookup(const mp_rm_index_t *ix, const uint8_t key[MP_RM_KEY_LEN],
                       int (*match)(void *mctx, uint32_t value), void *mctx);

#endif
