/* mempulse-shm verify: checks the read-model region's invariants (seqlocks, slot
 * contents, the detail and opportunity hash indexes, tx_ring back-pointers, entity seqs
 * against the journal, the journal window, watermarks, memory) and exits 1 listing each
 * violation, 0 when clean.
 *
 * Safe against a running readmodel: every slot is copied under its seqlock and every
 * index under the index's seqlock, and a first-pass failure is only a suspect. Suspects
 * are re-evaluated from fresh copies until one evaluation holds (a change that raced the
 * writer: its batch finishes within milliseconds) or their window passes with every
 * evaluation failing (a broken invariant stays broken). A seqlock counts as stuck when
 * it keeps the same odd count for LOCK_WINDOW_NS. */
#include "tools/shm_cli.h"

#include "common/clock.h"
#include "common/log.h"
#include "readmodel/journal.h"
#include "readmodel/rm_json.h"
#include "readmodel/rm_reader.h"
#include "readmodel/rm_state.h"
#include "readmodel/slot_index.h"
#include "readmodel/tx_store.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull
#define LOCK_WINDOW_NS (100 * MS)    /* an odd count unchanged this long is stuck */
#define RECHECK_WINDOW_NS (300 * MS) /* other suspects: failing this long is a violation */
#define RECHECK_SLACK_NS (300 * MS)  /* extra time for suspects that could not be evaluated */
#define RECHECK_PAUSE_NS (2 * MS)
#define INDEX_COPY_NS (50 * MS) /* bound on getting one consistent index copy */
#define REPORT_PER_CHECK 20
#define MSG_MAX 200

/* ---- checks, sections, predicates ---- */

enum check {
    C_SEQLOCKS,
    C_SLOTS,
    C_DETAIL_INDEX,
    C_TX_RING,
    C_OPP_INDEX,
    C_ENTITY_SEQS,
    C_JOURNAL,
    C_WATERMARKS,
    C_MEMORY,
    C_COUNT
};

static const char *const check_names[C_COUNT] = {
    "seqlocks",    "slots",   "detail_index", "tx_ring", "opportunity_index",
    "entity_seqs", "journal", "watermarks",   "memory",
};

/* Seqlocked arrays of the region; S_INDEX_LOCKS: [0] detail index, [1] opportunity index. */
enum section { S_TX, S_DETAIL, S_TOP, S_RECENT, S_OPP, S_CHAIN, S_MARKET, S_INDEX_LOCKS, S_COUNT };

static const char *const section_names[S_COUNT] = {
    "tx_ring",
    "tx_detail_index",
    "feature_top",
    "feature_recent_ring",
    "opportunity_recent_ring",
    "chain_status",
    "market",
    "index_lock",
};

enum verdict { HOLDS, FAILS, UNKNOWN };

enum pred {
    P_LOCK,       /* sec, a = slot, b = the odd count first seen */
    P_SLOT_VALUE, /* sec, a = slot */
    P_ENTITY_SEQ, /* sec, a = slot, b = first in-flight seq seen (0: none) */
    P_DETAIL_FINDABLE,
    P_DETAIL_BUCKET,
    P_DETAIL_COUNT,
    P_OPP_FINDABLE,
    P_OPP_BUCKET,
    P_OPP_COUNT,
    P_RING_SLOT,   /* a = tx_ring slot */
    P_DETAIL_SLOT, /* a = detail */
    P_JOURNAL_WINDOW,
    P_JOURNAL_ENTRY, /* b = seq */
    P_CHANNEL_SEQ,   /* a = channel */
    P_CHANNEL_NEWEST,
    P_BYTES,
    P_CAPS,
};

static const uint8_t pred_check[] = {
    [P_LOCK] = C_SEQLOCKS,
    [P_SLOT_VALUE] = C_SLOTS,
    [P_ENTITY_SEQ] = C_ENTITY_SEQS,
    [P_DETAIL_FINDABLE] = C_DETAIL_INDEX,
    [P_DETAIL_BUCKET] = C_DETAIL_INDEX,
    [P_DETAIL_COUNT] = C_DETAIL_INDEX,
    [P_OPP_FINDABLE] = C_OPP_INDEX,
    [P_OPP_BUCKET] = C_OPP_INDEX,
    [P_OPP_COUNT] = C_OPP_INDEX,
    [P_RING_SLOT] = C_TX_RING,
    [P_DETAIL_SLOT] = C_TX_RING,
    [P_JOURNAL_WINDOW] = C_JOURNAL,
    [P_JOURNAL_ENTRY] = C_JOURNAL,
    [P_CHANNEL_SEQ] = C_WATERMARKS,
    [P_CHANNEL_NEWEST] = C_WATERMARKS,
    [P_BYTES] = C_MEMORY,
    [P_CAPS] = C_SLOTS,
};

typedef struct suspect {
    uint8_t pred;
    uint8_t sec;
    bool done;
    bool confirmed;
    uint32_t a;
    uint32_t fails; /* evaluations that failed, the first pass included */
    uint64_t b;
    char msg[MSG_MAX]; /* from the latest failing evaluation */
} suspect_t;

/* One hash index (detail or opportunity) and the latest consistent copy of its bucket
 * cells (tag << 32 | slot + 1). */
typedef struct index_view {
    mp_rm_index_t ix;
    uint64_t *copy;
    bool copy_ok;
    uint32_t count_before, count_after; /* detail_count around the copy (detail index) */
} index_view_t;

typedef struct verify {
    const mp_rm_region_t *rm;
    index_view_t dix, oix;
    suspect_t *sus;
    size_t nsus, capsus;
    uint64_t examined[C_COUNT];
    uint64_t violations[C_COUNT];
    uint64_t unconfirmed[C_COUNT];
    bool writer_alive;
    char msg[MSG_MAX];
} verify_t;

static enum verdict failf(verify_t *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static enum verdict failf(verify_t *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg, sizeof v->msg, fmt, ap);
    va_end(ap);
    return FAILS;
}

