/* Named counters and gauges a writer keeps in its region, so other processes (the
 * gateway's /metrics, mempulse-shm stats) can export them without knowing the writer. */
#ifndef MP_METRICS_H
#define MP_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#define MP_METRIC_NAME_MAX 48

typedef enum mp_metric_kind {
    MP_METRIC_COUNTER = 1, /* only grows; survives writer restarts */
    MP_METRIC_GAUGE = 2,   /* a level the writer sets */
} mp_metric_kind_t;

/* One named value. name is NUL-terminated and set once (before count publishes it). */
typedef struct mp_metric_slot {
    char name[MP_METRIC_NAME_MAX];
    uint32_t kind;
    uint32_t reserved;
    _Atomic uint64_t value;
} mp_metric_slot_t;
_Static_assert(sizeof(mp_metric_slot_t) == 64, "metric slots are one cache line");

/* Section "metrics": a header line, then capacity slots. */
typedef struct mp_metrics {
    /* Slots [0, count) are named. Writer stores count with release after naming a slot
     * (pairs with the acquire in readers). */
    _Atomic uint32_t count;
    uint32_t capacity;
    uint8_t reserved[56];
    mp_metric_slot_t slots[];
} mp_metrics_t;
_Static_assert(sizeof(mp_metrics_t) == 64, "metrics header is one cache line");

#define MP_METRICS_SECTION_SIZE(cap) (sizeof(mp_metrics_t) + (cap) * sizeof(mp_metric_slot_t))

/* Prepares an empty metrics section of capacity slots (writer, fresh region). */
void mp_metrics_format(mp_metrics_t *m, uint32_t capacity);

/* Writer: the value cell for name, found among existing slots (a restarted writer keeps
 * its counters) or appended. Returns NULL when the section is full or name too long. */
_Atomic uint64_t *mp_metrics_get(mp_metrics_t *m, const char *name, mp_metric_kind_t kind);

/* Reader: the value of name, or 0 when absent. */
uint64_t mp_metrics_read(const mp_metrics_t *m, const char *name);

/* Number of published slots, clamped to capacity (never trust shared memory blindly). */
uint32_t mp_metrics_count(const mp_metrics_t *m);

static inline void mp_metric_add(_Atomic uint64_t *cell, uint64_t n)
{
    if (cell) atomic_fetch_add_explicit(cell, n, memory_order_relaxed);
}

static inline void mp_metric_set(_Atomic uint64_t *cell, uint64_t v)
{
    if (cell) atomic_store_explicit(cell, v, memory_order_relaxed);
}

#endif
