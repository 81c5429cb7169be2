/* JSON encoding of read-model entities and tx details (field list in rm_json.h), plus
 * the reader-side lookup of a tx's linked opportunities that the detail needs. */
#include "readmodel/rm_json.h"

#include "proto/eth_catalog.h"
#include "readmodel/market.h"
#include "readmodel/opportunities.h"
#include "readmodel/rm_reader.h"
#include "readmodel/slot_index.h"

#include <errno.h>
#include <string.h>

#define NS_PER_MS 1000000ull

static const char *const status_names[] = {"pending", "replaced", "dropped", "mined"};

const char *mp_rm_tx_status_name(unsigned status)
{
    return status < sizeof status_names / sizeof status_names[0] ? status_names[status] : "unknown";
}

/* ---- member helpers: key then value; errors stay sticky in jw ---- */

static inline void kv_u64(mp_jw_t *jw, const char *key, uint64_t v)
{
    mp_jw_keyz(jw, key);
    mp_jw_u64(jw, v);
}

static inline void kv_ms(mp_jw_t *jw, const char *key, uint64_t ns)
{
    kv_u64(jw, key, ns / NS_PER_MS);
}

static inline void kv_str(mp_jw_t *jw, const char *key, const char *s)
{
    mp_jw_keyz(jw, key);
    mp_jw_strz(jw, s);
}

static inline void kv_hex(mp_jw_t *jw, const char *key, const uint8_t *b, size_t n)
{
    mp_jw_keyz(jw, key);
    mp_jw_hex(jw, b, n);
}

static inline void kv_dbl(mp_jw_t *jw, const char *key, double v)
{
    mp_jw_keyz(jw, key);
    mp_jw_dbl(jw, v);
}

static void kv_u256(mp_jw_t *jw, const char *key, const mp_u256_t *v)
{
    char dec[80];
    size_t n = mp_u256_to_dec(v, dec);
    mp_jw_keyz(jw, key);
    mp_jw_str(jw, dec, n);
}

static void kv_to(mp_jw_t *jw, const uint8_t to[MP_ADDR_LEN], bool has_to)
{
    mp_jw_keyz(jw, "to");
    if (has_to)
        mp_jw_hex(jw, to, MP_ADDR_LEN);
    else
        mp_jw_null(jw);
}

static void kv_selector(mp_jw_t *jw, bool has_selector, uint32_t selector)
{
    mp_jw_keyz(jw, "selector");
    if (!has_selector) {
        mp_jw_null(jw);
        return;
    }
    uint8_t b[4] = {(uint8_t)(selector >> 24), (uint8_t)(selector >> 16), (uint8_t)(selector >> 8),
                    (uint8_t)selector};
    mp_jw_hex(jw, b, sizeof b);
}

/* A fixed-size char field up to its first NUL. */
static inline void kv_chars(mp_jw_t *jw, const char *key, const char *s, size_t cap)
{
    mp_jw_keyz(jw, key);
    mp_jw_str(jw, s, strnlen(s, cap));
}

/* The method name as the classifier gave it when the tx was applied: classification
 * reads only `to`, the first 4 calldata bytes (or how many there were, below 4) and
 * whether value is zero, all of which the entity keeps, so classifying again yields the
 * same method without storing strings in shared memory. input_len 0 with has_selector
 * false means "no calldata". */
static void classify_again(const uint8_t to[MP_ADDR_LEN], bool has_to, bool has_selector,
                           uint32_t selector, uint32_t input_len, const mp_u256_t *value,
                           mp_classification_t *c)
{
    uint8_t in[4] = {(uint8_t)(selector >> 24), (uint8_t)(selector >> 16), (uint8_t)(selector >> 8),
                     (uint8_t)selector};
    uint32_t n = has_selector ? 4 : (input_len < 4 ? input_len : 0);
    if (!has_selector) memset(in, 0, sizeof in); /* short calldata: only its length matters */
    mp_catalog_classify(to, has_to, n ? in : NULL, n, value, c);
}

static void kv_method(mp_jw_t *jw, const mp_classification_t *c)
{
    const char *m = mp_classification_method(c);
    kv_str(jw, "method", *m ? m : "empty");
}

/* ---- entities ---- */