static void hex_short(const uint8_t *b, char out[19])
{
    static const char d[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 8; i++) {
        out[2 + 2 * i] = d[b[i] >> 4];
        out[3 + 2 * i] = d[b[i] & 15];
    }
    out[18] = '\0';
}

/* ---- slot access ---- */

typedef union slot_copy {
    mp_rm_tx_slot_t tx;
    mp_rm_detail_t detail;
    mp_rm_top_slot_t top;
    mp_rm_recent_slot_t recent;
    mp_rm_opp_slot_t opp;
    mp_rm_chain_slot_t chain;
    mp_rm_market_slot_t market;
} slot_copy_t;

static uint32_t section_count(const mp_rm_region_t *rm, int sec)
{
    const mp_rm_caps_t *c = &rm->caps;
    switch (sec) {
    case S_TX: return c->tx_ring;
    case S_DETAIL: return c->detail;
    case S_TOP: return c->feature_top;
    case S_RECENT: return c->feature_recent;
    case S_OPP: return c->opportunity;
    case S_CHAIN: return c->chain;
    case S_MARKET: return c->market;
    case S_INDEX_LOCKS: return 2;
    }
    return 0;
}

/* The slot's seqlock, its first byte, and its size. */
static const mp_seqlock_t *slot_at(const mp_rm_region_t *rm, int sec, uint32_t i, size_t *size)
{
    switch (sec) {
    case S_TX: *size = sizeof rm->tx_ring[i]; return &rm->tx_ring[i].lock;
    case S_DETAIL: *size = sizeof rm->details[i]; return &rm->details[i].lock;
    case S_TOP: *size = sizeof rm->feature_top[i]; return &rm->feature_top[i].lock;
    case S_RECENT: *size = sizeof rm->feature_recent[i]; return &rm->feature_recent[i].lock;
    case S_OPP: *size = sizeof rm->opps[i]; return &rm->opps[i].lock;
    case S_CHAIN: *size = sizeof rm->chains[i]; return &rm->chains[i].lock;
    case S_MARKET: *size = sizeof rm->market[i]; return &rm->market[i].lock;
    default:
        *size = sizeof(mp_seqlock_t);
        return i == 0 ? &rm->ctl->detail_index_lock : &rm->ctl->opp_index_lock;
    }
}

/* Copies slot i of sec consistently: 0, or -EAGAIN when it kept changing. Every slot
 * struct begins with its seqlock, so the lock's address is the slot's. */
static int copy_slot(const mp_rm_region_t *rm, int sec, uint32_t i, slot_copy_t *out)
{
    size_t size;
    const mp_seqlock_t *lock = slot_at(rm, sec, i, &size);
    return mp_seqlock_read(lock, out, lock, size);
}

/* The occupied word and, when occupied, the entity and its kind. */
static uint32_t slot_entity(int sec, const slot_copy_t *c, const void **entity, mp_rm_kind_t *kind)
{
    *entity = NULL;
    *kind = (mp_rm_kind_t)0;
    switch (sec) {
    case S_TX:
        *entity = &c->tx.e;
        *kind = MP_KIND_TX;
        return c->tx.occupied;
    case S_DETAIL:
        *entity = &c->detail.tx;
        *kind = MP_KIND_TX;
        return c->detail.occupied;
    case S_TOP:
        *entity = &c->top.e;
        *kind = MP_KIND_FEATURE_TOP;
        return c->top.occupied;
    case S_RECENT:
        *entity = &c->recent.e;
        *kind = MP_KIND_FEATURE_RECENT;
        return c->recent.occupied;
    case S_OPP:
        *entity = &c->opp.e;
        *kind = MP_KIND_OPPORTUNITY;
        return c->opp.occupied;
    case S_CHAIN:
        *entity = &c->chain.e;
        *kind = MP_KIND_CHAIN;
        return c->chain.occupied;
    case S_MARKET:
        *entity = &c->market.u;
        *kind = (mp_rm_kind_t)c->market.occupied;
        return c->market.occupied;
    }
    return 0;
}

/* The slot's check word and the entity bytes it covers (0: the slot has none). */
static size_t slot_check(int sec, const slot_copy_t *c, mp_rm_kind_t kind, uint64_t *check)
{
    switch (sec) {
    case S_TX: *check = c->tx.check; return sizeof c->tx.e;
    case S_TOP: *check = c->top.check; return sizeof c->top.e;
    case S_RECENT: *check = c->recent.check; return sizeof c->recent.e;
    case S_OPP: *check = c->opp.check; return sizeof c->opp.e;
    case S_CHAIN: *check = c->chain.check; return sizeof c->chain.e;
    case S_MARKET:
        *check = c->market.check;
        return kind == MP_KIND_PRICE ? sizeof c->market.u.price : sizeof c->market.u.fee;
    }
    *check = 0;
    return 0;
}

static const char *slot_channel_name(int sec)
{
    switch (sec) {
    case S_TX: return "tx.main";
    case S_TOP:
    case S_RECENT: return "feature.main";
    case S_OPP: return "opportunity.main";
    case S_CHAIN: return "chain.main";
    case S_MARKET: return "market.main";
    }
    return "?";
}

/* ---- seqlocks and slot contents ---- */

static enum verdict p_lock(verify_t *v, const suspect_t *s)
{
    size_t size;
    uint32_t now = atomic_load_explicit(slot_at(v->rm, s->sec, s->a, &size), memory_order_acquire);
    if (now != (uint32_t)s->b) return HOLDS; /* the writer moved on */
    if (s->sec == S_INDEX_LOCKS)
        return failf(v, "the %s index seqlock stays odd (count %u): a write never finished",
                     s->a == 0 ? "detail" : "opportunity", now);
    return failf(v, "%s[%u]: seqlock stays odd (count %u): a write never finished",
                 section_names[s->sec], s->a, now);
}

