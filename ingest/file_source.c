/* The file source: format detection, JSONL envelopes, CSV replay pacing, malformed-line
 * accounting, TICKs and the offset checkpoint, over one line reader. */
#include "ingest/file_source.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "ingest/dumpster_csv.h"
#include "ingest/line_reader.h"
#include "ingest/rpc_tx.h"

#define NS_PER_SEC 1000000000ull
#define NS_PER_MS 1000000ull
/* next() blocks at most this long; the loop must see SIGTERM promptly. */
#define MAX_BLOCK_NS (100 * NS_PER_MS)
/* Lines skipped (blank, header, malformed) in one next() call before it yields, so a
 * long run of bad input cannot hold the loop. */
#define SKIP_BUDGET 1024
#define MALFORMED_LOG_FIRST 10
#define MALFORMED_LOG_EVERY 10000
#define REASON_MAX 192
/* handle_line's result for a line that produced no event (distinct from MP_SOURCE_*). */
#define LINE_SKIPPED 2

enum { FMT_UNKNOWN = 0, FMT_JSONL = 1, FMT_CSV = 2 };

/* Checkpoint layout: plain bytes, read back by the same build on the same machine. */
#define CKPT_MAGIC 0x5346504du /* "MPFS" */
#define CKPT_VERSION 1
typedef struct fs_checkpoint {
    uint32_t magic;
    uint16_t version;
    uint8_t format;
    uint8_t csv_ncols;
    uint64_t offset;          /* input offset after the last emitted (or skipped) line */
    uint64_t line_no;         /* lines before offset */
    uint64_t replay_clock_ns; /* CSV replay clock, 0 when not started */
    uint8_t csv_index[MP_DCOL_COUNT];
    uint8_t pad[2];
} fs_checkpoint_t;
_Static_assert(sizeof(fs_checkpoint_t) == 48, "checkpoint layout");

typedef struct file_source {
    mp_source_t base; /* first: the loop holds &base */
    char *display;    /* path as given, or "stdin", for messages */
    int fd;
    bool is_stdin;
    bool seekable;
    double speed;
    uint64_t chain_id;
    size_t max_line;
    mp_line_reader_t *reader; /* opened at pos_offset on first use and after restore */
    int format;
    mp_dumpster_header_t csv;
    bool ended;
    int fatal; /* sticky -errno of a read error */
    /* Position after the last line consumed: its event emitted, or the line skipped. A
     * pending row is not consumed yet, so a save while it waits excludes it. */
    uint64_t pos_offset, pos_line;
    /* A CSV row read ahead of its replay time. Only one: no line is read while it waits,
     * which is also what keeps `input` stable for it. */
    bool pending;
    mp_event_t pending_ev;
    uint64_t pending_offset, pending_line;
    /* CSV replay clock: replay time = anchor_replay + (mono - anchor_mono) * speed, never
     * below replay_clock (the latest record or tick time handed out). */
    bool anchored;
    uint64_t anchor_replay, anchor_mono, replay_clock;
    uint64_t last_tick_sec; /* wall-clock second of the last TICK (or of creation) */
    uint8_t input[MP_INPUT_PREFIX_MAX];
} file_source_t;

