/* Tests of ingest/synthetic: determinism, exact continuation after a checkpoint restore,
 * the traffic mix, the mempool rules (replacements, gas wars, drops, blocks mining only
 * pending txs, EIP-1559 base fee), the time schedule, calldata that decodes, and the paced
 * source's idling. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/hex.h"
#include "ingest/synthetic.h"
#include "proto/eth_catalog.h"

#define START_NS 1700000000123456789ull /* not on a second: ticks must align by themselves */
#define NS 1000000000ull

static mp_synth_t *new_gen(uint64_t seed, uint64_t rate)
{
    mp_synth_config_t cfg = {.seed = seed, .rate = rate, .start_unix_ns = START_NS, .chain_id = 1};
    mp_synth_t *s = malloc(sizeof *s);
    cr_assert_not_null(s);
    cr_assert_eq(mp_synth_init(s, &cfg), 0);
    return s;
}

static mp_event_t next_ev(mp_synth_t *s)
{
    mp_event_t ev;
    cr_assert_eq(mp_synth_next(s, &ev), 0);
    return ev;
}

/* Field equality; for TX_SEEN the calldata bytes, not the pointers, are compared. */
static bool event_eq(const mp_event_t *a, const mp_event_t *b)
{
    if (a->type != b->type || a->time_ns != b->time_ns) return false;
    if (a->type != MP_EV_TX_SEEN) return !memcmp(&a->u, &b->u, sizeof a->u);
    mp_tx_seen_t x = a->u.tx, y = b->u.tx;
    if (x.input_prefix_len != y.input_prefix_len ||
        memcmp(x.input_prefix, y.input_prefix, x.input_prefix_len))
        return false;
    x.input_prefix = y.input_prefix = NULL;
    return !memcmp(&x, &y, sizeof x);
}

static uint64_t be_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Fee a replacement is compared on: the gas price of a legacy tx, both caps otherwise. */
static bool fees_bumped_10pct(uint64_t old_fee, uint64_t new_fee)
{
    return (unsigned __int128)new_fee * 10 >= (unsigned __int128)old_fee * 11;
}

/* ---- a hash -> tx record table for the stream checks ---- */

enum { ST_PENDING = 1, ST_MINED, ST_REPLACED, ST_DROPPED };

typedef struct txrec {
    uint8_t hash[MP_HASH_LEN];
    uint8_t from[MP_ADDR_LEN];
    uint8_t state;
    uint8_t tx_type;
    uint8_t nrepl;
    uint64_t nonce, max_fee, tip, gas_price;
    uint64_t repl_ns[8]; /* times this (from, nonce) was replaced, oldest first */
} txrec_t;

typedef struct txmap {
    txrec_t *slots;
    size_t mask;
} txmap_t;

static txmap_t txmap_new(size_t log2)
{
    txmap_t m = {calloc((size_t)1 << log2, sizeof(txrec_t)), ((size_t)1 << log2) - 1};
    cr_assert_not_null(m.slots);
    return m;
}

static txrec_t *txmap_get(txmap_t *m, const uint8_t hash[MP_HASH_LEN], bool create)
{
    static const uint8_t zero[MP_HASH_LEN];
    for (size_t i = be_u64(hash) & m->mask;; i = (i + 1) & m->mask) {
        txrec_t *r = &m->slots[i];
        if (!memcmp(r->hash, hash, MP_HASH_LEN)) return r;
        if (!memcmp(r->hash, zero, MP_HASH_LEN)) {
            if (!create) return NULL;
            memcpy(r->hash, hash, MP_HASH_LEN);
            return r;
        }
    }
}

/* ---- determinism ---- */

Test(synthetic, same_seed_gives_identical_stream)
{
    mp_synth_t *a = new_gen(42, 100), *b = new_gen(42, 100);
    for (int i = 0; i < 200000; i++) {
        mp_event_t ea = next_ev(a), eb = next_ev(b);
        cr_assert(event_eq(&ea, &eb), "event %d differs", i);
    }
    free(a);
    free(b);
}

Test(synthetic, different_seed_gives_different_stream)
{
    mp_synth_t *a = new_gen(1, 100), *b = new_gen(2, 100);
    int differing = 0, seen = 0;
    while (seen < 100) {
        mp_event_t ea = next_ev(a), eb = next_ev(b);
        if (ea.type == MP_EV_TX_SEEN && eb.type == MP_EV_TX_SEEN) {
            seen++;
            differing += memcmp(ea.u.tx.hash, eb.u.tx.hash, MP_HASH_LEN) != 0;
        }
    }
    cr_assert_eq(differing, 100);
    free(a);
    free(b);
}

/* Runs a for k events, checkpoints it through a byte image into a generator that had
 * another history, then compares the next n events of both. */
static void check_restore_at(uint64_t rate, uint64_t k, uint64_t n)
{
    mp_synth_t *a = new_gen(7, rate), *b = new_gen(99, rate);
    for (uint64_t i = 0; i < k; i++)
        next_ev(a);
    for (uint64_t i = 0; i < 1000; i++)
        next_ev(b);
    void *image = malloc(sizeof(mp_synth_t));
    cr_assert_not_null(image);
    memcpy(image, a, sizeof *a);
    memcpy(b, image, sizeof *b);
    cr_assert_eq(mp_synth_validate(b), 0);
    for (uint64_t i = 0; i < n; i++) {
        mp_event_t ea = next_ev(a), eb = next_ev(b);
        cr_assert(event_eq(&ea, &eb), "checkpoint at %lu: event %lu after it differs", k, i);
    }
    free(image);
    free(a);
    free(b);
}

