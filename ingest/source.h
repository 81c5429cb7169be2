/* The interface every upstream source implements for ingest's main loop: produce the
 * next event, pace itself, and save / restore its position so a restarted ingest
 * continues exactly after the last committed record. */
#ifndef MP_SOURCE_H
#define MP_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/event.h"

typedef struct mp_source mp_source_t;

/* A named counter or gauge a source keeps beyond malformed_total ("eth_reconnects_total").
 * The source updates value; ingest mirrors it into the region's metrics: a counter as the
 * region's value at ingest start plus value (so counters survive restarts), a gauge as is. */
typedef struct mp_source_stat {
    const char *name;
    bool gauge;
    uint64_t value;
} mp_source_stat_t;

/* Result of mp_source_ops.next. */
enum {
    MP_SOURCE_EVENT = 1, /* *ev holds an event */
    MP_SOURCE_IDLE = 0,  /* nothing now; call again after *wait_ns (the loop caps the wait) */
    MP_SOURCE_END = -1,  /* input exhausted (end of file); the loop exits 0 */
    /* any other negative value: -errno of a fatal error (already logged) */
};

typedef struct mp_source_ops {
    /* Produces the next event. Memory ev points into (input_prefix) belongs to the source
     * and stays valid until the next call. Never blocks longer than about 100 ms, so the
     * loop can honour SIGTERM. */
    int (*next)(mp_source_t *s, mp_event_t *ev, uint64_t *wait_ns);
    /* Copies the source's position after the last event returned by next into buf.
     * Returns the byte count (<= cap), or 0 when the source cannot be resumed (stdin). */
    uint32_t (*save)(mp_source_t *s, void *buf, uint32_t cap);
    /* Restores a position saved by save; the loop then calls next and discards the
     * results to skip events committed after that save. Returns 0 or -EINVAL. */
    int (*restore)(mp_source_t *s, const void *buf, uint32_t len);
    /* Optional: discards the next n events as fast as possible, ignoring pacing (used
     * right after restore). NULL: the loop calls next and waits out IDLE. */
    int (*skip)(mp_source_t *s, uint64_t n);
    void (*destroy)(mp_source_t *s);
} mp_source_ops_t;

struct mp_source {
    const mp_source_ops_t *ops;
    const char *name; /* "synthetic", "file", "eth" */
    /* Identity of the configuration (kind, seed, rate, path...): a checkpoint is only
     * restored into a source with the same fingerprint. */
    uint64_t fingerprint;
    /* Save a checkpoint after this many events (1: after every event). */
    uint32_t checkpoint_every;
    /* Counters the source maintains; ingest mirrors them into the region's metrics. */
    uint64_t malformed_total;
    /* Optional further counters (NULL, 0 when none); the array lives as long as the source. */
    mp_source_stat_t *stats;
    uint32_t nstats;
};

#endif