static void malformed(file_source_t *fs, uint64_t line_no, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void malformed(file_source_t *fs, uint64_t line_no, const char *fmt, ...)
{
    char reason[REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    uint64_t n = ++fs->base.malformed_total;
    if (n <= MALFORMED_LOG_FIRST) {
        mp_log("file source: %s line %llu skipped: %s", fs->display, (unsigned long long)line_no,
               reason);
        if (n == MALFORMED_LOG_FIRST)
            mp_log("file source: %s: further malformed lines are counted, and summarised "
                   "every %d",
                   fs->display, MALFORMED_LOG_EVERY);
    } else if (n % MALFORMED_LOG_EVERY == 0) {
        mp_log("file source: %s: %llu malformed lines so far; latest line %llu: %s", fs->display,
               (unsigned long long)n, (unsigned long long)line_no, reason);
    }
}

static void consume(file_source_t *fs, const mp_line_t *line)
{
    fs->pos_offset = line->offset_after;
    fs->pos_line = line->line_no;
}

/* ---- replay clock and ticks ---- */

static uint64_t replay_now(const file_source_t *fs, uint64_t mono)
{
    if (!fs->anchored || fs->speed == 0) return fs->replay_clock;
    double adv = (double)(mono - fs->anchor_mono) * fs->speed;
    uint64_t t = adv >= (double)(UINT64_MAX - fs->anchor_replay)
                     ? UINT64_MAX
                     : fs->anchor_replay + (uint64_t)adv;
    return t > fs->replay_clock ? t : fs->replay_clock;
}

static uint64_t ns_to_next_second(uint64_t wall)
{
    return NS_PER_SEC - wall % NS_PER_SEC;
}

/* A TICK when the wall clock entered a new second since the last one. Seconds missed
 * while the caller was away collapse into one tick. CSV ticks wait for the replay clock
 * to exist (first row or a restored checkpoint): a wall-clock stamp there would throw
 * event time years ahead of the recording. */
static bool tick_due(file_source_t *fs, uint64_t wall, uint64_t mono, mp_event_t *ev)
{
    uint64_t sec = wall / NS_PER_SEC;
    if (sec <= fs->last_tick_sec) return false;
    uint64_t t;
    if (fs->format == FMT_CSV) {
        if (!fs->anchored && fs->replay_clock == 0) return false;
        t = replay_now(fs, mono);
        fs->replay_clock = t;
    } else {
        t = sec * NS_PER_SEC;
    }
    fs->last_tick_sec = sec;
    memset(ev, 0, sizeof *ev);
    ev->type = MP_EV_TICK;
    ev->time_ns = t;
    return true;
}

/* ---- line formats ---- */

static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t') return false;
    return true;
}

/* Reads an event time in ms from "seen_unix_ms" or "timestamp_ms": a non-negative
 * JSON integer or a decimal string. Returns 1 when found, 0 when absent, -EINVAL. */
static int json_time_ms(const json_t *obj, uint64_t *ms, char *err, size_t errlen)
{
    static const char *const names[] = {"seen_unix_ms", "timestamp_ms"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        json_t *v = json_object_get(obj, names[i]);
        if (!v || json_is_null(v)) continue;
        if (json_is_integer(v) && json_integer_value(v) >= 0) {
            *ms = (uint64_t)json_integer_value(v);
        } else if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= 19 &&
                   strspn(json_string_value(v), "0123456789") == json_string_length(v)) {
            *ms = strtoull(json_string_value(v), NULL, 10);
        } else {
            snprintf(err, errlen, "field '%s': not a non-negative integer of ms", names[i]);
            return -EINVAL;
        }
        if (*ms > UINT64_MAX / NS_PER_MS) {
            snprintf(err, errlen, "field '%s': out of range", names[i]);
            return -EINVAL;
        }
        return 1;
    }
    return 0;
}

/* One JSONL line: finds the tx object inside the accepted envelopes and parses it.
 * *time_ns is set only when the line carries a time. */
