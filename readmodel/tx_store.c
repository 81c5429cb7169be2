/* tx_detail_index (open addressing, backward-shift deletion, CLOCK, TTL sweep, calldata
 * arena) and tx_ring (tx.main). Every change goes through the writer's undo hooks. */
#include "readmodel/tx_store.h"

#include "readmodel/journal.h"
#include "readmodel/slot_index.h"

#include <errno.h>
#include <string.h>

#define TTL_SWEEP_PER_TICK 4096u

static mp_rm_id_t hash_id(const uint8_t hash[MP_HASH_LEN])
{
    mp_rm_id_t id;
    memcpy(id.bytes, hash, MP_HASH_LEN);
    return id;
}

/* ---- pending counts per chain ---- */

static void pending_add(mp_rm_writer_t *w, uint64_t chain_id, int64_t delta)
{
    mp_rm_control_t *ctl = w->rm->ctl;
    int free_slot = -1;
    for (int i = 0; i < MP_RM_MAX_CHAINS; i++) {
        if (ctl->pending[i].chain_id == chain_id && (ctl->pending[i].count || delta > 0)) {
            mp_rm_save(w, &ctl->pending[i], sizeof ctl->pending[i]);
            if (delta < 0 && ctl->pending[i].count < (uint64_t)-delta) ctl->pending[i].count = 0;
            else ctl->pending[i].count += (uint64_t)delta;
            return;
        }
        if (free_slot < 0 && ctl->pending[i].count == 0) free_slot = i;
    }
    if (delta > 0 && free_slot >= 0) {
        mp_rm_save(w, &ctl->pending[free_slot], sizeof ctl->pending[free_slot]);
        ctl->pending[free_slot].chain_id = chain_id;
        ctl->pending[free_slot].count = (uint64_t)delta;
    }
}

uint64_t mp_txs_pending(const mp_rm_region_t *rm, uint64_t chain_id)
{
    for (int i = 0; i < MP_RM_MAX_CHAINS; i++)
        if (rm->ctl->pending[i].chain_id == chain_id && rm->ctl->pending[i].count)
            return rm->ctl->pending[i].count;
    return 0;
}

/* ---- hash index ---- */

static const uint8_t *detail_key(const void *ctx, uint32_t v)
{
    const mp_rm_detail_t *d = &((const mp_rm_region_t *)ctx)->details[v - 1];
    return d->occupied ? d->tx.hash : NULL;
}

static mp_rm_index_t detail_index(const mp_rm_region_t *rm)
{
    return (mp_rm_index_t){
        .buckets = rm->detail_buckets,
        .mask = rm->detail_bucket_count - 1,
        .max_value = rm->caps.detail,
        .lock = &rm->ctl->detail_index_lock,
        .key_of = detail_key,
        .ctx = rm,
    };
}

static uint32_t index_find(const mp_rm_region_t *rm, const uint8_t hash[MP_HASH_LEN], uint32_t *bucket)
{
    mp_rm_index_t ix = detail_index(rm);
    return mp_rm_index_find(&ix, hash, bucket);
}

/* ---- tx ring ---- */

static void ring_remove(mp_rm_writer_t *w, mp_rm_detail_t *d, uint64_t time_ns)
{
    mp_rm_region_t *rm = w->rm;
    if (!d->tx_slot) return;
    mp_rm_tx_slot_t *s = &rm->tx_ring[d->tx_slot - 1];
    mp_rm_slot_begin(w, &s->lock, sizeof *s);
    s->occupied = 0;
    mp_rm_slot_end(w, &s->lock);
    mp_rm_id_t id = hash_id(d->tx.hash);
    mp_rm_journal_append(w, MP_CH_TX, MP_OP_REMOVE, MP_KIND_TX, &id, MP_HASH_LEN, NULL, 0, time_ns);
    mp_rm_save(w, &d->tx_slot, sizeof d->tx_slot);
    d->tx_slot = 0;
}

/* Writes d's summary into its tx_ring slot with a fresh seq and journals the upsert. The
 * seq is taken here, right before the append: removes journalled on the way (an evicted
 * tx) come first and must not lend their seq to this entity. */
