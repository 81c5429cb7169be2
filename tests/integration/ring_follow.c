/* ring-follow: an integration-test consumer of an instance's events ring. It stands in
 * for the readmodel (holds a read-model region and publishes its applied seq, so ingest
 * tethers to it and never laps it), checks every record (seq exactly +1, payload
 * decodes), hashes the payload stream, and prints a JSON summary when told to stop
 * (SIGTERM, or --until SEQ reached). Exit 0 only if no gap, duplicate or bad payload. */
#include "common/clock.h"
#include "common/log.h"
#include "proto/event.h"
#include "shm/checkpoint.h"
#include "shm/events_region.h"
#include "readmodel/rm_region.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    mp_log_init("ring-follow");
    const char *instance = NULL;
    uint64_t until = 0;
    double wait_s = 30;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--instance") && i + 1 < argc) instance = argv[++i];
        else if (!strcmp(argv[i], "--until") && i + 1 < argc) until = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--wait") && i + 1 < argc) wait_s = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: ring-follow --instance NAME [--until SEQ] [--wait SEC]\n");
            return 2;
        }
    }
    if (!instance) return 2;
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    /* Stand-in readmodel: a real (small) read-model region whose header's progress_seq,
     * which ingest tethers to, this consumer advances. Nothing else in it changes. */
    char err[MP_REGION_ERR_MAX];
    mp_rm_caps_t caps;
    mp_rm_caps_default(&caps);
    caps.tx_ring = 16;
    caps.detail = 16;
    caps.input_bytes = 8192;
    caps.feature_recent = 16;
    caps.opportunity = 16;
    caps.journal = 1024;
    caps.journal_bytes = 1u << 20;
    mp_rm_region_t rmr;
    if (mp_rm_open_writer(&rmr, instance, &caps, true, err)) {
        mp_log("%s", err);
        return 1;
    }
    mp_region_t *rmreg = &rmr.region;
    mp_region_header_t *rmh = mp_region_header(rmreg);

    mp_events_region_t ev;
    uint64_t deadline = mp_mono_ns() + (uint64_t)(wait_s * 1e9);
    while (mp_events_open_reader(&ev, instance, err) != 0) {
        if (stop || mp_mono_ns() > deadline) {
            mp_log("no events region: %s", err);
            return 1;
        }
        mp_sleep_ns(10000000);
    }
    mp_ring_reader_t r;
    mp_ring_reader_init(&r, ev.ctl, ev.data, MP_RING_FROM_OLDEST);
    r.next_seq = 1; /* a fresh ring: everything from seq 1 is owed to us */

    static uint8_t buf[MP_RING_MAX_PAYLOAD];
    uint64_t expect = 1, count = 0, gaps = 0, dups = 0, bad = 0, per_type[8] = {0};
    uint64_t hash = MP_FINGERPRINT_INIT, idle_since = 0;
    for (;;) {
        mp_ring_record_t rec;
        int ret = mp_ring_read(&r, &rec, buf, sizeof buf);
        if (ret == MP_RING_OK) {
            idle_since = 0;
            if (rec.seq != expect) {
                if (rec.seq < expect) dups++;
                else gaps++;
                mp_log("expected seq %" PRIu64 ", got %" PRIu64, expect, rec.seq);
            }
            mp_event_t e;
            if (mp_event_decode(&e, buf, rec.len) != 0 || e.type != rec.type) {
                bad++;
                mp_log("seq %" PRIu64 ": undecodable payload", rec.seq);
            } else {
                per_type[e.type & 7]++;
            }
            hash = mp_fingerprint(hash, buf, rec.len);
            count++;
            expect = rec.seq + 1;
            atomic_store_explicit(&rmh->progress_seq, rec.seq, memory_order_release);
            if (until && rec.seq >= until) break;
        } else if (ret == MP_RING_LAPPED) {
            gaps++;
            mp_log("lapped: lost seq %" PRIu64 "..%" PRIu64, rec.gap_first, rec.gap_last);
            expect = rec.gap_last + 1;
        } else if (ret == MP_RING_EMPTY) {
            uint64_t now = mp_mono_ns();
            mp_region_heartbeat(rmreg);
            /* Told to stop: drain what is published, then report. */
            if (stop) {
                if (!idle_since) idle_since = now;
                if (now - idle_since > 200000000ull) break;
            }
            mp_sleep_ns(50000);
        } else {
            bad++;
        }
    }
    printf("{\"first_seq\":1,\"last_seq\":%" PRIu64 ",\"count\":%" PRIu64 ",\"gaps\":%" PRIu64
           ",\"duplicates\":%" PRIu64 ",\"bad_payloads\":%" PRIu64 ",\"payload_hash\":\"%016" PRIx64
           "\",\"tx_seen\":%" PRIu64 ",\"blocks\":%" PRIu64 ",\"ticks\":%" PRIu64 "}\n",
           expect - 1, count, gaps, dups, bad, hash, per_type[MP_EV_TX_SEEN],
           per_type[MP_EV_BLOCK], per_type[MP_EV_TICK]);
    fflush(stdout);
    mp_events_close(&ev);
    mp_rm_close(&rmr);
    return gaps || dups || bad || count != expect - 1 ? 1 : 0;
}