static int parse_jsonl(file_source_t *fs, const char *p, size_t n, mp_tx_seen_t *tx, bool *has_time,
                       uint64_t *time_ns, char *err, size_t errlen)
{
    json_error_t jerr;
    int rc = -EINVAL;
    uint64_t ms = 0;
    json_t *root = json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        snprintf(err, errlen, "invalid JSON at byte %d: %s", jerr.position, jerr.text);
        return -EBADMSG;
    }
    const json_t *txo = root;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "not a JSON object");
        goto out_decref;
    }
    json_t *params = json_object_get(root, "params");
    json_t *result = json_object_get(root, "result");
    if (params) {
        if (!json_is_object(params) || !json_object_get(params, "result")) {
            snprintf(err, errlen, "field 'params': expected an object with 'result'");
            goto out_decref;
        }
        txo = json_object_get(params, "result");
    } else if (result) {
        txo = result;
    } else if (json_object_get(root, "error")) {
        snprintf(err, errlen, "a JSON-RPC error response, not a transaction");
        goto out_decref;
    }
    if (txo != root && json_is_string(txo)) {
        snprintf(err, errlen,
                 "'result' is a bare hash; record full transaction objects "
                 "(eth_subscribe newPendingTransactions true)");
        goto out_decref;
    }
    if (txo != root && !json_is_object(txo)) {
        snprintf(err, errlen, "field 'result': not a transaction object");
        goto out_decref;
    }
    rc = mp_rpc_tx_from_json(txo, fs->chain_id, tx, fs->input, err, errlen);
    if (rc < 0) goto out_decref;
    int found = json_time_ms(root, &ms, err, errlen);
    if (found == 0 && txo != root) found = json_time_ms(txo, &ms, err, errlen);
    if (found < 0) {
        rc = found;
        goto out_decref;
    }
    *has_time = found == 1;
    *time_ns = ms * NS_PER_MS;
out_decref:
    json_decref(root);
    return rc;
}

static void set_tx_event(mp_event_t *ev, const mp_tx_seen_t *tx, uint64_t time_ns)
{
    memset(ev, 0, sizeof *ev);
    ev->type = MP_EV_TX_SEEN;
    ev->time_ns = time_ns;
    ev->u.tx = *tx;
    ev->u.tx.source = MP_SOURCE_FILE;
}

/* Hands out the pending CSV row. */
static int emit_pending(file_source_t *fs, mp_event_t *ev)
{
    *ev = fs->pending_ev;
    fs->pending = false;
    fs->pos_offset = fs->pending_offset;
    fs->pos_line = fs->pending_line;
    if (ev->time_ns > fs->replay_clock) fs->replay_clock = ev->time_ns;
    return MP_SOURCE_EVENT;
}

/* Whether the pending row's time has come; otherwise *wait_ns is the wall time left. */
static bool pending_due(file_source_t *fs, uint64_t mono, uint64_t *wait_ns)
{
    uint64_t now = replay_now(fs, mono);
    uint64_t t = fs->pending_ev.time_ns;
    if (fs->speed == 0 || t <= now) return true;
    double left = (double)(t - now) / fs->speed;
    *wait_ns = left >= (double)MAX_BLOCK_NS ? MAX_BLOCK_NS : (uint64_t)left + 1;
    return false;
}

/* Handles one delivered line. Returns MP_SOURCE_EVENT with *ev set, MP_SOURCE_IDLE
 * when a CSV row now waits for its replay time, or LINE_SKIPPED. */