static void ring_upsert(mp_rm_writer_t *w, mp_rm_detail_t *d, uint64_t time_ns)
{
    mp_rm_tx_slot_t *s = &w->rm->tx_ring[d->tx_slot - 1];
    mp_rm_slot_begin(w, &d->lock, sizeof *d);
    d->tx.seq = w->next_journal_seq;
    if (d->history_count == 1 && d->history[0].seq == 0) d->history[0].seq = d->tx.seq; /* seen */
    mp_rm_slot_end(w, &d->lock);
    mp_rm_slot_begin(w, &s->lock, sizeof *s);
    s->occupied = (uint32_t)(d - w->rm->details) + 1;
    s->e = d->tx;
    s->check = mp_rm_check(&s->e, sizeof s->e);
    mp_rm_slot_end(w, &s->lock);
    mp_rm_id_t id = hash_id(d->tx.hash);
    mp_rm_journal_append(w, MP_CH_TX, MP_OP_UPSERT, MP_KIND_TX, &id, MP_HASH_LEN, &s->e, sizeof s->e,
                         time_ns);
}

static void ring_push(mp_rm_writer_t *w, mp_rm_detail_t *d, uint64_t time_ns)
{
    mp_rm_region_t *rm = w->rm;
    uint32_t slot = (uint32_t)(rm->ctl->tx_ring_next % rm->caps.tx_ring);
    mp_rm_tx_slot_t *s = &rm->tx_ring[slot];
    if (s->occupied) /* the oldest tx leaves tx.main; occupied names its detail */
        ring_remove(w, &rm->details[s->occupied - 1], time_ns);
    mp_rm_save(w, &rm->ctl->tx_ring_next, sizeof rm->ctl->tx_ring_next);
    rm->ctl->tx_ring_next++;
    mp_rm_save(w, &d->tx_slot, sizeof d->tx_slot);
    d->tx_slot = slot + 1;
    ring_upsert(w, d, time_ns);
}

/* ---- details ---- */

static void evict_detail(mp_rm_writer_t *w, uint32_t idx, uint64_t time_ns)
{
    mp_rm_region_t *rm = w->rm;
    mp_rm_detail_t *d = &rm->details[idx];
    ring_remove(w, d, time_ns);
    if (d->tx.status == MP_TX_PENDING) pending_add(w, d->tx.chain_id, -1);
    uint32_t b;
    if (index_find(rm, d->tx.hash, &b)) {
        mp_rm_index_t ix = detail_index(rm);
        mp_rm_index_remove(w, &ix, b);
    }
    mp_rm_slot_begin(w, &d->lock, offsetof(mp_rm_detail_t, tx));
    d->occupied = 0;
    mp_rm_slot_end(w, &d->lock);
    mp_rm_save(w, &rm->ctl->detail_count, sizeof rm->ctl->detail_count);
    rm->ctl->detail_count--;
    mp_metric_add(w->m_evictions, 1);
}

/* CLOCK: a free entry, or the first unreferenced one after clearing reference bits. */
static uint32_t alloc_detail(mp_rm_writer_t *w, uint64_t time_ns)
{
    mp_rm_region_t *rm = w->rm;
    uint32_t cap = rm->caps.detail;
    mp_rm_save(w, &rm->ctl->detail_hand, sizeof rm->ctl->detail_hand);
    for (uint32_t step = 0; step < 2 * cap + 1; step++) {
        uint32_t i = rm->ctl->detail_hand;
        rm->ctl->detail_hand = (i + 1) % cap;
        mp_rm_detail_t *d = &rm->details[i];
        if (!d->occupied) return i;
        if (rm->ctl->detail_count < cap) continue; /* free entries exist: find one */
        if (d->referenced) {
            mp_rm_save(w, &d->referenced, sizeof d->referenced);
            d->referenced = 0;
            continue;
        }
        evict_detail(w, i, time_ns);
        return i;
    }
    evict_detail(w, rm->ctl->detail_hand, time_ns); /* unreachable: 2 laps clear every bit */
    return rm->ctl->detail_hand;
}

