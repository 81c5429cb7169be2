/* Apply engine: dispatches each event to the tx store and the domain modules, mirrors
 * what they changed into the published seqlocked slots, and journals every change. */
#include "readmodel/apply.h"

#include "common/log.h"
#include "proto/eth_catalog.h"
#include "readmodel/journal.h"
#include "readmodel/rm_reader.h"
#include "readmodel/rm_state.h"
#include "readmodel/slot_index.h"
#include "readmodel/tx_store.h"

#include <inttypes.h>
#include <string.h>

#define OPP_OPEN_NS 60000000000ull /* an open candidate not mined or replaced expires */
#define RESERVE_TICK (6u << 20)    /* TTL sweep + feature, chain, market, opportunity sweeps */
#define RESERVE_EVENT (256u << 10)

/* ---- journal and slot publication ---- */

static void journal_upsert(mp_rm_engine_t *e, mp_rm_channel_t ch, mp_rm_kind_t kind,
                           const void *entity, uint32_t len)
{
    mp_rm_id_t id;
    uint8_t n;
    mp_rm_entity_id(kind, entity, &id, &n);
    mp_rm_journal_append(&e->w, ch, MP_OP_UPSERT, kind, &id, n, entity, len, e->event_time_ns);
}

static void journal_remove(mp_rm_engine_t *e, mp_rm_channel_t ch, mp_rm_kind_t kind,
                           const mp_rm_id_t *id)
{
    uint8_t n = (uint8_t)strnlen((const char *)id->bytes, MP_RM_ID_LEN);
    if (kind == MP_KIND_TX || kind == MP_KIND_FEATURE_RECENT) n = MP_HASH_LEN;
    mp_rm_journal_append(&e->w, ch, MP_OP_REMOVE, kind, id, n, NULL, 0, e->event_time_ns);
}

/* Copies an entity into its published slot with a fresh seq and journals the upsert.
 * The entity's first field is its seq (every entity in rm_entities.h). */
static void publish(mp_rm_engine_t *e, mp_seqlock_t *lock, uint32_t *occupied, uint32_t occ_value,
                    void *slot_entity, const void *entity, uint32_t len, size_t slot_size,
                    mp_rm_channel_t ch, mp_rm_kind_t kind)
{
    mp_rm_slot_begin(&e->w, lock, slot_size);
    *occupied = occ_value;
    memcpy(slot_entity, entity, len);
    *(uint64_t *)slot_entity = e->w.next_journal_seq; /* the upsert appended next */
    /* Every slot type keeps its check right before the entity. */
    ((uint64_t *)slot_entity)[-1] = mp_rm_check(slot_entity, len);
    mp_rm_slot_end(&e->w, lock);
    journal_upsert(e, ch, kind, slot_entity, len);
}

/* Empties a published slot and journals the entity's removal. */
static void unpublish(mp_rm_engine_t *e, mp_seqlock_t *lock, uint32_t *occupied, size_t slot_size,
                      mp_rm_channel_t ch, mp_rm_kind_t kind, const mp_rm_id_t *id)
{
    if (!*occupied) return;
    mp_rm_slot_begin(&e->w, lock, slot_size);
    *occupied = 0;
    mp_rm_slot_end(&e->w, lock);
    journal_remove(e, ch, kind, id);
}

#define PUBLISH(e, slot, occ, entity, ch, kind)                                                 \
    publish((e), &(slot)->lock, &(slot)->occupied, (occ), &(slot)->e, (entity),                \
            (uint32_t)sizeof((slot)->e), sizeof *(slot), (ch), (kind))

/* ---- features ---- */

static void publish_top(mp_rm_engine_t *e, int i)
{
    mp_rm_top_slot_t *s = &e->rm->feature_top[i];
    PUBLISH(e, s, 1, &e->rm->feature_state->table.entries[i], MP_CH_FEATURE, MP_KIND_FEATURE_TOP);
}

static void mark_dirty(mp_rm_engine_t *e, int i)
{
    uint8_t *d = &e->rm->feature_state->dirty[i];
    if (*d) return;
    mp_rm_save(&e->w, d, 1);
    *d = 1;
}

