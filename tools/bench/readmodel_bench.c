/* readmodel-bench: apply throughput of the readmodel on the synthetic mix. Fills a
 * private events ring with N encoded events, then times the real apply path (ring read,
 * decode, apply, journal, undo log, commits) into a fresh read-model region.
 * Prints figures; the last line is `readmodel_events_per_s=<n>`. */
#include "common/clock.h"
#include "common/log.h"
#include "ingest/synthetic.h"
#include "readmodel/apply.h"
#include "shm/events_region.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BATCH 4096u

int main(int argc, char **argv)
{
    mp_log_init("readmodel-bench");
    uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    if (!count || rounds < 1) {
        fprintf(stderr, "usage: readmodel-bench [EVENTS [ROUNDS]]\n");
        return 2;
    }
    char instance[64], err[MP_REGION_ERR_MAX];
    snprintf(instance, sizeof instance, "bench-rm-%d", (int)getpid());
    /* Room for every event: the apply, not the ring, is measured. */
    uint64_t ring = 1ull << 20;
    while (ring < count * 400) ring <<= 1;
    mp_events_region_t ev;
    if (mp_events_open_writer(&ev, instance, ring, true, err)) {
        mp_log("%s", err);
        return 1;
    }
    mp_ring_writer_t w;
    mp_ring_writer_init(&w, ev.ctl, ev.data);
    mp_synth_t *gen = malloc(sizeof *gen);
    mp_synth_config_t sc = {.seed = 7, .rate = 5000, .start_unix_ns = 1700000000000000000ull, .chain_id = 1};
    if (!gen || mp_synth_init(gen, &sc)) return 1;
    static uint8_t buf[MP_EVENT_MAX_ENCODED];
    uint64_t tx = 0;
    for (uint64_t i = 0; i < count; i++) {
        mp_event_t e;
        size_t len;
        mp_synth_next(gen, &e);
        tx += e.type == MP_EV_TX_SEEN;
        if (mp_event_encode(&e, buf, sizeof buf, &len) == 0) mp_ring_publish(&w, e.type, buf, (uint32_t)len, 0);
    }
    printf("readmodel-bench: %llu synthetic events (%llu TX_SEEN, rate 5000 tx/s of event time), "
           "%d rounds, each into a fresh region with default capacities\n",
           (unsigned long long)count, (unsigned long long)tx, rounds);
    double best = 0;
    static uint8_t payload[MP_RING_MAX_PAYLOAD];
    for (int r = 0; r < rounds; r++) {
        mp_rm_region_t rm;
        mp_rm_caps_t caps;
        mp_rm_caps_default(&caps);
        char rm_instance[80];
        snprintf(rm_instance, sizeof rm_instance, "%s-%d", instance, r);
        if (mp_rm_open_writer(&rm, rm_instance, &caps, true, err)) {
            mp_log("%s", err);
            return 1;
        }
        mp_rm_engine_t *eng = malloc(sizeof *eng);
        mp_rm_engine_init(eng, &rm);
        mp_ring_reader_t rd;
        mp_ring_reader_init(&rd, ev.ctl, ev.data, MP_RING_FROM_OLDEST);
        uint64_t gaps = 0, done = 0, t0 = mp_mono_ns();
        while (done < count) {
            uint32_t n = mp_rm_apply_batch(eng, &rd, payload, BATCH, &gaps);
            if (!n) break;
            done += n;
        }
        double secs = (double)(mp_mono_ns() - t0) / 1e9, rate = (double)done / secs;
        printf("round %d: %llu events in %.3f s = %.0f events/s; journal seq %llu, region %llu MiB, "
               "bytes in use %llu\n", r + 1, (unsigned long long)done, secs, rate,
               (unsigned long long)atomic_load(&rm.ctl->journal_seq),
               (unsigned long long)(rm.region.size >> 20), (unsigned long long)atomic_load(&rm.ctl->bytes_used));
        if (rate > best) best = rate;
        char path[256];
        mp_region_path(path, sizeof path, rm_instance, MP_RM_KIND);
        mp_rm_close(&rm);
        unlink(path);
        free(eng);
    }
    char path[256];
    mp_region_path(path, sizeof path, instance, MP_EVENTS_KIND);
    mp_events_close(&ev);
    unlink(path);
    free(gen);
    printf("readmodel_events_per_s=%.0f\n", best);
    return 0;
}