Test(synthetic, restore_at_event_k_continues_exactly)
{
    /* Interesting places: the start, mid-stream, inside a block's TX_MINED run, between a
     * TX_REPLACED and its TX_SEEN, between the ETH and BTC price ticks. */
    uint64_t ks[8] = {1, 1000, 54321}, nk = 3;
    bool mid_block = false, mid_replace = false, mid_price = false;
    mp_synth_t *s = new_gen(7, 100);
    for (uint64_t i = 0; i < 200000 && !(mid_block && mid_replace && mid_price); i++) {
        mp_event_t ev = next_ev(s);
        if (!mid_block && ev.type == MP_EV_BLOCK && ev.u.block.tx_count > 10) {
            ks[nk++] = i + 4; /* BLOCK, then 3 of its TX_MINED */
            mid_block = true;
        } else if (!mid_replace && ev.type == MP_EV_TX_REPLACED) {
            ks[nk++] = i + 1;
            mid_replace = true;
        } else if (!mid_price && ev.type == MP_EV_PRICE) {
            ks[nk++] = i + 1;
            mid_price = true;
        }
    }
    free(s);
    cr_assert(mid_block && mid_replace && mid_price);
    for (uint64_t i = 0; i < nk; i++)
        check_restore_at(100, ks[i], 30000);
}

Test(synthetic, restore_at_max_rate_continues_exactly)
{
    check_restore_at(0, 123457, 50000);
}

Test(synthetic, source_save_restore_continues_exactly)
{
    mp_synth_config_t cfg = {.seed = 5, .rate = 0, .start_unix_ns = START_NS, .chain_id = 1};
    mp_source_t *a = mp_synthetic_source_create(&cfg);
    cr_assert_not_null(a);
    mp_event_t ea, eb;
    uint64_t wait = 0;
    for (int i = 0; i < 77777; i++)
        cr_assert_eq(a->ops->next(a, &ea, &wait), MP_SOURCE_EVENT);
    uint32_t cap = MP_SYNTH_STATE_MAX;
    void *buf = malloc(cap);
    uint32_t len = a->ops->save(a, buf, cap);
    cr_assert_eq(len, sizeof(mp_synth_t));

    mp_synth_config_t later = cfg;
    later.start_unix_ns = START_NS + 555 * NS; /* the start lives in the state */
    mp_source_t *b = mp_synthetic_source_create(&later);
    cr_assert_eq(b->fingerprint, a->fingerprint);
    cr_assert_eq(b->ops->restore(b, buf, len), 0);
    for (int i = 0; i < 50000; i++) {
        cr_assert_eq(a->ops->next(a, &ea, &wait), MP_SOURCE_EVENT);
        cr_assert_eq(b->ops->next(b, &eb, &wait), MP_SOURCE_EVENT);
        cr_assert(event_eq(&ea, &eb), "event %d after restore differs", i);
    }
    free(buf);
    a->ops->destroy(a);
    b->ops->destroy(b);
}

Test(synthetic, restore_rejects_a_foreign_or_corrupt_image)
{
    mp_synth_config_t cfg = {.seed = 5, .rate = 0, .start_unix_ns = START_NS, .chain_id = 1};
    mp_synth_config_t other = cfg;
    other.seed = 6;
    mp_source_t *a = mp_synthetic_source_create(&cfg), *b = mp_synthetic_source_create(&other);
    mp_event_t ev;
    uint64_t wait;
    for (int i = 0; i < 1000; i++)
        a->ops->next(a, &ev, &wait);
    uint8_t *buf = malloc(MP_SYNTH_STATE_MAX);
    uint32_t len = a->ops->save(a, buf, MP_SYNTH_STATE_MAX);
    cr_assert_eq(b->ops->restore(b, buf, len), -EINVAL, "another seed's state");
    cr_assert_eq(a->ops->restore(a, buf, len - 1), -EINVAL, "truncated");
    mp_synth_t *img = (mp_synth_t *)buf;
    img->senders[3].slot = MP_SYNTH_POOL_CAP + 5;
    cr_assert_eq(a->ops->restore(a, buf, len), -EINVAL, "index out of range");
    img->senders[3].slot = MP_SYNTH_SLOT_NONE;
    img->magic ^= 1;
    cr_assert_eq(a->ops->restore(a, buf, len), -EINVAL, "bad magic");
    cr_assert_eq(a->ops->save(a, buf, 1000), 0, "a slot too small cannot hold the state");
    /* the failed restores left a usable generator */
    cr_assert_eq(a->ops->next(a, &ev, &wait), MP_SOURCE_EVENT);
    free(buf);
    a->ops->destroy(a);
    b->ops->destroy(b);
}

/* ---- the traffic ---- */