static int handle_line(file_source_t *fs, const mp_line_t *line, uint64_t mono, mp_event_t *ev,
                       uint64_t *wait_ns)
{
    char err[REASON_MAX];
    mp_tx_seen_t tx;
    const char *p = line->data;
    size_t n = line->len;

    if (line->line_no == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3; /* UTF-8 byte order mark some editors and exporters write */
        n -= 3;
    }
    if (blank(p, n)) goto skipped;

    if (fs->format == FMT_UNKNOWN) {
        size_t ws = 0;
        while (ws < n && (p[ws] == ' ' || p[ws] == '\t'))
            ws++;
        if (mp_dumpster_is_header(p, n)) {
            if (mp_dumpster_parse_header(&fs->csv, p, n, err, sizeof err) < 0) {
                malformed(fs, line->line_no, "%s", err);
                goto skipped;
            }
            fs->format = FMT_CSV;
            mp_log("file source: %s: mempool-dumpster CSV, replay speed %g%s", fs->display,
                   fs->speed, fs->speed == 0 ? " (as fast as possible)" : "");
            goto skipped;
        }
        if (p[ws] != '{') {
            malformed(fs, line->line_no,
                      "neither a mempool-dumpster CSV header "
                      "(timestamp_ms,...) nor a JSON object; input format still unknown");
            goto skipped;
        }
        fs->format = FMT_JSONL;
        mp_log("file source: %s: JSON lines of RPC transaction objects", fs->display);
    }

    if (fs->format == FMT_JSONL) {
        bool has_time = false;
        uint64_t t = 0;
        if (parse_jsonl(fs, p, n, &tx, &has_time, &t, err, sizeof err) < 0) {
            malformed(fs, line->line_no, "%s", err);
            goto skipped;
        }
        set_tx_event(ev, &tx, has_time ? t : mp_wall_ns());
        consume(fs, line);
        return MP_SOURCE_EVENT;
    }

    /* CSV */
    if (mp_dumpster_is_header(p, n)) {
        /* Concatenated exports repeat the header; a new layout applies from here. */
        mp_dumpster_header_t h;
        if (mp_dumpster_parse_header(&h, p, n, err, sizeof err) < 0)
            malformed(fs, line->line_no, "%s", err);
        else
            fs->csv = h;
        goto skipped;
    }
    uint64_t ms;
    int rc =
        mp_dumpster_parse_row(&fs->csv, p, n, fs->chain_id, &tx, fs->input, &ms, err, sizeof err);
    if (rc < 0) {
        malformed(fs, line->line_no, "%s", err);
        goto skipped;
    }
    if (ms > UINT64_MAX / NS_PER_MS) {
        malformed(fs, line->line_no, "column 'timestamp_ms': out of range");
        goto skipped;
    }
    set_tx_event(&fs->pending_ev, &tx, ms * NS_PER_MS);
    fs->pending = true;
    fs->pending_offset = line->offset_after;
    fs->pending_line = line->line_no;
    if (!fs->anchored) {
        /* Replay starts at the first row, or continues from a restored clock. */
        fs->anchor_replay = fs->replay_clock ? fs->replay_clock : ms * NS_PER_MS;
        fs->anchor_mono = mono;
        fs->anchored = true;
    }
    if (pending_due(fs, mono, wait_ns)) return emit_pending(fs, ev);
    return MP_SOURCE_IDLE;

skipped:
    consume(fs, line);
    return LINE_SKIPPED;
}

static int open_reader(file_source_t *fs)
{
    int rc = mp_line_reader_open(&fs->reader, fs->fd, fs->pos_offset, fs->pos_line, fs->max_line);
    if (rc < 0) {
        mp_log("file source: %s: cannot start reading: %s", fs->display, strerror(-rc));
        fs->fatal = rc;
    }
    return rc;
}

static int fs_next(mp_source_t *s, mp_event_t *ev, uint64_t *wait_ns)
{
    file_source_t *fs = (file_source_t *)s;
    *wait_ns = 0;
    if (fs->fatal) return fs->fatal;
    if (fs->ended) return MP_SOURCE_END;

    uint64_t mono = mp_mono_ns(), wall = mp_wall_ns();
    if (tick_due(fs, wall, mono, ev)) return MP_SOURCE_EVENT;
    uint64_t to_tick = ns_to_next_second(wall);
    if (fs->pending) {
        uint64_t wait = 0;
        if (pending_due(fs, mono, &wait)) return emit_pending(fs, ev);
        *wait_ns = wait < to_tick ? wait : to_tick;
        return MP_SOURCE_IDLE;
    }
    if (!fs->reader && open_reader(fs) < 0) return fs->fatal;

    /* Block only while nothing has been consumed in this call, and not past the next
     * tick second. */
    uint64_t timeout = to_tick < MAX_BLOCK_NS ? to_tick : MAX_BLOCK_NS;
    for (int budget = SKIP_BUDGET; budget > 0; budget--) {
        mp_line_t line;
        int rc = mp_line_reader_next(fs->reader, &line, timeout);
        timeout = 0;
        switch (rc) {
        case MP_LINE_AGAIN: return MP_SOURCE_IDLE;
        case MP_LINE_EOF:
            fs->ended = true;
            mp_log("file source: %s: end of input after line %llu (%llu malformed)", fs->display,
                   (unsigned long long)fs->pos_line, (unsigned long long)fs->base.malformed_total);
            return MP_SOURCE_END;
        case MP_LINE_OVERLONG:
            malformed(fs, line.line_no, "longer than %zu bytes", fs->max_line);
            consume(fs, &line);
            continue;
        case MP_LINE_READY:
            /* A fresh reading: the wait above may have taken up to MAX_BLOCK_NS. */
            rc = handle_line(fs, &line, mp_mono_ns(), ev, wait_ns);
            if (rc != LINE_SKIPPED) {
                if (rc == MP_SOURCE_IDLE && *wait_ns > to_tick) *wait_ns = to_tick;
                return rc;
            }
            continue;
        default:
            mp_log("file source: %s: read failed after line %llu: %s", fs->display,
                   (unsigned long long)fs->pos_line, strerror(-rc));
            fs->fatal = rc;
            return rc;
        }
    }
    return MP_SOURCE_IDLE; /* skip budget spent; *wait_ns 0: call again at once */
}

