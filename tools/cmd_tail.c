/* mempulse-shm tail: decoded events as JSON lines (with or without --json: the events are
 * JSON either way), from a seq or the last N, and -f to follow. A lap (the writer
 * overwrote what we had not read) prints a gap line. */
#include "tools/shm_cli.h"

#include "common/clock.h"
#include "common/log.h"
#include "proto/event.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define FOLLOW_SLEEP_MAX_NS 20000000ull

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void print_record(const mp_ring_record_t *rec, const uint8_t *payload)
{
    static char line[MP_EVENT_MAX_ENCODED * 3 + 1024];
    mp_event_t ev;
    if (mp_event_decode(&ev, payload, rec->len) != 0) {
        printf("{\"seq\":%" PRIu64 ",\"type\":\"%s\",\"error\":\"undecodable payload of %u bytes\"}\n",
               rec->seq, mp_event_type_name(rec->type), rec->len);
        return;
    }
    int n = mp_event_to_json(&ev, rec->seq, line, sizeof line);
    if (n < 0) {
        printf("{\"seq\":%" PRIu64 ",\"type\":\"%s\",\"error\":\"event too large to print\"}\n",
               rec->seq, mp_event_type_name(rec->type));
        return;
    }
    fwrite(line, 1, (size_t)n, stdout);
    fputc('\n', stdout);
}

/* Positions the reader: --from SEQ, else the last N records (0 with -f: only new ones). */
static void position(const mp_cli_t *cli, mp_events_region_t *ev, mp_ring_reader_t *r)
{
    if (cli->has_from) {
        mp_ring_reader_init(r, ev->ctl, ev->data, MP_RING_FROM_OLDEST);
        mp_ring_reader_seek(r, cli->from_seq ? cli->from_seq : 1);
        return;
    }
    uint64_t last = atomic_load_explicit(&ev->ctl->last_seq, memory_order_acquire);
    if (cli->lines == 0) {
        mp_ring_reader_init(r, ev->ctl, ev->data, MP_RING_FROM_TAIL);
        return;
    }
    uint64_t start = last >= cli->lines ? last - cli->lines + 1 : 1;
    mp_ring_reader_init(r, ev->ctl, ev->data, MP_RING_FROM_OLDEST);
    /* Fewer than N records kept: start at the oldest, without calling it a gap. */
    if (r->next_seq && start > r->next_seq) mp_ring_reader_seek(r, start);
}

int mp_cmd_tail(const mp_cli_t *cli)
{
    mp_events_region_t ev;
    int code = mp_cli_open_events(cli, &ev);
    if (code) return code;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    mp_ring_reader_t r;
    position(cli, &ev, &r);
    /* Without -f, stop at what was published when we started. */
    uint64_t end = atomic_load_explicit(&ev.ctl->last_seq, memory_order_acquire);
    static uint8_t payload[MP_RING_MAX_PAYLOAD];
    uint64_t sleep_ns = 1000000;
    /* --from SEQ -n N: at most N events (without -n: to the end, or forever with -f). */
    uint64_t left = cli->has_from && cli->lines_set ? cli->lines : UINT64_MAX;
    while (!interrupted && left > 0) {
        mp_ring_record_t rec;
        int ret = mp_ring_read(&r, &rec, payload, sizeof payload);
        if (ret == MP_RING_OK) {
            if (!cli->follow && rec.seq > end) break;
            print_record(&rec, payload);
            left--;
            sleep_ns = 1000000;
        } else if (ret == MP_RING_LAPPED) {
            printf("{\"gap\":{\"first_seq\":%" PRIu64 ",\"last_seq\":%" PRIu64 "}}\n",
                   rec.gap_first, rec.gap_last);
        } else if (ret == MP_RING_EMPTY) {
            if (!cli->follow) break;
            fflush(stdout);
            mp_sleep_ns(sleep_ns);
            if (sleep_ns < FOLLOW_SLEEP_MAX_NS) sleep_ns *= 2;
        } else {
            mp_log("skipped a record larger than %zu bytes: %s", sizeof payload, strerror(-ret));
        }
        if (!cli->follow && r.next_seq > end) break;
    }
    fflush(stdout);
    mp_events_close(&ev);
    return MP_EXIT_OK;
}