Test(synthetic, mix_proportions_are_sane)
{
    mp_synth_t *s = new_gen(11, 100);
    uint64_t types[MP_EV_TYPE_MAX + 1] = {0}, proto[MP_PROTO_COUNT] = {0}, cat[MP_CAT_COUNT] = {0};
    uint64_t legacy = 0, liquidation_calls = 0;
    const uint64_t n = 100000;
    for (uint64_t i = 0; i < n; i++) {
        mp_event_t ev = next_ev(s);
        types[ev.type]++;
        if (ev.type != MP_EV_TX_SEEN) continue;
        mp_classification_t c;
        cr_assert_eq(mp_catalog_classify(ev.u.tx.to, ev.u.tx.has_to, ev.u.tx.input_prefix,
                                         ev.u.tx.input_prefix_len, &ev.u.tx.value, &c),
                     0);
        proto[c.protocol]++;
        cat[c.category]++;
        legacy += ev.u.tx.tx_type == 0;
        liquidation_calls += c.has_selector && c.selector == 0x00a718a9;
    }
    double seen = (double)types[MP_EV_TX_SEEN];
#define SHARE(x) ((double)(x) / seen)
    cr_log_info("tx %.0f: swap %.3f transfer %.3f approval %.3f eth %.3f erc20 %.3f unknown %.3f "
                "legacy %.3f replaced %.4f dropped %.4f",
                seen, SHARE(cat[MP_CAT_SWAP]), SHARE(cat[MP_CAT_TRANSFER]),
                SHARE(cat[MP_CAT_APPROVAL]), SHARE(proto[MP_PROTO_ETH_TRANSFER]),
                SHARE(proto[MP_PROTO_ERC20]), SHARE(proto[MP_PROTO_UNKNOWN]), SHARE(legacy),
                SHARE(types[MP_EV_TX_REPLACED]), SHARE(types[MP_EV_TX_DROPPED]));
    cr_assert_gt(seen, 0.35 * n);
    cr_assert(SHARE(cat[MP_CAT_SWAP]) > 0.30 && SHARE(cat[MP_CAT_SWAP]) < 0.55, "swaps dominate");
    for (unsigned k = 0; k < MP_CAT_COUNT; k++) {
        if (k != MP_CAT_SWAP)
            cr_assert_lt(cat[k], cat[MP_CAT_SWAP], "%s outnumbers swaps", mp_category_name(k));
    }
    cr_assert(SHARE(proto[MP_PROTO_ETH_TRANSFER]) > 0.10 &&
              SHARE(proto[MP_PROTO_ETH_TRANSFER]) < 0.25);
    cr_assert(SHARE(proto[MP_PROTO_ERC20]) > 0.10 && SHARE(proto[MP_PROTO_ERC20]) < 0.30);
    cr_assert(SHARE(proto[MP_PROTO_UNKNOWN]) > 0.01 && SHARE(proto[MP_PROTO_UNKNOWN]) < 0.10);
    cr_assert(SHARE(proto[MP_PROTO_DEPLOY]) > 0.0005 && SHARE(proto[MP_PROTO_DEPLOY]) < 0.02);
    cr_assert(SHARE(cat[MP_CAT_ORACLE]) > 0.003, "Chainlink updates");
    cr_assert(SHARE(cat[MP_CAT_NFT]) > 0.01);
    cr_assert(SHARE(cat[MP_CAT_BRIDGE]) > 0.01);
    cr_assert(SHARE(cat[MP_CAT_LENDING]) > 0.01);
    cr_assert(SHARE(cat[MP_CAT_WALLET]) > 0.01, "Safe and 4337");
    cr_assert_gt(liquidation_calls, 0, "an occasional liquidationCall");
    cr_assert_lt(SHARE(liquidation_calls), 0.01);
    cr_assert(SHARE(legacy) > 0.03 && SHARE(legacy) < 0.15, "some type-0 txs");
    for (unsigned p = 0; p < MP_PROTO_COUNT; p++)
        cr_assert_gt(proto[p], 0, "no %s traffic", mp_protocol_name(p));
    cr_assert_gt(SHARE(types[MP_EV_TX_REPLACED]), 0.003);
    cr_assert_gt(types[MP_EV_TX_DROPPED], 0);
    cr_assert_gt(types[MP_EV_TX_MINED], 0);
    cr_assert_gt(types[MP_EV_BLOCK], 0);
    cr_assert_gt(types[MP_EV_PRICE], 0);
    cr_assert_gt(types[MP_EV_TICK], 0);
#undef SHARE
    free(s);
}

Test(synthetic, replacement_is_followed_by_new_tx_with_same_sender_nonce_and_higher_fees)
{
    mp_synth_t *s = new_gen(3, 100);
    txmap_t m = txmap_new(18);
    uint64_t replacements = 0;
    for (int i = 0; i < 100000; i++) {
        mp_event_t ev = next_ev(s);
        if (ev.type == MP_EV_TX_SEEN) {
            txrec_t *r = txmap_get(&m, ev.u.tx.hash, true);
            cr_assert_eq(r->state, 0, "a hash is seen once");
            r->state = ST_PENDING;
            memcpy(r->from, ev.u.tx.from, MP_ADDR_LEN);
            r->nonce = ev.u.tx.nonce;
            r->max_fee = ev.u.tx.max_fee;
            r->tip = ev.u.tx.max_priority_fee;
            r->gas_price = ev.u.tx.gas_price;
            r->tx_type = ev.u.tx.tx_type;
        } else if (ev.type == MP_EV_TX_REPLACED) {
            txrec_t *old = txmap_get(&m, ev.u.replaced.hash, false);
            cr_assert_not_null(old, "replaced tx was seen");
            cr_assert_eq(old->state, ST_PENDING);
            old->state = ST_REPLACED;
            mp_event_t nx = next_ev(s);
            i++;
            cr_assert_eq(nx.type, MP_EV_TX_SEEN, "TX_REPLACED is followed by the new tx");
            cr_assert_eq(memcmp(nx.u.tx.hash, ev.u.replaced.replaced_by, MP_HASH_LEN), 0);
            cr_assert_eq(memcmp(nx.u.tx.from, old->from, MP_ADDR_LEN), 0);
            cr_assert_eq(nx.u.tx.nonce, old->nonce);
            cr_assert_eq(nx.u.tx.tx_type, old->tx_type);
            cr_assert(fees_bumped_10pct(old->gas_price, nx.u.tx.gas_price));
            if (old->tx_type == 2) {
                cr_assert(fees_bumped_10pct(old->max_fee, nx.u.tx.max_fee));
                cr_assert(fees_bumped_10pct(old->tip, nx.u.tx.max_priority_fee));
            }
            txrec_t *r = txmap_get(&m, nx.u.tx.hash, true);
            cr_assert_eq(r->state, 0);
            *r = *old;
            memcpy(r->hash, nx.u.tx.hash, MP_HASH_LEN);
            r->state = ST_PENDING;
            r->max_fee = nx.u.tx.max_fee;
            r->tip = nx.u.tx.max_priority_fee;
            r->gas_price = nx.u.tx.gas_price;
            replacements++;
        }
    }
    cr_assert_gt(replacements, 100);
    free(m.slots);
    free(s);
}

