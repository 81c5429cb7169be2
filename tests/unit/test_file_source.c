/* File source: format detection, JSONL envelopes, CSV replay, malformed-line handling,
 * TICKs, stdin, and resuming from a checkpoint. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "ingest/file_source.h"

#define SEC 1000000000ull
#define MS 1000000ull
#define FROM "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define TO "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
#define CSV_HEADER                                                                                 \
    "timestamp_ms,hash,chain_id,from,to,value,nonce,gas,gas_price,gas_tip_cap,gas_fee_cap,"        \
    "data_size,data_4bytes,sources,included_at_block_height,included_block_timestamp_ms,"          \
    "inclusion_delay_ms,tx_type\n"

static char tmpdir[] = "/tmp/mp_file_source_XXXXXX";

static void setup(void)
{
    cr_assert_not_null(mkdtemp(tmpdir));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(file_source, .init = setup, .fini = teardown, .timeout = 60);

/* ---- fixtures ---- */

/* A type-2 tx object whose hash ends in the 32-bit id. */
static int tx_json(char *out, size_t cap, uint32_t id)
{
    return snprintf(out, cap,
                    "{\"type\":\"0x2\",\"chainId\":\"0x1\",\"nonce\":\"0x%x\",\"gas\":\"0x5208\","
                    "\"maxFeePerGas\":\"0x77359400\",\"maxPriorityFeePerGas\":\"0x3b9aca00\","
                    "\"to\":\"" TO "\",\"value\":\"0x1\",\"input\":\"0xa9059cbb\","
                    "\"hash\":\"0x%056x%08x\",\"from\":\"" FROM "\"}",
                    id, 0, id);
}

/* A CSV row whose hash ends in the id. */
static int csv_row(char *out, size_t cap, uint32_t id, uint64_t ts_ms)
{
    return snprintf(out, cap,
                    "%llu,0x%056x%08x,1," FROM "," TO ",5,%u,21000,30,2,30,4,0xa9059cbb,a b,0,0,"
                    "0,2\n",
                    (unsigned long long)ts_ms, 0, id, id);
}

/* Builds file content piece by piece. */
typedef struct text {
    char *p;
    size_t len, cap;
} text_t;

static void add(text_t *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        cr_assert_not_null(t->p);
    }
    memcpy(t->p + t->len, s, n + 1);
    t->len += n;
}

static void add_tx(text_t *t, uint32_t id)
{
    char line[1024];
    tx_json(line, sizeof line, id);
    add(t, line);
    add(t, "\n");
}

