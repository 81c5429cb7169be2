/* mempulse-shm info: what the regions hold: writers, seqs, ring usage, read-model
 * watermarks and sizes, metrics. */
#include "tools/shm_cli.h"

#include "readmodel/rm_reader.h"
#include "shm/tether.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

static json_t *events_json(const mp_events_region_t *ev)
{
    json_t *o = mp_cli_header_json(&ev->region);
    const mp_ring_ctl_t *ctl = ev->ctl;
    uint64_t tail = atomic_load_explicit(&ctl->tail, memory_order_acquire);
    uint64_t head = atomic_load_explicit(&ctl->head, memory_order_acquire);
    uint64_t last = atomic_load_explicit(&ctl->last_seq, memory_order_relaxed);
    uint64_t head_seq = atomic_load_explicit(&ctl->head_seq, memory_order_relaxed);
    json_object_set_new(o, "last_seq", json_integer((json_int_t)last));
    /* head_seq stays 0 until the writer first reclaims: the oldest is then seq 1. */
    json_object_set_new(o, "oldest_seq", tail == head || !last ? json_null()
                                         : json_integer(head_seq ? (json_int_t)head_seq : 1));
    json_object_set_new(o, "capacity_bytes", json_integer((json_int_t)ctl->capacity));
    json_object_set_new(o, "used_bytes", json_integer((json_int_t)(tail - head)));
    json_object_set_new(o, "metrics", mp_cli_metrics_json(ev->metrics));
    return o;
}

/* The read-model region, when one exists: header facts, watermarks, per-channel seqs,
 * sizes and metrics; JSON null when there is none yet. Returns NULL (with *code set)
 * when it exists but cannot be used: a wrong layout is a configuration error (exit 2),
 * as for the events region. */
static json_t *readmodel_json(const mp_cli_t *cli, const mp_events_region_t *ev, int *code)
{
    char err[MP_REGION_ERR_MAX];
    mp_rm_region_t rm;
    int ret = mp_rm_open_reader(&rm, cli->instance, err);
    /* Missing, or created but not yet formatted by a starting readmodel: nothing to show. */
    if (ret == -ENOENT || ret == -EAGAIN) return json_null();
    if (ret) {
        *code = mp_cli_readmodel_error(cli, ret, err);
        return NULL;
    }
    const mp_region_header_t *h = mp_region_header(&rm.region);
    mp_rm_marks_t m;
    mp_rm_read_marks(&rm, &m);
    json_t *o = mp_cli_header_json(&rm.region);
    /* applied_seq from the header: stored after the batch's commit point, so it never
     * names a batch a crash could still roll back. */
    json_object_set_new(o, "applied_seq", json_integer((json_int_t)atomic_load_explicit(
                                              &h->progress_seq, memory_order_acquire)));
    json_object_set_new(o, "journal_seq", json_integer((json_int_t)m.journal_seq));
    /* lag_events: events published but not applied yet (the events region's last seq is
     * read after applied_seq, so it is never below it). */
    uint64_t applied = atomic_load_explicit(&h->progress_seq, memory_order_acquire);
    uint64_t events_last = atomic_load_explicit(&ev->ctl->last_seq, memory_order_acquire);
    json_object_set_new(o, "lag_events",
                        json_integer((json_int_t)(events_last > applied ? events_last - applied : 0)));
    json_object_set_new(o, "oldest_journal_seq", json_integer((json_int_t)m.oldest_journal_seq));
    json_object_set_new(o, "revision", json_integer((json_int_t)m.revision));
    json_object_set_new(o, "event_time_unix_ms",
                        json_integer((json_int_t)(m.event_time_ns / 1000000)));
    json_object_set_new(o, "bytes_used", json_integer((json_int_t)m.bytes_used));
    json_object_set_new(o, "bytes_cap", json_integer((json_int_t)h->region_size));
    json_t *ch = json_object();
    for (unsigned c = 0; c < MP_CH_COUNT; c++)
        json_object_set_new(ch, mp_rm_channel_name(c), json_integer((json_int_t)m.channel_seq[c]));
    json_object_set_new(o, "channel_seq", ch);
    json_object_set_new(o, "metrics", mp_cli_metrics_json(rm.metrics));
    mp_rm_close(&rm);
    return o;
}