Test(synthetic, gas_war_occurs_within_bounded_events)
{
    /* One (from, nonce) replaced 3+ times within 30 s of event time, at a modest rate. */
    mp_synth_t *s = new_gen(21, 20);
    txmap_t m = txmap_new(18);
    bool found = false;
    for (int i = 0; i < 150000 && !found; i++) {
        mp_event_t ev = next_ev(s);
        if (ev.type == MP_EV_TX_SEEN) {
            txmap_get(&m, ev.u.tx.hash, true)->state = ST_PENDING;
        } else if (ev.type == MP_EV_TX_REPLACED) {
            txrec_t *old = txmap_get(&m, ev.u.replaced.hash, false);
            cr_assert_not_null(old);
            txrec_t *r = txmap_get(&m, ev.u.replaced.replaced_by, true);
            uint8_t n = old->nrepl < 8 ? old->nrepl : 7;
            memcpy(r->repl_ns, old->nrepl < 8 ? old->repl_ns : old->repl_ns + 1,
                   n * sizeof r->repl_ns[0]);
            r->repl_ns[n] = ev.time_ns;
            r->nrepl = (uint8_t)(n + 1);
            if (r->nrepl >= 3 && r->repl_ns[r->nrepl - 1] - r->repl_ns[r->nrepl - 3] <= 30 * NS) {
                cr_log_info("gas war found after %d events", i);
                found = true;
            }
        }
    }
    cr_assert(found, "no gas war in 150000 events at 20 tx/s");
    free(m.slots);
    free(s);
}

static uint64_t next_base_fee(uint64_t base, uint64_t used, uint64_t limit)
{
    uint64_t target = limit / 2;
    if (used > target) {
        unsigned __int128 d = (unsigned __int128)base * (used - target) / target / 8;
        return base + (d < 1 ? 1 : (uint64_t)d);
    }
    return base - (uint64_t)((unsigned __int128)base * (target - used) / target / 8);
}

Test(synthetic, blocks_every_12s_mine_only_pending_txs)
{
    mp_synth_t *s = new_gen(4, 100);
    txmap_t m = txmap_new(18);
    mp_block_t last = {0};
    uint64_t last_block_ns = 0, blocks = 0, mined_in_block = 0, mined = 0, dropped = 0;
    for (int i = 0; i < 150000; i++) {
        mp_event_t ev = next_ev(s);
        txrec_t *r;
        switch (ev.type) {
        case MP_EV_TX_SEEN:
            r = txmap_get(&m, ev.u.tx.hash, true);
            cr_assert_eq(r->state, 0);
            r->state = ST_PENDING;
            break;
        case MP_EV_TX_REPLACED:
            r = txmap_get(&m, ev.u.replaced.hash, false);
            cr_assert(r && r->state == ST_PENDING, "only a pending tx is replaced");
            r->state = ST_REPLACED;
            break;
        case MP_EV_TX_DROPPED:
            r = txmap_get(&m, ev.u.dropped.hash, false);
            cr_assert(r && r->state == ST_PENDING, "only a pending tx is dropped");
            r->state = ST_DROPPED;
            dropped++;
            break;
        case MP_EV_TX_MINED:
            r = txmap_get(&m, ev.u.mined.hash, false);
            cr_assert_not_null(r, "mined tx was seen");
            cr_assert_eq(r->state, ST_PENDING, "mined tx was still pending");
            r->state = ST_MINED;
            cr_assert_eq(ev.u.mined.block_number, last.number);
            cr_assert_eq(ev.time_ns, last_block_ns);
            mined_in_block++;
            mined++;
            break;
        case MP_EV_BLOCK:
            cr_assert_eq(ev.u.block.chain_id, 1);
            cr_assert_eq(ev.u.block.gas_limit, 30000000);
            cr_assert_leq(ev.u.block.gas_used, ev.u.block.gas_limit);
            cr_assert_eq(ev.u.block.timestamp * NS, ev.time_ns, "blocks on whole seconds");
            if (blocks > 0) {
                cr_assert_eq(ev.time_ns - last_block_ns, 12 * NS, "a block every 12 s");
                cr_assert_eq(ev.u.block.number, last.number + 1);
                cr_assert_leq(mined_in_block, last.tx_count);
                cr_assert_eq(ev.u.block.base_fee,
                             next_base_fee(last.base_fee, last.gas_used, last.gas_limit),
                             "EIP-1559 base fee");
                cr_assert_neq(memcmp(ev.u.block.hash, last.hash, MP_HASH_LEN), 0);
            }
            last = ev.u.block;
            last_block_ns = ev.time_ns;
            mined_in_block = 0;
            blocks++;
            break;
        default: break;
        }
    }
    cr_assert_geq(blocks, 20);
    cr_assert_gt(mined, 1000);
    cr_assert_gt(dropped, 0);
    free(m.slots);
    free(s);
}

