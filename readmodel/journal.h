/* The delta journal (SPEC 2.3): a bounded log of upserts and removes with the global
 * journal seq, the source of stream-v2 and of resumes. Fixed entries indexed by seq plus
 * a byte ring for the entity bytes; entries are immutable once their seq is published. */
#ifndef MP_RM_JOURNAL_H
#define MP_RM_JOURNAL_H

#include <stdint.h>

#include "readmodel/rm_region.h"
#include "readmodel/rm_writer.h"

/* Writer: appends a delta. entity/len: the entity bytes (NULL/0 for removes). id_len:
 * bytes of id that count. Raises the window floor before reusing an entry or entity
 * bytes. Returns the delta's journal seq (published at the batch commit). */
uint64_t mp_rm_journal_append(mp_rm_writer_t *w, mp_rm_channel_t channel, mp_rm_op_t op,
                              mp_rm_kind_t kind, const mp_rm_id_t *id, uint8_t id_len,
                              const void *entity, uint32_t len, uint64_t event_time_ns);

/* A delta copied out by a reader. */
typedef struct mp_rm_delta {
    mp_rm_journal_entry_t entry;
    mp_rm_entity_t u; /* entry.data_len bytes of it are the entity (none for a remove) */
} mp_rm_delta_t;

/* Reader: copies delta `seq`. Returns 0; -EAGAIN when seq is not yet published;
 * -ERANGE when seq fell out of the journal window (before or while copying: the caller
 * resyncs); -EPROTO for an entry that does not describe itself consistently. */
int mp_rm_journal_read(const mp_rm_region_t *rm, uint64_t seq, mp_rm_delta_t *out);

/* Oldest seq still readable (journal window start) and the newest published. */
uint64_t mp_rm_journal_oldest(const mp_rm_region_t *rm);
uint64_t mp_rm_journal_newest(const mp_rm_region_t *rm);

#endif
