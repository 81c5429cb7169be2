/* mempulse-shm stats: event rate, ring usage, overruns and malformed input per interval,
 * and the readmodel's lag once a read-model region exists. */
#include "tools/shm_cli.h"

#include "common/clock.h"
#include "shm/tether.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct sample {
    uint64_t mono_ns;
    uint64_t last_seq;
    uint64_t malformed;
    uint64_t overruns;
    uint64_t used;
    bool has_readmodel;
    uint64_t applied;
} sample_t;

static void take(const mp_events_region_t *ev, mp_region_t *rm, bool has_rm, sample_t *s)
{
    s->mono_ns = mp_mono_ns();
    s->last_seq = atomic_load_explicit(&ev->ctl->last_seq, memory_order_acquire);
    s->malformed = mp_metrics_read(ev->metrics, MP_M_INGEST_MALFORMED);
    s->overruns = mp_metrics_read(ev->metrics, MP_M_RING_OVERRUNS);
    s->used = mp_ring_used_bytes(ev->ctl);
    s->has_readmodel = has_rm;
    s->applied = has_rm ? atomic_load_explicit(&mp_region_header(rm)->progress_seq,
                                               memory_order_acquire)
                        : 0;
}

static void report(const mp_cli_t *cli, const mp_events_region_t *ev, const sample_t *a,
                   const sample_t *b)
{
    double dt = (double)(b->mono_ns - a->mono_ns) / 1e9;
    double rate = (double)(b->last_seq - a->last_seq) / dt;
    double malformed = (double)(b->malformed - a->malformed) / dt;
    double overruns = (double)(b->overruns - a->overruns) / dt;
    bool alive = mp_region_writer_alive(&ev->region);
    if (cli->json) {
        json_t *o = json_object();
        json_object_set_new(o, "interval_s", json_real(dt));
        json_object_set_new(o, "last_seq", json_integer((json_int_t)b->last_seq));
        json_object_set_new(o, "events_per_s", json_real(rate));
        json_object_set_new(o, "malformed_per_s", json_real(malformed));
        json_object_set_new(o, "overruns_per_s", json_real(overruns));
        json_object_set_new(o, "used_bytes", json_integer((json_int_t)b->used));
        json_object_set_new(o, "capacity_bytes", json_integer((json_int_t)ev->ctl->capacity));
        json_object_set_new(o, "writer_alive", json_boolean(alive));
        if (b->has_readmodel) {
            json_t *rm = json_object();
            json_object_set_new(rm, "applied_seq", json_integer((json_int_t)b->applied));
            json_object_set_new(rm, "lag_events", json_integer((json_int_t)(
                b->last_seq > b->applied ? b->last_seq - b->applied : 0)));
            json_object_set_new(rm, "applied_per_s", json_real((double)(b->applied - a->applied) / dt));
            json_object_set_new(o, "readmodel", rm);
        } else {
            json_object_set_new(o, "readmodel", json_null());
        }
        mp_cli_print_json(o, true);
        json_decref(o);
        return;
    }
    printf("seq %" PRIu64 "  %.0f events/s  ring %.1f%%  overruns %.0f/s  malformed %.0f/s  "
           "writer %s",
           b->last_seq, rate, 100.0 * (double)b->used / (double)ev->ctl->capacity, overruns,
           malformed, alive ? "alive" : "not running");
    if (b->has_readmodel)
        printf("  readmodel applied %" PRIu64 " lag %" PRIu64, b->applied,
               b->last_seq > b->applied ? b->last_seq - b->applied : 0);
    printf("\n");
    fflush(stdout);
}

int mp_cmd_stats(const mp_cli_t *cli)
{
    mp_events_region_t ev;
    int code = mp_cli_open_events(cli, &ev);
    if (code) return code;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char path[256], err[MP_REGION_ERR_MAX];
    mp_region_t rm;
    bool has_rm = mp_region_path(path, sizeof path, cli->instance, MP_READMODEL_KIND) == 0 &&
                  mp_region_open(&rm, path, MP_READMODEL_KIND, false, err) == 0;
    sample_t prev, cur;
    take(&ev, &rm, has_rm, &prev);
    for (uint32_t i = 0; !interrupted && (cli->count == 0 || i < cli->count); i++) {
        mp_sleep_ns((uint64_t)(cli->interval_s * 1e9));
        if (interrupted) break;
        take(&ev, &rm, has_rm, &cur);
        report(cli, &ev, &prev, &cur);
        prev = cur;
    }
    if (has_rm) mp_region_close(&rm);
    mp_events_close(&ev);
    return MP_EXIT_OK;
}