Test(synthetic, block_includes_higher_paying_txs_first)
{
    /* Within one block's TX_MINED run the effective tip never increases. */
    mp_synth_t *s = new_gen(8, 50);
    txmap_t m = txmap_new(18);
    uint64_t base = 0, prev_tip = UINT64_MAX, checked = 0;
    for (int i = 0; i < 60000; i++) {
        mp_event_t ev = next_ev(s);
        if (ev.type == MP_EV_TX_SEEN) {
            txrec_t *r = txmap_get(&m, ev.u.tx.hash, true);
            r->tx_type = ev.u.tx.tx_type;
            r->max_fee = ev.u.tx.tx_type ? ev.u.tx.max_fee : ev.u.tx.gas_price;
            r->tip = ev.u.tx.tx_type ? ev.u.tx.max_priority_fee : ev.u.tx.gas_price;
        } else if (ev.type == MP_EV_BLOCK) {
            base = ev.u.block.base_fee;
            prev_tip = UINT64_MAX;
        } else if (ev.type == MP_EV_TX_MINED) {
            txrec_t *r = txmap_get(&m, ev.u.mined.hash, false);
            cr_assert_not_null(r);
            cr_assert_geq(r->max_fee, base, "a mined tx pays the base fee");
            uint64_t eff = r->tx_type ? (r->tip < r->max_fee - base ? r->tip : r->max_fee - base)
                                      : r->max_fee - base;
            cr_assert_leq(eff, prev_tip);
            prev_tip = eff;
            checked++;
        }
    }
    cr_assert_gt(checked, 100);
    free(m.slots);
    free(s);
}

Test(synthetic, sender_has_one_pending_tx_and_nonce_advances_when_mined)
{
    mp_synth_t *s = new_gen(9, 200);
    txmap_t m = txmap_new(18);
    /* per sender: pending count and the next nonce once a tx is mined */
    typedef struct {
        uint8_t from[MP_ADDR_LEN];
        int pending;
        uint64_t next_nonce;
    } who_t;
    size_t cap = 1 << 16, mask = cap - 1;
    who_t *senders = calloc(cap, sizeof *senders);
    static const uint8_t zero[MP_ADDR_LEN];
    uint64_t checked = 0;
    for (int i = 0; i < 200000; i++) {
        mp_event_t ev = next_ev(s);
        const uint8_t *hash = ev.type == MP_EV_TX_SEEN       ? ev.u.tx.hash
                              : ev.type == MP_EV_TX_MINED    ? ev.u.mined.hash
                              : ev.type == MP_EV_TX_DROPPED  ? ev.u.dropped.hash
                              : ev.type == MP_EV_TX_REPLACED ? ev.u.replaced.hash
                                                             : NULL;
        if (!hash) continue;
        txrec_t *r = txmap_get(&m, hash, ev.type == MP_EV_TX_SEEN);
        cr_assert_not_null(r);
        if (ev.type == MP_EV_TX_SEEN) {
            memcpy(r->from, ev.u.tx.from, MP_ADDR_LEN);
            r->nonce = ev.u.tx.nonce;
        }
        size_t j = be_u64(r->from + 4) & mask;
        while (memcmp(senders[j].from, r->from, MP_ADDR_LEN) &&
               memcmp(senders[j].from, zero, MP_ADDR_LEN))
            j = (j + 1) & mask;
        who_t *w = &senders[j];
        memcpy(w->from, r->from, MP_ADDR_LEN);
        if (ev.type == MP_EV_TX_SEEN) {
            cr_assert_eq(w->pending, 0, "a sender has one pending tx at a time");
            if (w->next_nonce) {
                cr_assert_eq(r->nonce, w->next_nonce, "nonce follows the last mined one");
                checked++;
            }
            w->pending = 1;
        } else {
            cr_assert_eq(w->pending, 1);
            w->pending = 0;
            if (ev.type == MP_EV_TX_MINED) w->next_nonce = r->nonce + 1;
        }
    }
    cr_assert_gt(checked, 100);
    free(senders);
    free(m.slots);
    free(s);
}

/* ---- time ---- */

Test(synthetic, tick_every_second_and_times_never_decrease)
{
    mp_synth_t *s = new_gen(12, 37);
    uint64_t prev = 0, last_tick = 0, ticks = 0, last_price[2] = {0}, prices = 0;
    for (int i = 0; i < 100000; i++) {
        mp_event_t ev = next_ev(s);
        cr_assert_geq(ev.time_ns, prev, "event %d goes back in time", i);
        cr_assert_geq(ev.time_ns, START_NS);
        prev = ev.time_ns;
        if (ev.type == MP_EV_TICK) {
            cr_assert_eq(ev.time_ns % NS, 0, "ticks on whole seconds");
            cr_assert(ticks == 0 ? ev.time_ns - START_NS < NS : ev.time_ns - last_tick == NS,
                      "one tick per second, none missing");
            last_tick = ev.time_ns;
            ticks++;
        } else if (ev.type == MP_EV_PRICE) {
            int sym = !strcmp(ev.u.price.symbol, "BTC/USD");
            cr_assert(sym || !strcmp(ev.u.price.symbol, "ETH/USD"));
            cr_assert(ev.u.price.price > 100 && ev.u.price.price < 1e6);
            if (last_price[sym])
                cr_assert_eq(ev.time_ns - last_price[sym], 2 * NS, "price ticks every 2 s");
            last_price[sym] = ev.time_ns;
            prices++;
        }
    }
    uint64_t span_s = (prev - START_NS) / NS;
    cr_assert(ticks >= span_s && ticks <= span_s + 1);
    cr_assert_geq(prices, span_s - 2);
    free(s);
}

