/* Feature aggregates per (protocol, category) (SPEC 3.2): the bounded feature_top table
 * the readmodel keeps in shared memory, and the recent-row fill; implemented in
 * features.c. (Not named features.h: meson puts readmodel/ on the include path of its
 * targets, where that name would shadow glibc's <features.h>.) */
#ifndef MP_RM_FEATURE_TOP_H
#define MP_RM_FEATURE_TOP_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/eth_catalog.h"
#include "proto/event.h"
#include "readmodel/rm_entities.h"
#include "readmodel/touch.h"

#define MP_FEAT_CAPACITY 256
/* Key space of the direct index. Protocol and category ids are append-only enums well
 * below these; raising either changes the table layout (and the region version). */
#define MP_FEAT_MAX_PROTOCOLS 64
#define MP_FEAT_MAX_CATEGORIES 32
_Static_assert(MP_PROTO_COUNT <= MP_FEAT_MAX_PROTOCOLS, "feature key space: protocols");
_Static_assert(MP_CAT_COUNT <= MP_FEAT_MAX_CATEGORIES, "feature key space: categories");

/* The feature_top table: POD, no pointers, position-independent. A zeroed table is
 * empty and valid.
 * Invariants: slots [0, used) hold distinct keys and no others; slot_of[key] is 1 + the
 * slot of key, or 0 when the key is absent; for every held entry, rate_60s equals the
 * sum of its buckets (so rate_60s == 0 means an idle, all-zero window). */
typedef struct mp_feat_table {
    uint32_t used;
    uint32_t reserved0;
    uint16_t slot_of[MP_FEAT_MAX_PROTOCOLS * MP_FEAT_MAX_CATEGORIES];
    mp_rm_feature_top_t entries[MP_FEAT_CAPACITY];
} mp_feat_table_t;
_Static_assert(sizeof(mp_feat_table_t) == 8 + 2 * 64 * 32 + 344 * MP_FEAT_CAPACITY,
               "feature table layout");
_Static_assert(sizeof(mp_feat_table_t) == 92168, "feature table size");

/* What one update did, for the deltas the engine appends. */
typedef struct mp_feat_result {
    int32_t slot;             /* entries[slot] is the updated key: upsert it */
    bool inserted;            /* the key was not in the table before */
    bool evicted;             /* another key left the table to make room: remove it */
    uint8_t evicted_protocol; /* valid when evicted */
    uint8_t evicted_category;
} mp_feat_result_t;

/* Prepares a fresh table (zeroes it). For new memory only: nothing is touched. */
void mp_feat_init(mp_feat_table_t *t);

/* Adds one seen transaction to the aggregate of its classification's (protocol,
 * category): count +1, gas limit and value (gwei) sums, saturating; first/last seen
 * (event time; last seen never moves back), last tx hash; the 60 s rate. A new key takes
 * a free slot or, when the table is full, the slot of the least recently seen key
 * (ties: lowest slot), which *res reports. O(1) except that eviction scans the table.
 * Returns 0, or -EINVAL for NULL arguments or ids outside the key space (nothing
 * changed). */
int mp_feat_on_tx(mp_feat_table_t *t, const mp_tx_seen_t *tx, const mp_classification_t *c,
                  uint64_t time_ns, const mp_rm_touch_t *touch, mp_feat_result_t *res);

/* Rolls every key's rate window to the TICK at time_ns and recomputes rate_60s. Writes
 * the slots whose rate_60s changed to changed[] (up to max_changed; the caller's
 * buffer, not touched) and returns how many changed in total. Idle keys (rate 0) are
 * skipped without a write. */
int mp_feat_on_tick(mp_feat_table_t *t, uint64_t time_ns, const mp_rm_touch_t *touch,
                    uint16_t *changed, int max_changed);

/* The entry of (protocol, category), or NULL when absent. */
const mp_rm_feature_top_t *mp_feat_find(const mp_feat_table_t *t, unsigned protocol,
                                        unsigned category);

/* Entity id of a key: ASCII "<protocol>/<category>" ("uniswap-v2/swap"), zero-padded. */
void mp_feat_id(unsigned protocol, unsigned category, mp_rm_id_t *id);

/* Fills *out (the caller's buffer; seq left 0 for the engine) with the recent-row view
 * of one classified transaction seen at time_ns. */
void mp_feat_fill_recent(mp_rm_feature_recent_t *out, const mp_tx_seen_t *tx,
                         const mp_classification_t *c, uint64_t time_ns);

/* A wei amount in whole gwei (rounded down), saturating at UINT64_MAX. */
uint64_t mp_feat_wei_to_gwei(const mp_u256_t *wei);

#endif