static enum verdict p_slot_value(verify_t *v, const suspect_t *s)
{
    slot_copy_t c;
    if (copy_slot(v->rm, s->sec, s->a, &c)) return UNKNOWN;
    const void *e;
    mp_rm_kind_t kind;
    uint32_t occ = slot_entity(s->sec, &c, &e, &kind);
    const char *sec = section_names[s->sec];
    if (s->sec == S_MARKET) {
        /* Fee markets live in the first MP_RM_MARKET_FEE_SLOTS slots, prices after. */
        uint32_t want = s->a < MP_RM_MARKET_FEE_SLOTS ? MP_KIND_FEE_MARKET : MP_KIND_PRICE;
        if (occ != 0 && occ != want)
            return failf(v, "%s[%u]: occupied is %u, expected 0 or %u here", sec, s->a, occ, want);
    }
    /* A consistent copy whose check does not match is a torn or stray write. */
    uint64_t check;
    size_t n = slot_check(s->sec, &c, kind, &check);
    if (occ && n && mp_rm_check(e, n) != check)
        return failf(v, "%s[%u]: the entity does not match its check word (torn or stray write)",
                     sec, s->a);
    if (s->sec == S_MARKET) return HOLDS;
    if (s->sec == S_TX) {
        /* tx_ring: occupied names the detail entry (index + 1). */
        if (occ > v->rm->caps.detail)
            return failf(v, "%s[%u]: occupied is %u, beyond the %u details", sec, s->a, occ,
                         v->rm->caps.detail);
    } else if (occ > 1) {
        return failf(v, "%s[%u]: occupied is %u, expected 0 or 1", sec, s->a, occ);
    }
    if (!occ) return HOLDS;
    if (s->sec == S_DETAIL) {
        const mp_rm_detail_t *d = &c.detail;
        if (d->tx_slot > v->rm->caps.tx_ring)
            return failf(v, "%s[%u]: tx_slot %u beyond the %u tx_ring slots", sec, s->a, d->tx_slot,
                         v->rm->caps.tx_ring);
        if (d->history_count == 0)
            return failf(v, "%s[%u]: no status history (a seen tx records 'pending')", sec, s->a);
        if (d->input_stored > MP_INPUT_PREFIX_MAX || d->input_stored > d->tx.input_len)
            return failf(v, "%s[%u]: %u calldata bytes stored of %u (limit %u)", sec, s->a,
                         d->input_stored, d->tx.input_len, MP_INPUT_PREFIX_MAX);
    }
    if ((s->sec == S_TX || s->sec == S_DETAIL) && ((const mp_rm_tx_t *)e)->status > MP_TX_MINED)
        return failf(v, "%s[%u]: tx status %u unknown", sec, s->a, ((const mp_rm_tx_t *)e)->status);
    if (s->sec == S_OPP) {
        const mp_rm_opportunity_t *o = e;
        if (o->score > 100 || o->input_count > MP_RM_OPP_INPUTS || o->kind < MP_OPP_SANDWICH ||
            o->kind > MP_OPP_GAS_WAR || o->status > MP_OPP_REPLACED)
            return failf(v, "%s[%u]: score %u, %u inputs, kind %u, status %u out of range", sec,
                         s->a, o->score, o->input_count, o->kind, o->status);
    }
    return HOLDS;
}

/* ---- entity seqs against the journal ---- */

static const char *op_name(unsigned op)
{
    switch (op) {
    case MP_OP_UPSERT: return "upsert";
    case MP_OP_REMOVE: return "remove";
    case MP_OP_RESET: return "reset";
    }
    return "unknown op";
}

/* Copies journal entry seq and confirms the window still covers it afterwards.
 * Returns 0, or 1 when seq is outside the window (nothing to check). */
static int journal_entry(const mp_rm_region_t *rm, uint64_t seq, mp_rm_journal_entry_t *e)
{
    if (seq < mp_rm_journal_oldest(rm)) return 1;
    *e = rm->journal[seq & (rm->caps.journal - 1)];
    /* Valid only if the floor did not pass seq while we copied (release in the writer's
     * floor raise, before it reuses an entry). */
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&rm->ctl->journal_floor_seq, memory_order_relaxed) > seq;
}

/* Every published entity carries the journal seq of its last change, and that journal
 * entry (while in the window) is an upsert of this very entity. A slot written by the
 * batch in progress carries a seq beyond the published journal: s->b remembers the
 * first such seq seen, and once the journal reaches it that write was simply in flight
 * (under a busy writer the slot may hold a newer in-flight entity at every look). */
static enum verdict p_entity_seq(verify_t *v, suspect_t *s)
{
    const mp_rm_region_t *rm = v->rm;
    if (s->b && mp_rm_journal_newest(rm) >= s->b) return HOLDS;
    slot_copy_t c;
    if (copy_slot(rm, s->sec, s->a, &c)) return UNKNOWN;
    const void *e;
    mp_rm_kind_t kind;
    if (!slot_entity(s->sec, &c, &e, &kind)) return HOLDS;
    uint64_t seq = mp_rm_entity_seq(e);
    uint64_t newest = mp_rm_journal_newest(rm);
    mp_rm_id_t id;
    uint8_t id_len;
    mp_rm_entity_id(kind, e, &id, &id_len);
    char idt[MP_RM_ID_TEXT_MAX];
    mp_rm_id_text(kind, &id, id_len, idt);
    const char *sec = section_names[s->sec];
    if (seq == 0) return failf(v, "%s[%u] (%s) has seq 0", sec, s->a, idt);
    if (seq > newest) {
        if (!s->b) s->b = seq;
        return failf(v,
                     "%s[%u] (%s) has seq %" PRIu64 ", beyond the published journal seq %" PRIu64,
                     sec, s->a, idt, seq, newest);
    }
    mp_rm_journal_entry_t je;
    if (journal_entry(rm, seq, &je)) return HOLDS;
    if (je.seq != seq) return HOLDS; /* the journal check reports a misplaced entry */
    if (je.op != MP_OP_UPSERT || je.kind != kind ||
        memcmp(je.id.bytes, id.bytes, MP_RM_ID_LEN) != 0) {
        char jt[MP_RM_ID_TEXT_MAX];
        mp_rm_id_text((mp_rm_kind_t)je.kind, &je.id, je.id_len, jt);
        return failf(v, "%s[%u] (%s) has seq %" PRIu64 ", but journal %" PRIu64 " is a %s of %s",
                     sec, s->a, idt, seq, seq, op_name(je.op), jt);
    }
    if (je.channel != (uint8_t)mp_rm_channel_from_name(slot_channel_name(s->sec),
                                                       strlen(slot_channel_name(s->sec))))
        return failf(v, "%s[%u] (%s): its upsert %" PRIu64 " is journaled on channel %u", sec, s->a,
                     idt, seq, je.channel);
    return HOLDS;
}

