/* Owns the per-second bucket window arithmetic behind every "events in the last N s of
 * event time" figure: rolling forward, counting, summing. */
#include "readmodel/rate.h"

#include <string.h>

/* Zeroes `count` consecutive seconds' buckets starting at index `from` (wrapping), with
 * one touch per run of adjacent non-zero buckets: a bucket that is already zero is not
 * written, so idle windows cost no undo bytes. */
static void clear_buckets(uint32_t *buckets, unsigned from, unsigned count,
                          const mp_rm_touch_t *touch)
{
    unsigned run_start = 0, run_len = 0;
    for (unsigned k = 0; k < count; k++) {
        unsigned i = (from + k) % MP_RATE_SLOTS;
        bool contiguous = run_len && i == run_start + run_len;
        if (run_len && (!buckets[i] || !contiguous)) {
            mp_rm_touch(touch, &buckets[run_start], run_len * sizeof buckets[0]);
            memset(&buckets[run_start], 0, run_len * sizeof buckets[0]);
            run_len = 0;
        }
        if (buckets[i]) {
            if (!run_len) run_start = i;
            run_len++;
        }
    }
    if (run_len) {
        mp_rm_touch(touch, &buckets[run_start], run_len * sizeof buckets[0]);
        memset(&buckets[run_start], 0, run_len * sizeof buckets[0]);
    }
}

bool mp_rate_roll(uint32_t buckets[MP_RATE_SLOTS], uint64_t *bucket_second, uint64_t second,
                  const mp_rm_touch_t *touch)
{
    uint64_t old = *bucket_second;
    if (second <= old) return false;
    uint64_t gap = second - old;
    if (gap >= MP_RATE_SLOTS)
        clear_buckets(buckets, 0, MP_RATE_SLOTS, touch);
    else
        clear_buckets(buckets, (unsigned)((old + 1) % MP_RATE_SLOTS), (unsigned)gap, touch);
    mp_rm_touch(touch, bucket_second, sizeof *bucket_second);
    *bucket_second = second;
    return true;
}

/* True when `second` lies in the window ending at bucket_second. */
static inline bool in_window(uint64_t bucket_second, uint64_t second)
{
    return second <= bucket_second && bucket_second - second < MP_RATE_SLOTS;
}

uint32_t mp_rate_add(uint32_t buckets[MP_RATE_SLOTS], uint64_t bucket_second, uint64_t second,
                     uint32_t n, const mp_rm_touch_t *touch)
{
    if (!n || !in_window(bucket_second, second)) return 0;
    uint32_t *b = &buckets[second % MP_RATE_SLOTS];
    uint32_t room = UINT32_MAX - *b;
    uint32_t add = n < room ? n : room;
    if (!add) return 0;
    mp_rm_touch(touch, b, sizeof *b);
    *b += add;
    return add;
}

bool mp_rate_record(uint32_t buckets[MP_RATE_SLOTS], uint64_t *bucket_second, uint64_t second,
                    uint32_t n, const mp_rm_touch_t *touch)
{
    bool moved = mp_rate_roll(buckets, bucket_second, second, touch);
    mp_rate_add(buckets, *bucket_second, second, n, touch);
    return moved;
}

uint32_t mp_rate_sum(const uint32_t buckets[MP_RATE_SLOTS], uint64_t bucket_second,
                     uint64_t end_second, unsigned seconds)
{
    if (!seconds) return 0;
    if (seconds > MP_RATE_SLOTS) seconds = MP_RATE_SLOTS;
    /* Overlap of (end - seconds, end] with (bucket_second - SLOTS, bucket_second], as an
     * inclusive range [lo, hi]; computed without going below zero. */
    uint64_t hi = end_second < bucket_second ? end_second : bucket_second;
    uint64_t lo_req = end_second >= seconds - 1 ? end_second - (seconds - 1) : 0;
    uint64_t lo_win = bucket_second >= MP_RATE_SLOTS - 1 ? bucket_second - (MP_RATE_SLOTS - 1) : 0;
    uint64_t lo = lo_req > lo_win ? lo_req : lo_win;
    if (lo > hi) return 0;
    uint64_t sum = 0;
    for (uint64_t s = lo; s - lo <= hi - lo; s++) /* at most SLOTS iterations */
        sum += buckets[s % MP_RATE_SLOTS];
    return sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}
