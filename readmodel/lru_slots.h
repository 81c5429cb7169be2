/* Slot claiming for the read model's small bounded tables (chains, fee markets, prices):
 * find a key or take a slot for it, evicting the least recently active, and touch every
 * byte before it is written (readmodel/touch.h). Deterministic: a linear scan, ties go
 * to the lowest slot. */
#ifndef MP_RM_LRU_SLOTS_H
#define MP_RM_LRU_SLOTS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readmodel/touch.h"

/* The slot of id among ids[0, used), or -ENOENT. */
static inline int mp_lru_find_id(const uint64_t *ids, uint32_t used, uint64_t id)
{
    for (uint32_t i = 0; i < used; i++)
        if (ids[i] == id) return (int)i;
    return -ENOENT;
}

/* Takes the slot a new key goes to in a table whose slots [0, *used) are taken: while
 * *used < capacity the next free one (touching and bumping *used), else the one whose
 * age is smallest, ties to the lowest slot. Ages are uint64_t, the first at age0 and the
 * next ones stride bytes apart. Sets *evicted when the slot held a key the caller must
 * drop; the caller then resets the slot, touching it first. */
static inline uint32_t mp_lru_take(uint32_t *used, uint32_t capacity, const uint64_t *age0,
                                   size_t stride, const mp_rm_touch_t *touch, bool *evicted)
{
    if (*used < capacity) {
        *evicted = false;
        mp_rm_touch(touch, used, sizeof *used);
        return (*used)++;
    }
    const char *base = (const char *)age0;
    uint32_t slot = 0;
    uint64_t oldest = *age0;
    for (uint32_t i = 1; i < *used; i++) {
        uint64_t age = *(const uint64_t *)(const void *)(base + i * stride);
        if (age < oldest) {
            slot = i;
            oldest = age;
        }
    }
    *evicted = true;
    return slot;
}

/* Finds id in a table keyed by ids[0, *used) with last_active_s[] as eviction order, or
 * takes a slot for it (mp_lru_take) and writes the id there. Returns the slot. For a new
 * id, sets *inserted; when that evicted another id, sets *evicted and *evicted_id (both
 * left alone otherwise). The caller resets a new slot's entity, then calls
 * mp_lru_mark_active. */
static inline uint32_t mp_lru_claim_id(uint32_t *used, uint32_t capacity, uint64_t *ids,
                                       const uint64_t *last_active_s, uint64_t id,
                                       const mp_rm_touch_t *touch, bool *inserted, bool *evicted,
                                       uint64_t *evicted_id)
{
    int found = mp_lru_find_id(ids, *used, id);
    if (found >= 0) {
        *inserted = false;
        return (uint32_t)found;
    }
    bool took_from_key;
    uint32_t slot =
        mp_lru_take(used, capacity, last_active_s, sizeof *last_active_s, touch, &took_from_key);
    if (took_from_key) {
        *evicted = true;
        *evicted_id = ids[slot];
    }
    mp_rm_touch(touch, &ids[slot], sizeof ids[slot]);
    ids[slot] = id;
    *inserted = true;
    return slot;
}

/* Marks slot active at second: a new slot takes it as is; an existing one only moves
 * forward, since event time may go back. */
static inline void mp_lru_mark_active(uint64_t *last_active_s, uint32_t slot, uint64_t second,
                                      bool inserted, const mp_rm_touch_t *touch)
{
    if (!inserted && second <= last_active_s[slot]) return;
    mp_rm_touch(touch, &last_active_s[slot], sizeof last_active_s[slot]);
    last_active_s[slot] = second;
}

#endif