static void features_on_tx(mp_rm_engine_t *e, const mp_tx_seen_t *tx, const mp_classification_t *c)
{
    mp_rm_feature_state_t *fs = e->rm->feature_state;
    mp_feat_result_t r;
    if (mp_feat_on_tx(&fs->table, tx, c, e->event_time_ns, &e->w.touch, &r) != 0) return;
    mp_rm_top_slot_t *s = &e->rm->feature_top[r.slot];
    if (r.evicted) {
        mp_rm_id_t id;
        mp_feat_id(r.evicted_protocol, r.evicted_category, &id);
        unpublish(e, &s->lock, &s->occupied, sizeof *s, MP_CH_FEATURE, MP_KIND_FEATURE_TOP, &id);
    }
    if (r.inserted) publish_top(e, r.slot); /* a new key shows at once; updates each TICK */
    else mark_dirty(e, r.slot);

    mp_rm_feature_recent_t recent;
    mp_feat_fill_recent(&recent, tx, c, e->event_time_ns);
    mp_rm_control_t *ctl = e->rm->ctl;
    mp_rm_recent_slot_t *rs = &e->rm->feature_recent[ctl->recent_next % e->rm->caps.feature_recent];
    if (rs->occupied) {
        mp_rm_id_t id = {{0}};
        memcpy(id.bytes, rs->e.hash, MP_HASH_LEN);
        unpublish(e, &rs->lock, &rs->occupied, sizeof *rs, MP_CH_FEATURE, MP_KIND_FEATURE_RECENT, &id);
    }
    mp_rm_save(&e->w, &ctl->recent_next, sizeof ctl->recent_next);
    ctl->recent_next++;
    PUBLISH(e, rs, 1, &recent, MP_CH_FEATURE, MP_KIND_FEATURE_RECENT);
}

static void features_on_tick(mp_rm_engine_t *e)
{
    mp_rm_feature_state_t *fs = e->rm->feature_state;
    uint16_t changed[MP_FEAT_CAPACITY];
    int n = mp_feat_on_tick(&fs->table, e->event_time_ns, &e->w.touch, changed, MP_FEAT_CAPACITY);
    for (int k = 0; k < n && k < MP_FEAT_CAPACITY; k++) mark_dirty(e, changed[k]);
    for (int i = 0; i < MP_FEAT_CAPACITY; i++) {
        if (!fs->dirty[i]) continue;
        mp_rm_save(&e->w, &fs->dirty[i], 1);
        fs->dirty[i] = 0;
        if ((uint32_t)i < fs->table.used) publish_top(e, i);
    }
}

/* ---- chains, fee markets, prices ---- */

static void publish_chain(mp_rm_engine_t *e, int i)
{
    mp_rm_chain_slot_t *s = &e->rm->chains[i];
    PUBLISH(e, s, 1, &e->rm->market_state->chains.chains[i], MP_CH_CHAIN, MP_KIND_CHAIN);
}

static void chain_result(mp_rm_engine_t *e, const mp_chain_result_t *r)
{
    mp_rm_chain_slot_t *s = &e->rm->chains[r->slot];
    if (r->evicted) {
        mp_rm_id_t id;
        mp_chain_id(r->evicted_chain_id, &id);
        unpublish(e, &s->lock, &s->occupied, sizeof *s, MP_CH_CHAIN, MP_KIND_CHAIN, &id);
    }
    if (r->inserted || r->changed) publish_chain(e, r->slot);
}

static void publish_fee(mp_rm_engine_t *e, int i)
{
    mp_rm_market_slot_t *s = &e->rm->market[i];
    publish(e, &s->lock, &s->occupied, MP_KIND_FEE_MARKET, &s->u.fee,
            &e->rm->market_state->fees.chains[i].fees, sizeof s->u.fee, sizeof *s, MP_CH_MARKET,
            MP_KIND_FEE_MARKET);
}

