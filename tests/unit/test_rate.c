/* Unit tests for readmodel/rate.c: per-second buckets over event time, rolled forward
 * across gaps, summed over the last N seconds, touched only where they change. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "readmodel/rate.h"

#include "touch_harness.h"

typedef struct window {
    uint64_t bucket_second;
    uint32_t buckets[MP_RATE_SLOTS];
} window_t;

#define T0 1700000000ull /* an event-time second */

static void record(window_t *w, uint64_t second, uint32_t n)
{
    mp_rate_record(w->buckets, &w->bucket_second, second, n, NULL);
}

static uint32_t sum(const window_t *w, uint64_t end, unsigned n)
{
    return mp_rate_sum(w->buckets, w->bucket_second, end, n);
}

Test(rate, counts_events_of_one_second)
{
    window_t w = {0};
    record(&w, T0, 1);
    record(&w, T0, 2);
    cr_assert_eq(w.bucket_second, T0);
    cr_assert_eq(sum(&w, T0, 1), 3);
    cr_assert_eq(sum(&w, T0, 60), 3);
}

Test(rate, sums_only_the_last_n_seconds)
{
    window_t w = {0};
    for (uint64_t s = 0; s < 60; s++)
        record(&w, T0 + s, 1); /* one event per second for a minute */
    cr_assert_eq(sum(&w, T0 + 59, 10), 10);
    cr_assert_eq(sum(&w, T0 + 59, 60), 60);
    cr_assert_eq(sum(&w, T0 + 59, 1), 1);
    cr_assert_eq(sum(&w, T0 + 59, 600), 60, "seconds are clamped to the window");
    cr_assert_eq(sum(&w, T0 + 59, 0), 0);
}

Test(rate, roll_drops_only_the_seconds_that_left)
{
    window_t w = {0};
    for (uint64_t s = 0; s < 60; s++)
        record(&w, T0 + s, 1);
    cr_assert(mp_rate_roll(w.buckets, &w.bucket_second, T0 + 64, NULL));
    cr_assert_eq(w.bucket_second, T0 + 64);
    /* seconds T0+5 .. T0+59 remain, T0+60 .. T0+64 are empty */
    cr_assert_eq(sum(&w, T0 + 64, 60), 55);
    cr_assert_eq(sum(&w, T0 + 64, 5), 0);
    cr_assert_eq(sum(&w, T0 + 64, 10), 5);
}

Test(rate, gap_of_many_seconds_empties_the_window)
{
    window_t w = {0};
    for (uint64_t s = 0; s < 60; s++)
        record(&w, T0 + s, 7);
    record(&w, T0 + 59 + 1000, 1);
    cr_assert_eq(sum(&w, T0 + 1059, 60), 1);
    for (unsigned i = 0; i < MP_RATE_SLOTS; i++)
        cr_assert_eq(w.buckets[i], i == (T0 + 1059) % MP_RATE_SLOTS ? 1u : 0u);
}

Test(rate, gap_just_under_the_window_keeps_the_oldest_second)
{
    window_t w = {0};
    record(&w, T0, 4);
    record(&w, T0 + 59, 1);
    cr_assert_eq(sum(&w, T0 + 59, 60), 5);
    record(&w, T0 + 60, 1);
    cr_assert_eq(sum(&w, T0 + 60, 60), 2, "T0 left the window at T0 + 60");
}

Test(rate, events_older_than_the_window_are_not_counted)
{
    window_t w = {0};
    record(&w, T0 + 100, 1);
    cr_assert_eq(mp_rate_add(w.buckets, w.bucket_second, T0 + 40, 1, NULL), 0);
    cr_assert_eq(mp_rate_add(w.buckets, w.bucket_second, T0 + 41, 1, NULL), 1);
    cr_assert_eq(sum(&w, T0 + 100, 60), 2);
}

Test(rate, late_event_inside_the_window_counts_in_its_second)
{
    window_t w = {0};
    record(&w, T0 + 10, 1);
    record(&w, T0 + 5, 1); /* out of order but within the window: no roll back */
    cr_assert_eq(w.bucket_second, T0 + 10);
    cr_assert_eq(sum(&w, T0 + 10, 3), 1);
    cr_assert_eq(sum(&w, T0 + 10, 6), 2);
}

Test(rate, add_refuses_seconds_ahead_of_the_window)
{
    window_t w = {0};
    record(&w, T0, 1);
    cr_assert_eq(mp_rate_add(w.buckets, w.bucket_second, T0 + 1, 1, NULL), 0);
    cr_assert_eq(sum(&w, T0 + 1, 60), 1);
}

Test(rate, roll_never_moves_back)
{
    window_t w = {0};
    record(&w, T0 + 10, 3);
    cr_assert_not(mp_rate_roll(w.buckets, &w.bucket_second, T0 + 2, NULL));
    cr_assert_not(mp_rate_roll(w.buckets, &w.bucket_second, T0 + 10, NULL));
    cr_assert_eq(w.bucket_second, T0 + 10);
    cr_assert_eq(sum(&w, T0 + 10, 60), 3);
}