/* ---- hash indexes ---- */

static int match_value(void *ctx, uint32_t v)
{
    return v == *(const uint32_t *)ctx;
}

/* The key slot `value - 1` of an index holds: 1 with key set, 0 empty, -EAGAIN torn. */
static int index_key(const verify_t *v, const index_view_t *iv, uint32_t value, uint8_t key[32])
{
    slot_copy_t c;
    bool detail = iv == &v->dix;
    if (copy_slot(v->rm, detail ? S_DETAIL : S_OPP, value - 1, &c)) return -EAGAIN;
    if (detail) {
        if (!c.detail.occupied) return 0;
        memcpy(key, c.detail.tx.hash, 32);
    } else {
        if (!c.opp.occupied) return 0;
        memcpy(key, c.opp.e.id.bytes, 32);
    }
    return 1;
}

/* Takes a consistent copy of an index's buckets (and of detail_count around it). */
static void copy_index(verify_t *v, index_view_t *iv)
{
    const mp_rm_index_t *ix = &iv->ix;
    const volatile uint32_t *count = &v->rm->ctl->detail_count;
    uint64_t deadline = mp_mono_ns() + INDEX_COPY_NS;
    iv->copy_ok = false;
    for (unsigned tries = 0;; tries++) {
        uint32_t s = mp_seqlock_read_begin(ix->lock);
        if (!(s & 1)) {
            iv->count_before = *count;
            memcpy(iv->copy, ix->buckets, ((size_t)ix->mask + 1) * sizeof *iv->copy);
            iv->count_after = *count;
            if (mp_seqlock_read_valid(ix->lock, s)) {
                iv->copy_ok = true;
                return;
            }
        }
        if ((tries & 63) == 63 && mp_mono_ns() > deadline) return;
    }
}

/* Slot i of the index's array is findable through the index by its own key. */
static enum verdict p_findable(verify_t *v, const suspect_t *s, index_view_t *iv, const char *what)
{
    uint8_t key[32];
    uint32_t want = s->a + 1;
    int r = index_key(v, iv, want, key);
    if (r < 0) return UNKNOWN;
    if (r == 0) return HOLDS;
    int found = mp_rm_index_lookup(&iv->ix, key, match_value, &want);
    if (found < 0) return UNKNOWN;
    if (found) return HOLDS;
    char kt[MP_RM_ID_TEXT_MAX];
    if (iv == &v->dix)
        hex_short(key, kt);
    else
        snprintf(kt, sizeof kt, "%.32s", (const char *)key);
    return failf(v, "%s[%u] (%s) is occupied but its key does not lead to it through the index",
                 what, s->a, kt);
}

/* Bucket b of the latest copy points at an occupied slot whose probe chain, from its
 * home bucket, reaches b without crossing an empty bucket. */
static enum verdict p_bucket(verify_t *v, const suspect_t *s, index_view_t *iv, const char *what)
{
    if (!iv->copy_ok) return UNKNOWN;
    uint32_t b = s->a, mask = iv->ix.mask;
    uint64_t cell = iv->copy[b];
    uint32_t val = (uint32_t)cell;
    if (!cell) return HOLDS;
    if (val == 0 || val > iv->ix.max_value)
        return failf(v, "%s bucket %u holds slot value %u, outside 1..%u", what, b, val,
                     iv->ix.max_value);
    uint8_t key[32];
    int r = index_key(v, iv, val, key);
    if (r < 0) return UNKNOWN;
    if (r == 0) return failf(v, "%s bucket %u points at slot %u, which is empty", what, b, val - 1);
    uint64_t h = mp_rm_index_hash(key);
    if ((uint32_t)(cell >> 32) != (uint32_t)(h >> 32))
        return failf(v, "%s bucket %u (slot %u): tag %08x does not match its key's %08x", what, b,
                     val - 1, (unsigned)(cell >> 32), (unsigned)(h >> 32));
    uint32_t home = (uint32_t)h & mask;
    for (uint32_t j = home; j != b; j = (j + 1) & mask)
        if (!iv->copy[j])
            return failf(v,
                         "%s bucket %u (slot %u) is cut off from its home bucket %u by empty "
                         "bucket %u",
                         what, b, val - 1, home, j);
    return HOLDS;
}

static uint32_t used_buckets(const index_view_t *iv)
{
    uint32_t n = 0;
    for (uint32_t b = 0; b <= iv->ix.mask; b++)
        n += iv->copy[b] != 0;
    return n;
}

static enum verdict p_detail_count(verify_t *v)
{
    index_view_t *iv = &v->dix;
    if (!iv->copy_ok || iv->count_before != iv->count_after) return UNKNOWN;
    uint32_t n = used_buckets(iv);
    if (n != iv->count_before)
        return failf(v, "detail_count is %u but the index holds %u details", iv->count_before, n);
    return HOLDS;
}

