/* The bounded key -> value window: entries in a FIFO ring (oldest evicted first) and a
 * linear-probing index twice the ring's size, kept exact by backward-shift deletion. */
#include "ingest/eth_window.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct window_entry {
    uint8_t key[MP_ETH_WINDOW_KEY];
    uint8_t value[MP_ETH_WINDOW_VALUE];
} window_entry_t;

struct mp_eth_window {
    uint32_t capacity; /* entries; power of two */
    uint32_t mask;     /* capacity - 1 */
    uint32_t imask;    /* index slots - 1; index has 2 * capacity slots, so load <= 1/2 */
    uint32_t head;     /* free-running position of the oldest entry */
    uint32_t count;    /* entries held: ring positions [head, head + count) */
    window_entry_t *ring;
    /* 0: empty slot; otherwise ring position & mask, plus 1. Invariant: every held entry
     * has exactly one index slot, reachable from its home slot without crossing an
     * empty slot. */
    uint32_t *index;
};

int mp_eth_window_create(mp_eth_window_t **out, uint32_t capacity)
{
    *out = NULL;
    if (capacity < 2 || capacity > (1u << 24) || (capacity & (capacity - 1))) return -EINVAL;
    mp_eth_window_t *w = calloc(1, sizeof *w);
    if (!w) return -ENOMEM;
    w->capacity = capacity;
    w->mask = capacity - 1;
    w->imask = 2 * capacity - 1;
    w->ring = calloc(capacity, sizeof *w->ring);
    w->index = calloc(2 * (size_t)capacity, sizeof *w->index);
    if (!w->ring || !w->index) {
        mp_eth_window_destroy(w);
        return -ENOMEM;
    }
    *out = w;
    return 0;
}

void mp_eth_window_destroy(mp_eth_window_t *w)
{
    if (!w) return;
    free(w->ring);
    free(w->index);
    free(w);
}

/* Full-avalanche 64-bit mix (the splitmix64 finalizer): every input bit reaches the
 * low bits the index uses. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* Keys are tx hashes (already uniform) or address || nonce (not: one sender's keys differ
 * in a few nonce bytes), so every word goes through the full mix. */
static uint32_t home_slot(const mp_eth_window_t *w, const uint8_t *key)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < MP_ETH_WINDOW_KEY; i += 8) {
        uint64_t x;
        memcpy(&x, key + i, sizeof x);
        h = mix64(h ^ x);
    }
    return (uint32_t)h & w->imask;
}

/* The index slot holding key, or the empty slot where it would go (*found false). */
static uint32_t find_slot(const mp_eth_window_t *w, const uint8_t *key, int *found)
{
    uint32_t i = home_slot(w, key);
    for (;;) {
        uint32_t v = w->index[i];
        if (v == 0) {
            *found = 0;
            return i;
        }
        if (memcmp(w->ring[v - 1].key, key, MP_ETH_WINDOW_KEY) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & w->imask;
    }
}

/* Empties index slot i and shifts later members of its probe run back, so every entry
 * stays reachable from its home slot (no tombstones, so lookups stay short). */
static void index_delete(mp_eth_window_t *w, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & w->imask;
        uint32_t v = w->index[j];
        if (v == 0) break;
        uint32_t k = home_slot(w, w->ring[v - 1].key);
        /* The entry at j may move to i unless its home k lies cyclically in (i, j]. */
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            w->index[i] = v;
            i = j;
        }
    }
    w->index[i] = 0;
}

const uint8_t *mp_eth_window_get(const mp_eth_window_t *w, const uint8_t key[MP_ETH_WINDOW_KEY])
{
    int found;
    uint32_t i = find_slot(w, key, &found);
    return found ? w->ring[w->index[i] - 1].value : NULL;
}

int mp_eth_window_put(mp_eth_window_t *w, const uint8_t key[MP_ETH_WINDOW_KEY],
                      const uint8_t *value)
{
    int found;
    uint32_t i = find_slot(w, key, &found);
    if (found) {
        window_entry_t *e = &w->ring[w->index[i] - 1];
        if (value)
            memcpy(e->value, value, MP_ETH_WINDOW_VALUE);
        else
            memset(e->value, 0, MP_ETH_WINDOW_VALUE);
        return 0;
    }
    if (w->count == w->capacity) {
        int old_found;
        uint32_t old = find_slot(w, w->ring[w->head & w->mask].key, &old_found);
        if (old_found) index_delete(w, old);
        w->head++;
        w->count--;
        i = find_slot(w, key, &found); /* the deletion may have moved the free slot */
    }
    uint32_t pos = (w->head + w->count) & w->mask;
    window_entry_t *e = &w->ring[pos];
    memcpy(e->key, key, MP_ETH_WINDOW_KEY);
    if (value)
        memcpy(e->value, value, MP_ETH_WINDOW_VALUE);
    else
        memset(e->value, 0, MP_ETH_WINDOW_VALUE);
    w->index[i] = pos + 1;
    w->count++;
    return 1;
}

uint32_t mp_eth_window_count(const mp_eth_window_t *w)
{
    return w->count;
}
