/* Coalesced changes since a journal seq: reads the delta journal over (since, until],
 * keeps the newest change per (channel, entity id) - an upsert then a remove is a remove,
 * a remove then an upsert an upsert - and lists the survivors in seq order. Memory is
 * fixed at creation; the work is bounded by the caller's limits, past which the caller
 * serves a full snapshot instead. */
#ifndef MP_GW_DELTA_H
#define MP_GW_DELTA_H

#include <stdint.h>

#include "readmodel/journal.h"

typedef struct mp_gw_delta mp_gw_delta_t;

/* A coalescer for up to cap distinct entities. Returns 0 or -ENOMEM. */
int mp_gw_delta_create(uint32_t cap, mp_gw_delta_t **out);

/* Frees the coalescer (NULL is fine). */
void mp_gw_delta_destroy(mp_gw_delta_t *d);

/* Entities the coalescer was created for. */
uint32_t mp_gw_delta_capacity(const mp_gw_delta_t *d);

/* Collects the changes of the channels in mask (bit per mp_rm_channel_t) with seq in
 * (since, until]; until must be published (<= journal_seq). Reads at most max_scan
 * deltas and keeps at most max_items (<= capacity) entities. Returns 0; -ERANGE when
 * since + 1 is (or falls, while reading) out of the journal window; -E2BIG past a
 * limit; -EPROTO for a channel reset or an entry that does not describe itself. In all
 * error cases the caller serves a full snapshot. */
int mp_gw_delta_collect(mp_gw_delta_t *d, const mp_rm_region_t *rm, uint64_t since, uint64_t until,
                        uint32_t mask, uint64_t max_scan, uint32_t max_items);

/* Entities collected by the last successful collect. */
uint32_t mp_gw_delta_count(const mp_gw_delta_t *d);

/* The i-th surviving change (i < count), in ascending seq order; valid until the next
 * collect. entry.op is MP_OP_UPSERT (entity in u) or MP_OP_REMOVE. */
const mp_rm_delta_t *mp_gw_delta_item(const mp_gw_delta_t *d, uint32_t i);

/* Seq of the newest change collected on channel ch, 0 when none. */
uint64_t mp_gw_delta_channel_seq(const mp_gw_delta_t *d, unsigned ch);

#endif
