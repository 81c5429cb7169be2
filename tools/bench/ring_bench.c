/* ring-bench: events ring throughput, writer and reader in separate processes, against
 * a bare memcpy single-producer single-consumer ring measured in the same run.
 * Prints figures; the last line is the machine-readable summary. */
#include "common/clock.h"
#include "shm/ring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAYLOAD 128u
#define DEFAULT_COUNT 20000000ull
#define RING_BYTES (64ull << 20)
#define PROGRESS_EVERY 256u

/* ---- the baseline: fixed 128-byte slots, one producer, one consumer, nothing else ---- */
typedef struct spsc {
    _Alignas(64) _Atomic uint64_t head; /* consumer position */
    _Alignas(64) _Atomic uint64_t tail; /* producer position */
    _Alignas(64) uint64_t slots;
    uint8_t data[];
} spsc_t;

static void spsc_produce(spsc_t *q, uint64_t count)
{
    uint8_t payload[PAYLOAD];
    memset(payload, 7, sizeof payload);
    uint64_t tail = 0, head_cache = 0;
    for (uint64_t i = 0; i < count; i++) {
        while (tail - head_cache >= q->slots)
            head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
        memcpy(payload, &i, sizeof i);
        memcpy(q->data + (tail & (q->slots - 1)) * PAYLOAD, payload, PAYLOAD);
        atomic_store_explicit(&q->tail, ++tail, memory_order_release);
    }
}

static uint64_t spsc_consume(spsc_t *q, uint64_t count)
{
    uint8_t out[PAYLOAD];
    uint64_t head = 0, tail_cache = 0, sum = 0;
    while (head < count) {
        while (head == tail_cache) tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
        memcpy(out, q->data + (head & (q->slots - 1)) * PAYLOAD, PAYLOAD);
        sum += out[0];
        atomic_store_explicit(&q->head, ++head, memory_order_release);
    }
    return sum;
}

/* ---- the events ring, writer tethered to the reader so both runs deliver every event ---- */
typedef struct shared {
    mp_ring_ctl_t ctl;
    _Alignas(64) _Atomic uint64_t reader_seq;
    _Alignas(64) _Atomic int ready;
    _Alignas(64) _Atomic uint64_t errors;
    uint8_t data[];
} shared_t;

static uint64_t reader_progress(void *ctx, bool *alive)
{
    *alive = true;
    return atomic_load_explicit((_Atomic uint64_t *)ctx, memory_order_acquire);
}

static void ring_produce(shared_t *s, uint64_t count)
{
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, &s->ctl, s->data);
    w.tether = (mp_ring_tether_t){reader_progress, &s->reader_seq, 60000000000ull};
    uint8_t payload[PAYLOAD];
    memset(payload, 7, sizeof payload);
    for (uint64_t i = 0; i < count; i++) {
        uint8_t *dst = mp_ring_reserve(&w, PAYLOAD);
        memcpy(payload, &i, sizeof i);
        memcpy(dst, payload, PAYLOAD);
        mp_ring_commit(&w, 1, PAYLOAD, 0);
    }
}

static void ring_consume(shared_t *s, uint64_t count)
{
    mp_ring_reader_t r;
    mp_ring_reader_init(&r, &s->ctl, s->data, MP_RING_FROM_OLDEST);
    atomic_store(&s->ready, 1);
    uint8_t buf[MP_RING_MAX_PAYLOAD];
    mp_ring_record_t rec;
    uint64_t got = 0, errors = 0;
    while (got < count) {
        int ret = mp_ring_read(&r, &rec, buf, sizeof buf);
        if (ret == MP_RING_EMPTY) continue;
        if (ret != MP_RING_OK || rec.seq != got + 1 || rec.len != PAYLOAD) errors++;
        got++;
        if ((got & (PROGRESS_EVERY - 1)) == 0 || got == count)
            atomic_store_explicit(&s->reader_seq, rec.seq, memory_order_release);
    }
    atomic_store(&s->errors, errors + r.gap_events);
}

static double run_ring(uint64_t count, uint64_t *errors)
{
    size_t size = sizeof(shared_t) + RING_BYTES;
    shared_t *s = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED) return 0;
    mp_ring_format(&s->ctl, RING_BYTES);
    memset(s->data, 0, RING_BYTES); /* fault the pages in before timing */
    pid_t pid = fork();
    if (pid == 0) {
        ring_consume(s, count);
        _exit(0);
    }
    while (!atomic_load(&s->ready)) mp_sleep_ns(100000);
    uint64_t t0 = mp_mono_ns();
    ring_produce(s, count);
    waitpid(pid, NULL, 0);
    double secs = (double)(mp_mono_ns() - t0) / 1e9;
    *errors = atomic_load(&s->errors);
    munmap(s, size);
    return (double)count / secs;
}

static double run_spsc(uint64_t count)
{
    uint64_t slots = RING_BYTES / PAYLOAD;
    size_t size = sizeof(spsc_t) + RING_BYTES;
    spsc_t *q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED) return 0;
    q->slots = slots;
    memset(q->data, 0, RING_BYTES);
    pid_t pid = fork();
    if (pid == 0) {
        spsc_consume(q, count);
        _exit(0);
    }
    uint64_t t0 = mp_mono_ns();
    spsc_produce(q, count);
    waitpid(pid, NULL, 0);
    double secs = (double)(mp_mono_ns() - t0) / 1e9;
    munmap(q, size);
    return (double)count / secs;
}

int main(int argc, char **argv)
{
    uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : DEFAULT_COUNT;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    if (!count || rounds < 1) {
        fprintf(stderr, "usage: ring-bench [COUNT [ROUNDS]]\n");
        return 2;
    }
    printf("ring-bench: %llu events of %u bytes per round, %d rounds, %llu MiB rings, "
           "writer and reader in separate processes\n",
           (unsigned long long)count, PAYLOAD, rounds, (unsigned long long)(RING_BYTES >> 20));
    double best_ring = 0, best_base = 0;
    for (int i = 0; i < rounds; i++) {
        uint64_t errors = 0;
        double ring = run_ring(count, &errors), base = run_spsc(count);
        printf("round %d: ring %.2f M events/s (errors %llu), baseline spsc %.2f M events/s\n", i + 1,
               ring / 1e6, (unsigned long long)errors, base / 1e6);
        if (errors) {
            fprintf(stderr, "ring-bench: the reader saw %llu bad or missing events\n",
                    (unsigned long long)errors);
            return 1;
        }
        if (ring > best_ring) best_ring = ring;
        if (base > best_base) best_base = base;
    }
    printf("ring_events_per_s=%.0f baseline_events_per_s=%.0f ratio=%.3f\n", best_ring, best_base,
           best_base > 0 ? best_ring / best_base : 0.0);
    return 0;
}