Test(rate, sum_reads_ahead_of_the_window_without_rolling)
{
    window_t w = {0};
    for (uint64_t s = 0; s < 20; s++)
        record(&w, T0 + s, 1);
    cr_assert_eq(sum(&w, T0 + 29, 10), 0);
    cr_assert_eq(sum(&w, T0 + 29, 15), 5);
    cr_assert_eq(sum(&w, T0 + 500, 60), 0);
    cr_assert_eq(w.bucket_second, T0 + 19, "sum is pure");
}

Test(rate, sum_near_second_zero_does_not_wrap)
{
    window_t w = {0};
    record(&w, 0, 1);
    record(&w, 3, 2);
    cr_assert_eq(sum(&w, 3, 60), 3);
    cr_assert_eq(sum(&w, 3, 2), 2);
}

Test(rate, counts_saturate)
{
    window_t w = {0};
    record(&w, T0, UINT32_MAX - 1);
    cr_assert_eq(mp_rate_add(w.buckets, w.bucket_second, T0, 5, NULL), 1);
    cr_assert_eq(mp_rate_add(w.buckets, w.bucket_second, T0, 5, NULL), 0);
    record(&w, T0 - 1, UINT32_MAX);
    cr_assert_eq(sum(&w, T0, 60), UINT32_MAX, "the sum saturates too");
}

Test(rate, tick_second_closes_the_second_before_a_boundary)
{
    cr_assert_eq(mp_rate_tick_second(T0 * MP_NS_PER_S), T0 - 1);
    cr_assert_eq(mp_rate_tick_second(T0 * MP_NS_PER_S + 1), T0);
    cr_assert_eq(mp_rate_tick_second(0), 0);
    cr_assert_eq(mp_rate_second(T0 * MP_NS_PER_S + 999999999), T0);
}

Test(rate, add_touches_one_bucket)
{
    window_t w = {0};
    record(&w, T0, 1);
    harness_t h;
    const mp_rm_touch_t *t = harness_begin(&h, &w, sizeof w);
    cr_assert_eq(mp_rate_add(w.buckets, w.bucket_second, T0, 1, t), 1);
    harness_end(&h);
    cr_assert_eq(h.touched_bytes, sizeof w.buckets[0]);
}

Test(rate, roll_touches_only_cleared_counts_and_the_second)
{
    window_t w = {0};
    record(&w, T0, 1);
    record(&w, T0 + 1, 1);
    record(&w, T0 + 30, 1);
    harness_t h;
    const mp_rm_touch_t *t = harness_begin(&h, &w, sizeof w);
    cr_assert(mp_rate_roll(w.buckets, &w.bucket_second, T0 + 61, t));
    cr_assert_eq(harness_end(&h) > 0, true);
    /* T0 and T0+1 left (adjacent: one run), T0+30 stays */
    cr_assert_eq(h.touched_bytes, 2 * sizeof(uint32_t) + sizeof(uint64_t));
    cr_assert_eq(h.touches, 2);
    cr_assert_eq(sum(&w, T0 + 61, 60), 1);
}

Test(rate, roll_of_an_idle_window_touches_the_second_only)
{
    window_t w = {0};
    harness_t h;
    const mp_rm_touch_t *t = harness_begin(&h, &w, sizeof w);
    mp_rate_roll(w.buckets, &w.bucket_second, T0 + 5000, t);
    harness_end(&h);
    cr_assert_eq(h.touched_bytes, sizeof(uint64_t));
}

Test(rate, roll_across_the_wrap_clears_both_ends)
{
    window_t w = {0};
    uint64_t base = T0 - T0 % 60 + 55; /* buckets 55..59 then 0..4 */
    for (uint64_t s = 0; s < 10; s++)
        record(&w, base + s, 1);
    harness_t h;
    const mp_rm_touch_t *t = harness_begin(&h, &w, sizeof w);
    mp_rate_roll(w.buckets, &w.bucket_second, base + 9 + 60, t);
    harness_end(&h);
    for (unsigned i = 0; i < MP_RATE_SLOTS; i++)
        cr_assert_eq(w.buckets[i], 0);
    cr_assert_eq(h.touches, 3, "two runs split by the wrap, plus the second");
}

Test(rate, same_events_give_identical_bytes)
{
    window_t a = {0}, b = {0};
    for (int pass = 0; pass < 2; pass++) {
        window_t *w = pass ? &b : &a;
        uint64_t s = T0;
        for (int i = 0; i < 5000; i++) {
            s += (uint64_t)(i * 7919 % 13 == 0 ? 70 : i % 3);
            record(w, s - (uint64_t)(i % 5), 1 + (uint32_t)(i % 4));
        }
    }
    cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
}
