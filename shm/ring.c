/* Events ring: writer reserve/commit with crash recovery and tethered reclaim; readers
 * copy a record, then check the writer has not reclaimed it meanwhile (broadcast-buffer
 * validation), so a torn copy is never returned. */
#include "shm/ring.h"

#include "common/clock.h"

#include <errno.h>
#include <string.h>

#define REC_HDR ((uint32_t)sizeof(mp_ring_rec_t))
#define PAD_MIN 8u /* a padding record only needs length + type + flags */
#define TETHER_POLL_NS 20000ull
#define READ_RETRIES 64 /* lap recovery attempts against a writer lapping us again */

static inline uint64_t align8(uint64_t v)
{
    return (v + MP_RING_ALIGN - 1) & ~(uint64_t)(MP_RING_ALIGN - 1);
}

/* "a is before b" for free-running positions. */
static inline bool pos_before(uint64_t a, uint64_t b)
{
    return (int64_t)(a - b) < 0;
}

static inline mp_ring_rec_t *rec_at(uint8_t *data, uint64_t mask, uint64_t pos)
{
    return (mp_ring_rec_t *)(data + (pos & mask));
}

static inline const mp_ring_rec_t *crec_at(const uint8_t *data, uint64_t mask, uint64_t pos)
{
    return (const mp_ring_rec_t *)(data + (pos & mask));
}

int mp_ring_format(mp_ring_ctl_t *ctl, uint64_t capacity)
{
    if (capacity < MP_RING_MIN_CAPACITY || (capacity & (capacity - 1))) return -EINVAL;
    memset(ctl, 0, sizeof *ctl);
    ctl->capacity = capacity;
    ctl->mask = capacity - 1;
    return 0;
}

int mp_ring_check(const mp_ring_ctl_t *ctl, uint64_t data_size)
{
    uint64_t cap = ctl->capacity;
    if (cap < MP_RING_MIN_CAPACITY || (cap & (cap - 1)) || ctl->mask != cap - 1 || cap > data_size)
        return -EPROTO;
    uint64_t tail = atomic_load_explicit(&ctl->tail, memory_order_acquire);
    uint64_t head = atomic_load_explicit(&ctl->head, memory_order_acquire);
    if (pos_before(tail, head) || tail - head > cap || (tail | head) % MP_RING_ALIGN) return -EPROTO;
    return 0;
}

/* A record header the writer could have written at ring offset off. */
static bool rec_plausible(uint32_t len, uint16_t type, uint64_t off, uint64_t cap)
{
    uint64_t rem = cap - off;
    if (type == MP_RING_TYPE_PAD) return len == rem;
    return len >= REC_HDR && len <= REC_HDR + MP_RING_MAX_PAYLOAD && align8(len) <= rem;
}

int mp_ring_writer_init(mp_ring_writer_t *w, mp_ring_ctl_t *ctl, uint8_t *data)
{
    memset(w, 0, sizeof *w);
    w->ctl = ctl;
    w->data = data;
    w->mask = ctl->mask;
    w->tail = atomic_load_explicit(&ctl->tail, memory_order_relaxed);
    w->head = atomic_load_explicit(&ctl->head, memory_order_relaxed);
    uint64_t last = atomic_load_explicit(&ctl->last_seq, memory_order_relaxed);
    /* Crash recovery. The previous writer zeroed a record's length before writing any of
     * its bytes and stored it last, so a non-zero length with the expected seq past tail
     * is a record that was complete but whose tail advance was lost: adopt it (its seq may
     * already be in last_seq). Anything else past tail never existed. At most one record
     * (after at most one pad) can be in that state, but the loop does not rely on it. */
    for (;;) {
        uint64_t off = w->tail & w->mask;
        mp_ring_rec_t *rec = rec_at(data, w->mask, w->tail);
        uint32_t len = atomic_load_explicit(&rec->length, memory_order_acquire);
        if (len == 0 || !rec_plausible(len, rec->type, off, ctl->capacity)) break;
        if (w->tail + align8(len) - w->head > ctl->capacity) break;
        if (rec->type != MP_RING_TYPE_PAD) {
            /* seq == last: the writer died after storing last_seq but before advancing
             * tail (commit stores them in that order); the record is committed all the
             * same. A stale record from an earlier lap has a far lower seq. */
            if (rec->seq != last + 1 && rec->seq != last) break;
            last = rec->seq;
        }
        w->tail += align8(len);
    }
    w->next_seq = last + 1;
    atomic_store_explicit(&ctl->last_seq, last, memory_order_relaxed);
    atomic_store_explicit(&ctl->tail, w->tail, memory_order_release);
    w->tether_moved_mono_ns = mp_mono_ns();
    return 0;
}