/* The tx fields, inside an open object; c receives the re-derived classification. */
static void tx_members(mp_jw_t *jw, const mp_rm_tx_t *t, mp_classification_t *c)
{
    kv_hex(jw, "id", t->hash, MP_HASH_LEN);
    kv_u64(jw, "seq", t->seq);
    kv_hex(jw, "hash", t->hash, MP_HASH_LEN);
    kv_u64(jw, "chain_id", t->chain_id);
    kv_hex(jw, "from", t->from, MP_ADDR_LEN);
    kv_to(jw, t->to, t->has_to);
    kv_u64(jw, "nonce", t->nonce);
    kv_u64(jw, "gas_limit", t->gas_limit);
    kv_u64(jw, "gas_price", t->gas_price);
    kv_u64(jw, "max_fee", t->max_fee);
    kv_u64(jw, "max_priority_fee", t->max_priority_fee);
    kv_u256(jw, "value", &t->value);
    kv_u64(jw, "tx_type", t->tx_type);
    kv_str(jw, "protocol", mp_protocol_name(t->protocol));
    kv_str(jw, "category", mp_category_name(t->category));
    classify_again(t->to, t->has_to, t->has_selector, t->selector, t->input_len, &t->value, c);
    kv_method(jw, c);
    kv_selector(jw, t->has_selector, t->selector);
    kv_str(jw, "status", mp_rm_tx_status_name(t->status));
    kv_ms(jw, "seen_unix_ms", t->seen_unix_ns);
    kv_ms(jw, "updated_unix_ms", t->updated_unix_ns);
    if (t->status == MP_TX_MINED) kv_u64(jw, "block_number", t->block_number);
    if (t->status == MP_TX_REPLACED) kv_hex(jw, "replaced_by", t->replaced_by, MP_HASH_LEN);
    kv_u64(jw, "input_len", t->input_len);
}

static int tx_json(mp_jw_t *jw, const mp_rm_tx_t *t)
{
    mp_classification_t c;
    mp_jw_obj_begin(jw);
    tx_members(jw, t, &c);
    return mp_jw_obj_end(jw);
}

static void kv_id(mp_jw_t *jw, mp_rm_kind_t kind, const void *entity)
{
    mp_rm_id_t id;
    uint8_t n;
    mp_rm_entity_id(kind, entity, &id, &n);
    mp_jw_keyz(jw, "id");
    mp_rm_id_json(jw, kind, &id, n);
}

static int top_json(mp_jw_t *jw, const mp_rm_feature_top_t *t)
{
    mp_jw_obj_begin(jw);
    kv_id(jw, MP_KIND_FEATURE_TOP, t);
    kv_u64(jw, "seq", t->seq);
    kv_str(jw, "kind", "top");
    kv_str(jw, "protocol", mp_protocol_name(t->protocol));
    kv_str(jw, "category", mp_category_name(t->category));
    kv_u64(jw, "count", t->count);
    kv_u64(jw, "rate_60s", t->rate_60s);
    kv_u64(jw, "gas_sum", t->gas_sum);
    kv_u64(jw, "value_sum_gwei", t->value_sum_gwei);
    kv_ms(jw, "first_seen_unix_ms", t->first_seen_unix_ns);
    kv_ms(jw, "last_seen_unix_ms", t->last_seen_unix_ns);
    kv_hex(jw, "last_tx", t->last_tx, MP_HASH_LEN);
    return mp_jw_obj_end(jw);
}

static int recent_json(mp_jw_t *jw, const mp_rm_feature_recent_t *r)
{
    mp_classification_t c;
    mp_jw_obj_begin(jw);
    kv_hex(jw, "id", r->hash, MP_HASH_LEN);
    kv_u64(jw, "seq", r->seq);
    kv_str(jw, "kind", "recent");
    kv_hex(jw, "hash", r->hash, MP_HASH_LEN);
    kv_hex(jw, "from", r->from, MP_ADDR_LEN);
    kv_to(jw, r->to, r->has_to);
    kv_str(jw, "protocol", mp_protocol_name(r->protocol));
    kv_str(jw, "category", mp_category_name(r->category));
    /* The recent row keeps no calldata length: without a selector it reads as "no
     * calldata" (a 1..3-byte calldata shows "empty"/"transfer" rather than
     * "short-calldata" here; tx.main has the exact name). */
    classify_again(r->to, r->has_to, r->has_selector, r->selector, 0, &r->value, &c);
    kv_method(jw, &c);
    kv_selector(jw, r->has_selector, r->selector);
    kv_u256(jw, "value", &r->value);
    kv_u64(jw, "gas_limit", r->gas_limit);
    kv_u64(jw, "max_priority_fee", r->max_priority_fee);
    kv_ms(jw, "seen_unix_ms", r->seen_unix_ns);
    return mp_jw_obj_end(jw);
}