static enum verdict p_opp_count(verify_t *v)
{
    index_view_t *iv = &v->oix;
    if (!iv->copy_ok) return UNKNOWN;
    uint32_t occupied = 0;
    for (uint32_t i = 0; i < v->rm->caps.opportunity; i++) {
        slot_copy_t c;
        if (copy_slot(v->rm, S_OPP, i, &c)) return UNKNOWN;
        occupied += c.opp.occupied != 0;
    }
    uint32_t n = used_buckets(iv);
    if (n != occupied)
        return failf(v, "%u opportunities are occupied but the index holds %u", occupied, n);
    return HOLDS;
}

/* ---- tx_ring back-pointers ---- */

/* A tx_ring slot names its detail (occupied = entry + 1), which holds the same hash and
 * names the slot back (tx_slot = slot + 1); the hash index finds that same detail. */
static enum verdict p_ring_slot(verify_t *v, const suspect_t *s)
{
    slot_copy_t c, dc;
    if (copy_slot(v->rm, S_TX, s->a, &c)) return UNKNOWN;
    uint32_t occ = c.tx.occupied;
    if (!occ) return HOLDS;
    char h[19];
    hex_short(c.tx.e.hash, h);
    if (occ > v->rm->caps.detail) return HOLDS; /* reported by the slots check */
    if (copy_slot(v->rm, S_DETAIL, occ - 1, &dc)) return UNKNOWN;
    const mp_rm_detail_t *d = &dc.detail;
    if (!d->occupied || memcmp(d->tx.hash, c.tx.e.hash, MP_HASH_LEN) != 0)
        return failf(v, "tx_ring[%u] holds %s but names detail %u, which %s", s->a, h, occ - 1,
                     d->occupied ? "holds another tx" : "is empty");
    if (d->tx_slot != s->a + 1)
        return failf(v, "tx_ring[%u] holds %s, whose detail %u points at tx_slot %u (expected %u)",
                     s->a, h, occ - 1, d->tx_slot, s->a + 1);
    mp_rm_detail_t found;
    uint32_t ignored;
    int r = mp_txs_lookup(v->rm, c.tx.e.hash, &found, NULL, 0, &ignored);
    if (r == -EAGAIN) return UNKNOWN;
    if (r == -ENOENT)
        return failf(v, "tx_ring[%u] holds %s, which the detail index does not find", s->a, h);
    return HOLDS;
}

static enum verdict p_detail_slot(verify_t *v, const suspect_t *s)
{
    slot_copy_t c;
    if (copy_slot(v->rm, S_DETAIL, s->a, &c)) return UNKNOWN;
    const mp_rm_detail_t *d = &c.detail;
    if (!d->occupied || !d->tx_slot) return HOLDS;
    char h[19];
    hex_short(d->tx.hash, h);
    if (d->tx_slot > v->rm->caps.tx_ring)
        return failf(v, "detail %u (%s) points at tx_slot %u, beyond the ring", s->a, h,
                     d->tx_slot);
    slot_copy_t r;
    if (copy_slot(v->rm, S_TX, d->tx_slot - 1, &r)) return UNKNOWN;
    if (!r.tx.occupied)
        return failf(v, "detail %u (%s) points at tx_ring[%u], which is empty", s->a, h,
                     d->tx_slot - 1);
    if (r.tx.occupied != s->a + 1)
        return failf(v, "detail %u (%s) points at tx_ring[%u], which names detail %u", s->a, h,
                     d->tx_slot - 1, r.tx.occupied - 1);
    if (memcmp(r.tx.e.hash, d->tx.hash, MP_HASH_LEN) != 0) {
        char o[19];
        hex_short(r.tx.e.hash, o);
        return failf(v, "detail %u (%s) points at tx_ring[%u], which holds %s", s->a, h,
                     d->tx_slot - 1, o);
    }
    return HOLDS;
}

/* ---- journal and watermarks ---- */

static bool kind_on_channel(unsigned kind, unsigned ch)
{
    switch (ch) {
    case MP_CH_TX: return kind == MP_KIND_TX;
    case MP_CH_FEATURE: return kind == MP_KIND_FEATURE_TOP || kind == MP_KIND_FEATURE_RECENT;
    case MP_CH_OPPORTUNITY: return kind == MP_KIND_OPPORTUNITY;
    case MP_CH_CHAIN: return kind == MP_KIND_CHAIN;
    case MP_CH_MARKET: return kind == MP_KIND_FEE_MARKET || kind == MP_KIND_PRICE;
    }
    return false;
}

static enum verdict p_journal_window(verify_t *v)
{
    const mp_rm_region_t *rm = v->rm;
    uint64_t newest = mp_rm_journal_newest(rm), oldest = mp_rm_journal_oldest(rm);
    if (oldest > newest + 1)
        return failf(v, "window start %" PRIu64 " is past the newest seq %" PRIu64 " + 1", oldest,
                     newest);
    if (newest + 1 - oldest > rm->caps.journal)
        return failf(v, "window %" PRIu64 "..%" PRIu64 " holds more than the %u entries", oldest,
                     newest, rm->caps.journal);
    return HOLDS;
}

