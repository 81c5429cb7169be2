/* Undo log for a single-writer region (SPEC 2.3 crash safety): before the writer
 * changes a range it saves the range's old bytes; committing a batch is one store that
 * empties the log; a writer restarted after SIGKILL rolls an unfinished batch back, so
 * the region is exactly as after the last committed batch. */
#ifndef MP_UNDO_H
#define MP_UNDO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define MP_UNDO_NO_SEQLOCK UINT64_MAX

/* Section "undo_log": this header, then capacity bytes of entries. */
typedef struct mp_undo_log {
    /* Non-zero while a batch is open: its entries must be rolled back after a crash.
     * Clearing it (release) is the batch's commit point. */
    _Atomic uint64_t active;
    /* Bytes of entries saved so far in the open batch; stored (release) after each
     * entry is complete and before the range it guards is written. */
    _Atomic uint64_t used;
    uint64_t capacity;
    uint64_t batches; /* committed batches, for metrics */
    uint8_t reserved[32];
    uint8_t data[];
} mp_undo_log_t;
_Static_assert(sizeof(mp_undo_log_t) == 64, "undo log header is one cache line");

/* One saved range: where it lives in the region, its length, the offset of the seqlock
 * guarding it (MP_UNDO_NO_SEQLOCK for none), then len old bytes padded to 8. */
typedef struct mp_undo_entry {
    uint64_t offset;
    uint64_t seqlock_offset;
    uint32_t len;
    uint32_t reserved;
} mp_undo_entry_t;
_Static_assert(sizeof(mp_undo_entry_t) == 24, "undo entry header");

/* Bytes one saved range of len bytes takes in the log. */
static inline uint64_t mp_undo_entry_size(uint32_t len)
{
    return sizeof(mp_undo_entry_t) + (((uint64_t)len + 7) & ~7ull);
}

/* Prepares an empty log of capacity entry bytes (fresh region). */
void mp_undo_format(mp_undo_log_t *u, uint64_t capacity);

/* Opens a batch. */
void mp_undo_begin(mp_undo_log_t *u);

/* Saves the current bytes of [base+offset, +len) before the caller changes them.
 * seqlock_offset names the seqlock guarding the range (bumped on rollback so readers
 * notice), or MP_UNDO_NO_SEQLOCK. Returns 0, or -ENOSPC when the log is full (the
 * caller must commit the batch first, before changing anything). */
int mp_undo_save(mp_undo_log_t *u, const uint8_t *base, uint64_t offset, uint32_t len,
                 uint64_t seqlock_offset);

/* Bytes still free in the open batch. */
static inline uint64_t mp_undo_room(const mp_undo_log_t *u)
{
    return u->capacity - atomic_load_explicit(&u->used, memory_order_relaxed);
}

/* Commits the open batch: after this the changes are permanent. */
void mp_undo_commit(mp_undo_log_t *u);

/* After a writer restart: when a batch was open, restores every saved range newest
 * first, bumps their seqlocks, and closes the batch. Idempotent (a crash during
 * recovery is recovered again). region_size bounds every offset. Returns the number of
 * ranges restored, or -EPROTO when an entry points outside the region (corrupt log; the
 * batch stays open). */
int mp_undo_recover(mp_undo_log_t *u, uint8_t *base, uint64_t region_size);

#endif