static int opp_json(mp_jw_t *jw, const mp_rm_opportunity_t *o)
{
    mp_jw_obj_begin(jw);
    kv_id(jw, MP_KIND_OPPORTUNITY, o);
    kv_u64(jw, "seq", o->seq);
    kv_str(jw, "kind", mp_opp_kind_name(o->kind));
    kv_hex(jw, "trigger", o->trigger, MP_HASH_LEN);
    kv_u64(jw, "chain_id", o->chain_id);
    kv_str(jw, "protocol", mp_protocol_name(o->protocol));
    kv_u64(jw, "score", o->score);
    mp_jw_keyz(jw, "inputs");
    mp_jw_obj_begin(jw);
    unsigned n = o->input_count < MP_RM_OPP_INPUTS ? o->input_count : MP_RM_OPP_INPUTS;
    for (unsigned i = 0; i < n; i++) {
        const mp_rm_opp_input_t *in = &o->inputs[i];
        mp_jw_key(jw, in->name, strnlen(in->name, sizeof in->name));
        mp_jw_dbl(jw, in->value);
    }
    mp_jw_obj_end(jw);
    kv_chars(jw, "reason", o->reason, sizeof o->reason);
    kv_ms(jw, "detected_unix_ms", o->detected_unix_ns);
    kv_ms(jw, "updated_unix_ms", o->updated_unix_ns);
    kv_str(jw, "status", mp_opp_status_name(o->status));
    return mp_jw_obj_end(jw);
}

static int chain_json(mp_jw_t *jw, const mp_rm_chain_t *c)
{
    mp_jw_obj_begin(jw);
    kv_id(jw, MP_KIND_CHAIN, c);
    kv_u64(jw, "seq", c->seq);
    kv_u64(jw, "chain_id", c->chain_id);
    kv_u64(jw, "head_number", c->head_number);
    kv_hex(jw, "head_hash", c->head_hash, MP_HASH_LEN);
    kv_u64(jw, "base_fee", c->base_fee);
    kv_u64(jw, "gas_used", c->gas_used);
    kv_u64(jw, "gas_limit", c->gas_limit);
    kv_dbl(jw, "gas_used_ratio", c->gas_limit ? (double)c->gas_used / (double)c->gas_limit : 0.0);
    /* Block timestamps are unix seconds; saturate rather than wrap on nonsense input. */
    uint64_t ts = c->head_timestamp;
    kv_u64(jw, "head_time_unix_ms", ts > UINT64_MAX / 1000 ? UINT64_MAX : ts * 1000);
    kv_ms(jw, "head_seen_unix_ms", c->head_seen_unix_ns);
    kv_u64(jw, "avg_block_time_ms", c->avg_block_time_ms);
    kv_u64(jw, "pending_count", c->pending_count);
    kv_u64(jw, "tx_rate_10s", c->tx_rate_10s);
    kv_u64(jw, "tx_rate_60s", c->tx_rate_60s);
    kv_u64(jw, "blocks_seen", c->blocks_seen);
    return mp_jw_obj_end(jw);
}

static void percentiles(mp_jw_t *jw, const char *key, const uint64_t p[5])
{
    static const char *const names[5] = {"p10", "p25", "p50", "p75", "p90"};
    mp_jw_keyz(jw, key);
    mp_jw_obj_begin(jw);
    for (int i = 0; i < 5; i++)
        kv_u64(jw, names[i], p[i]);
    mp_jw_obj_end(jw);
}