/* Waits, within the tether rules, until the readmodel has applied `seq`; counts an
 * overrun when the record must be overwritten unapplied. */
static void tether_before_overwrite(mp_ring_writer_t *w, uint64_t seq)
{
    if (!w->tether.applied) return;
    bool alive = false;
    uint64_t applied = w->tether.applied(w->tether.ctx, &alive);
    if (applied >= seq) return;
    if (alive) {
        uint64_t start = mp_mono_ns(), now = start;
        if (applied != w->tether_seen_applied) {
            w->tether_seen_applied = applied;
            w->tether_moved_mono_ns = now;
        }
        bool waited = false;
        /* Wait only while the readmodel keeps moving: once it has been still for
         * lag_timeout it is declared stalled and we stop waiting until it moves again. */
        while (applied < seq && alive && now - w->tether_moved_mono_ns < w->tether.lag_timeout_ns &&
               !(w->stop && *w->stop)) {
            if (!waited && w->metrics.tether_waits_total)
                atomic_fetch_add_explicit(w->metrics.tether_waits_total, 1, memory_order_relaxed);
            waited = true;
            mp_sleep_ns(TETHER_POLL_NS);
            applied = w->tether.applied(w->tether.ctx, &alive);
            now = mp_mono_ns();
            if (applied != w->tether_seen_applied) {
                w->tether_seen_applied = applied;
                w->tether_moved_mono_ns = now;
            }
        }
        if (waited && w->metrics.tether_wait_ns_total)
            atomic_fetch_add_explicit(w->metrics.tether_wait_ns_total, now - start,
                                      memory_order_relaxed);
        if (applied >= seq) return;
    }
    if (w->metrics.overruns_total)
        atomic_fetch_add_explicit(w->metrics.overruns_total, 1, memory_order_relaxed);
}

/* Advances head until [.., end) fits in the ring. */
static void reclaim_until(mp_ring_writer_t *w, uint64_t end)
{
    uint64_t cap = w->ctl->capacity;
    if (end - w->head <= cap) return;
    while (end - w->head > cap) {
        mp_ring_rec_t *rec = rec_at(w->data, w->mask, w->head);
        uint32_t len = atomic_load_explicit(&rec->length, memory_order_relaxed);
        if (rec->type != MP_RING_TYPE_PAD) tether_before_overwrite(w, rec->seq);
        w->head += align8(len);
        atomic_store_explicit(&w->ctl->head, w->head, memory_order_relaxed);
    }
    /* head_seq is informational (oldest seq for tools). */
    uint64_t p = w->head;
    if (p != w->tail && rec_at(w->data, w->mask, p)->type == MP_RING_TYPE_PAD)
        p += align8(atomic_load_explicit(&rec_at(w->data, w->mask, p)->length, memory_order_relaxed));
    if (p != w->tail)
        atomic_store_explicit(&w->ctl->head_seq, rec_at(w->data, w->mask, p)->seq,
                              memory_order_relaxed);
}

/* Clears the length at tail before any byte of the next record is written; the release
 * fence orders this and the head stores before the record's bytes (pairs with the
 * acquire fence in validate_copy). */