/* Copies calldata into the arena, raising the floor over what it overwrites. */
static void store_input(mp_rm_writer_t *w, mp_rm_detail_t *d, const mp_tx_seen_t *tx)
{
    mp_rm_region_t *rm = w->rm;
    uint32_t len = tx->input_prefix_len;
    uint64_t cap = rm->caps.input_bytes, pos = rm->ctl->input_head;
    d->input_stored = len;
    if (!len) {
        d->input_pos = pos;
        return;
    }
    uint64_t off = pos % cap;
    if (off + len > cap) pos += cap - off;
    uint64_t end = pos + len;
    if (end > cap && end - cap > atomic_load_explicit(&rm->ctl->input_floor, memory_order_relaxed)) {
        /* Floor first (not undone; pairs with the acquire fence in mp_txs_lookup). */
        atomic_store_explicit(&rm->ctl->input_floor, end - cap, memory_order_relaxed);
        atomic_thread_fence(memory_order_release);
    }
    memcpy(rm->input_arena + pos % cap, tx->input_prefix, len);
    d->input_pos = pos;
    mp_rm_save(w, &rm->ctl->input_head, sizeof rm->ctl->input_head);
    rm->ctl->input_head = end;
}

static void push_history(mp_rm_detail_t *d, uint8_t status, uint64_t time_ns, uint64_t seq)
{
    mp_rm_status_change_t *h = &d->history[d->history_count % MP_RM_HISTORY];
    memset(h, 0, sizeof *h);
    h->status = status;
    h->time_ns = time_ns;
    h->seq = seq;
    d->history_count++;
}

int mp_txs_on_seen(mp_rm_writer_t *w, const mp_tx_seen_t *tx, const mp_classification_t *c,
                   uint64_t time_ns)
{
    mp_rm_region_t *rm = w->rm;
    if (index_find(rm, tx->hash, NULL)) return 1;
    uint32_t idx = alloc_detail(w, time_ns);
    mp_rm_detail_t *d = &rm->details[idx];
    mp_rm_slot_begin(w, &d->lock, sizeof *d);
    d->occupied = 1;
    d->referenced = 0;
    d->tx_slot = 0;
    d->opp_kinds = 0;
    mp_rm_tx_t *t = &d->tx;
    memset(t, 0, sizeof *t);
    memcpy(t->hash, tx->hash, MP_HASH_LEN);
    memcpy(t->from, tx->from, MP_ADDR_LEN);
    memcpy(t->to, tx->to, MP_ADDR_LEN);
    t->has_to = tx->has_to;
    t->status = MP_TX_PENDING;
    t->tx_type = tx->tx_type;
    t->protocol = c->protocol;
    t->category = c->category;
    t->has_selector = c->has_selector;
    t->selector = c->selector;
    t->input_len = tx->input_len;
    t->chain_id = tx->chain_id;
    t->nonce = tx->nonce;
    t->gas_limit = tx->gas_limit;
    t->gas_price = tx->gas_price;
    t->max_fee = tx->max_fee;
    t->max_priority_fee = tx->max_priority_fee;
    t->value = tx->value;
    t->seen_unix_ns = time_ns;
    t->updated_unix_ns = time_ns;
    d->history_count = 0;
    memset(d->history, 0, sizeof d->history);
    push_history(d, MP_TX_PENDING, time_ns, 0); /* seq: see ring_upsert */
    store_input(w, d, tx);
    mp_rm_slot_end(w, &d->lock);
    mp_rm_index_t ix = detail_index(rm);
    mp_rm_index_insert(w, &ix, tx->hash, idx + 1);
    mp_rm_save(w, &rm->ctl->detail_count, sizeof rm->ctl->detail_count);
    rm->ctl->detail_count++;
    pending_add(w, tx->chain_id, 1);
    ring_push(w, d, time_ns);
    return 0;
}

