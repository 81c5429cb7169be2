/* A bounded map from 32-byte keys to 32-byte values that forgets its oldest entry when
 * full. The eth source keeps two: the dedupe window of tx hashes already emitted, and
 * (from, nonce) -> hash of the latest pending tx, which reveals replacements. */
#ifndef MP_ETH_WINDOW_H
#define MP_ETH_WINDOW_H

#include <stdint.h>

#define MP_ETH_WINDOW_KEY 32
#define MP_ETH_WINDOW_VALUE 32

typedef struct mp_eth_window mp_eth_window_t;

/* Creates an empty window holding at most capacity entries (a power of two, 2 to 2^24).
 * Memory is fixed at creation: about 80 bytes per entry. Returns 0 and *out, -EINVAL for
 * a bad capacity, or -ENOMEM. */
int mp_eth_window_create(mp_eth_window_t **out, uint32_t capacity);

/* Frees the window; NULL is allowed. */
void mp_eth_window_destroy(mp_eth_window_t *w);

/* The value stored for key, or NULL. The pointer is valid until the next put. */
const uint8_t *mp_eth_window_get(const mp_eth_window_t *w, const uint8_t key[MP_ETH_WINDOW_KEY]);

/* Stores value under key. A new key is appended as the newest entry, evicting the oldest
 * when the window is full; an existing key has its value replaced and keeps its age.
 * value may be NULL (stored as zeros). Returns 1 when the key was new, 0 when updated. */
int mp_eth_window_put(mp_eth_window_t *w, const uint8_t key[MP_ETH_WINDOW_KEY],
                      const uint8_t *value);

/* Entries held (<= capacity). */
uint32_t mp_eth_window_count(const mp_eth_window_t *w);

#endif