static int fee_json(mp_jw_t *jw, const mp_rm_fee_market_t *f)
{
    mp_jw_obj_begin(jw);
    kv_id(jw, MP_KIND_FEE_MARKET, f);
    kv_u64(jw, "seq", f->seq);
    kv_str(jw, "kind", "fee_market");
    kv_u64(jw, "chain_id", f->chain_id);
    kv_u64(jw, "window_ms", f->window_ms);
    kv_u64(jw, "samples", f->samples);
    percentiles(jw, "priority_fee", f->priority_fee_pct);
    percentiles(jw, "max_fee", f->max_fee_pct);
    kv_u64(jw, "base_fee", f->base_fee);
    kv_u64(jw, "next_base_fee", f->next_base_fee);
    mp_jw_keyz(jw, "histogram");
    mp_jw_arr_begin(jw);
    for (int i = 0; i < MP_RM_FEE_HIST_BUCKETS; i++)
        mp_jw_u64(jw, f->histogram[i]);
    mp_jw_arr_end(jw);
    mp_jw_keyz(jw, "histogram_edges");
    mp_jw_arr_begin(jw);
    for (int i = 0; i < MP_RM_FEE_HIST_BUCKETS; i++)
        mp_jw_u64(jw, mp_market_hist_edge((unsigned)i));
    mp_jw_arr_end(jw);
    kv_ms(jw, "updated_unix_ms", f->updated_unix_ns);
    return mp_jw_obj_end(jw);
}

static int price_json(mp_jw_t *jw, const mp_rm_price_t *p)
{
    mp_jw_obj_begin(jw);
    kv_id(jw, MP_KIND_PRICE, p);
    kv_u64(jw, "seq", p->seq);
    kv_str(jw, "kind", "price");
    kv_chars(jw, "symbol", p->symbol, sizeof p->symbol);
    kv_dbl(jw, "price", p->price);
    kv_dbl(jw, "change_1m", p->change_1m);
    kv_dbl(jw, "ref_price", p->ref_price);
    kv_ms(jw, "ref_unix_ms", p->ref_unix_ns);
    kv_ms(jw, "updated_unix_ms", p->updated_unix_ns);
    return mp_jw_obj_end(jw);
}

int mp_rm_entity_json(mp_jw_t *jw, mp_rm_kind_t kind, const void *entity)
{
    switch (kind) {
    case MP_KIND_TX: return tx_json(jw, entity);
    case MP_KIND_FEATURE_TOP: return top_json(jw, entity);
    case MP_KIND_FEATURE_RECENT: return recent_json(jw, entity);
    case MP_KIND_OPPORTUNITY: return opp_json(jw, entity);
    case MP_KIND_CHAIN: return chain_json(jw, entity);
    case MP_KIND_FEE_MARKET: return fee_json(jw, entity);
    case MP_KIND_PRICE: return price_json(jw, entity);
    }
    /* An empty raw value is the writer's documented way to record -EINVAL. */
    return mp_jw_raw(jw, NULL, 0);
}

/* ---- ids ---- */

static bool hash_keyed(mp_rm_kind_t kind)
{
    return kind == MP_KIND_TX || kind == MP_KIND_FEATURE_RECENT;
}

int mp_rm_id_json(mp_jw_t *jw, mp_rm_kind_t kind, const mp_rm_id_t *id, uint8_t id_len)
{
    if (hash_keyed(kind)) return mp_jw_hex(jw, id->bytes, MP_HASH_LEN);
    size_t n = id_len < MP_RM_ID_LEN ? id_len : MP_RM_ID_LEN;
    return mp_jw_str(jw, (const char *)id->bytes, strnlen((const char *)id->bytes, n));
}

size_t mp_rm_id_text(mp_rm_kind_t kind, const mp_rm_id_t *id, uint8_t id_len,
                     char out[MP_RM_ID_TEXT_MAX])
{
    static const char digits[] = "0123456789abcdef";
    size_t n = 0;
    if (hash_keyed(kind)) {
        out[n++] = '0';
        out[n++] = 'x';
        for (int i = 0; i < MP_HASH_LEN; i++) {
            out[n++] = digits[id->bytes[i] >> 4];
            out[n++] = digits[id->bytes[i] & 15];
        }
    } else {
        size_t len = id_len < MP_RM_ID_LEN ? id_len : MP_RM_ID_LEN;
        len = strnlen((const char *)id->bytes, len);
        /* Text for terminals: anything outside printable ASCII shows as '?'. */
        for (size_t i = 0; i < len; i++) {
            uint8_t b = id->bytes[i];
            out[n++] = b >= 0x20 && b < 0x7f ? (char)b : '?';
        }
    }
    out[n] = '\0';
    return n;
}

/* ---- details ---- */