static uint32_t fs_save(mp_source_t *s, void *buf, uint32_t cap)
{
    file_source_t *fs = (file_source_t *)s;
    fs_checkpoint_t c;
    if (fs->is_stdin || cap < sizeof c) return 0;
    memset(&c, 0, sizeof c);
    c.magic = CKPT_MAGIC;
    c.version = CKPT_VERSION;
    c.format = (uint8_t)fs->format;
    c.offset = fs->pos_offset;
    c.line_no = fs->pos_line;
    c.replay_clock_ns = fs->replay_clock;
    if (fs->format == FMT_CSV) {
        c.csv_ncols = fs->csv.ncols;
        memcpy(c.csv_index, fs->csv.index, sizeof c.csv_index);
    }
    memcpy(buf, &c, sizeof c);
    return sizeof c;
}

/* The offset must still be a line start of this file: a file rewritten in place since
 * the save would otherwise resume mid-line. */
static bool line_start(const file_source_t *fs, uint64_t offset)
{
    struct stat st;
    char prev;
    if (fstat(fs->fd, &st) < 0 || offset > (uint64_t)st.st_size) return false;
    if (offset == 0 || offset == (uint64_t)st.st_size) return true;
    return pread(fs->fd, &prev, 1, (off_t)(offset - 1)) == 1 && prev == '\n';
}

static int fs_restore(mp_source_t *s, const void *buf, uint32_t len)
{
    file_source_t *fs = (file_source_t *)s;
    fs_checkpoint_t c;
    if (fs->is_stdin || len != sizeof c) return -EINVAL;
    memcpy(&c, buf, sizeof c);
    if (c.magic != CKPT_MAGIC || c.version != CKPT_VERSION || c.format > FMT_CSV) return -EINVAL;
    mp_dumpster_header_t h = {.ncols = c.csv_ncols};
    memcpy(h.index, c.csv_index, sizeof h.index);
    if (c.format == FMT_CSV && mp_dumpster_header_validate(&h) < 0) return -EINVAL;
    if (!line_start(fs, c.offset)) {
        mp_log("file source: %s: checkpoint offset %llu is not a line start of this file; "
               "was it rewritten?",
               fs->display, (unsigned long long)c.offset);
        return -EINVAL;
    }
    mp_line_reader_close(fs->reader);
    fs->reader = NULL;
    fs->format = c.format;
    if (c.format == FMT_CSV) fs->csv = h;
    fs->pos_offset = c.offset;
    fs->pos_line = c.line_no;
    fs->replay_clock = c.replay_clock_ns;
    fs->anchored = false;
    fs->pending = false;
    fs->ended = false;
    fs->fatal = 0;
    return 0;
}

static void fs_destroy(mp_source_t *s)
{
    file_source_t *fs = (file_source_t *)s;
    if (!fs) return;
    mp_line_reader_close(fs->reader);
    if (!fs->is_stdin) close(fs->fd);
    free(fs->display);
    free(fs);
}

static const mp_source_ops_t file_source_ops = {
    .next = fs_next,
    .save = fs_save,
    .restore = fs_restore,
    .destroy = fs_destroy,
};