int mp_txs_set_status(mp_rm_writer_t *w, const uint8_t hash[MP_HASH_LEN], mp_rm_tx_status_t status,
                      uint64_t time_ns, uint64_t block_number, const uint8_t *replaced_by,
                      uint32_t *opp_kinds)
{
    mp_rm_region_t *rm = w->rm;
    uint32_t v = index_find(rm, hash, NULL);
    if (!v) return -ENOENT;
    mp_rm_detail_t *d = &rm->details[v - 1];
    if (opp_kinds) *opp_kinds = d->opp_kinds;
    int prev = d->tx.status;
    if (prev == (int)status) return prev;
    bool on_ring = d->tx_slot != 0;
    bool stays = on_ring && status == MP_TX_REPLACED;
    uint64_t seq = w->next_journal_seq; /* the delta journalled below */
    mp_rm_slot_begin(w, &d->lock, sizeof *d);
    d->referenced = 1;
    d->tx.status = (uint8_t)status;
    d->tx.updated_unix_ns = time_ns;
    if (status == MP_TX_MINED) d->tx.block_number = block_number;
    if (status == MP_TX_REPLACED && replaced_by) memcpy(d->tx.replaced_by, replaced_by, MP_HASH_LEN);
    push_history(d, (uint8_t)status, time_ns, seq);
    mp_rm_slot_end(w, &d->lock);
    if (prev == MP_TX_PENDING) pending_add(w, d->tx.chain_id, -1);
    if (stays) ring_upsert(w, d, time_ns);
    else if (on_ring) ring_remove(w, d, time_ns);
    return prev;
}

void mp_txs_on_tick(mp_rm_writer_t *w, uint64_t now_ns)
{
    mp_rm_region_t *rm = w->rm;
    uint32_t cap = rm->caps.detail, n = cap < TTL_SWEEP_PER_TICK ? cap : TTL_SWEEP_PER_TICK;
    uint64_t ttl = rm->caps.detail_ttl_ns;
    if (now_ns < ttl) return;
    mp_rm_save(w, &rm->ctl->ttl_cursor, sizeof rm->ctl->ttl_cursor);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = rm->ctl->ttl_cursor;
        rm->ctl->ttl_cursor = (i + 1) % cap;
        const mp_rm_detail_t *d = &rm->details[i];
        if (d->occupied && d->tx.seen_unix_ns < now_ns - ttl) evict_detail(w, i, now_ns);
    }
}

void mp_txs_mark_opportunity(mp_rm_writer_t *w, const uint8_t hash[MP_HASH_LEN], unsigned kind)
{
    uint32_t v = index_find(w->rm, hash, NULL);
    if (!v || kind >= 32) return;
    mp_rm_detail_t *d = &w->rm->details[v - 1];
    mp_rm_save(w, &d->opp_kinds, sizeof d->opp_kinds);
    d->opp_kinds |= 1u << kind;
}

int mp_txs_get(const mp_rm_region_t *rm, const uint8_t hash[MP_HASH_LEN], mp_rm_detail_t *out)
{
    uint32_t v = index_find(rm, hash, NULL);
    if (!v) return -ENOENT;
    *out = rm->details[v - 1];
    return 0;
}

typedef struct lookup_ctx {
    const mp_rm_region_t *rm;
    const uint8_t *hash;
    mp_rm_detail_t *out;
} lookup_ctx_t;

/* Copies the candidate detail; 1 when it is the one sought. */
static int match_detail(void *mctx, uint32_t v)
{
    lookup_ctx_t *l = mctx;
    const mp_rm_detail_t *d = &l->rm->details[v - 1];
    if (mp_seqlock_read(&d->lock, l->out, d, sizeof *l->out) != 0) return 0;
    return l->out->occupied && memcmp(l->out->tx.hash, l->hash, MP_HASH_LEN) == 0;
}

int mp_txs_lookup(const mp_rm_region_t *rm, const uint8_t hash[MP_HASH_LEN], mp_rm_detail_t *out,
                  uint8_t *input, uint32_t cap, uint32_t *input_len)
{
    lookup_ctx_t l = {rm, hash, out};
    mp_rm_index_t ix = detail_index(rm);
    int found = mp_rm_index_lookup(&ix, hash, match_detail, &l);
    if (found < 0) return found;
    if (!found) return -ENOENT;
    *input_len = 0;
    uint64_t acap = rm->caps.input_bytes;
    uint32_t n = out->input_stored < cap ? out->input_stored : cap;
    /* Stored calldata never wraps the arena (store_input skips to the next lap). */
    if (n && out->input_pos % acap + n <= acap) {
        memcpy(input, rm->input_arena + out->input_pos % acap, n);
        atomic_thread_fence(memory_order_acquire); /* pairs with store_input's floor */
        if (out->input_pos >= atomic_load_explicit(&rm->ctl->input_floor, memory_order_relaxed))
            *input_len = n;
    }
    return 0;
}