static enum verdict p_journal_entry(verify_t *v, const suspect_t *s)
{
    const mp_rm_region_t *rm = v->rm;
    uint64_t seq = s->b, dcap = rm->caps.journal_bytes;
    /* Head after the published seq (acquire): it covers every published entry's bytes,
     * and a floor read after it covers every byte it overwrote. */
    if (seq > mp_rm_journal_newest(rm)) return HOLDS;
    uint64_t head = atomic_load_explicit((const _Atomic uint64_t *)&rm->ctl->journal_data_head,
                                         memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    mp_rm_journal_entry_t e, prev;
    if (journal_entry(rm, seq, &e)) return HOLDS;
    if (e.seq != seq) return failf(v, "entry for seq %" PRIu64 " holds seq %" PRIu64, seq, e.seq);
    if (e.channel >= MP_CH_COUNT || e.op < MP_OP_UPSERT || e.op > MP_OP_RESET ||
        e.id_len > MP_RM_ID_LEN)
        return failf(v, "entry %" PRIu64 ": channel %u, op %u, id_len %u out of range", seq,
                     e.channel, e.op, e.id_len);
    if (e.op != MP_OP_RESET && !kind_on_channel(e.kind, e.channel))
        return failf(v, "entry %" PRIu64 ": kind %u does not belong on %s", seq, e.kind,
                     mp_rm_channel_name(e.channel));
    size_t want = e.op == MP_OP_UPSERT ? mp_rm_kind_size(e.kind) : 0;
    if (e.data_len != want)
        return failf(v, "entry %" PRIu64 " (%s): %u entity bytes, expected %zu", seq, op_name(e.op),
                     e.data_len, want);
    if ((e.data_pos & (dcap - 1)) + e.data_len > dcap)
        return failf(v, "entry %" PRIu64 ": its bytes wrap the journal byte ring", seq);
    if (e.data_pos + e.data_len > head || head - e.data_pos > dcap)
        return failf(v,
                     "entry %" PRIu64 ": bytes at %" PRIu64 " are outside the live byte ring "
                     "(head %" PRIu64 ", %" PRIu64 " bytes)",
                     seq, e.data_pos, head, dcap);
    if (seq > 1 && journal_entry(rm, seq - 1, &prev) == 0 && prev.seq == seq - 1 &&
        prev.data_pos > e.data_pos)
        return failf(
            v, "entry %" PRIu64 ": byte position %" PRIu64 " before its predecessor's %" PRIu64,
            seq, e.data_pos, prev.data_pos);
    return HOLDS;
}

static enum verdict p_channel_seq(verify_t *v, const suspect_t *s)
{
    const mp_rm_region_t *rm = v->rm;
    uint64_t cs = atomic_load_explicit(&rm->ctl->channel_seq[s->a], memory_order_acquire);
    uint64_t newest = mp_rm_journal_newest(rm);
    const char *name = mp_rm_channel_name(s->a);
    if (cs > newest)
        return failf(v, "%s seq %" PRIu64 " is beyond the journal seq %" PRIu64, name, cs, newest);
    mp_rm_journal_entry_t e;
    if (cs == 0 || journal_entry(rm, cs, &e)) return HOLDS;
    if (e.seq == cs && e.channel != s->a)
        return failf(v, "%s seq %" PRIu64 " names a delta of %s", name, cs,
                     mp_rm_channel_name(e.channel) ? mp_rm_channel_name(e.channel) : "?");
    return HOLDS;
}

/* The newest delta belongs to some channel, whose seq is then the journal seq. */
static enum verdict p_channel_newest(verify_t *v)
{
    const mp_rm_region_t *rm = v->rm;
    uint64_t newest = mp_rm_journal_newest(rm), max = 0;
    for (int c = 0; c < MP_CH_COUNT; c++) {
        uint64_t cs = atomic_load_explicit(&rm->ctl->channel_seq[c], memory_order_acquire);
        if (cs > max) max = cs;
    }
    if (newest && max != newest)
        return failf(v, "journal seq %" PRIu64 " but the newest channel seq is %" PRIu64, newest,
                     max);
    return HOLDS;
}

static enum verdict p_bytes(verify_t *v)
{
    const mp_rm_region_t *rm = v->rm;
    uint64_t used = atomic_load_explicit(&rm->ctl->bytes_used, memory_order_relaxed);
    uint64_t size = mp_region_header(&rm->region)->region_size;
    if (used > size || used > rm->region.size)
        return failf(v, "bytes_used %" PRIu64 " exceeds the region's %" PRIu64 " bytes", used,
                     size);
    return HOLDS;
}

static enum verdict p_caps(verify_t *v)
{
    const mp_rm_control_t *c = v->rm->ctl;
    uint32_t details = *(const volatile uint32_t *)&c->detail_count;
    uint32_t tops = *(const volatile uint32_t *)&c->feature_top_count;
    if (details > v->rm->caps.detail)
        return failf(v, "detail_count %u exceeds the %u detail entries", details,
                     v->rm->caps.detail);
    if (tops > v->rm->caps.feature_top)
        return failf(v, "feature_top_count %u exceeds the %u keys", tops, v->rm->caps.feature_top);
    return HOLDS;
}

static enum verdict evaluate(verify_t *v, suspect_t *s)
{
    switch (s->pred) {
    case P_LOCK: return p_lock(v, s);
    case P_SLOT_VALUE: return p_slot_value(v, s);
    case P_ENTITY_SEQ: return p_entity_seq(v, s);
    case P_DETAIL_FINDABLE: return p_findable(v, s, &v->dix, "tx_detail_index");
    case P_DETAIL_BUCKET: return p_bucket(v, s, &v->dix, "tx_detail_buckets");
    case P_DETAIL_COUNT: return p_detail_count(v);
    case P_OPP_FINDABLE: return p_findable(v, s, &v->oix, "opportunity_recent_ring");
    case P_OPP_BUCKET: return p_bucket(v, s, &v->oix, "opportunity_buckets");
    case P_OPP_COUNT: return p_opp_count(v);
    case P_RING_SLOT: return p_ring_slot(v, s);
    case P_DETAIL_SLOT: return p_detail_slot(v, s);
    case P_JOURNAL_WINDOW: return p_journal_window(v);
    case P_JOURNAL_ENTRY: return p_journal_entry(v, s);
    case P_CHANNEL_SEQ: return p_channel_seq(v, s);
    case P_CHANNEL_NEWEST: return p_channel_newest(v);
    case P_BYTES: return p_bytes(v);
    case P_CAPS: return p_caps(v);
    }
    return HOLDS;
}

/* ---- first pass ---- */

/* Evaluates one item; a failure (or an item that could not be read) becomes a suspect.
 * Returns -ENOMEM when the suspect list cannot grow. */
static int examine(verify_t *v, int pred, int sec, uint32_t a, uint64_t b)
{
    suspect_t s = {.pred = (uint8_t)pred, .sec = (uint8_t)sec, .a = a, .b = b};
    v->examined[pred_check[pred]]++;
    enum verdict r = evaluate(v, &s);
    if (r == HOLDS) return 0;
    if (v->nsus == v->capsus) {
        size_t cap = v->capsus ? 2 * v->capsus : 256;
        suspect_t *n = realloc(v->sus, cap * sizeof *n);
        if (!n) return -ENOMEM;
        v->sus = n;
        v->capsus = cap;
    }
    if (r == FAILS) {
        s.fails = 1;
        memcpy(s.msg, v->msg, sizeof s.msg);
    }
    v->sus[v->nsus++] = s;
    return 0;
}

static int first_pass(verify_t *v)
{
    const mp_rm_region_t *rm = v->rm;
    int err = 0;
    /* Odd seqlocks: the first count seen is what a stuck lock keeps. */
    for (int sec = 0; sec < S_COUNT && !err; sec++) {
        for (uint32_t i = 0; i < section_count(rm, sec) && !err; i++) {
            size_t size;
            uint32_t c = atomic_load_explicit(slot_at(rm, sec, i, &size), memory_order_acquire);
            if (c & 1)
                err = examine(v, P_LOCK, sec, i, c);
            else
                v->examined[C_SEQLOCKS]++;
        }
    }
    for (int sec = S_TX; sec <= S_MARKET && !err; sec++) {
        for (uint32_t i = 0; i < section_count(rm, sec) && !err; i++) {
            err = examine(v, P_SLOT_VALUE, sec, i, 0);
            if (!err && sec != S_DETAIL) err = examine(v, P_ENTITY_SEQ, sec, i, 0);
            if (!err && sec == S_DETAIL) err = examine(v, P_DETAIL_FINDABLE, sec, i, 0);
            if (!err && sec == S_DETAIL) err = examine(v, P_DETAIL_SLOT, sec, i, 0);
            if (!err && sec == S_TX) err = examine(v, P_RING_SLOT, sec, i, 0);
            if (!err && sec == S_OPP) err = examine(v, P_OPP_FINDABLE, sec, i, 0);
        }
    }
    copy_index(v, &v->dix);
    copy_index(v, &v->oix);
    for (uint32_t b = 0; b <= v->dix.ix.mask && !err; b++)
        err = examine(v, P_DETAIL_BUCKET, 0, b, 0);
    for (uint32_t b = 0; b <= v->oix.ix.mask && !err; b++)
        err = examine(v, P_OPP_BUCKET, 0, b, 0);
    if (!err) err = examine(v, P_DETAIL_COUNT, 0, 0, 0);
    if (!err) err = examine(v, P_OPP_COUNT, 0, 0, 0);
    if (!err) err = examine(v, P_JOURNAL_WINDOW, 0, 0, 0);
    /* Entries of the window as it is now (a bad window is reported above; then only its
     * newest capacity's worth is examined). */
    uint64_t oldest = mp_rm_journal_oldest(rm), newest = mp_rm_journal_newest(rm);
    if (oldest <= newest && newest - oldest + 1 > rm->caps.journal)
        oldest = newest - rm->caps.journal + 1;
    for (uint64_t seq = oldest; seq <= newest && !err; seq++)
        err = examine(v, P_JOURNAL_ENTRY, 0, 0, seq);
    for (uint32_t c = 0; c < MP_CH_COUNT && !err; c++)
        err = examine(v, P_CHANNEL_SEQ, 0, c, 0);
    if (!err) err = examine(v, P_CHANNEL_NEWEST, 0, 0, 0);
    if (!err) err = examine(v, P_BYTES, 0, 0, 0);
    if (!err) err = examine(v, P_CAPS, 0, 0, 0);
    return err;
}

/* ---- re-checks ---- */

static bool index_pred(int pred)
{
    return pred == P_DETAIL_BUCKET || pred == P_DETAIL_COUNT || pred == P_OPP_BUCKET ||
           pred == P_OPP_COUNT;
}

/* Re-evaluates the suspects from fresh copies until each holds once (resolved) or has
 * failed throughout its window (confirmed). With no writer running nothing can race, so
 * one re-check confirms. */
static void recheck(verify_t *v)
{
    uint64_t start = mp_mono_ns();
    uint64_t slack_end = start + (v->writer_alive ? RECHECK_WINDOW_NS + RECHECK_SLACK_NS : 50 * MS);
    size_t pending = v->nsus;
    while (pending) {
        mp_sleep_ns(RECHECK_PAUSE_NS);
        uint64_t now = mp_mono_ns();
        bool need_index = false;
        for (size_t i = 0; i < v->nsus; i++)
            if (!v->sus[i].done && index_pred(v->sus[i].pred)) need_index = true;
        if (need_index) {
            copy_index(v, &v->dix);
            copy_index(v, &v->oix);
        }
        for (size_t i = 0; i < v->nsus; i++) {
            suspect_t *s = &v->sus[i];
            if (s->done) continue;
            enum verdict r = evaluate(v, s);
            if (r == HOLDS) {
                s->done = true;
                pending--;
                continue;
            }
            if (r == FAILS) {
                s->fails++;
                memcpy(s->msg, v->msg, sizeof s->msg);
            }
            uint64_t window = !v->writer_alive    ? 0
                              : s->pred == P_LOCK ? LOCK_WINDOW_NS
                                                  : RECHECK_WINDOW_NS;
            if (s->fails >= 2 && r == FAILS && now - start >= window) {
                s->done = s->confirmed = true;
                pending--;
            }
        }
        if (mp_mono_ns() > slack_end) break;
    }
    for (size_t i = 0; i < v->nsus; i++) {
        suspect_t *s = &v->sus[i];
        int c = pred_check[s->pred];
        if (s->confirmed)
            v->violations[c]++;
        else if (!s->done)
            v->unconfirmed[c]++; /* never readable long enough: not counted */
    }
}

/* ---- report ---- */

static json_t *report_json(const verify_t *v, bool batch_open)
{
    json_t *root = json_object();
    bool ok = true;
    json_t *checks = json_object(), *viol = json_array(), *notes = json_array();
    for (int c = 0; c < C_COUNT; c++) {
        ok &= v->violations[c] == 0;
        json_object_set_new(checks, check_names[c],
                            json_pack("{s:I,s:I,s:I}", "examined", (json_int_t)v->examined[c],
                                      "violations", (json_int_t)v->violations[c], "unconfirmed",
                                      (json_int_t)v->unconfirmed[c]));
    }
    for (size_t i = 0; i < v->nsus; i++) {
        const suspect_t *s = &v->sus[i];
        if (s->confirmed)
            json_array_append_new(viol,
                                  json_pack("{s:s,s:s}", "check", check_names[pred_check[s->pred]],
                                            "message", s->msg));
    }
    if (batch_open)
        json_array_append_new(notes, json_string("a batch was left open by a writer that is not "
                                                 "running; starting the readmodel rolls it back"));
    json_object_set_new(root, "path", json_string(v->rm->region.path));
    json_object_set_new(root, "ok", json_boolean(ok));
    json_object_set_new(root, "writer_alive", json_boolean(v->writer_alive));
    json_object_set_new(root, "checks", checks);
    json_object_set_new(root, "violations", viol);
    json_object_set_new(root, "notes", notes);
    return root;
}

static void report_text(const verify_t *v, bool batch_open)
{
    uint64_t total = 0;
    for (int c = 0; c < C_COUNT; c++) {
        uint64_t shown = 0;
        for (size_t i = 0; i < v->nsus; i++) {
            const suspect_t *s = &v->sus[i];
            if (!s->confirmed || pred_check[s->pred] != c) continue;
            if (shown++ < REPORT_PER_CHECK) printf("violation: %s: %s\n", check_names[c], s->msg);
        }
        if (shown > REPORT_PER_CHECK)
            printf("violation: %s: ... and %" PRIu64 " more\n", check_names[c],
                   shown - REPORT_PER_CHECK);
        total += v->violations[c];
    }
    printf("verify %s (writer %s)\n", v->rm->region.path,
           v->writer_alive ? "running" : "not running");
    for (int c = 0; c < C_COUNT; c++) {
        printf("  %-18s %10" PRIu64 " examined  %s", check_names[c], v->examined[c],
               v->violations[c] ? "VIOLATED" : "ok");
        if (v->unconfirmed[c])
            printf(" (%" PRIu64 " items kept changing and were not confirmed)", v->unconfirmed[c]);
        putchar('\n');
    }
    if (batch_open)
        printf("note: a batch was left open by a writer that is not running; starting the "
               "readmodel rolls it back\n");
    if (total)
        printf("%" PRIu64 " violation%s\n", total, total == 1 ? "" : "s");
    else
        printf("ok: no violations\n");
}

static const uint8_t *detail_key_of(const void *ctx, uint32_t v)
{
    const mp_rm_detail_t *d = &((const mp_rm_region_t *)ctx)->details[v - 1];
    return d->occupied ? d->tx.hash : NULL;
}

static const uint8_t *opp_key_of(const void *ctx, uint32_t v)
{
    const mp_rm_opp_slot_t *s = &((const mp_rm_region_t *)ctx)->opps[v - 1];
    return s->occupied ? s->e.id.bytes : NULL;
}

int mp_cmd_verify(const mp_cli_t *cli)
{
    if (cli->argc != 0) {
        mp_log("usage: mempulse-shm verify [--json] [--instance NAME]");
        return MP_EXIT_USAGE;
    }
    mp_rm_region_t rm;
    int code = mp_cli_open_readmodel(cli, &rm);
    if (code) return code;
    verify_t v = {.rm = &rm};
    v.dix.ix = (mp_rm_index_t){
        .buckets = rm.detail_buckets,
        .mask = rm.detail_bucket_count - 1,
        .max_value = rm.caps.detail,
        .lock = &rm.ctl->detail_index_lock,
        .key_of = detail_key_of,
        .ctx = &rm,
    };
    v.oix.ix = (mp_rm_index_t){
        .buckets = rm.opp_buckets,
        .mask = rm.opp_bucket_count - 1,
        .max_value = rm.caps.opportunity,
        .lock = &rm.ctl->opp_index_lock,
        .key_of = opp_key_of,
        .ctx = &rm,
    };
    v.dix.copy = malloc((size_t)rm.detail_bucket_count * sizeof *v.dix.copy);
    v.oix.copy = malloc((size_t)rm.opp_bucket_count * sizeof *v.oix.copy);
    if (!v.dix.copy || !v.oix.copy) {
        mp_log("out of memory for the index copies");
        code = MP_EXIT_RUNTIME;
        goto out_free;
    }
    v.writer_alive = mp_region_writer_alive(&rm.region);
    if (first_pass(&v)) {
        mp_log("out of memory for %zu suspects", v.nsus);
        code = MP_EXIT_RUNTIME;
        goto out_free;
    }
    recheck(&v);
    bool batch_open = !mp_region_writer_alive(&rm.region) &&
                      atomic_load_explicit(&rm.undo->active, memory_order_acquire) != 0;
    uint64_t total = 0;
    for (int c = 0; c < C_COUNT; c++)
        total += v.violations[c];
    if (cli->json) {
        json_t *doc = report_json(&v, batch_open);
        mp_cli_print_json(doc, true);
        json_decref(doc);
    } else {
        report_text(&v, batch_open);
    }
    code = total ? MP_EXIT_RUNTIME : MP_EXIT_OK;
out_free:
    free(v.sus);
    free(v.dix.copy);
    free(v.oix.copy);
    mp_rm_close(&rm);
    return code;
}
