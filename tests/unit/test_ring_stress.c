/* Stress: a writer at full speed over a small ring and two readers that get lapped all
 * the time. No reader may ever return a torn record: every payload is checked against
 * its seq, seqs strictly increase, and delivered + lost accounts for every seq. */
#include <criterion/criterion.h>

#include "common/clock.h"
#include "shm/ring.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define RING_BYTES (1u << 16)
#define MAX_PAYLOAD 256u
#define RUN_NS 2000000000ull
#define READERS 2

typedef struct shared {
    mp_ring_ctl_t ctl;
    _Atomic int writer_done;
    _Atomic int readers_ready;
    _Atomic uint64_t delivered[READERS];
    _Atomic uint64_t lost[READERS];
    _Atomic uint64_t laps[READERS];
    uint8_t data[RING_BYTES];
} shared_t;

/* Payload: seq, length, then bytes derived from seq, then a 64-bit checksum. */
static uint32_t make_payload(uint8_t *p, uint64_t seq)
{
    uint32_t len = 24 + (uint32_t)(seq * 2654435761u % (MAX_PAYLOAD - 24));
    memcpy(p, &seq, 8);
    uint64_t x = seq ^ 0x5bd1e995ull, sum = 0;
    for (uint32_t i = 8; i < len - 8; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(x >> 33);
        sum = sum * 31 + p[i];
    }
    memcpy(p + len - 8, &sum, 8);
    return len;
}

static bool payload_intact(const uint8_t *p, uint32_t len, uint64_t seq)
{
    uint8_t want[MAX_PAYLOAD];
    return make_payload(want, seq) == len && memcmp(p, want, len) == 0;
}

static void reader(shared_t *s, int k)
{
    mp_ring_reader_t r;
    mp_ring_reader_init(&r, &s->ctl, s->data, MP_RING_FROM_OLDEST);
    atomic_fetch_add(&s->readers_ready, 1);
    uint8_t buf[MP_RING_MAX_PAYLOAD];
    mp_ring_record_t rec;
    uint64_t last = 0, expect = 0; /* expect: next seq owed to us, 0 before the first */
    for (;;) {
        int done = atomic_load(&s->writer_done);
        int ret = mp_ring_read(&r, &rec, buf, sizeof buf);
        if (ret == MP_RING_OK) {
            if (rec.seq <= last || (expect && rec.seq != expect)) _exit(10);
            if (!payload_intact(buf, rec.len, rec.seq)) _exit(14);
            last = rec.seq;
            expect = rec.seq + 1;
            atomic_fetch_add(&s->delivered[k], 1);
        } else if (ret == MP_RING_LAPPED) {
            if (expect && rec.gap_first != expect) _exit(11);
            if (rec.gap_first && rec.gap_last < rec.gap_first) _exit(12);
            expect = rec.gap_last + 1;
            atomic_fetch_add(&s->laps[k], 1);
        } else if (ret == MP_RING_EMPTY) {
            if (done) break;
        } else {
            _exit(13);
        }
    }
    atomic_store(&s->lost[k], r.gap_events);
    _exit(0);
}

Test(ring_stress, no_torn_record_under_constant_laps, .timeout = 60)
{
    shared_t *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(s, MAP_FAILED);
    cr_assert_eq(mp_ring_format(&s->ctl, RING_BYTES), 0);
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    uint8_t buf[MAX_PAYLOAD];
    pid_t pids[READERS];
    for (int k = 0; k < READERS; k++) {
        pids[k] = fork();
        if (pids[k] == 0) reader(s, k);
    }
    /* Every reader owns a position before the first record, so each owes us seq 1.. */
    while (atomic_load(&s->readers_ready) < READERS) mp_sleep_ns(100000);
    uint64_t deadline = mp_mono_ns() + RUN_NS, n = 0;
    while ((n & 1023) || mp_mono_ns() < deadline) {
        uint32_t len = make_payload(buf, mp_ring_next_seq(&w));
        mp_ring_publish(&w, 1, buf, len, 0);
        n++;
    }
    atomic_store(&s->writer_done, 1);
    for (int k = 0; k < READERS; k++) {
        int status;
        waitpid(pids[k], &status, 0);
        cr_assert(WIFEXITED(status), "reader %d crashed", k);
        cr_assert_eq(WEXITSTATUS(status), 0, "reader %d saw a bad record (code %d)", k,
                     WEXITSTATUS(status));
        uint64_t got = atomic_load(&s->delivered[k]), lost = atomic_load(&s->lost[k]);
        cr_assert_gt(got, 1000, "reader %d made progress", k);
        cr_assert_eq(got + lost, n, "reader %d: %lu delivered + %lu lost != %lu published", k,
                     (unsigned long)got, (unsigned long)lost, (unsigned long)n);
        cr_log_info("reader %d: %lu delivered, %lu lost in %lu laps of %lu published", k,
                    (unsigned long)got, (unsigned long)lost,
                    (unsigned long)atomic_load(&s->laps[k]), (unsigned long)n);
    }
    munmap(s, sizeof *s);
}