static void market_result(mp_rm_engine_t *e, const mp_market_result_t *r)
{
    mp_rm_market_slot_t *s = &e->rm->market[r->slot];
    if (r->evicted) {
        mp_rm_id_t id;
        mp_market_fee_id(r->evicted_chain_id, &id);
        unpublish(e, &s->lock, &s->occupied, sizeof *s, MP_CH_MARKET, MP_KIND_FEE_MARKET, &id);
    }
    if (r->inserted || r->changed) publish_fee(e, r->slot);
}

static void on_price(mp_rm_engine_t *e, const mp_price_t *p)
{
    mp_rm_market_state_t *ms = e->rm->market_state;
    mp_price_result_t r;
    mp_opp_on_price(&e->rm->opp_state->ctx, p, e->event_time_ns, &e->w.touch);
    if (mp_price_on_tick(&ms->prices, p, e->event_time_ns, &e->w.touch, &r) != 0) return;
    mp_rm_market_slot_t *s = &e->rm->market[MP_RM_MARKET_FEE_SLOTS + r.slot];
    if (r.evicted) {
        mp_rm_id_t id;
        mp_market_price_id(r.evicted_symbol, &id);
        unpublish(e, &s->lock, &s->occupied, sizeof *s, MP_CH_MARKET, MP_KIND_PRICE, &id);
    }
    publish(e, &s->lock, &s->occupied, MP_KIND_PRICE, &s->u.price, &ms->prices.slots[r.slot].price,
            sizeof s->u.price, sizeof *s, MP_CH_MARKET, MP_KIND_PRICE);
}

static void markets_on_tick(mp_rm_engine_t *e)
{
    mp_rm_market_state_t *ms = e->rm->market_state;
    uint16_t changed[MP_CHAIN_CAPACITY + MP_MARKET_CAPACITY];
    int n = mp_chain_on_tick(&ms->chains, e->event_time_ns, &e->w.touch, changed, MP_CHAIN_CAPACITY);
    bool dirty[MP_CHAIN_CAPACITY] = {false};
    for (int k = 0; k < n && k < MP_CHAIN_CAPACITY; k++) dirty[changed[k]] = true;
    for (uint32_t i = 0; i < ms->chains.used && i < MP_CHAIN_CAPACITY; i++) {
        uint64_t pending = mp_txs_pending(e->rm, ms->chains.chain_ids[i]);
        if (mp_chain_set_pending(&ms->chains, (int)i, pending, &e->w.touch) == 1) dirty[i] = true;
        if (dirty[i]) publish_chain(e, (int)i);
    }
    n = mp_market_on_tick(&ms->fees, e->event_time_ns, &e->w.touch, changed, MP_MARKET_CAPACITY);
    for (int k = 0; k < n && k < MP_MARKET_CAPACITY; k++) publish_fee(e, changed[k]);
}

/* ---- opportunities ---- */

static const uint8_t *opp_key(const void *ctx, uint32_t v)
{
    const mp_rm_opp_slot_t *s = &((const mp_rm_region_t *)ctx)->opps[v - 1];
    return s->occupied ? s->e.id.bytes : NULL;
}

static mp_rm_index_t opp_index(const mp_rm_region_t *rm)
{
    return (mp_rm_index_t){
        .buckets = rm->opp_buckets,
        .mask = rm->opp_bucket_count - 1,
        .max_value = rm->caps.opportunity,
        .lock = &rm->ctl->opp_index_lock,
        .key_of = opp_key,
        .ctx = rm,
    };
}

