/* Source checkpoints: newest intact slot wins, a torn save never loses the other slot,
 * fingerprints and the committed seq bound what may be restored. */
#include <criterion/criterion.h>

#include "shm/checkpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static mp_checkpoint_area_t *area;

static void setup(void)
{
    area = calloc(1, sizeof *area);
    cr_assert_not_null(area);
}

static void teardown(void)
{
    free(area);
}

TestSuite(checkpoint, .init = setup, .fini = teardown);

Test(checkpoint, empty_area_has_nothing)
{
    char buf[16];
    uint32_t len;
    uint64_t seq;
    cr_assert_eq(mp_checkpoint_load(area, 7, 100, buf, sizeof buf, &len, &seq), -ENOENT);
}

Test(checkpoint, newest_slot_wins)
{
    char buf[16];
    uint32_t len;
    uint64_t seq;
    mp_checkpoint_save(area, 10, 7, "ten", 4);
    mp_checkpoint_save(area, 20, 7, "twenty", 7);
    mp_checkpoint_save(area, 30, 7, "thirty", 7);
    cr_assert_eq(mp_checkpoint_load(area, 7, 100, buf, sizeof buf, &len, &seq), 0);
    cr_assert_eq(seq, 30);
    cr_assert_str_eq(buf, "thirty");
    /* The older of the two slots was overwritten, the previous newest kept. */
    cr_assert_eq(mp_checkpoint_load(area, 7, 29, buf, sizeof buf, &len, &seq), 0);
    cr_assert_eq(seq, 20);
}

Test(checkpoint, state_ahead_of_committed_seq_is_skipped)
{
    char buf[16];
    uint32_t len;
    uint64_t seq;
    mp_checkpoint_save(area, 5, 7, "five", 5);
    mp_checkpoint_save(area, 6, 7, "six", 4);
    cr_assert_eq(mp_checkpoint_load(area, 7, 5, buf, sizeof buf, &len, &seq), 0);
    cr_assert_eq(seq, 5);
    cr_assert_str_eq(buf, "five");
}

Test(checkpoint, torn_save_leaves_other_slot)
{
    char buf[16];
    uint32_t len;
    uint64_t seq;
    mp_checkpoint_save(area, 10, 7, "ten", 4);
    mp_checkpoint_save(area, 20, 7, "twenty", 7);
    /* A writer killed mid-save leaves its slot's version odd. */
    int newest = area->slots[0].seq == 20 ? 0 : 1;
    atomic_fetch_add(&area->slots[newest].version, 1);
    cr_assert_eq(mp_checkpoint_load(area, 7, 100, buf, sizeof buf, &len, &seq), 0);
    cr_assert_eq(seq, 10);
    /* The next save goes over the torn slot and makes it valid again. */
    mp_checkpoint_save(area, 40, 7, "forty", 6);
    cr_assert_eq(mp_checkpoint_load(area, 7, 100, buf, sizeof buf, &len, &seq), 0);
    cr_assert_eq(seq, 40);
    cr_assert_eq(mp_checkpoint_load(area, 7, 39, buf, sizeof buf, &len, &seq), 0);
    cr_assert_eq(seq, 10);
}

Test(checkpoint, other_fingerprint_is_not_restored)
{
    char buf[16];
    uint32_t len;
    uint64_t seq;
    mp_checkpoint_save(area, 10, 7, "ten", 4);
    cr_assert_eq(mp_checkpoint_load(area, 8, 100, buf, sizeof buf, &len, &seq), -ENOENT);
}

Test(checkpoint, oversized_state_is_refused)
{
    cr_assert_eq(mp_checkpoint_save(area, 1, 1, area, MP_CHECKPOINT_STATE_MAX + 1), -EINVAL);
}