static void begin_record(mp_ring_writer_t *w)
{
    atomic_store_explicit(&rec_at(w->data, w->mask, w->tail)->length, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

void *mp_ring_reserve(mp_ring_writer_t *w, uint32_t max_len)
{
    uint64_t cap = w->ctl->capacity;
    uint64_t foot = align8((uint64_t)REC_HDR + max_len);
    if (max_len > MP_RING_MAX_PAYLOAD || foot > cap) return NULL;
    uint64_t rem = cap - (w->tail & w->mask);
    if (foot > rem) {
        /* The record would straddle the wrap: fill the rest of the lap with a pad. */
        reclaim_until(w, w->tail + rem);
        begin_record(w);
        mp_ring_rec_t *pad = rec_at(w->data, w->mask, w->tail);
        pad->type = MP_RING_TYPE_PAD;
        pad->flags = 0;
        atomic_store_explicit(&pad->length, (uint32_t)rem, memory_order_release);
        w->tail += rem;
        atomic_store_explicit(&w->ctl->tail, w->tail, memory_order_release);
    }
    reclaim_until(w, w->tail + foot);
    begin_record(w);
    w->reserved_len = max_len;
    return (uint8_t *)rec_at(w->data, w->mask, w->tail) + REC_HDR;
}

uint64_t mp_ring_commit(mp_ring_writer_t *w, uint16_t type, uint32_t len, uint64_t ingest_unix_ns)
{
    if (len > w->reserved_len) len = w->reserved_len; /* contract breach: never overflow */
    mp_ring_rec_t *rec = rec_at(w->data, w->mask, w->tail);
    uint64_t seq = w->next_seq++;
    rec->type = type;
    rec->flags = 0;
    rec->seq = seq;
    rec->ingest_unix_ns = ingest_unix_ns;
    /* Publication: length last (release), then tail (release). Readers never go past
     * tail; crash recovery trusts a stored length (see mp_ring_writer_init). */
    atomic_store_explicit(&rec->length, REC_HDR + len, memory_order_release);
    w->tail += align8((uint64_t)REC_HDR + len);
    w->reserved_len = 0;
    atomic_store_explicit(&w->ctl->last_seq, seq, memory_order_relaxed);
    atomic_store_explicit(&w->ctl->tail, w->tail, memory_order_release);
    return seq;
}

uint64_t mp_ring_publish(mp_ring_writer_t *w, uint16_t type, const void *payload, uint32_t len,
                         uint64_t ingest_unix_ns)
{
    void *dst = mp_ring_reserve(w, len);
    if (!dst) return 0;
    memcpy(dst, payload, len);
    return mp_ring_commit(w, type, len, ingest_unix_ns);
}

/* True when the bytes at pos were still intact after the caller finished copying them:
 * the writer moves head past a record before overwriting it (see begin_record). */
static inline bool validate_copy(const mp_ring_reader_t *r, uint64_t pos)
{
    atomic_thread_fence(memory_order_acquire);
    return !pos_before(pos, atomic_load_explicit(&r->ctl->head, memory_order_relaxed));
}

/* Header fields of the record at pos, copied; false when the copy is not trustworthy
 * (overwritten while copying, or implausible, which only a lap can cause). */
static bool read_header(const mp_ring_reader_t *r, uint64_t pos, mp_ring_rec_t *out)
{
    const mp_ring_rec_t *rec = crec_at(r->data, r->mask, pos);
    uint32_t len = atomic_load_explicit(&rec->length, memory_order_acquire);
    out->type = rec->type;
    out->seq = rec->seq;
    out->ingest_unix_ns = rec->ingest_unix_ns;
    atomic_store_explicit(&out->length, len, memory_order_relaxed);
    if (!validate_copy(r, pos)) return false;
    return rec_plausible(len, out->type, pos & r->mask, r->ctl->capacity);
}

/* Finds the oldest intact non-padding record: its position and seq (or tail and the
 * next seq to come when there is none). False when a writer lapping us on every try
 * kept it from finding one. */
static bool locate_oldest(const mp_ring_reader_t *r, uint64_t *pos, uint64_t *seq)
{
    for (int tries = 0; tries < READ_RETRIES; tries++) {
        uint64_t head = atomic_load_explicit(&r->ctl->head, memory_order_acquire);
        uint64_t tail = atomic_load_explicit(&r->ctl->tail, memory_order_acquire);
        /* last_seq is read right after tail; it may be newer than tail, never older. */
        uint64_t last = atomic_load_explicit(&r->ctl->last_seq, memory_order_relaxed);
        uint64_t p = head;
        mp_ring_rec_t h;
        bool ok = true;
        while (p != tail) {
            if (!read_header(r, p, &h)) {
                ok = false;
                break;
            }
            if (h.type != MP_RING_TYPE_PAD) break;
            p += align8(atomic_load_explicit(&h.length, memory_order_relaxed));
        }
        if (!ok) continue;
        *pos = p;
        *seq = p == tail ? last + 1 : h.seq;
        return true;
    }
    return false;
}

enum { LAP_LOST = 1, LAP_NOTHING_LOST = 0, LAP_GAVE_UP = -1 };

/* The reader fell behind head: jump to the oldest intact record and report the seqs it
 * lost. Nothing is lost when it stood on a padding record the writer reclaimed. */
static int recover_lap(mp_ring_reader_t *r, mp_ring_record_t *out)
{
    uint64_t p, first_kept;
    if (!locate_oldest(r, &p, &first_kept)) return LAP_GAVE_UP;
    r->pos = p;
    if (!r->next_seq || first_kept <= r->next_seq) return LAP_NOTHING_LOST;
    out->gap_first = r->next_seq;
    out->gap_last = first_kept - 1;
    r->gaps++;
    r->gap_events += first_kept - r->next_seq;
    r->next_seq = first_kept;
    return LAP_LOST;
}

void mp_ring_reader_init(mp_ring_reader_t *r, const mp_ring_ctl_t *ctl, const uint8_t *data,
                         mp_ring_start_t start)
{
    memset(r, 0, sizeof *r);
    r->ctl = ctl;
    r->data = data;
    r->mask = ctl->mask;
    if (start == MP_RING_FROM_TAIL) {
        r->pos = atomic_load_explicit(&ctl->tail, memory_order_acquire);
        r->next_seq = atomic_load_explicit(&ctl->last_seq, memory_order_relaxed) + 1;
    } else if (!locate_oldest(r, &r->pos, &r->next_seq)) {
        /* Lapped on every try: take whatever comes first. */
        r->pos = atomic_load_explicit(&ctl->head, memory_order_acquire);
        r->next_seq = 0;
    }
}

int mp_ring_read(mp_ring_reader_t *r, mp_ring_record_t *out, void *buf, size_t cap)
{
    for (;;) {
        uint64_t tail = atomic_load_explicit(&r->ctl->tail, memory_order_acquire);
        if (r->pos == tail) return MP_RING_EMPTY;
        mp_ring_rec_t h;
        if (pos_before(r->pos, atomic_load_explicit(&r->ctl->head, memory_order_acquire)) ||
            !read_header(r, r->pos, &h)) {
            int lap = recover_lap(r, out);
            if (lap == LAP_NOTHING_LOST) continue;
            return lap == LAP_LOST ? MP_RING_LAPPED : MP_RING_EMPTY;
        }
        uint32_t len = atomic_load_explicit(&h.length, memory_order_relaxed);
        if (h.type == MP_RING_TYPE_PAD) {
            r->pos += len;
            continue;
        }
        if (r->next_seq && h.seq != r->next_seq) {
            if (h.seq < r->next_seq) { /* before the seq we were asked to start at */
                r->pos += align8(len);
                continue;
            }
            /* A seq jump without a lap: report the missing range, deliver the record next. */
            out->gap_first = r->next_seq;
            out->gap_last = h.seq - 1;
            r->gaps++;
            r->gap_events += h.seq - r->next_seq;
            r->next_seq = h.seq;
            return MP_RING_LAPPED;
        }
        uint32_t payload = len - REC_HDR;
        if (payload > cap) {
            r->pos += align8(len);
            r->next_seq = h.seq + 1;
            return -EMSGSIZE;
        }
        memcpy(buf, (const uint8_t *)crec_at(r->data, r->mask, r->pos) + REC_HDR, payload);
        if (!validate_copy(r, r->pos)) {
            int lap = recover_lap(r, out);
            if (lap == LAP_NOTHING_LOST) continue;
            return lap == LAP_LOST ? MP_RING_LAPPED : MP_RING_EMPTY;
        }
        out->seq = h.seq;
        out->type = h.type;
        out->ingest_unix_ns = h.ingest_unix_ns;
        out->len = payload;
        r->pos += align8(len);
        r->next_seq = h.seq + 1;
        return MP_RING_OK;
    }
}

int mp_ring_reader_seek(mp_ring_reader_t *r, uint64_t seq)
{
    for (int tries = 0; tries < READ_RETRIES; tries++) {
        uint64_t head = atomic_load_explicit(&r->ctl->head, memory_order_acquire);
        uint64_t tail = atomic_load_explicit(&r->ctl->tail, memory_order_acquire);
        uint64_t last = atomic_load_explicit(&r->ctl->last_seq, memory_order_relaxed);
        if (seq > last) { /* not yet published: wait at tail for it */
            r->pos = tail;
            r->next_seq = seq;
            return seq == last + 1 ? 0 : -ENOENT;
        }
        uint64_t p = head;
        bool lapped = false, first = true;
        mp_ring_rec_t h;
        while (p != tail) {
            if (!read_header(r, p, &h)) {
                lapped = true;
                break;
            }
            uint32_t len = atomic_load_explicit(&h.length, memory_order_relaxed);
            if (h.type != MP_RING_TYPE_PAD) {
                if (h.seq >= seq) {
                    r->pos = p;
                    r->next_seq = seq;
                    /* Older than the oldest record: the next read reports the gap. */
                    return h.seq == seq ? 0 : (first ? -ENOENT : 0);
                }
                first = false;
            }
            p += align8(len);
        }
        if (!lapped) {
            r->pos = tail;
            r->next_seq = seq;
            return -ENOENT;
        }
    }
    r->pos = atomic_load_explicit(&r->ctl->head, memory_order_acquire);
    r->next_seq = seq;
    return -ENOENT;
}