static void store_opportunity(mp_rm_engine_t *e, const mp_rm_opportunity_t *cand)
{
    mp_rm_region_t *rm = e->rm;
    mp_rm_index_t ix = opp_index(rm);
    if (mp_rm_index_find(&ix, cand->id.bytes, NULL)) return; /* already filed */
    mp_rm_control_t *ctl = rm->ctl;
    uint32_t slot = (uint32_t)(ctl->opp_next % rm->caps.opportunity);
    mp_rm_opp_slot_t *s = &rm->opps[slot];
    if (s->occupied) {
        uint32_t b;
        mp_rm_id_t id = s->e.id;
        if (mp_rm_index_find(&ix, id.bytes, &b)) mp_rm_index_remove(&e->w, &ix, b);
        unpublish(e, &s->lock, &s->occupied, sizeof *s, MP_CH_OPPORTUNITY, MP_KIND_OPPORTUNITY, &id);
    }
    mp_rm_save(&e->w, &ctl->opp_next, sizeof ctl->opp_next);
    ctl->opp_next++;
    PUBLISH(e, s, 1, cand, MP_CH_OPPORTUNITY, MP_KIND_OPPORTUNITY);
    mp_rm_index_insert(&e->w, &ix, cand->id.bytes, slot + 1);
    mp_txs_mark_opportunity(&e->w, cand->trigger, cand->kind);
    mp_metric_add(e->m_opportunities, 1);
}

static void set_opp_status(mp_rm_engine_t *e, mp_rm_opp_slot_t *s, mp_rm_opp_status_t status)
{
    mp_rm_opportunity_t o = s->e;
    o.status = (uint8_t)status;
    o.updated_unix_ns = e->event_time_ns;
    PUBLISH(e, s, 1, &o, MP_CH_OPPORTUNITY, MP_KIND_OPPORTUNITY);
}

/* The trigger tx left the pool: its open candidates follow it. kinds: the detail's
 * opp_kinds bits (most transactions have none: no probing at all). */
static void opps_on_trigger(mp_rm_engine_t *e, const uint8_t hash[MP_HASH_LEN], uint32_t kinds,
                            mp_rm_opp_status_t status)
{
    mp_rm_index_t ix = opp_index(e->rm);
    for (unsigned kind = MP_OPP_SANDWICH; kind <= MP_OPP_GAS_WAR; kind++) {
        if (!(kinds & (1u << kind))) continue;
        mp_rm_id_t id;
        mp_opp_make_id(kind, hash, &id);
        uint32_t v = mp_rm_index_find(&ix, id.bytes, NULL);
        if (!v) continue;
        mp_rm_opp_slot_t *s = &e->rm->opps[v - 1];
        if (s->e.status == MP_OPP_OPEN && memcmp(s->e.trigger, hash, MP_HASH_LEN) == 0)
            set_opp_status(e, s, status);
    }
}

static void opps_on_tick(mp_rm_engine_t *e)
{
    mp_opp_on_tick(&e->rm->opp_state->ctx, e->event_time_ns, &e->w.touch);
    for (uint32_t i = 0; i < e->rm->caps.opportunity; i++) {
        mp_rm_opp_slot_t *s = &e->rm->opps[i];
        if (s->occupied && s->e.status == MP_OPP_OPEN &&
            s->e.detected_unix_ns + OPP_OPEN_NS <= e->event_time_ns)
            set_opp_status(e, s, MP_OPP_EXPIRED);
    }
}

/* ---- events ---- */

static void on_tx_seen(mp_rm_engine_t *e, const mp_tx_seen_t *tx)
{
    mp_classification_t c;
    mp_catalog_classify(tx->to, tx->has_to, tx->input_prefix, tx->input_prefix_len, &tx->value, &c);
    if (mp_txs_on_seen(&e->w, tx, &c, e->event_time_ns) != 0) return; /* seen before */
    features_on_tx(e, tx, &c);
    mp_rm_market_state_t *ms = e->rm->market_state;
    mp_chain_result_t cr;
    if (mp_chain_on_tx(&ms->chains, tx->chain_id, e->event_time_ns, &e->w.touch, &cr) == 0)
        chain_result(e, &cr);
    mp_market_result_t mr;
    if (mp_market_on_tx(&ms->fees, tx, e->event_time_ns, &e->w.touch, &mr) == 0) market_result(e, &mr);
    mp_rm_opportunity_t cand[MP_OPP_MAX_PER_TX];
    int n = mp_opp_on_tx(&e->rm->opp_state->ctx, tx, &c, e->event_time_ns, &e->w.touch, cand,
                         MP_OPP_MAX_PER_TX);
    for (int i = 0; i < n; i++) store_opportunity(e, &cand[i]);
}

