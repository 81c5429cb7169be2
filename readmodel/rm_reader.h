/* Reading the read model from another process (gateway, tools): consistent copies of
 * every entity of a channel, the watermarks, with bounded retries; a slot the writer
 * keeps changing (or left mid-write when killed) is skipped and counted, never waited on. */
#ifndef MP_RM_READER_H
#define MP_RM_READER_H

#include <stdint.h>

#include "proto/eth_catalog.h"
#include "readmodel/journal.h"
#include "readmodel/rm_region.h"
#include "readmodel/tx_store.h"

/* Called for each entity; entity points to a private copy valid during the call.
 * Returning non-zero stops the listing (that value is returned). */
typedef int (*mp_rm_visit_fn)(void *ctx, mp_rm_kind_t kind, const void *entity);

/* What a listing could not deliver. */
typedef struct mp_rm_list_stats {
    uint64_t skipped; /* slots still being written after bounded retries (or left mid-write
                         by a killed writer): skipped, never waited on */
    uint64_t torn;    /* consistent-looking copies whose check failed: a bug if ever non-zero */
} mp_rm_list_stats_t;

/* Lists the entities of channel ch: tx.main and the rings newest first, tables in slot
 * order. st (optional) accumulates what could not be delivered. */
int mp_rm_list(const mp_rm_region_t *rm, mp_rm_channel_t ch, mp_rm_visit_fn fn, void *ctx,
               mp_rm_list_stats_t *st);

/* Watermarks as readers see them. */
typedef struct mp_rm_marks {
    uint64_t applied_seq;
    uint64_t journal_seq;
    uint64_t oldest_journal_seq;
    uint64_t channel_seq[MP_CH_COUNT];
    uint64_t revision;
    uint64_t bytes_used;
    uint64_t event_time_ns;
} mp_rm_marks_t;

void mp_rm_read_marks(const mp_rm_region_t *rm, mp_rm_marks_t *m);

/* "tx.main" ... ; NULL out of range. */
const char *mp_rm_channel_name(unsigned ch);

/* Channel index of a name, or -EINVAL. */
int mp_rm_channel_from_name(const char *name, size_t len);

/* The entity's own seq (first field of every entity). */
static inline uint64_t mp_rm_entity_seq(const void *entity)
{
    return *(const uint64_t *)entity;
}

/* The entity's id as stored in the journal: bytes and length. */
void mp_rm_entity_id(mp_rm_kind_t kind, const void *entity, mp_rm_id_t *id, uint8_t *id_len);

#endif