/* FNV-1a, 64 bit: a stable identity hash, not a security measure. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t fingerprint(const file_source_t *fs, const char *real, const struct stat *st)
{
    uint64_t h = 0xcbf29ce484222325ull;
    if (fs->is_stdin) {
        /* A pipe has no identity to resume against: never match an old checkpoint. */
        if (getrandom(&h, sizeof h, 0) != (ssize_t)sizeof h) h ^= mp_mono_ns() ^ (uint64_t)getpid();
        return h;
    }
    uint64_t dev = (uint64_t)st->st_dev, ino = (uint64_t)st->st_ino;
    h = fnv1a(h, "file", 5);
    h = fnv1a(h, real, strlen(real) + 1);
    h = fnv1a(h, &dev, sizeof dev);
    return fnv1a(h, &ino, sizeof ino);
}

mp_source_t *mp_file_source_create(const mp_file_source_config_t *cfg, char *err, size_t errlen)
{
    struct stat st;
    char *real = NULL;
    if (!cfg->path || !cfg->path[0]) {
        snprintf(err, errlen, "file source: empty path; use file:PATH or file:- for stdin");
        return NULL;
    }
    if (!(cfg->speed >= 0) || isinf(cfg->speed)) {
        snprintf(err, errlen,
                 "file source: speed %g invalid; use 0 (unpaced) or a positive "
                 "factor such as 1.0",
                 cfg->speed);
        return NULL;
    }
    size_t max_line = cfg->max_line ? cfg->max_line : MP_LINE_MAX_DEFAULT;
    if (max_line < MP_LINE_MAX_MIN || max_line > MP_LINE_MAX_LIMIT) {
        snprintf(err, errlen, "file source: max line %zu outside %u..%u bytes", max_line,
                 MP_LINE_MAX_MIN, MP_LINE_MAX_LIMIT);
        return NULL;
    }

    file_source_t *fs = calloc(1, sizeof *fs);
    if (!fs) {
        snprintf(err, errlen, "file source: out of memory");
        return NULL;
    }
    fs->is_stdin = strcmp(cfg->path, "-") == 0;
    fs->display = strdup(fs->is_stdin ? "stdin" : cfg->path);
    if (!fs->display) {
        snprintf(err, errlen, "file source: out of memory");
        goto out_free;
    }
    if (fs->is_stdin) {
        fs->fd = STDIN_FILENO;
    } else {
        fs->fd = open(cfg->path, O_RDONLY | O_CLOEXEC);
        if (fs->fd < 0) {
            snprintf(err, errlen, "file source: cannot open %s: %s", cfg->path, strerror(errno));
            goto out_free_display;
        }
    }
    if (fstat(fs->fd, &st) < 0) {
        snprintf(err, errlen, "file source: cannot stat %s: %s", fs->display, strerror(errno));
        goto out_close;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "file source: %s is a directory; give a .jsonl or .csv file",
                 fs->display);
        goto out_close;
    }
    fs->seekable = S_ISREG(st.st_mode);
    if (fs->is_stdin && fs->seekable) {
        /* stdin redirected from a file: start where the shell left the position. */
        off_t at = lseek(fs->fd, 0, SEEK_CUR);
        fs->pos_offset = at > 0 ? (uint64_t)at : 0;
    }
    if (!fs->is_stdin) {
        real = realpath(cfg->path, NULL);
        if (!real) {
            snprintf(err, errlen, "file source: cannot resolve %s: %s", cfg->path, strerror(errno));
            goto out_close;
        }
    }

    fs->speed = cfg->speed;
    fs->chain_id = cfg->chain_id;
    fs->max_line = max_line;
    fs->last_tick_sec = mp_wall_ns() / NS_PER_SEC;
    fs->base.ops = &file_source_ops;
    fs->base.name = "file";
    fs->base.fingerprint = fingerprint(fs, real, &st);
    fs->base.checkpoint_every = 1;
    free(real);
    return &fs->base;

out_close:
    if (!fs->is_stdin) close(fs->fd);
out_free_display:
    free(fs->display);
out_free:
    free(fs);
    return NULL;
}