static void on_replaced(mp_rm_engine_t *e, const mp_tx_replaced_t *r)
{
    mp_rm_detail_t before;
    bool known = mp_txs_get(e->rm, r->hash, &before) == 0;
    uint32_t kinds = 0;
    if (mp_txs_set_status(&e->w, r->hash, MP_TX_REPLACED, e->event_time_ns, 0, r->replaced_by,
                          &kinds) < 0)
        return;
    opps_on_trigger(e, r->hash, kinds, MP_OPP_REPLACED);
    if (!known) return;
    mp_opp_replacement_t rep = {
        .chain_id = r->chain_id,
        .protocol = before.tx.protocol,
        .nonce = before.tx.nonce,
        .priority_fee = before.tx.max_priority_fee ? before.tx.max_priority_fee : before.tx.gas_price,
    };
    memcpy(rep.hash, r->hash, MP_HASH_LEN);
    memcpy(rep.replaced_by, r->replaced_by, MP_HASH_LEN);
    memcpy(rep.from, before.tx.from, MP_ADDR_LEN);
    mp_rm_opportunity_t cand[MP_OPP_MAX_PER_TX];
    int n = mp_opp_on_replaced(&e->rm->opp_state->ctx, &rep, e->event_time_ns, &e->w.touch, cand,
                               MP_OPP_MAX_PER_TX);
    for (int i = 0; i < n; i++) store_opportunity(e, &cand[i]);
}

static void on_block(mp_rm_engine_t *e, const mp_block_t *b)
{
    mp_rm_market_state_t *ms = e->rm->market_state;
    mp_chain_result_t cr;
    if (mp_chain_on_block(&ms->chains, b, e->event_time_ns, &e->w.touch, &cr) == 0) chain_result(e, &cr);
    mp_market_result_t mr;
    if (mp_market_on_block(&ms->fees, b, e->event_time_ns, &e->w.touch, &mr) == 0) market_result(e, &mr);
}

static void on_tick(mp_rm_engine_t *e)
{
    mp_txs_on_tick(&e->w, e->event_time_ns);
    features_on_tick(e);
    markets_on_tick(e);
    opps_on_tick(e);
}

void mp_rm_apply_event(mp_rm_engine_t *e, const mp_event_t *ev)
{
    /* Event time never runs backwards inside the model: windows and TTLs stay monotonic
     * even if a source delivers a late event. */
    if (ev->time_ns > e->event_time_ns) e->event_time_ns = ev->time_ns;
    switch (ev->type) {
    case MP_EV_TX_SEEN: on_tx_seen(e, &ev->u.tx); break;
    case MP_EV_TX_REPLACED: on_replaced(e, &ev->u.replaced); break;
    case MP_EV_TX_DROPPED: {
        uint32_t kinds = 0;
        if (mp_txs_set_status(&e->w, ev->u.dropped.hash, MP_TX_DROPPED, e->event_time_ns, 0, NULL,
                              &kinds) >= 0 && kinds)
            opps_on_trigger(e, ev->u.dropped.hash, kinds, MP_OPP_EXPIRED);
        break;
    }
    case MP_EV_TX_MINED: {
        uint32_t kinds = 0;
        if (mp_txs_set_status(&e->w, ev->u.mined.hash, MP_TX_MINED, e->event_time_ns,
                              ev->u.mined.block_number, NULL, &kinds) >= 0 && kinds)
            opps_on_trigger(e, ev->u.mined.hash, kinds, MP_OPP_MINED);
        break;
    }
    case MP_EV_BLOCK: on_block(e, &ev->u.block); break;
    case MP_EV_PRICE: on_price(e, &ev->u.price); break;
    case MP_EV_TICK: on_tick(e); break;
    default: break;
    }
    mp_metric_add(e->m_events, 1);
}

void mp_rm_apply_undecodable(mp_rm_engine_t *e)
{
    mp_metric_add(e->m_decode_errors, 1);
}

