/* Events ring: ordering, wrap and padding, laps with their gap range, crash recovery,
 * seek, tethering, and forked readers each seeing every seq once. */
#include <criterion/criterion.h>

#include "common/clock.h"
#include "shm/ring.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct shared_ring {
    mp_ring_ctl_t ctl;
    _Atomic uint64_t reader_seq[8]; /* tethered readers' progress */
    uint8_t data[];
} shared_ring_t;

static shared_ring_t *ring_new(uint64_t cap)
{
    size_t size = sizeof(shared_ring_t) + cap;
    shared_ring_t *s = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(s, MAP_FAILED);
    cr_assert_eq(mp_ring_format(&s->ctl, cap), 0);
    return s;
}

/* Payload bytes derived from seq, so a reader can check every byte. */
static uint32_t fill(uint8_t *p, uint64_t seq, uint32_t max)
{
    uint32_t len = 8 + (uint32_t)(seq * 7919 % (max - 8));
    uint64_t x = seq * 0x9e3779b97f4a7c15ull;
    for (uint32_t i = 0; i < len; i++) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ull;
        p[i] = (uint8_t)(x >> 56);
    }
    memcpy(p, &seq, 8);
    return len;
}

static bool payload_ok(const uint8_t *p, uint32_t len, uint64_t seq, uint32_t max)
{
    uint8_t want[1024];
    uint32_t n = fill(want, seq, max);
    return n == len && memcmp(want, p, len) == 0;
}

static uint64_t publish_filled(mp_ring_writer_t *w, uint32_t max)
{
    uint8_t buf[1024];
    uint32_t len = fill(buf, mp_ring_next_seq(w), max);
    return mp_ring_publish(w, 1, buf, len, 0);
}

Test(ring, reads_back_in_order_across_wraps_with_padding)
{
    shared_ring_t *s = ring_new(4096);
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    mp_ring_reader_t r;
    mp_ring_reader_init(&r, &s->ctl, s->data, MP_RING_FROM_OLDEST);
    uint8_t buf[1024];
    mp_ring_record_t rec;
    for (uint64_t i = 1; i <= 2000; i++) {
        cr_assert_eq(publish_filled(&w, 300), i);
        cr_assert_eq(mp_ring_read(&r, &rec, buf, sizeof buf), MP_RING_OK);
        cr_assert_eq(rec.seq, i);
        cr_assert(payload_ok(buf, rec.len, i, 300), "payload of seq %lu", (unsigned long)i);
    }
    cr_assert_gt(s->ctl.tail, 20 * s->ctl.capacity, "the test must wrap many times");
    cr_assert_eq(mp_ring_read(&r, &rec, buf, sizeof buf), MP_RING_EMPTY);
    cr_assert_eq(r.gaps, 0);
}

Test(ring, padding_record_fills_the_end_of_the_lap)
{
    shared_ring_t *s = ring_new(4096);
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    uint8_t buf[1000] = {0};
    /* 24 + 1000 -> 1024-byte records: 4 fill the lap exactly; 3 + one 1500-byte record
     * must pad 1024 bytes. */
    for (int i = 0; i < 3; i++) mp_ring_publish(&w, 1, buf, 1000, 0);
    uint8_t big[1500] = {0};
    mp_ring_publish(&w, 1, big, 1500, 0);
    const mp_ring_rec_t *pad = (const mp_ring_rec_t *)(s->data + 3 * 1024);
    cr_assert_eq(pad->type, MP_RING_TYPE_PAD);
    cr_assert_eq(pad->length, 1024);
    cr_assert_eq(s->ctl.tail, 4096 + 1528);
}

Test(ring, lapped_reader_reports_gap_range_and_recovers)
{
    shared_ring_t *s = ring_new(4096);
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    mp_ring_reader_t r;
    mp_ring_reader_init(&r, &s->ctl, s->data, MP_RING_FROM_OLDEST);
    uint8_t buf[1024];
    mp_ring_record_t rec;
    cr_assert_eq(publish_filled(&w, 200), 1);
    cr_assert_eq(mp_ring_read(&r, &rec, buf, sizeof buf), MP_RING_OK);
    for (int i = 0; i < 500; i++) publish_filled(&w, 200);
    uint64_t oldest = s->ctl.head_seq;
    cr_assert_gt(oldest, 2);
    cr_assert_eq(mp_ring_read(&r, &rec, buf, sizeof buf), MP_RING_LAPPED);
    cr_assert_eq(rec.gap_first, 2);
    cr_assert_eq(rec.gap_last, oldest - 1);
    cr_assert_eq(r.gap_events, oldest - 2);
    uint64_t expect = oldest;
    int ret;
    while ((ret = mp_ring_read(&r, &rec, buf, sizeof buf)) == MP_RING_OK) {
        cr_assert_eq(rec.seq, expect);
        cr_assert(payload_ok(buf, rec.len, rec.seq, 200));
        expect++;
    }
    cr_assert_eq(ret, MP_RING_EMPTY);
    cr_assert_eq(expect, 502);
}

