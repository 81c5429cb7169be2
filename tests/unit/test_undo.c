/* Undo log: committed batches stay, an open batch is rolled back exactly (ranges saved
 * several times end with their oldest bytes), seqlocks move past every value seen, and
 * a writer SIGKILLed at random instants always recovers to its last committed batch. */
#include <criterion/criterion.h>

#include "common/clock.h"
#include "shm/seqlock.h"
#include "shm/undo.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define REGION 65536u
#define LOG_BYTES 65536u

typedef struct shared {
    uint8_t region[REGION];
    union {
        mp_undo_log_t log;
        uint8_t log_bytes[sizeof(mp_undo_log_t) + LOG_BYTES];
    };
} shared_t;

static shared_t *shared_new(void)
{
    shared_t *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(s, MAP_FAILED);
    mp_undo_format(&s->log, LOG_BYTES);
    return s;
}

/* Saves then overwrites a range, as the readmodel does. */
static int write_range(shared_t *s, uint64_t off, const void *src, uint32_t len)
{
    int ret = mp_undo_save(&s->log, s->region, off, len, MP_UNDO_NO_SEQLOCK);
    if (ret) return ret;
    memcpy(s->region + off, src, len);
    return 0;
}

Test(undo, committed_batch_survives_recovery)
{
    shared_t *s = shared_new();
    mp_undo_begin(&s->log);
    cr_assert_eq(write_range(s, 100, "hello", 5), 0);
    mp_undo_commit(&s->log);
    cr_assert_eq(mp_undo_recover(&s->log, s->region, REGION), 0);
    cr_assert_eq(memcmp(s->region + 100, "hello", 5), 0);
}

Test(undo, open_batch_is_rolled_back_to_the_oldest_bytes)
{
    shared_t *s = shared_new();
    memset(s->region, 0x11, REGION);
    uint8_t before[REGION];
    memcpy(before, s->region, REGION);
    mp_undo_begin(&s->log);
    cr_assert_eq(write_range(s, 10, "aaaaaaaaaa", 10), 0);
    cr_assert_eq(write_range(s, 15, "bbbbbbbbbb", 10), 0); /* overlaps the first */
    cr_assert_eq(write_range(s, 10, "cc", 2), 0);          /* same range again */
    cr_assert_eq(write_range(s, REGION - 3, "zzz", 3), 0);
    cr_assert_eq(mp_undo_recover(&s->log, s->region, REGION), 4);
    cr_assert_eq(memcmp(before, s->region, REGION), 0);
    cr_assert_eq(mp_undo_recover(&s->log, s->region, REGION), 0, "recovery closes the batch");
}

Test(undo, full_log_refuses_before_anything_changes)
{
    shared_t *s = shared_new();
    mp_undo_begin(&s->log);
    static uint8_t big[LOG_BYTES];
    cr_assert_eq(mp_undo_save(&s->log, s->region, 0, LOG_BYTES, MP_UNDO_NO_SEQLOCK), -ENOSPC);
    cr_assert_eq(mp_undo_room(&s->log), LOG_BYTES);
    cr_assert_eq(write_range(s, 0, big, LOG_BYTES - 64), 0);
    cr_assert_eq(mp_undo_save(&s->log, s->region, 0, 64, MP_UNDO_NO_SEQLOCK), -ENOSPC);
}

Test(undo, corrupt_entry_is_refused_and_batch_kept_open)
{
    shared_t *s = shared_new();
    mp_undo_begin(&s->log);
    cr_assert_eq(write_range(s, 0, "x", 1), 0);
    ((mp_undo_entry_t *)s->log.data)->offset = 1ull << 40;
    cr_assert_eq(mp_undo_recover(&s->log, s->region, REGION), -EPROTO);
    cr_assert_eq(atomic_load(&s->log.active), 1);
}

Test(undo, rollback_moves_seqlock_past_every_seen_value)
{
    shared_t *s = shared_new();
    mp_seqlock_t *sl = (mp_seqlock_t *)s->region;
    atomic_store(sl, 40);
    uint32_t seen_before = mp_seqlock_read_begin(sl);
    mp_undo_begin(&s->log);
    /* The saved range includes the seqlock word itself. */
    cr_assert_eq(mp_undo_save(&s->log, s->region, 0, 64, 0), 0);
    mp_seqlock_write_begin(sl);
    memset(s->region + 4, 0x7f, 60);
    mp_seqlock_write_end(sl);
    uint32_t seen_during = mp_seqlock_read_begin(sl);
    mp_seqlock_write_begin(sl); /* killed mid-write: count left odd */
    cr_assert_eq(mp_undo_recover(&s->log, s->region, REGION), 1);
    uint32_t after = mp_seqlock_read_begin(sl);
    cr_assert_eq(after % 2, 0);
    cr_assert_gt(after, seen_during);
    cr_assert_gt(after, seen_before);
    cr_assert_eq(s->region[4], 0, "data restored");
}

/* Batch k writes bytes derived from k over a few ranges and stores k at offset 0. */
static void apply_batch(uint64_t k, int (*write)(void *, uint64_t, const void *, uint32_t), void *ctx)
{
    uint64_t x = k * 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 8; i++) {
        x ^= x >> 31;
        x *= 0xbf58476d1ce4e5b9ull;
        uint32_t len = 1 + (uint32_t)(x % 512);
        uint64_t off = 8 + (x >> 20) % (REGION - 8 - len);
        uint8_t buf[512];
        memset(buf, (int)(k + (uint64_t)i), len);
        write(ctx, off, buf, len);
    }
    write(ctx, 0, &k, sizeof k);
}

static int write_plain(void *ctx, uint64_t off, const void *src, uint32_t len)
{
    memcpy((uint8_t *)ctx + off, src, len);
    return 0;
}

static int write_logged(void *ctx, uint64_t off, const void *src, uint32_t len)
{
    return write_range(ctx, off, src, len);
}

Test(undo, random_sigkill_always_recovers_to_last_commit, .timeout = 60)
{
    shared_t *s = shared_new();
    srand(7);
    for (int round = 0; round < 40; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            mp_undo_recover(&s->log, s->region, REGION);
            uint64_t k;
            memcpy(&k, s->region, sizeof k);
            for (;;) {
                mp_undo_begin(&s->log);
                apply_batch(++k, write_logged, s);
                mp_undo_commit(&s->log);
            }
        }
        mp_sleep_ns(1000000 + (uint64_t)(rand() % 5000) * 1000);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        cr_assert_geq(mp_undo_recover(&s->log, s->region, REGION), 0);
        uint64_t committed;
        memcpy(&committed, s->region, sizeof committed);
        static uint8_t expect[REGION];
        memset(expect, 0, sizeof expect);
        for (uint64_t k = 1; k <= committed; k++) apply_batch(k, write_plain, expect);
        cr_assert_eq(memcmp(expect, s->region, REGION), 0, "round %d: region differs from batch %lu",
                     round, (unsigned long)committed);
    }
}