Test(synthetic, tx_slots_follow_the_rate_schedule)
{
    /* Exactly one TX_SEEN per slot, slot k at start + floor(k * 1e9 / rate). */
    const uint64_t rates[] = {7, 1000, 3000000, 0};
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        mp_synth_t *s = new_gen(13, rates[r]);
        uint64_t rate = rates[r] ? rates[r] : MP_SYNTH_NOMINAL_RATE, k = 0;
        for (int i = 0; i < 50000; i++) {
            mp_event_t ev = next_ev(s);
            if (ev.type != MP_EV_TX_SEEN) continue;
            uint64_t due = START_NS + (uint64_t)((unsigned __int128)k * NS / rate);
            cr_assert_eq(ev.time_ns, due, "rate %lu slot %lu", rates[r], k);
            k++;
        }
        cr_assert_gt(k, 1000);
        free(s);
    }
}

/* ---- calldata ---- */

static uint64_t word_u64(const uint8_t *input, uint32_t off)
{
    return be_u64(input + off + 24);
}

static bool word_is_address(const uint8_t *input, uint32_t off)
{
    static const uint8_t zero[12];
    return !memcmp(input + off, zero, 12);
}

Test(synthetic, v2_router_swaps_decode_min_out_and_path)
{
    mp_synth_t *s = new_gen(14, 100);
    const mp_catalog_address_t *router = mp_catalog_address_by_label("Uniswap V2 Router02");
    const mp_catalog_address_t *weth = mp_catalog_address_by_label("WETH");
    uint64_t tokens_in = 0, eth_in = 0;
    for (int i = 0; i < 100000; i++) {
        mp_event_t ev = next_ev(s);
        if (ev.type != MP_EV_TX_SEEN || ev.u.tx.input_prefix_len < 4) continue;
        const mp_tx_seen_t *tx = &ev.u.tx;
        const uint8_t *in = tx->input_prefix + 4; /* args */
        uint32_t sel = mp_selector_of(tx->input_prefix);
        if (sel == 0x38ed1739) { /* (amountIn, amountOutMin, path, to, deadline) */
            cr_assert_eq(memcmp(tx->to, router->addr, MP_ADDR_LEN), 0);
            cr_assert_eq(word_u64(in, 64), 0xa0, "path offset");
            uint64_t n = word_u64(in, 0xa0);
            cr_assert(n == 2 || n == 3);
            cr_assert_eq(tx->input_len, 4 + 32 * (6 + n));
            cr_assert(word_u64(in, 32) > 0 || be_u64(in + 48) > 0, "amountOutMin set");
            cr_assert(word_is_address(in, 96) && !memcmp(in + 96 + 12, tx->from, MP_ADDR_LEN),
                      "recipient is the sender");
            cr_assert_gt(word_u64(in, 128), ev.time_ns / NS, "deadline in the future");
            for (uint64_t j = 0; j < n; j++)
                cr_assert(word_is_address(in, (uint32_t)(0xc0 + 32 * j)));
            cr_assert_neq(memcmp(in + 0xc0 + 12, in + 0xc0 + 32 * (n - 1) + 12, MP_ADDR_LEN), 0);
            tokens_in++;
        } else if (sel == 0x7ff36ab5) { /* (amountOutMin, path, to, deadline), ETH in */
            cr_assert_eq(word_u64(in, 32), 0x80);
            uint64_t n = word_u64(in, 0x80);
            cr_assert(n == 2 || n == 3);
            cr_assert_eq(memcmp(in + 0xa0 + 12, weth->addr, MP_ADDR_LEN), 0, "path starts at WETH");
            static const uint8_t zero[32];
            cr_assert_neq(memcmp(tx->value.be, zero, 32), 0, "ETH sent");
            eth_in++;
        }
    }
    cr_assert_gt(tokens_in, 50);
    cr_assert_gt(eth_in, 50);
    free(s);
}

Test(synthetic, universal_router_inputs_decode)
{
    mp_synth_t *s = new_gen(15, 100);
    uint64_t decoded = 0;
    for (int i = 0; i < 60000; i++) {
        mp_event_t ev = next_ev(s);
        if (ev.type != MP_EV_TX_SEEN || ev.u.tx.input_prefix_len < 4 ||
            mp_selector_of(ev.u.tx.input_prefix) != 0x3593564c)
            continue;
        const uint8_t *in = ev.u.tx.input_prefix + 4;
        uint32_t len = ev.u.tx.input_prefix_len - 4;
        uint64_t cmd_off = word_u64(in, 0), inputs_off = word_u64(in, 32);
        cr_assert_lt(cmd_off + 32, len);
        uint64_t ncmd = word_u64(in, (uint32_t)cmd_off);
        cr_assert(ncmd >= 1 && ncmd <= 2);
        cr_assert_eq(word_u64(in, (uint32_t)inputs_off), ncmd, "one input per command");
        for (uint64_t c = 0; c < ncmd; c++) {
            uint8_t cmd = in[cmd_off + 32 + c];
            uint64_t elem = inputs_off + 32 + word_u64(in, (uint32_t)(inputs_off + 32 + 32 * c));
            uint64_t elen = word_u64(in, (uint32_t)elem);
            cr_assert_leq(elem + 32 + elen, len, "input %lu inside calldata", c);
            const uint8_t *e = in + elem + 32;
            if (cmd == 0x00 || cmd == 0x08) { /* (recipient, amountIn, amountOutMin, path, payer) */
                cr_assert_eq(word_u64(e, 96), 0xa0);
                cr_assert(word_u64(e, 64) > 0 || be_u64(e + 64 + 16) > 0, "amountOutMin");
                uint64_t plen = word_u64(e, 0xa0);
                cr_assert(cmd == 0x08 ? plen == 2 || plen == 3 : plen == 43 || plen == 66);
            } else {
                cr_assert(cmd == 0x0b || cmd == 0x0c, "WRAP_ETH / UNWRAP_WETH");
                cr_assert_eq(elen, 64);
            }
        }
        decoded++;
    }
    cr_assert_gt(decoded, 100);
    free(s);
}

