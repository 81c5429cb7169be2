/* The readmodel's write side of its region: batches guarded by the undo log, slot
 * updates under seqlocks, and the touch hook the domain modules call before they change
 * state. Only the readmodel process uses this. */
#ifndef MP_RM_WRITER_H
#define MP_RM_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "readmodel/rm_region.h"
#include "readmodel/touch.h"


typedef struct mp_rm_writer {
    mp_rm_region_t *rm;
    mp_rm_touch_t touch; /* saves ranges into the undo log (see mp_rm_writer_touch) */
    bool in_batch;
    /* The slot opened by mp_rm_slot_begin: touches inside it are already saved. */
    const uint8_t *open_lo, *open_hi;
    uint64_t next_journal_seq; /* journal seq the next delta gets */
    uint64_t channel_seq[MP_CH_COUNT]; /* last journal seq per channel, published at commit */
    uint64_t undo_overflows;   /* touches refused because the log was full (a bug) */
    /* Metric cells in the region. */
    _Atomic uint64_t *m_evictions;
} mp_rm_writer_t;

/* Binds a writer to a region opened by mp_rm_open_writer, after recovery. */
void mp_rm_writer_init(mp_rm_writer_t *w, mp_rm_region_t *rm);

/* Opens a batch: from here every change is undone by a crash until mp_rm_commit. */
void mp_rm_batch_begin(mp_rm_writer_t *w);

/* Commits the batch: publishes the journal and the applied seq to readers. */
void mp_rm_commit(mp_rm_writer_t *w, uint64_t applied_seq, uint64_t event_time_ns);

/* Undo room left in the batch; callers start a new batch below a bound. */
uint64_t mp_rm_batch_room(const mp_rm_writer_t *w);

/* Saves [p, p+len) (inside the region) before the caller changes it. */
void mp_rm_save(mp_rm_writer_t *w, const void *p, size_t len);

/* Opens a seqlocked slot for writing: saves it (lock word included) and makes its
 * count odd. Until mp_rm_slot_end, touches inside the slot are free. */
void mp_rm_slot_begin(mp_rm_writer_t *w, mp_seqlock_t *lock, size_t slot_size);

/* Closes the slot opened by mp_rm_slot_begin: count even again. */
void mp_rm_slot_end(mp_rm_writer_t *w, mp_seqlock_t *lock);

#endif
