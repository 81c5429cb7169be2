/* Batches, undo saves and seqlocked slot writes for the readmodel's region. */
#include "readmodel/rm_writer.h"

#include "common/log.h"

#include <stdlib.h>
#include <string.h>

static void touch_fn(void *ctx, const void *p, size_t n)
{
    mp_rm_save(ctx, p, n);
}

void mp_rm_writer_init(mp_rm_writer_t *w, mp_rm_region_t *rm)
{
    memset(w, 0, sizeof *w);
    w->rm = rm;
    w->touch.fn = touch_fn;
    w->touch.ctx = w;
    w->next_journal_seq = atomic_load_explicit(&rm->ctl->journal_seq, memory_order_relaxed) + 1;
    for (int c = 0; c < MP_CH_COUNT; c++)
        w->channel_seq[c] = atomic_load_explicit(&rm->ctl->channel_seq[c], memory_order_relaxed);
    w->m_evictions = mp_metrics_get(rm->metrics, "dashboard_evictions_total", MP_METRIC_COUNTER);
}

void mp_rm_batch_begin(mp_rm_writer_t *w)
{
    mp_undo_begin(w->rm->undo);
    w->in_batch = true;
}

uint64_t mp_rm_batch_room(const mp_rm_writer_t *w)
{
    return mp_undo_room(w->rm->undo);
}

void mp_rm_save(mp_rm_writer_t *w, const void *p, size_t len)
{
    const uint8_t *b = p;
    if (b >= w->open_lo && b + len <= w->open_hi) return; /* inside the open slot: saved */
    uint8_t *base = w->rm->region.base;
    if (mp_undo_save(w->rm->undo, base, (uint64_t)(b - base), (uint32_t)len, MP_UNDO_NO_SEQLOCK)) {
        /* The engine reserves room per event; running out means that bound is wrong.
         * Changing state without its undo record would break crash safety: stop here, the
         * restart rolls the batch back. */
        mp_log("undo log full (%zu bytes needed): the per-event reservation is too small", len);
        abort();
    }
}

void mp_rm_slot_begin(mp_rm_writer_t *w, mp_seqlock_t *lock, size_t slot_size)
{
    uint8_t *base = w->rm->region.base, *p = (uint8_t *)lock;
    uint64_t off = (uint64_t)(p - base);
    if (mp_undo_save(w->rm->undo, base, off, (uint32_t)slot_size, off)) {
        mp_log("undo log full (%zu bytes needed): the per-event reservation is too small", slot_size);
        abort();
    }
    w->open_lo = p;
    w->open_hi = p + slot_size;
    mp_seqlock_write_begin(lock);
}

void mp_rm_slot_end(mp_rm_writer_t *w, mp_seqlock_t *lock)
{
    mp_seqlock_write_end(lock);
    w->open_lo = w->open_hi = NULL;
}

void mp_rm_commit(mp_rm_writer_t *w, uint64_t applied_seq, uint64_t event_time_ns)
{
    mp_rm_control_t *ctl = w->rm->ctl;
    /* The published watermarks are part of the batch: a crash before the commit point
     * restores them with everything else. */
    mp_rm_save(w, ctl, offsetof(mp_rm_control_t, journal_floor_seq));
    for (int c = 0; c < MP_CH_COUNT; c++)
        atomic_store_explicit(&ctl->channel_seq[c], w->channel_seq[c], memory_order_relaxed);
    atomic_store_explicit(&ctl->event_time_ns, event_time_ns, memory_order_relaxed);
    atomic_store_explicit(&ctl->revision,
                          atomic_load_explicit(&ctl->revision, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&ctl->applied_seq, applied_seq, memory_order_relaxed);
    /* Release: every entry up to journal_seq is complete before readers see it. */
    atomic_store_explicit(&ctl->journal_seq, w->next_journal_seq - 1, memory_order_release);
    mp_undo_commit(w->rm->undo);
    w->in_batch = false;
    /* Ingest's tether follows the header's progress_seq (acquire in mp_tether_applied). */
    atomic_store_explicit(&mp_region_header(&w->rm->region)->progress_seq, applied_seq,
                          memory_order_release);
}