Test(synthetic, input_prefix_is_bounded_and_deploys_have_no_to)
{
    mp_synth_t *s = new_gen(16, 100);
    uint64_t deploys = 0, truncated = 0;
    for (int i = 0; i < 100000; i++) {
        mp_event_t ev = next_ev(s);
        if (ev.type != MP_EV_TX_SEEN) continue;
        const mp_tx_seen_t *tx = &ev.u.tx;
        cr_assert_leq(tx->input_prefix_len, MP_INPUT_PREFIX_MAX);
        cr_assert_leq(tx->input_prefix_len, tx->input_len);
        cr_assert(tx->input_prefix_len == tx->input_len ||
                  tx->input_prefix_len == MP_INPUT_PREFIX_MAX);
        cr_assert(tx->input_len == 0 || tx->input_len == 4 || (tx->input_len - 4) % 32 == 0 ||
                      !tx->has_to,
                  "ABI calldata is a selector plus whole words");
        cr_assert_eq(tx->chain_id, 1);
        cr_assert_eq(tx->source, MP_SOURCE_SYNTHETIC);
        cr_assert(tx->gas_limit >= 21000 && tx->gas_limit <= 30000000);
        if (tx->tx_type == 2)
            cr_assert(tx->max_priority_fee <= tx->max_fee && tx->gas_price == tx->max_fee);
        else
            cr_assert(tx->tx_type == 0 && tx->max_fee == 0 && tx->max_priority_fee == 0 &&
                      tx->gas_price > 0);
        if (!tx->has_to) {
            static const uint8_t zero[MP_ADDR_LEN];
            cr_assert_eq(memcmp(tx->to, zero, MP_ADDR_LEN), 0);
            cr_assert_eq(tx->input_prefix[0], 0x60);
            deploys++;
            truncated += tx->input_len > tx->input_prefix_len;
        }
    }
    cr_assert_gt(deploys, 0);
    cr_assert_gt(truncated, 0, "long init code keeps its full length beside the prefix");
    free(s);
}

/* ---- the source ---- */

Test(synthetic, pacing_returns_idle_before_events_are_due)
{
    mp_synth_config_t cfg = {.seed = 17, .rate = 1000, .chain_id = 1};
    mp_source_t *src = mp_synthetic_source_create(&cfg);
    cr_assert_not_null(src);
    mp_event_t ev;
    uint64_t wait = 0, seen = 0, idles = 0, t0 = mp_mono_ns();
    int rc = MP_SOURCE_EVENT;
    for (int i = 0; i < 1000 && rc == MP_SOURCE_EVENT; i++)
        rc = src->ops->next(src, &ev, &wait);
    cr_assert_eq(rc, MP_SOURCE_IDLE, "events are not all due at once");
    cr_assert(wait > 0 && wait <= NS, "wait %lu ns", wait);
    /* Over ~100 ms the source never runs ahead of 1000 tx/s. */
    while (mp_mono_ns() - t0 < 100000000ull) {
        rc = src->ops->next(src, &ev, &wait);
        if (rc == MP_SOURCE_IDLE) {
            idles++;
            mp_sleep_ns(wait < 1000000 ? wait : 1000000);
        } else {
            cr_assert_eq(rc, MP_SOURCE_EVENT);
            seen += ev.type == MP_EV_TX_SEEN;
        }
    }
    double elapsed_s = (double)(mp_mono_ns() - t0) / 1e9;
    cr_assert_leq((double)seen, 1000.0 * elapsed_s + 2, "%lu txs in %.3f s", seen, elapsed_s);
    cr_assert_gt(seen, 0);
    cr_assert_gt(idles, 0);
    src->ops->destroy(src);
}

Test(synthetic, restore_re_anchors_the_clock_without_a_catch_up_burst)
{
    mp_synth_config_t cfg = {.seed = 18, .rate = 1000, .chain_id = 1};
    mp_source_t *a = mp_synthetic_source_create(&cfg);
    mp_event_t ev;
    uint64_t wait;
    uint8_t *buf = malloc(MP_SYNTH_STATE_MAX);
    for (int i = 0; i < 50; i++) {
        while (a->ops->next(a, &ev, &wait) == MP_SOURCE_IDLE)
            mp_sleep_ns(wait);
    }
    uint32_t len = a->ops->save(a, buf, MP_SYNTH_STATE_MAX);
    mp_sleep_ns(50000000); /* "downtime" of 50 ms: 50 txs' worth at this rate */
    mp_source_t *b = mp_synthetic_source_create(&cfg);
    cr_assert_eq(b->ops->restore(b, buf, len), 0);
    uint64_t t0 = mp_mono_ns();
    cr_assert_eq(b->ops->next(b, &ev, &wait), MP_SOURCE_EVENT, "the next event is due at once");
    uint64_t burst = 0;
    while (b->ops->next(b, &ev, &wait) == MP_SOURCE_EVENT)
        burst += ev.type == MP_EV_TX_SEEN;
    /* Without re-anchoring, 50 txs would be overdue; with it, only those whose time came
     * while this loop ran (1 per ms, should the scheduler delay us). */
    double elapsed_ms = (double)(mp_mono_ns() - t0) / 1e6;
    cr_assert_leq((double)burst, 2 + elapsed_ms, "%lu txs at once after restore", burst);
    free(buf);
    a->ops->destroy(a);
    b->ops->destroy(b);
}