static char *write_fixture(const char *name, const char *data, size_t len)
{
    char *path = malloc(512);
    snprintf(path, 512, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

static mp_source_t *create(const char *path, double speed, size_t max_line)
{
    char err[256] = "";
    mp_file_source_config_t cfg = {
        .path = path, .speed = speed, .chain_id = 1, .max_line = max_line};
    mp_source_t *s = mp_file_source_create(&cfg, err, sizeof err);
    cr_assert_not_null(s, "create failed: %s", err);
    cr_assert_str_eq(s->name, "file");
    cr_assert_eq(s->checkpoint_every, 1);
    return s;
}

/* Next non-TICK result, sleeping through IDLE as the ingest loop would. Fails the test
 * when nothing comes within 10 s. */
static int next_tx(mp_source_t *s, mp_event_t *ev)
{
    uint64_t deadline = mp_mono_ns() + 10 * SEC;
    for (;;) {
        uint64_t wait = 0;
        int rc = s->ops->next(s, ev, &wait);
        if (rc == MP_SOURCE_EVENT && ev->type == MP_EV_TICK) continue;
        if (rc != MP_SOURCE_IDLE) return rc;
        cr_assert_lt(mp_mono_ns(), deadline, "source stayed idle");
        mp_sleep_ns(wait < 10 * MS ? wait : 10 * MS);
    }
}

static uint32_t tx_id(const mp_event_t *ev)
{
    const uint8_t *h = ev->u.tx.hash + 28;
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

static void expect_tx(mp_source_t *s, uint32_t id)
{
    mp_event_t ev;
    int rc = next_tx(s, &ev);
    cr_assert_eq(rc, MP_SOURCE_EVENT, "tx %u: rc %d", id, rc);
    cr_assert_eq(ev.type, MP_EV_TX_SEEN);
    cr_assert_eq(tx_id(&ev), id, "expected tx %u, got %u", id, tx_id(&ev));
    cr_assert_eq(ev.u.tx.source, MP_SOURCE_FILE);
}

static void expect_end(mp_source_t *s)
{
    mp_event_t ev;
    cr_assert_eq(next_tx(s, &ev), MP_SOURCE_END);
}

/* ---- JSONL ---- */

Test(file_source, jsonl_good_lines_come_out_in_order_and_bad_ones_are_counted)
{
    text_t t = {0};
    char overlong[700];
    memset(overlong, ' ', sizeof overlong - 1);
    overlong[0] = '{';
    overlong[sizeof overlong - 2] = '}';
    overlong[sizeof overlong - 1] = '\0';
    add_tx(&t, 0);
    add(&t, "{\"hash\": \n"); /* bad JSON */
    add_tx(&t, 1);
    add(&t, "\n   \n");               /* blank: not malformed */
    add(&t, "{\"hash\":\"0x12\"}\n"); /* bad field */
    add_tx(&t, 2);
    add(&t, "[1,2]\n"); /* not an object */
    add(&t, overlong);  /* longer than max_line */
    add(&t, "\n");
    add_tx(&t, 3);
    add(&t, "{\"a\":1,\"a\":2}\n");                   /* duplicate key */
    add(&t, "{\"params\":{\"result\":\"0xabc\"}}\n"); /* hash-only notification */
    add_tx(&t, 4);
    char *path = write_fixture("mixed.jsonl", t.p, t.len);
    mp_source_t *s = create(path, 0, 512);
    for (uint32_t id = 0; id < 5; id++)
        expect_tx(s, id);
    expect_end(s);
    cr_assert_eq(s->malformed_total, 6);
    s->ops->destroy(s);
    free(path);
    free(t.p);
}

Test(file_source, keeps_going_through_many_malformed_lines)
{
    text_t t = {0};
    uint32_t good = 0;
    for (int i = 0; i < 25000; i++) {
        add(&t, i % 3 ? "not json at all\n" : "{\"nonce\":\"0x1\"}\n");
        if (i % 250 == 0) add_tx(&t, good++);
    }
    char *path = write_fixture("bad.jsonl", t.p, t.len);
    mp_source_t *s = create(path, 0, 0);
    for (uint32_t id = 0; id < good; id++)
        expect_tx(s, id);
    expect_end(s);
    /* The first line fixes the format, so every bad line after it counts once. */
    cr_assert_eq(s->malformed_total, 25000);
    s->ops->destroy(s);
    free(path);
    free(t.p);
}

Test(file_source, jsonl_accepts_bare_notification_and_response_envelopes)
{
    char tx[1024], line[1400];
    text_t t = {0};
    add_tx(&t, 10);
    tx_json(tx, sizeof tx, 11);
    snprintf(line, sizeof line,
             "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":{"
             "\"subscription\":\"0x6474\",\"result\":%s}}\n",
             tx);
    add(&t, line);
    tx_json(tx, sizeof tx, 12);
    snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":%s}\n", tx);
    add(&t, line);
    add(&t, "{\"jsonrpc\":\"2.0\",\"id\":8,\"error\":{\"code\":-32000,\"message\":\"x\"}}\n");
    char *path = write_fixture("env.jsonl", t.p, t.len);
    mp_source_t *s = create(path, 0, 0);
    expect_tx(s, 10);
    expect_tx(s, 11);
    expect_tx(s, 12);
    expect_end(s);
    cr_assert_eq(s->malformed_total, 1);
    s->ops->destroy(s);
    free(path);
    free(t.p);
}

Test(file_source, jsonl_event_time_comes_from_line_or_wall_clock)
{
    char tx[1024], line[1400];
    text_t t = {0};
    tx_json(tx, sizeof tx, 1);
    /* seen_unix_ms inside the tx object */
    snprintf(line, sizeof line, "%.*s,\"seen_unix_ms\":1700000000123}\n", (int)strlen(tx) - 1, tx);
    add(&t, line);
    tx_json(tx, sizeof tx, 2);
    snprintf(line, sizeof line, "{\"timestamp_ms\":\"1700000000456\",\"params\":{\"result\":%s}}\n",
             tx);
    add(&t, line);
    add_tx(&t, 3);
    char *path = write_fixture("time.jsonl", t.p, t.len);
    mp_source_t *s = create(path, 0, 0);
    mp_event_t ev;
    cr_assert_eq(next_tx(s, &ev), MP_SOURCE_EVENT);
    cr_assert_eq(ev.time_ns, 1700000000123ull * MS);
    cr_assert_eq(next_tx(s, &ev), MP_SOURCE_EVENT);
    cr_assert_eq(ev.time_ns, 1700000000456ull * MS);
    uint64_t before = mp_wall_ns();
    cr_assert_eq(next_tx(s, &ev), MP_SOURCE_EVENT);
    cr_assert(ev.time_ns >= before && ev.time_ns <= mp_wall_ns(), "wall-clock stamp expected");
    s->ops->destroy(s);
    free(path);
    free(t.p);
}

Test(file_source, crlf_jsonl_parses)
{
    char line[1024];
    text_t t = {0};
    tx_json(line, sizeof line, 5);
    add(&t, line);
    add(&t, "\r\n");
    tx_json(line, sizeof line, 6);
    add(&t, line); /* no newline at all at the end */
    char *path = write_fixture("crlf.jsonl", t.p, t.len);
    mp_source_t *s = create(path, 0, 0);
    expect_tx(s, 5);
    expect_tx(s, 6);
    expect_end(s);
    cr_assert_eq(s->malformed_total, 0);
    s->ops->destroy(s);
    free(path);
    free(t.p);
}

Test(file_source, unknown_first_line_is_counted_then_format_is_detected)
{
    text_t t = {0};
    add(&t, "\xEF\xBB\xBF\n"); /* a byte order mark alone: blank */
    add(&t, "hello world\n");
    add_tx(&t, 7);
    char *path = write_fixture("unknown.jsonl", t.p, t.len);
    mp_source_t *s = create(path, 0, 0);
    expect_tx(s, 7);
    expect_end(s);
    cr_assert_eq(s->malformed_total, 1);
    s->ops->destroy(s);
    free(path);
    free(t.p);
}

Test(file_source, end_of_file_stays_end)
{
    char *path = write_fixture("empty.jsonl", "", 0);
    mp_source_t *s = create(path, 0, 0);
    expect_end(s);
    mp_event_t ev;
    uint64_t wait;
    cr_assert_eq(s->ops->next(s, &ev, &wait), MP_SOURCE_END);
    s->ops->destroy(s);
    free(path);
}

/* ---- CSV ---- */

Test(file_source, csv_is_detected_and_rows_become_events)
{
    char row[512];
    text_t t = {0};
    add(&t, CSV_HEADER);
    csv_row(row, sizeof row, 1, 1693785600123);
    add(&t, row);
    csv_row(row, sizeof row, 2, 1693785600200);
    add(&t, row);
    char *path = write_fixture("day.csv", t.p, t.len);
    mp_source_t *s = create(path, 0, 0);
    mp_event_t ev;
    cr_assert_eq(next_tx(s, &ev), MP_SOURCE_EVENT);
    cr_assert_eq(tx_id(&ev), 1);
    cr_assert_eq(ev.time_ns, 1693785600123ull * MS);
    cr_assert_eq(ev.u.tx.source, MP_SOURCE_FILE);
    cr_assert_eq(ev.u.tx.input_len, 4);
    cr_assert_eq(ev.u.tx.input_prefix_len, 4);
    cr_assert_eq(memcmp(ev.u.tx.input_prefix, "\xa9\x05\x9c\xbb", 4), 0);
    cr_assert_eq(next_tx(s, &ev), MP_SOURCE_EVENT);
    cr_assert_eq(tx_id(&ev), 2);
    expect_end(s);
    cr_assert_eq(s->malformed_total, 0);
    s->ops->destroy(s);
    free(path);
    free(t.p);
}

Test(file_source, csv_bad_rows_are_counted_and_skipped)
{
    char row[512];
    text_t t = {0};
    add(&t, CSV_HEADER);
    csv_row(row, sizeof row, 1, 1000);
    add(&t, row);
    add(&t, "1001,0xnothash,1\n");
    add(&t, CSV_HEADER); /* a repeated header (concatenated exports) is not an error */
    csv_row(row, sizeof row, 2, 1002);
    add(&t, row);
    char *path = write_fixture("bad.csv", t.p, t.len);
    mp_source_t *s = create(path, 0, 0);
    expect_tx(s, 1);
    expect_tx(s, 2);
    expect_end(s);
    cr_assert_eq(s->malformed_total, 1);
    s->ops->destroy(s);
    free(path);
    free(t.p);
}

Test(file_source, csv_replay_paces_rows_by_speed)
{
    char row[512];
    text_t t = {0};
    add(&t, CSV_HEADER);
    csv_row(row, sizeof row, 1, 1693785600000);
    add(&t, row);
    csv_row(row, sizeof row, 2, 1693785601000); /* 1 s later: 250 ms at speed 4 */
    add(&t, row);
    char *path = write_fixture("paced.csv", t.p, t.len);
    mp_source_t *s = create(path, 4.0, 0);
    expect_tx(s, 1);
    uint64_t t0 = mp_mono_ns();
    expect_tx(s, 2);
    uint64_t took = mp_mono_ns() - t0;
    cr_assert_geq(took, 200 * MS, "second row came after %llu ms", (unsigned long long)(took / MS));
    cr_assert_lt(took, 3 * SEC);
    s->ops->destroy(s);
    free(path);
    free(t.p);
}

Test(file_source, csv_speed_zero_does_not_pace)
{
    char row[512];
    text_t t = {0};
    add(&t, CSV_HEADER);
    csv_row(row, sizeof row, 1, 1693785600000);
    add(&t, row);
    csv_row(row, sizeof row, 2, 1693789200000); /* an hour later */
    add(&t, row);
    char *path = write_fixture("fast.csv", t.p, t.len);
    mp_source_t *s = create(path, 0, 0);
    uint64_t t0 = mp_mono_ns();
    expect_tx(s, 1);
    expect_tx(s, 2);
    cr_assert_lt(mp_mono_ns() - t0, SEC);
    s->ops->destroy(s);
    free(path);
    free(t.p);
}

Test(file_source, csv_tick_carries_the_replay_clock)
{
    char row[512];
    text_t t = {0};
    add(&t, CSV_HEADER);
    csv_row(row, sizeof row, 1, 1600000000000);
    add(&t, row);
    csv_row(row, sizeof row, 2, 1600003600000); /* an hour later: stays pending */
    add(&t, row);
    char *path = write_fixture("tick.csv", t.p, t.len);
    mp_source_t *s = create(path, 1.0, 0);
    expect_tx(s, 1);
    uint64_t deadline = mp_mono_ns() + 3 * SEC;
    bool ticked = false;
    while (!ticked && mp_mono_ns() < deadline) {
        mp_event_t ev;
        uint64_t wait = 0;
        int rc = s->ops->next(s, &ev, &wait);
        cr_assert(rc == MP_SOURCE_IDLE || (rc == MP_SOURCE_EVENT && ev.type == MP_EV_TICK));
        if (rc == MP_SOURCE_EVENT) {
            ticked = true;
            cr_assert_geq(ev.time_ns, 1600000000000ull * MS);
            cr_assert_lt(ev.time_ns, 1600000004000ull * MS, "tick not on the replay clock");
        } else {
            mp_sleep_ns(wait < 50 * MS ? wait : 50 * MS);
        }
    }
    cr_assert(ticked, "no TICK within 3 s");
    s->ops->destroy(s);
    free(path);
    free(t.p);
}

/* ---- checkpoints ---- */

Test(file_source, restore_after_line_k_continues_at_line_k_plus_1)
{
    text_t t = {0};
    for (uint32_t id = 0; id < 5; id++)
        add_tx(&t, id);
    char *path = write_fixture("resume.jsonl", t.p, t.len);
    mp_source_t *a = create(path, 0, 0);
    expect_tx(a, 0);
    expect_tx(a, 1);
    uint8_t state[256];
    uint32_t len = a->ops->save(a, state, sizeof state);
    cr_assert_gt(len, 0);
    uint64_t fp = a->fingerprint;
    a->ops->destroy(a);

    mp_source_t *b = create(path, 0, 0);
    cr_assert_eq(b->fingerprint, fp, "same file, same fingerprint");
    cr_assert_eq(b->ops->restore(b, state, len), 0);
    expect_tx(b, 2);
    expect_tx(b, 3);
    expect_tx(b, 4);
    expect_end(b);
    b->ops->destroy(b);
    free(path);
    free(t.p);
}

Test(file_source, csv_restore_keeps_column_layout)
{
    char row[512];
    text_t t = {0};
    add(&t, "timestamp_ms,from,to,hash,value,nonce,gas,gas_price\n");
    for (uint32_t id = 1; id <= 3; id++) {
        snprintf(row, sizeof row, "%u," FROM ",,0x%056x%08x,1,%u,21000,9\n", 1000 + id, 0, id, id);
        add(&t, row);
    }
    char *path = write_fixture("layout.csv", t.p, t.len);
    mp_source_t *a = create(path, 0, 0);
    expect_tx(a, 1);
    uint8_t state[256];
    uint32_t len = a->ops->save(a, state, sizeof state);
    a->ops->destroy(a);

    mp_source_t *b = create(path, 0, 0);
    cr_assert_eq(b->ops->restore(b, state, len), 0);
    mp_event_t ev;
    cr_assert_eq(next_tx(b, &ev), MP_SOURCE_EVENT);
    cr_assert_eq(tx_id(&ev), 2);
    cr_assert_eq(ev.time_ns, 1002 * MS);
    cr_assert_eq(ev.u.tx.nonce, 2);
    cr_assert_not(ev.u.tx.has_to);
    expect_tx(b, 3);
    expect_end(b);
    cr_assert_eq(b->malformed_total, 0);
    b->ops->destroy(b);
    free(path);
    free(t.p);
}

Test(file_source, save_while_row_waits_excludes_that_row)
{
    char row[512];
    text_t t = {0};
    add(&t, CSV_HEADER);
    csv_row(row, sizeof row, 1, 1600000000000);
    add(&t, row);
    csv_row(row, sizeof row, 2, 1600000100000); /* 100 s later: pending at speed 1 */
    add(&t, row);
    char *path = write_fixture("pending.csv", t.p, t.len);
    mp_source_t *a = create(path, 1.0, 0);
    expect_tx(a, 1);
    mp_event_t ev;
    uint64_t wait = 0;
    int rc;
    do
        rc = a->ops->next(a, &ev, &wait);
    while (rc == MP_SOURCE_EVENT && ev.type == MP_EV_TICK);
    cr_assert_eq(rc, MP_SOURCE_IDLE, "row 2 should wait for its replay time");
    cr_assert_gt(wait, 0);
    uint8_t state[256];
    uint32_t len = a->ops->save(a, state, sizeof state);
    a->ops->destroy(a);

    mp_source_t *b = create(path, 0, 0);
    cr_assert_eq(b->ops->restore(b, state, len), 0);
    expect_tx(b, 2);
    expect_end(b);
    b->ops->destroy(b);
    free(path);
    free(t.p);
}

Test(file_source, restore_into_a_running_source_rewinds_to_the_saved_line)
{
    text_t t = {0};
    for (uint32_t id = 0; id < 4; id++)
        add_tx(&t, id);
    char *path = write_fixture("rewind.jsonl", t.p, t.len);
    mp_source_t *s = create(path, 0, 0);
    expect_tx(s, 0);
    uint8_t state[256];
    uint32_t len = s->ops->save(s, state, sizeof state);
    expect_tx(s, 1);
    expect_tx(s, 2);
    cr_assert_eq(s->ops->restore(s, state, len), 0);
    expect_tx(s, 1);
    expect_tx(s, 2);
    expect_tx(s, 3);
    expect_end(s);
    s->ops->destroy(s);
    free(path);
    free(t.p);
}

Test(file_source, restore_rejects_foreign_state)
{
    text_t t = {0};
    add_tx(&t, 0);
    char *path = write_fixture("foreign.jsonl", t.p, t.len);
    mp_source_t *s = create(path, 0, 0);
    uint8_t junk[48];
    memset(junk, 0xa5, sizeof junk);
    cr_assert_eq(s->ops->restore(s, junk, sizeof junk), -EINVAL);
    uint8_t state[256];
    uint32_t len = s->ops->save(s, state, sizeof state);
    cr_assert_eq(s->ops->restore(s, state, len - 1), -EINVAL);
    cr_assert_eq(s->ops->save(s, state, 8), 0, "too small a buffer saves nothing");
    expect_tx(s, 0); /* a refused restore leaves the source as it was */
    s->ops->destroy(s);
    free(path);
    free(t.p);
}

Test(file_source, restore_rejects_offset_inside_a_rewritten_file)
{
    text_t t = {0};
    for (uint32_t id = 0; id < 3; id++)
        add_tx(&t, id);
    char *path = write_fixture("rewritten.jsonl", t.p, t.len);
    mp_source_t *a = create(path, 0, 0);
    expect_tx(a, 0);
    uint8_t state[256];
    uint32_t len = a->ops->save(a, state, sizeof state);
    a->ops->destroy(a);

    /* Same inode, new content: the saved offset now falls inside a line. */
    int fd = open(path, O_WRONLY | O_TRUNC);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "x", 1), 1);
    cr_assert_eq(write(fd, t.p, t.len), (ssize_t)t.len);
    close(fd);
    mp_source_t *b = create(path, 0, 0);
    cr_assert_eq(b->ops->restore(b, state, len), -EINVAL);
    b->ops->destroy(b);
    free(path);
    free(t.p);
}

Test(file_source, fingerprint_identifies_the_file)
{
    char *p1 = write_fixture("one.jsonl", "\n", 1);
    char *p2 = write_fixture("two.jsonl", "\n", 1);
    char alias[600];
    snprintf(alias, sizeof alias, "%s/./one.jsonl", tmpdir);
    mp_source_t *a = create(p1, 0, 0), *b = create(p2, 0, 0), *c = create(alias, 0, 0);
    cr_assert_neq(a->fingerprint, b->fingerprint);
    cr_assert_eq(a->fingerprint, c->fingerprint, "real path, not spelling");
    a->ops->destroy(a);
    b->ops->destroy(b);
    c->ops->destroy(c);
    free(p1);
    free(p2);
}

/* ---- stdin and idle ---- */

typedef struct feeder {
    int fd;
    int lines;
} feeder_t;

static void *feed(void *arg)
{
    feeder_t *f = arg;
    for (int i = 0; i < f->lines; i++) {
        char line[1024];
        int n = tx_json(line, sizeof line - 1, (uint32_t)(100 + i));
        line[n++] = '\n';
        /* Write each line in two pieces with a pause, as a slow producer would. */
        cr_assert_eq(write(f->fd, line, 10), 10);
        mp_sleep_ns(20 * MS);
        cr_assert_eq(write(f->fd, line + 10, (size_t)n - 10), n - 10);
    }
    close(f->fd);
    return NULL;
}

static int pipe_on_stdin(void)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
    close(p[0]);
    return p[1];
}

