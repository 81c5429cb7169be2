/* Undo log: save old bytes before a write, commit by emptying, roll back after a crash. */
#include "shm/undo.h"

#include "shm/seqlock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void mp_undo_format(mp_undo_log_t *u, uint64_t capacity)
{
    memset(u, 0, sizeof *u);
    u->capacity = capacity;
}

void mp_undo_begin(mp_undo_log_t *u)
{
    atomic_store_explicit(&u->used, 0, memory_order_relaxed);
    atomic_store_explicit(&u->active, 1, memory_order_release);
    /* Nothing of the batch may be written before the batch is marked open. */
    atomic_signal_fence(memory_order_seq_cst);
}

int mp_undo_save(mp_undo_log_t *u, const uint8_t *base, uint64_t offset, uint32_t len,
                 uint64_t seqlock_offset)
{
    uint64_t used = atomic_load_explicit(&u->used, memory_order_relaxed);
    uint64_t size = mp_undo_entry_size(len);
    if (size > u->capacity - used) return -ENOSPC;
    mp_undo_entry_t *e = (mp_undo_entry_t *)(u->data + used);
    e->offset = offset;
    e->seqlock_offset = seqlock_offset;
    e->len = len;
    e->reserved = 0;
    memcpy(e + 1, base + offset, len);
    /* The entry counts only once complete; the caller's write to the range comes after
     * (the fence keeps the compiler from hoisting it: a SIGKILL stops the process at an
     * instruction boundary, so program order is what survives). */
    atomic_store_explicit(&u->used, used + size, memory_order_release);
    atomic_signal_fence(memory_order_seq_cst);
    return 0;
}

void mp_undo_commit(mp_undo_log_t *u)
{
    atomic_signal_fence(memory_order_seq_cst);
    atomic_store_explicit(&u->active, 0, memory_order_release);
    u->batches++;
}

int mp_undo_recover(mp_undo_log_t *u, uint8_t *base, uint64_t region_size)
{
    if (!atomic_load_explicit(&u->active, memory_order_acquire)) return 0;
    uint64_t used = atomic_load_explicit(&u->used, memory_order_relaxed);
    if (used > u->capacity) return -EPROTO;
    /* Walk forward to find the entries, then restore newest first so a range saved twice
     * ends with its oldest bytes. */
    uint64_t n = 0, pos = 0;
    while (pos < used) {
        const mp_undo_entry_t *e = (const mp_undo_entry_t *)(u->data + pos);
        if (used - pos < sizeof *e || mp_undo_entry_size(e->len) > used - pos ||
            e->offset > region_size || e->len > region_size - e->offset ||
            (e->seqlock_offset != MP_UNDO_NO_SEQLOCK && e->seqlock_offset > region_size - 4))
            return -EPROTO;
        pos += mp_undo_entry_size(e->len);
        n++;
    }
    uint64_t *at = malloc((n ? n : 1) * sizeof *at);
    if (!at) return -ENOMEM;
    pos = 0;
    for (uint64_t i = 0; i < n; i++) {
        at[i] = pos;
        pos += mp_undo_entry_size(((const mp_undo_entry_t *)(u->data + pos))->len);
    }
    for (uint64_t i = n; i-- > 0;) {
        const mp_undo_entry_t *e = (const mp_undo_entry_t *)(u->data + at[i]);
        mp_seqlock_t *sl = e->seqlock_offset == MP_UNDO_NO_SEQLOCK
                               ? NULL
                               : (mp_seqlock_t *)(base + e->seqlock_offset);
        /* The count moves past every value a reader may have seen, even when the saved
         * range contains the seqlock word itself: odd while restoring, then even. */
        uint32_t cur = sl ? atomic_load_explicit(sl, memory_order_relaxed) : 0;
        if (sl) {
            atomic_store_explicit(sl, cur | 1, memory_order_relaxed);
            atomic_thread_fence(memory_order_release);
        }
        memcpy(base + e->offset, e + 1, e->len);
        if (sl) atomic_store_explicit(sl, (cur | 1) + 1, memory_order_release);
    }
    free(at);
    atomic_signal_fence(memory_order_seq_cst);
    atomic_store_explicit(&u->active, 0, memory_order_release);
    return (int)n;
}