Test(synthetic, rate_zero_never_idles)
{
    mp_synth_config_t cfg = {.seed = 19, .rate = 0, .chain_id = 1};
    mp_source_t *src = mp_synthetic_source_create(&cfg);
    mp_event_t ev;
    uint64_t wait;
    for (int i = 0; i < 100000; i++)
        cr_assert_eq(src->ops->next(src, &ev, &wait), MP_SOURCE_EVENT);
    src->ops->destroy(src);
}

Test(synthetic, fingerprint_covers_seed_rate_and_chain_not_start)
{
    mp_synth_config_t a = {.seed = 1, .rate = 100, .start_unix_ns = 5, .chain_id = 1};
    mp_synth_config_t b = a;
    b.start_unix_ns = 99;
    cr_assert_eq(mp_synth_fingerprint(&a), mp_synth_fingerprint(&b));
    b = a;
    b.chain_id = 0; /* 0 means 1 */
    cr_assert_eq(mp_synth_fingerprint(&a), mp_synth_fingerprint(&b));
    b = a;
    b.seed = 2;
    cr_assert_neq(mp_synth_fingerprint(&a), mp_synth_fingerprint(&b));
    b = a;
    b.rate = 101;
    cr_assert_neq(mp_synth_fingerprint(&a), mp_synth_fingerprint(&b));
    b = a;
    b.chain_id = 5;
    cr_assert_neq(mp_synth_fingerprint(&a), mp_synth_fingerprint(&b));
}

Test(synthetic, source_identity_and_checkpoint_interval)
{
    const uint64_t rates[] = {0, 1, 20, 1000, 10000000};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        mp_synth_config_t cfg = {.seed = 1, .rate = rates[i], .chain_id = 1};
        mp_source_t *src = mp_synthetic_source_create(&cfg);
        cr_assert_not_null(src);
        cr_assert_str_eq(src->name, "synthetic");
        cr_assert_eq(src->checkpoint_every, MP_SYNTH_CHECKPOINT_EVERY, "rate %lu", rates[i]);
        cr_assert_eq(src->fingerprint, mp_synth_fingerprint(&cfg));
        cr_assert_not_null(src->ops->skip);
        src->ops->destroy(src);
    }
    cr_assert_leq(sizeof(mp_synth_t), MP_SYNTH_STATE_MAX);
    cr_assert_null(mp_synthetic_source_create(NULL));
}

Test(synthetic, skip_after_restore_ignores_pacing_and_lands_on_the_same_event)
{
    /* What ingest does after a crash: restore the last checkpoint, skip the events
     * committed since, continue. At 1000 tx/s the 20000 skipped events would take 10 s
     * if paced; skipped, the next event is due at once and equals the uninterrupted one. */
    mp_synth_config_t cfg = {.seed = 22, .rate = 1000, .start_unix_ns = START_NS, .chain_id = 1};
    mp_synth_t *ref = malloc(sizeof *ref);
    cr_assert_eq(mp_synth_init(ref, &cfg), 0);
    mp_source_t *src = mp_synthetic_source_create(&cfg);
    uint8_t *buf = malloc(MP_SYNTH_STATE_MAX);
    uint32_t len = src->ops->save(src, buf, MP_SYNTH_STATE_MAX); /* checkpoint at event 0 */
    mp_event_t ev, want;
    uint64_t wait;
    for (int i = 0; i < 20000; i++)
        cr_assert_eq(mp_synth_next(ref, &want), 0);
    mp_source_t *again = mp_synthetic_source_create(&cfg);
    cr_assert_eq(again->ops->restore(again, buf, len), 0);
    uint64_t t0 = mp_mono_ns();
    cr_assert_eq(again->ops->skip(again, 20000), 0);
    cr_assert_eq(again->ops->next(again, &ev, &wait), MP_SOURCE_EVENT, "due right after skip");
    cr_assert_lt(mp_mono_ns() - t0, 5 * NS, "skip is not paced");
    cr_assert_eq(mp_synth_next(ref, &want), 0);
    cr_assert(event_eq(&ev, &want));
    free(buf);
    free(ref);
    src->ops->destroy(src);
    again->ops->destroy(again);
}

Test(synthetic, start_zero_uses_the_wall_clock)
{
    mp_synth_config_t cfg = {.seed = 1, .rate = 10};
    uint64_t before = mp_wall_ns();
    mp_synth_t *s = malloc(sizeof *s);
    cr_assert_eq(mp_synth_init(s, &cfg), 0);
    cr_assert_geq(s->cfg.start_unix_ns, before);
    cr_assert_leq(s->cfg.start_unix_ns, mp_wall_ns());
    cr_assert_eq(s->cfg.chain_id, 1, "chain id 0 means mainnet");
    cr_assert_geq(mp_synth_peek_time(s), before);
    free(s);
}