uint64_t mp_rm_engine_event_reserve(const mp_rm_engine_t *e)
{
    (void)e;
    return RESERVE_TICK > RESERVE_EVENT ? RESERVE_TICK : RESERVE_EVENT;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t mp_rm_bytes_used(const mp_rm_region_t *rm)
{
    const mp_rm_control_t *c = rm->ctl;
    const mp_rm_caps_t *k = &rm->caps;
    uint64_t journal_seq = atomic_load_explicit(&c->journal_seq, memory_order_relaxed);
    return MP_REGION_HEADER_SIZE + sizeof *c + sizeof(mp_rm_feature_state_t) +
           sizeof(mp_rm_opp_state_t) + sizeof(mp_rm_market_state_t) +
           (uint64_t)rm->detail_bucket_count * 8 + (uint64_t)rm->opp_bucket_count * 8 +
           min_u64(c->tx_ring_next, k->tx_ring) * sizeof(mp_rm_tx_slot_t) +
           (uint64_t)c->detail_count * sizeof(mp_rm_detail_t) + min_u64(c->input_head, k->input_bytes) +
           (uint64_t)rm->feature_state->table.used * sizeof(mp_rm_top_slot_t) +
           min_u64(c->recent_next, k->feature_recent) * sizeof(mp_rm_recent_slot_t) +
           min_u64(c->opp_next, k->opportunity) * sizeof(mp_rm_opp_slot_t) +
           (uint64_t)k->chain * sizeof(mp_rm_chain_slot_t) + (uint64_t)k->market * sizeof(mp_rm_market_slot_t) +
           min_u64(journal_seq, k->journal) * sizeof(mp_rm_journal_entry_t) +
           min_u64(c->journal_data_head, k->journal_bytes);
}

uint32_t mp_rm_apply_batch(mp_rm_engine_t *e, mp_ring_reader_t *reader, uint8_t *buf, uint32_t max,
                           uint64_t *gap_events)
{
    uint64_t last_seq = 0;
    uint32_t n = 0;
    mp_rm_batch_begin(&e->w);
    while (n < max && mp_rm_batch_room(&e->w) >= mp_rm_engine_event_reserve(e)) {
        mp_ring_record_t rec;
        int r = mp_ring_read(reader, &rec, buf, MP_RING_MAX_PAYLOAD);
        if (r == MP_RING_EMPTY) break;
        if (r == MP_RING_LAPPED) {
            mp_log("events lost to the ring: seq %" PRIu64 "..%" PRIu64 " were overwritten before "
                   "they were applied", rec.gap_first, rec.gap_last);
            *gap_events += rec.gap_last - rec.gap_first + 1;
            continue;
        }
        if (r != MP_RING_OK) continue;
        mp_event_t ev;
        if (mp_event_decode(&ev, buf, rec.len) == 0) mp_rm_apply_event(e, &ev);
        else mp_rm_apply_undecodable(e);
        last_seq = rec.seq;
        n++;
    }
    if (n == 0) {
        mp_undo_commit(e->rm->undo); /* nothing changed: close the empty batch */
        e->w.in_batch = false;
        return 0;
    }
    atomic_store_explicit(&e->rm->ctl->bytes_used, mp_rm_bytes_used(e->rm), memory_order_relaxed);
    mp_rm_commit(&e->w, last_seq, e->event_time_ns);
    return n;
}

void mp_rm_engine_init(mp_rm_engine_t *e, mp_rm_region_t *rm)
{
    memset(e, 0, sizeof *e);
    e->rm = rm;
    mp_rm_writer_init(&e->w, rm);
    e->event_time_ns = atomic_load_explicit(&rm->ctl->event_time_ns, memory_order_relaxed);
    e->m_events = mp_metrics_get(rm->metrics, "readmodel_events_total", MP_METRIC_COUNTER);
    e->m_decode_errors = mp_metrics_get(rm->metrics, "readmodel_decode_errors_total", MP_METRIC_COUNTER);
    e->m_opportunities = mp_metrics_get(rm->metrics, "readmodel_opportunities_total", MP_METRIC_COUNTER);
    /* A zero-filled region already holds empty domain tables (each module's init only
     * zeroes), so there is nothing to format here. */
    mp_catalog_init();
}
