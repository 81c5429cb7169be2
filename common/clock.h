/* Clock readings in nanoseconds: wall time for event stamps, monotonic time for
 * intervals and heartbeats. */
#ifndef MP_CLOCK_H
#define MP_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t mp_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Unix time in ns (CLOCK_REALTIME): stamps that other machines and people read. */
static inline uint64_t mp_wall_ns(void)
{
    return mp_clock_ns(CLOCK_REALTIME);
}

/* Monotonic ns (CLOCK_MONOTONIC): durations, deadlines, heartbeats; shared across
 * processes of one boot, so one process may compare another's stamp with its own. */
static inline uint64_t mp_mono_ns(void)
{
    return mp_clock_ns(CLOCK_MONOTONIC);
}

/* Sleeps for ns nanoseconds (restarting after signals is the caller's business). */
static inline void mp_sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull)};
    nanosleep(&ts, NULL);
}

#endif
