/* The readmodel's apply engine: events from the ring, in seq order, applied in batches
 * to every section (SPEC 2.3, 3.2-3.4), each change journalled on its channel. State is
 * a pure function of the event sequence: no clock, no randomness. */
#ifndef MP_RM_APPLY_H
#define MP_RM_APPLY_H

#include <stdint.h>

#include "proto/event.h"
#include "readmodel/rm_region.h"
#include "readmodel/rm_writer.h"
#include "shm/ring.h"

typedef struct mp_rm_engine {
    mp_rm_writer_t w;
    mp_rm_region_t *rm;
    uint64_t event_time_ns; /* newest event time applied */
    /* Metric cells in the region. */
    _Atomic uint64_t *m_events;
    _Atomic uint64_t *m_decode_errors;
    _Atomic uint64_t *m_opportunities;
} mp_rm_engine_t;

/* Binds the engine to a region opened (and recovered) by mp_rm_open_writer; formats the
 * domain tables of a fresh region. */
void mp_rm_engine_init(mp_rm_engine_t *e, mp_rm_region_t *rm);

/* Undo room one event may need at most; the caller commits before an event when less
 * is left. */
uint64_t mp_rm_engine_event_reserve(const mp_rm_engine_t *e);

/* Applies one event with its ring seq inside an open batch. */
void mp_rm_apply_event(mp_rm_engine_t *e, const mp_event_t *ev);

/* Applies one undecodable ring record: counted, state unchanged. */
void mp_rm_apply_undecodable(mp_rm_engine_t *e);

/* One batch: reads up to max records from the events ring (fewer when the undo log runs
 * short or the ring is empty), applies them and commits. buf holds MP_RING_MAX_PAYLOAD
 * bytes. Seqs lost to ring laps are logged and added to *gap_events. Returns the number
 * of records consumed (0: nothing to do, nothing committed). */
uint32_t mp_rm_apply_batch(mp_rm_engine_t *e, mp_ring_reader_t *reader, uint8_t *buf, uint32_t max,
                           uint64_t *gap_events);

/* Recomputes dashboard_read_model_bytes (called at commit). */
uint64_t mp_rm_bytes_used(const mp_rm_region_t *rm);

#endif