Test(ring, restarted_writer_continues_the_seq)
{
    shared_ring_t *s = ring_new(8192);
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    for (int i = 0; i < 10; i++) publish_filled(&w, 100);
    mp_ring_writer_t w2;
    mp_ring_writer_init(&w2, &s->ctl, s->data);
    cr_assert_eq(mp_ring_next_seq(&w2), 11);
    cr_assert_eq(publish_filled(&w2, 100), 11);
}

Test(ring, crash_after_length_store_keeps_the_record)
{
    shared_ring_t *s = ring_new(8192);
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    for (int i = 0; i < 3; i++) publish_filled(&w, 100);
    /* Simulate a writer killed between storing the length and advancing tail. */
    uint8_t *p = mp_ring_reserve(&w, 50);
    memset(p, 0xab, 50);
    mp_ring_rec_t *rec = (mp_ring_rec_t *)(s->data + (w.tail & w.mask));
    rec->type = 3;
    rec->seq = 4;
    atomic_store(&rec->length, 24 + 50);
    cr_assert_eq(atomic_load(&s->ctl.last_seq), 3);
    mp_ring_writer_t w2;
    mp_ring_writer_init(&w2, &s->ctl, s->data);
    cr_assert_eq(atomic_load(&s->ctl.last_seq), 4);
    cr_assert_eq(mp_ring_next_seq(&w2), 5);
    mp_ring_reader_t r;
    mp_ring_reader_init(&r, &s->ctl, s->data, MP_RING_FROM_OLDEST);
    uint8_t buf[256];
    mp_ring_record_t out;
    for (int i = 1; i <= 4; i++) {
        cr_assert_eq(mp_ring_read(&r, &out, buf, sizeof buf), MP_RING_OK);
        cr_assert_eq(out.seq, (uint64_t)i);
    }
    cr_assert_eq(out.len, 50);
    cr_assert_eq(buf[49], 0xab);
}

Test(ring, crash_between_last_seq_and_tail_keeps_the_record)
{
    shared_ring_t *s = ring_new(8192);
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    for (int i = 0; i < 3; i++) publish_filled(&w, 100);
    uint64_t tail = atomic_load(&s->ctl.tail);
    /* Killed after commit stored the record, its length and last_seq, before ctl->tail. */
    uint8_t buf[128];
    uint32_t len = fill(buf, 4, 100);
    memcpy(mp_ring_reserve(&w, len), buf, len);
    mp_ring_commit(&w, 1, len, 0);
    atomic_store(&s->ctl.tail, tail);
    cr_assert_eq(atomic_load(&s->ctl.last_seq), 4);
    mp_ring_writer_t w2;
    mp_ring_writer_init(&w2, &s->ctl, s->data);
    cr_assert_eq(mp_ring_next_seq(&w2), 5, "seq 4 is committed and never reused");
    cr_assert_gt(atomic_load(&s->ctl.tail), tail);
    mp_ring_reader_t r;
    mp_ring_reader_init(&r, &s->ctl, s->data, MP_RING_FROM_OLDEST);
    mp_ring_record_t out;
    uint8_t got[256];
    for (uint64_t i = 1; i <= 4; i++) {
        cr_assert_eq(mp_ring_read(&r, &out, got, sizeof got), MP_RING_OK);
        cr_assert_eq(out.seq, i);
    }
    cr_assert(payload_ok(got, out.len, 4, 100));
}

