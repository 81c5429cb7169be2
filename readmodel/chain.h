/* Chain status per chain id (SPEC 3.4 chain.main): head, base fee, gas use, average
 * block time and tx rates, in a bounded table the readmodel keeps in shared memory. */
#ifndef MP_RM_CHAIN_H
#define MP_RM_CHAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/event.h"
#include "readmodel/rm_entities.h"
#include "readmodel/touch.h"

#define MP_CHAIN_CAPACITY 16

/* The chain_status table: POD, zeroed = empty.
 * Invariants: slots [0, used) hold distinct chains; chain_ids[i] == chains[i].chain_id;
 * last_active_s[i] is the latest event second of a tx or block of that chain (the
 * eviction order when a new chain arrives at a full table). */
typedef struct mp_chain_table {
    uint32_t used;
    uint32_t reserved0;
    uint64_t chain_ids[MP_CHAIN_CAPACITY];
    uint64_t last_active_s[MP_CHAIN_CAPACITY];
    mp_rm_chain_t chains[MP_CHAIN_CAPACITY];
} mp_chain_table_t;
_Static_assert(sizeof(mp_chain_table_t) == 8 + 16 * MP_CHAIN_CAPACITY + 424 * MP_CHAIN_CAPACITY,
               "chain table layout");
_Static_assert(sizeof(mp_chain_table_t) == 7048, "chain table size");

/* Where an event landed, for the engine's deltas. */
typedef struct mp_chain_result {
    int32_t slot;  /* chains[slot] is the chain's entity */
    bool inserted; /* first event of this chain */
    bool evicted;  /* a chain left the table to make room: remove it */
    bool changed;  /* visible fields changed: upsert it */
    uint64_t evicted_chain_id;
} mp_chain_result_t;

/* Prepares a fresh table (zeroes it). For new memory only: nothing is touched. */
void mp_chain_init(mp_chain_table_t *t);

/* Applies a BLOCK seen at time_ns: a block at or above the current head becomes the head
 * (number, hash, base fee, gas used/limit, timestamp, arrival time); a block below it
 * (late or from a deep reorg) only counts in blocks_seen. When the number advances by
 * k >= 1 and the timestamp does not go back, (timestamp delta) / k enters the ring of
 * the last MP_RM_BLOCK_TIMES block times, whose mean is avg_block_time_ms.
 * Returns 0, or -EINVAL on NULL arguments. */
int mp_chain_on_block(mp_chain_table_t *t, const mp_block_t *b, uint64_t time_ns,
                      const mp_rm_touch_t *touch, mp_chain_result_t *res);

/* Counts one transaction of chain_id seen at time_ns in the chain's rate window. The
 * visible rates move on TICK only, so res->changed is false unless the chain is new.
 * Returns 0, or -EINVAL. */
int mp_chain_on_tx(mp_chain_table_t *t, uint64_t chain_id, uint64_t time_ns,
                   const mp_rm_touch_t *touch, mp_chain_result_t *res);

/* Rolls every chain's window to the TICK at time_ns and recomputes tx_rate_10s and
 * tx_rate_60s. Writes the slots whose rates changed to changed[] (up to max_changed;
 * the caller's buffer) and returns how many changed. */
int mp_chain_on_tick(mp_chain_table_t *t, uint64_t time_ns, const mp_rm_touch_t *touch,
                     uint16_t *changed, int max_changed);

/* Sets the tracked pending count of the chain in slot (the engine counts pending txs).
 * Returns 1 when it changed, 0 when equal, -EINVAL for a bad slot. */
int mp_chain_set_pending(mp_chain_table_t *t, int slot, uint64_t pending,
                         const mp_rm_touch_t *touch);

/* The slot of chain_id, or -ENOENT. */
int mp_chain_find(const mp_chain_table_t *t, uint64_t chain_id);

/* Entity id: ASCII "chain:<decimal id>", zero-padded. */
void mp_chain_id(uint64_t chain_id, mp_rm_id_t *id);

#endif