int mp_rm_detail_json(mp_jw_t *jw, const mp_rm_detail_t *d, const uint8_t *input,
                      uint32_t input_copied, const mp_rm_opportunity_t *opps, unsigned opp_count)
{
    const mp_rm_tx_t *t = &d->tx;
    mp_classification_t c;
    mp_jw_obj_begin(jw);
    tx_members(jw, t, &c);
    mp_jw_keyz(jw, "method_signature");
    /* The signature belongs to the row only when the row also named the method. */
    if (c.row && c.method && c.method == c.row->method && c.row->signature)
        mp_jw_strz(jw, c.row->signature);
    else
        mp_jw_null(jw);
    mp_jw_keyz(jw, "input");
    if (t->input_len > 0 && input_copied == 0)
        mp_jw_null(jw); /* evicted from the arena */
    else
        mp_jw_hex(jw, input, input_copied);
    mp_jw_keyz(jw, "input_truncated");
    mp_jw_bool(jw, input_copied < t->input_len);
    mp_jw_keyz(jw, "on_tx_main");
    mp_jw_bool(jw, d->tx_slot != 0);

    /* history[] is a ring: change k (0-based, in order) sits at k % MP_RM_HISTORY. */
    uint32_t total = d->history_count;
    uint32_t kept = total < MP_RM_HISTORY ? total : MP_RM_HISTORY;
    mp_jw_keyz(jw, "history");
    mp_jw_arr_begin(jw);
    for (uint32_t k = total - kept; k < total; k++) {
        const mp_rm_status_change_t *h = &d->history[k % MP_RM_HISTORY];
        mp_jw_obj_begin(jw);
        kv_str(jw, "status", mp_rm_tx_status_name(h->status));
        kv_ms(jw, "unix_ms", h->time_ns);
        kv_u64(jw, "seq", h->seq);
        mp_jw_obj_end(jw);
    }
    mp_jw_arr_end(jw);
    kv_u64(jw, "history_total", total);

    mp_jw_keyz(jw, "opportunities");
    mp_jw_arr_begin(jw);
    for (unsigned i = 0; i < opp_count && opps; i++)
        opp_json(jw, &opps[i]);
    mp_jw_arr_end(jw);
    return mp_jw_obj_end(jw);
}

/* ---- linked opportunities (reader) ---- */

typedef struct opp_match {
    const mp_rm_region_t *rm;
    const mp_rm_id_t *id;
    const uint8_t *trigger;
    mp_rm_opportunity_t *out;
} opp_match_t;

/* Index candidate v: copies its slot consistently; 1 when it is the id sought and was
 * triggered by this very hash (ids carry only 16 hex digits of the trigger). */
static int match_opp(void *mctx, uint32_t v)
{
    opp_match_t *m = mctx;
    const mp_rm_opp_slot_t *s = &m->rm->opps[v - 1];
    mp_rm_opp_slot_t copy;
    if (mp_seqlock_read(&s->lock, &copy, s, sizeof copy) != 0) return 0;
    if (!copy.occupied || memcmp(copy.e.id.bytes, m->id->bytes, MP_RM_ID_LEN) != 0 ||
        memcmp(copy.e.trigger, m->trigger, MP_HASH_LEN) != 0)
        return 0;
    *m->out = copy.e;
    return 1;
}

static const uint8_t *opp_key(const void *ctx, uint32_t v)
{
    const mp_rm_opp_slot_t *s = &((const mp_rm_region_t *)ctx)->opps[v - 1];
    return s->occupied ? s->e.id.bytes : NULL;
}

int mp_rm_tx_opportunities(const mp_rm_region_t *rm, const uint8_t hash[MP_HASH_LEN],
                           uint32_t kinds, mp_rm_opportunity_t *out, unsigned cap)
{
    if (!rm->opp_buckets || rm->opp_bucket_count == 0) return 0;
    mp_rm_index_t ix = {
        .buckets = rm->opp_buckets,
        .mask = rm->opp_bucket_count - 1,
        .max_value = rm->caps.opportunity,
        .lock = &rm->ctl->opp_index_lock,
        .key_of = opp_key,
        .ctx = rm,
    };
    unsigned n = 0;
    for (unsigned kind = MP_OPP_SANDWICH; kind <= MP_OPP_GAS_WAR && n < cap; kind++) {
        if (!(kinds & (1u << kind))) continue;
        mp_rm_id_t id;
        mp_opp_make_id(kind, hash, &id);
        opp_match_t m = {rm, &id, hash, &out[n]};
        int found = mp_rm_index_lookup(&ix, id.bytes, match_opp, &m);
        if (found < 0) return found;
        if (found) n++;
    }
    return (int)n;
}