Test(ring, crash_before_length_store_drops_the_partial_record)
{
    shared_ring_t *s = ring_new(4096);
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    /* Fill more than a lap so the bytes ahead of tail hold stale records. */
    for (int i = 0; i < 100; i++) publish_filled(&w, 100);
    uint64_t last = atomic_load(&s->ctl.last_seq);
    /* Killed after writing seq and payload but before the length: reserve zeroed it. */
    uint8_t *p = mp_ring_reserve(&w, 80);
    memset(p, 0xcd, 80);
    mp_ring_rec_t *rec = (mp_ring_rec_t *)(s->data + (w.tail & w.mask));
    rec->type = 1;
    rec->seq = last + 1;
    mp_ring_writer_t w2;
    mp_ring_writer_init(&w2, &s->ctl, s->data);
    cr_assert_eq(atomic_load(&s->ctl.last_seq), last);
    cr_assert_eq(mp_ring_next_seq(&w2), last + 1);
    mp_ring_reader_t r;
    mp_ring_reader_init(&r, &s->ctl, s->data, MP_RING_FROM_TAIL);
    uint8_t buf[256];
    mp_ring_record_t out;
    cr_assert_eq(mp_ring_read(&r, &out, buf, sizeof buf), MP_RING_EMPTY);
    cr_assert_eq(publish_filled(&w2, 100), last + 1);
    cr_assert_eq(mp_ring_read(&r, &out, buf, sizeof buf), MP_RING_OK);
    cr_assert(payload_ok(buf, out.len, last + 1, 100));
}

Test(ring, seek_finds_a_seq_or_reports_the_gap)
{
    shared_ring_t *s = ring_new(4096);
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    for (int i = 0; i < 200; i++) publish_filled(&w, 100);
    uint64_t oldest = s->ctl.head_seq;
    mp_ring_reader_t r;
    mp_ring_record_t out;
    uint8_t buf[256];
    mp_ring_reader_init(&r, &s->ctl, s->data, MP_RING_FROM_OLDEST);
    cr_assert_eq(mp_ring_reader_seek(&r, 195), 0);
    cr_assert_eq(mp_ring_read(&r, &out, buf, sizeof buf), MP_RING_OK);
    cr_assert_eq(out.seq, 195);
    cr_assert_eq(mp_ring_reader_seek(&r, 1), -ENOENT);
    cr_assert_eq(mp_ring_read(&r, &out, buf, sizeof buf), MP_RING_LAPPED);
    cr_assert_eq(out.gap_first, 1);
    cr_assert_eq(out.gap_last, oldest - 1);
    cr_assert_eq(mp_ring_read(&r, &out, buf, sizeof buf), MP_RING_OK);
    cr_assert_eq(out.seq, oldest);
    cr_assert_eq(mp_ring_reader_seek(&r, 201), 0, "the next seq to come is a valid position");
    cr_assert_eq(mp_ring_read(&r, &out, buf, sizeof buf), MP_RING_EMPTY);
    publish_filled(&w, 100);
    cr_assert_eq(mp_ring_read(&r, &out, buf, sizeof buf), MP_RING_OK);
    cr_assert_eq(out.seq, 201);
}

Test(ring, reader_buffer_too_small_skips_with_emsgsize)
{
    shared_ring_t *s = ring_new(4096);
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    uint8_t big[500] = {0};
    mp_ring_publish(&w, 1, big, sizeof big, 0);
    mp_ring_publish(&w, 1, big, 10, 0);
    mp_ring_reader_t r;
    mp_ring_reader_init(&r, &s->ctl, s->data, MP_RING_FROM_OLDEST);
    uint8_t buf[100];
    mp_ring_record_t out;
    cr_assert_eq(mp_ring_read(&r, &out, buf, sizeof buf), -EMSGSIZE);
    cr_assert_eq(mp_ring_read(&r, &out, buf, sizeof buf), MP_RING_OK);
    cr_assert_eq(out.seq, 2);
}

Test(ring, oversized_reservation_is_refused)
{
    shared_ring_t *s = ring_new(4096);
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    cr_assert_null(mp_ring_reserve(&w, 5000));
    cr_assert_null(mp_ring_reserve(&w, MP_RING_MAX_PAYLOAD + 1));
    cr_assert_eq(mp_ring_next_seq(&w), 1);
}

/* Fake readmodel for tether tests. */
typedef struct fake_tether {
    uint64_t applied;
    bool alive;
    int calls;
} fake_tether_t;

static uint64_t fake_applied(void *ctx, bool *alive)
{
    fake_tether_t *f = ctx;
    f->calls++;
    *alive = f->alive;
    return f->applied;
}

Test(ring, overwrite_without_live_readmodel_counts_overruns)
{
    shared_ring_t *s = ring_new(4096);
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    fake_tether_t f = {.applied = 0, .alive = false};
    _Atomic uint64_t overruns = 0;
    w.tether = (mp_ring_tether_t){fake_applied, &f, 1000000000ull};
    w.metrics.overruns_total = &overruns;
    for (int i = 0; i < 100; i++) publish_filled(&w, 100);
    uint64_t overwritten = s->ctl.head_seq - 1;
    cr_assert_gt(overwritten, 0);
    cr_assert_eq(atomic_load(&overruns), overwritten);
}

