/* Named metric slots: registration, lookup, restart reuse, capacity. */
#include <criterion/criterion.h>

#include "shm/metrics.h"

#include <stdlib.h>

static mp_metrics_t *m;

static void setup(void)
{
    m = calloc(1, MP_METRICS_SECTION_SIZE(4));
    cr_assert_not_null(m);
    mp_metrics_format(m, 4);
}

static void teardown(void)
{
    free(m);
}

TestSuite(metrics, .init = setup, .fini = teardown);

Test(metrics, registered_value_is_readable_by_name)
{
    _Atomic uint64_t *c = mp_metrics_get(m, "ingest_events_total", MP_METRIC_COUNTER);
    cr_assert_not_null(c);
    mp_metric_add(c, 5);
    mp_metric_add(c, 2);
    cr_assert_eq(mp_metrics_read(m, "ingest_events_total"), 7);
    cr_assert_eq(mp_metrics_read(m, "absent"), 0);
}

Test(metrics, restarted_writer_gets_the_same_cell)
{
    _Atomic uint64_t *a = mp_metrics_get(m, "x", MP_METRIC_COUNTER);
    mp_metric_add(a, 3);
    _Atomic uint64_t *b = mp_metrics_get(m, "x", MP_METRIC_COUNTER);
    cr_assert_eq(a, b);
    cr_assert_eq(mp_metrics_count(m), 1);
    cr_assert_eq(mp_metrics_read(m, "x"), 3);
}

Test(metrics, full_section_and_long_names_are_refused)
{
    cr_assert_not_null(mp_metrics_get(m, "a", MP_METRIC_GAUGE));
    cr_assert_not_null(mp_metrics_get(m, "b", MP_METRIC_GAUGE));
    cr_assert_not_null(mp_metrics_get(m, "c", MP_METRIC_GAUGE));
    cr_assert_not_null(mp_metrics_get(m, "d", MP_METRIC_GAUGE));
    cr_assert_null(mp_metrics_get(m, "e", MP_METRIC_GAUGE));
    cr_assert_null(mp_metrics_get(m, "this_name_is_far_too_long_for_a_metric_slot_name_x",
                                  MP_METRIC_GAUGE));
    mp_metric_set(NULL, 1); /* a refused cell is a no-op, never a crash */
}

Test(metrics, corrupt_count_is_clamped_to_capacity)
{
    atomic_store(&m->count, 1000);
    cr_assert_eq(mp_metrics_count(m), 4);
}
