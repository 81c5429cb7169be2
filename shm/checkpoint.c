/* Double-slot, version-guarded source checkpoints. */
#include "shm/checkpoint.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool slot_valid(const mp_checkpoint_slot_t *s, uint64_t *version)
{
    uint64_t v = atomic_load_explicit(&s->version, memory_order_acquire);
    *version = v;
    return v != 0 && (v & 1) == 0 && s->len <= MP_CHECKPOINT_STATE_MAX;
}

int mp_checkpoint_save(mp_checkpoint_area_t *a, uint64_t seq, uint64_t fingerprint,
                       const void *state, uint32_t len)
{
    if (len > MP_CHECKPOINT_STATE_MAX) return -EINVAL;
    uint64_t v0, v1;
    bool ok0 = slot_valid(&a->slots[0], &v0), ok1 = slot_valid(&a->slots[1], &v1);
    /* Overwrite an invalid slot, else the older one: the newest stays intact. */
    int i = !ok0 ? 0 : !ok1 ? 1 : (a->slots[0].seq <= a->slots[1].seq ? 0 : 1);
    mp_checkpoint_slot_t *s = &a->slots[i];
    uint64_t v = atomic_load_explicit(&s->version, memory_order_relaxed);
    uint64_t odd = (v & 1) ? v + 2 : v + 1; /* a slot left odd by a crash stays invalid */
    atomic_store_explicit(&s->version, odd, memory_order_relaxed);
    atomic_thread_fence(memory_order_release); /* odd version before the bytes */
    s->seq = seq;
    s->fingerprint = fingerprint;
    s->len = len;
    memcpy(s->state, state, len);
    /* Even again, after the bytes (pairs with the acquire in slot_valid). */
    atomic_store_explicit(&s->version, odd + 1, memory_order_release);
    return 0;
}

int mp_checkpoint_load(const mp_checkpoint_area_t *a, uint64_t fingerprint, uint64_t max_seq,
                       void *state, uint32_t cap, uint32_t *len, uint64_t *seq)
{
    int best = -1;
    for (int i = 0; i < 2; i++) {
        uint64_t v;
        const mp_checkpoint_slot_t *s = &a->slots[i];
        if (!slot_valid(s, &v) || s->fingerprint != fingerprint || s->seq > max_seq || s->len > cap)
            continue;
        if (best < 0 || s->seq > a->slots[best].seq) best = i;
    }
    if (best < 0) return -ENOENT;
    const mp_checkpoint_slot_t *s = &a->slots[best];
    memcpy(state, s->state, s->len);
    *len = s->len;
    *seq = s->seq;
    return 0;
}

uint64_t mp_fingerprint(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