Test(ring, stalled_readmodel_is_waited_for_lag_timeout_then_overrun)
{
    shared_ring_t *s = ring_new(4096);
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    fake_tether_t f = {.applied = 0, .alive = true};
    _Atomic uint64_t overruns = 0;
    w.tether = (mp_ring_tether_t){fake_applied, &f, 100000000ull}; /* 100 ms */
    w.metrics.overruns_total = &overruns;
    uint64_t t0 = mp_mono_ns();
    for (int i = 0; i < 100; i++) publish_filled(&w, 100);
    uint64_t elapsed = mp_mono_ns() - t0;
    cr_assert_geq(elapsed, 100000000ull, "waited the lag timeout once");
    cr_assert_lt(elapsed, 2000000000ull, "a stalled readmodel is not waited for again and again");
    cr_assert_eq(atomic_load(&overruns), s->ctl.head_seq - 1);
}

/* Tether callback for a forked consumer publishing its progress in one cell. */
static uint64_t child_applied(void *ctx, bool *alive)
{
    *alive = true;
    return atomic_load((_Atomic uint64_t *)ctx);
}

Test(ring, progressing_readmodel_is_never_overrun)
{
    shared_ring_t *s = ring_new(4096);
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    _Atomic uint64_t overruns = 0;
    w.metrics.overruns_total = &overruns;
    pid_t pid = fork();
    if (pid == 0) { /* the "readmodel": applies slowly but steadily */
        mp_ring_reader_t r;
        mp_ring_reader_init(&r, &s->ctl, s->data, MP_RING_FROM_OLDEST);
        uint8_t buf[1024];
        mp_ring_record_t rec;
        uint64_t expect = 1;
        while (expect <= 3000) {
            int ret = mp_ring_read(&r, &rec, buf, sizeof buf);
            if (ret == MP_RING_EMPTY) continue;
            if (ret != MP_RING_OK || rec.seq != expect) _exit(1);
            if (expect % 100 == 0) mp_sleep_ns(1000000);
            atomic_store(&s->reader_seq[0], expect);
            expect++;
        }
        _exit(0);
    }
    w.tether = (mp_ring_tether_t){child_applied, &s->reader_seq[0], 5000000000ull};
    for (int i = 0; i < 3000; i++) publish_filled(&w, 100);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "reader saw every seq in order");
    cr_assert_eq(atomic_load(&overruns), 0);
}

/* Tether callback: the slowest of three forked readers. */
static uint64_t min_applied(void *ctx, bool *alive)
{
    shared_ring_t *s = ctx;
    uint64_t m = UINT64_MAX;
    for (int k = 0; k < 3; k++) {
        uint64_t v = atomic_load(&s->reader_seq[k]);
        if (v < m) m = v;
    }
    *alive = true;
    return m;
}

/* Three forked readers, each tethered: every one must see 1..N exactly once, in order. */
Test(ring, forked_readers_each_see_every_seq_once)
{
    enum { READERS = 3, N = 200000 };
    shared_ring_t *s = ring_new(1 << 16);
    pid_t pids[READERS];
    for (int k = 0; k < READERS; k++) {
        pids[k] = fork();
        if (pids[k] == 0) {
            mp_ring_reader_t r;
            mp_ring_reader_init(&r, &s->ctl, s->data, MP_RING_FROM_OLDEST);
            uint8_t buf[1024];
            mp_ring_record_t rec;
            uint64_t expect = 1;
            while (expect <= N) {
                int ret = mp_ring_read(&r, &rec, buf, sizeof buf);
                if (ret == MP_RING_EMPTY) continue;
                if (ret != MP_RING_OK) _exit(2);
                if (rec.seq != expect) _exit(3);
                if (!payload_ok(buf, rec.len, rec.seq, 256)) _exit(4);
                atomic_store(&s->reader_seq[k], expect);
                expect++;
            }
            _exit(0);
        }
    }
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    w.tether = (mp_ring_tether_t){min_applied, s, 10000000000ull};
    for (int i = 0; i < N; i++) publish_filled(&w, 256);
    for (int k = 0; k < READERS; k++) {
        int status;
        waitpid(pids[k], &status, 0);
        cr_assert(WIFEXITED(status), "reader %d crashed", k);
        cr_assert_eq(WEXITSTATUS(status), 0, "reader %d failed with %d", k, WEXITSTATUS(status));
    }
}