Test(file_source, stdin_pipe_is_read_until_eof_and_is_not_resumable)
{
    feeder_t f = {.fd = pipe_on_stdin(), .lines = 3};
    pthread_t th;
    pthread_create(&th, NULL, feed, &f);
    mp_source_t *s = create("-", 0, 0);
    expect_tx(s, 100);
    expect_tx(s, 101);
    expect_tx(s, 102);
    expect_end(s);
    uint8_t state[256];
    cr_assert_eq(s->ops->save(s, state, sizeof state), 0);
    cr_assert_eq(s->ops->restore(s, state, 48), -EINVAL);
    pthread_join(th, NULL);
    s->ops->destroy(s);
}

Test(file_source, stdin_pipe_on_the_fallback_path)
{
    setenv("MEMPULSE_NO_URING", "1", 1); /* this test's process only */
    feeder_t f = {.fd = pipe_on_stdin(), .lines = 2};
    pthread_t th;
    pthread_create(&th, NULL, feed, &f);
    mp_source_t *s = create("-", 0, 0);
    expect_tx(s, 100);
    expect_tx(s, 101);
    expect_end(s);
    pthread_join(th, NULL);
    s->ops->destroy(s);
}

Test(file_source, tick_is_emitted_each_second_while_idle)
{
    int w = pipe_on_stdin(); /* kept open and silent */
    mp_source_t *s = create("-", 0, 0);
    uint64_t start_wall = mp_wall_ns(), deadline = mp_mono_ns() + 2500 * MS;
    int ticks = 0;
    while (mp_mono_ns() < deadline) {
        mp_event_t ev;
        uint64_t wait = 0, t0 = mp_mono_ns();
        int rc = s->ops->next(s, &ev, &wait);
        uint64_t took = mp_mono_ns() - t0;
        cr_assert_lt(took, 300 * MS, "next() blocked %llu ms", (unsigned long long)(took / MS));
        if (rc == MP_SOURCE_EVENT) {
            cr_assert_eq(ev.type, MP_EV_TICK);
            cr_assert_eq(ev.time_ns % SEC, 0, "JSONL ticks mark a wall-clock second");
            cr_assert_geq(ev.time_ns + SEC, start_wall);
            cr_assert_leq(ev.time_ns, mp_wall_ns());
            ticks++;
        } else {
            cr_assert_eq(rc, MP_SOURCE_IDLE);
        }
    }
    cr_assert(ticks >= 2 && ticks <= 3, "%d ticks in 2.5 s", ticks);
    s->ops->destroy(s);
    close(w);
}

/* ---- configuration ---- */

Test(file_source, missing_file_names_path_in_error)
{
    char err[256] = "";
    mp_file_source_config_t cfg = {.path = "/nonexistent/mempulse/x.jsonl", .speed = 1};
    cr_assert_null(mp_file_source_create(&cfg, err, sizeof err));
    cr_assert_not_null(strstr(err, "/nonexistent/mempulse/x.jsonl"), "%s", err);
}

Test(file_source, invalid_speed_is_rejected)
{
    char err[256] = "";
    char *path = write_fixture("speed.jsonl", "\n", 1);
    mp_file_source_config_t cfg = {.path = path, .speed = -1};
    cr_assert_null(mp_file_source_create(&cfg, err, sizeof err));
    cr_assert_not_null(strstr(err, "speed"), "%s", err);
    cfg.speed = NAN;
    cr_assert_null(mp_file_source_create(&cfg, err, sizeof err));
    free(path);
}

Test(file_source, directory_is_rejected)
{
    char err[256] = "";
    mp_file_source_config_t cfg = {.path = tmpdir, .speed = 1};
    cr_assert_null(mp_file_source_create(&cfg, err, sizeof err));
    cr_assert_not_null(strstr(err, "directory"), "%s", err);
}