static void print_text(const mp_cli_t *cli, json_t *root)
{
    json_t *ev = json_object_get(root, "events");
    printf("instance %s\n", cli->instance);
    printf("events    %s\n", json_string_value(json_object_get(ev, "path")));
    printf("  writer    pid %" JSON_INTEGER_FORMAT " (%s), %" JSON_INTEGER_FORMAT " starts\n",
           json_integer_value(json_object_get(ev, "writer_pid")),
           json_is_true(json_object_get(ev, "writer_alive")) ? "alive" : "not running",
           json_integer_value(json_object_get(ev, "writer_starts")));
    json_t *oldest = json_object_get(ev, "oldest_seq");
    printf("  seq       last %" JSON_INTEGER_FORMAT ", oldest %s%" JSON_INTEGER_FORMAT "\n",
           json_integer_value(json_object_get(ev, "last_seq")), json_is_null(oldest) ? "-" : "",
           json_is_null(oldest) ? (json_int_t)0 : json_integer_value(oldest));
    printf("  ring      %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " bytes used\n",
           json_integer_value(json_object_get(ev, "used_bytes")),
           json_integer_value(json_object_get(ev, "capacity_bytes")));
    const char *name;
    json_t *val;
    json_object_foreach(json_object_get(ev, "metrics"), name, val)
        printf("  %-28s %" JSON_INTEGER_FORMAT "\n", name, json_integer_value(val));
    json_t *rm = json_object_get(root, "readmodel");
    if (json_is_null(rm)) {
        printf("readmodel (no region)\n");
    } else {
        printf("readmodel %s\n", json_string_value(json_object_get(rm, "path")));
        printf("  writer    pid %" JSON_INTEGER_FORMAT " (%s)\n",
               json_integer_value(json_object_get(rm, "writer_pid")),
               json_is_true(json_object_get(rm, "writer_alive")) ? "alive" : "not running");
        printf("  applied   seq %" JSON_INTEGER_FORMAT ", lag %" JSON_INTEGER_FORMAT " events\n",
               json_integer_value(json_object_get(rm, "applied_seq")),
               json_integer_value(json_object_get(rm, "lag_events")));
        printf("  journal   seq %" JSON_INTEGER_FORMAT ", oldest %" JSON_INTEGER_FORMAT
               ", revision %" JSON_INTEGER_FORMAT "\n",
               json_integer_value(json_object_get(rm, "journal_seq")),
               json_integer_value(json_object_get(rm, "oldest_journal_seq")),
               json_integer_value(json_object_get(rm, "revision")));
        printf("  memory    %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " bytes used\n",
               json_integer_value(json_object_get(rm, "bytes_used")),
               json_integer_value(json_object_get(rm, "bytes_cap")));
        json_object_foreach(json_object_get(rm, "channel_seq"), name, val)
            printf("  %-28s seq %" JSON_INTEGER_FORMAT "\n", name, json_integer_value(val));
        json_object_foreach(json_object_get(rm, "metrics"), name, val)
            printf("  %-28s %" JSON_INTEGER_FORMAT "\n", name, json_integer_value(val));
    }
}

int mp_cmd_info(const mp_cli_t *cli)
{
    mp_events_region_t ev;
    int code = mp_cli_open_events(cli, &ev);
    if (code) return code;
    json_t *root = json_object();
    json_object_set_new(root, "instance", json_string(cli->instance));
    json_object_set_new(root, "events", events_json(&ev));
    json_t *rm = readmodel_json(cli, &ev, &code);
    mp_events_close(&ev);
    if (!rm) {
        json_decref(root);
        return code;
    }
    json_object_set_new(root, "readmodel", rm);
    if (cli->json) mp_cli_print_json(root, false);
    else print_text(cli, root);
    json_decref(root);
    return MP_EXIT_OK;
}
