/* Per-second event counts over event time, for the "last 60 s / 10 s" rates of the
 * feature and chain entities. The functions work on the buckets[60] + bucket_second
 * fields those entities embed. */
#ifndef MP_RM_RATE_H
#define MP_RM_RATE_H

#include <stdbool.h>
#include <stdint.h>

#include "readmodel/rm_entities.h"
#include "readmodel/touch.h"

#define MP_RATE_SLOTS MP_RM_RATE_WINDOW_S
#define MP_NS_PER_S 1000000000ull

/* Window invariant: buckets[s % MP_RATE_SLOTS] holds the count of event-time second s
 * for every s in (bucket_second - MP_RATE_SLOTS, bucket_second]; there are no other
 * counts. A zeroed pair (all buckets 0, bucket_second 0) is a valid empty window. */

/* The event-time second of time_ns. */
static inline uint64_t mp_rate_second(uint64_t time_ns)
{
    return time_ns / MP_NS_PER_S;
}

/* The last second a TICK at tick_ns closes: the second holding tick_ns - 1 ns, so a tick
 * on a second boundary closes the full second before it. */
static inline uint64_t mp_rate_tick_second(uint64_t tick_ns)
{
    return tick_ns ? (tick_ns - 1) / MP_NS_PER_S : 0;
}

/* Moves the window forward so its newest second is `second`, zeroing the counts of the
 * seconds that left it. Does nothing when second <= *bucket_second (time never moves the
 * window back). Touches only the buckets it clears (those holding a count) and
 * bucket_second. Returns true when the window moved. */
bool mp_rate_roll(uint32_t buckets[MP_RATE_SLOTS], uint64_t *bucket_second, uint64_t second,
                  const mp_rm_touch_t *touch);

/* Counts n events at `second`, which must not be newer than *bucket_second (roll
 * first). A second older than the window is not counted. Counts saturate at UINT32_MAX.
 * Returns the amount actually added (0 when too old or saturated). */
uint32_t mp_rate_add(uint32_t buckets[MP_RATE_SLOTS], uint64_t bucket_second, uint64_t second,
                     uint32_t n, const mp_rm_touch_t *touch);

/* Rolls to `second` then counts n there: the common "an event happened" step. Returns
 * true when the window moved (the caller's cached sums are then stale). */
bool mp_rate_record(uint32_t buckets[MP_RATE_SLOTS], uint64_t *bucket_second, uint64_t second,
                    uint32_t n, const mp_rm_touch_t *touch);

/* Sum of the counts of the `seconds` seconds ending at end_second, i.e. seconds in
 * (end_second - seconds, end_second]; seconds is clamped to MP_RATE_SLOTS. Seconds newer
 * than bucket_second count as zero, so end_second may be ahead of the window (no roll
 * needed to read a rate). Saturates at UINT32_MAX. Pure. */
uint32_t mp_rate_sum(const uint32_t buckets[MP_RATE_SLOTS], uint64_t bucket_second,
                     uint64_t end_second, unsigned seconds);

#endif
