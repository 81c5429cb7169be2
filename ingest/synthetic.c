/* Owns the synthetic mempool: the pending pool with per-sender nonces, replacements, gas
 * wars and drops, 12 s blocks with the EIP-1559 base fee, price walks and ticks, and the
 * order in which their events come out. What a tx carries comes from the kind table
 * (ingest/synth_kinds.c); the paced mp_source_t is ingest/synthetic_source.c. The
 * generator is a pure function of the seed and its state struct (no clock, no pointers);
 * only a start time of 0 reads the clock. */
#include "ingest/synthetic.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "ingest/synth_calldata.h"
#include "ingest/synth_kinds.h"
#include "ingest/synth_rng.h"

#define NS 1000000000ull
#define POOL_MASK (MP_SYNTH_POOL_CAP - 1)
#define GAS_TARGET (MP_SYNTH_GAS_LIMIT / 2)
#define TICK_NS NS
#define PRICE_NS (2 * NS)
#define PRICE_OFFSET_NS (NS / 2) /* price ticks fall between TICKs */
/* Mainnet slot clock: blocks at genesis + 12 s * n; numbers as after the merge. */
#define BEACON_GENESIS_S 1606824023ull
#define MERGE_S 1663224179ull
#define MERGE_BLOCK 15537394ull

#define TX_FREE 0
#define TX_PENDING 1

/* Per tx slot probabilities. */
#define P_DROP 0.008      /* a random pending tx leaves the pool */
#define P_REPLACE 0.025   /* a random pending tx is sped up (same from, nonce; fees +10-50 %) */
#define P_WAR 0.0004      /* the new tx starts a gas war (if none is running) */
#define WAR_MAX_SLOTS 256 /* a war bump comes within this many slots: the tx is never evicted */
#define HOT_SENDERS 256u  /* bots: a quarter of the traffic from 256 addresses */
#define PRIVATE_REF_WEI (1.0 * 1e9) /* private order flow halves at this base fee */

/* ---- pool, senders, blocks ---- */

static void sender_addr(const mp_synth_t *s, uint16_t sender, uint8_t out[MP_ADDR_LEN])
{
    fill_id(out, MP_ADDR_LEN, s->cfg.seed, D_SENDER, sender);
}

static uint64_t sender_nonce(const mp_synth_t *s, uint16_t sender)
{
    uint64_t r = derive(s->cfg.seed, D_NONCE, sender);
    uint64_t base = sender < HOT_SENDERS ? 50000 + below(r, 2000000) : below(r, 3000);
    return base + s->senders[sender].nonce_count;
}

static void tx_hash(const mp_synth_t *s, uint64_t tx_id, uint8_t out[MP_HASH_LEN])
{
    fill_id(out, MP_HASH_LEN, s->cfg.seed, D_TXHASH, tx_id);
}

static void push(mp_synth_t *s, uint16_t type, uint64_t t, uint64_t a, uint64_t b, uint16_t slot,
                 uint8_t reason)
{
    /* A slot queues at most: random drop, eviction, replaced, seen (QUEUE_CAP). */
    mp_synth_queued_t *q = &s->q[s->q_len++];
    memset(q, 0, sizeof *q);
    q->time_ns = t;
    q->a = a;
    q->b = b;
    q->type = type;
    q->slot = slot;
    q->reason = reason;
}

static void free_tx(mp_synth_t *s, mp_synth_tx_t *e)
{
    s->senders[e->sender].slot = MP_SYNTH_SLOT_NONE;
    if (e->flags & MP_SYNTH_TXF_WAR) s->war_active = 0;
    e->state = TX_FREE;
    e->flags &= (uint8_t)~MP_SYNTH_TXF_WAR;
    s->pending--;
}

static void drop_tx(mp_synth_t *s, mp_synth_tx_t *e, uint8_t reason, uint64_t t)
{
    push(s, MP_EV_TX_DROPPED, t, e->tx_id, 0, 0, reason);
    free_tx(s, e);
}

/* The slot of a new tx_id holds the tx inserted POOL_CAP insertions ago: evict it. */
static void claim_slot(mp_synth_t *s, uint64_t id, uint64_t t)
{
    mp_synth_tx_t *e = &s->pool[id & POOL_MASK];
    if (e->state == TX_PENDING) drop_tx(s, e, MP_DROP_EVICTED, t);
}

static uint16_t pick_sender(mp_synth_t *s)
{
    bool hot = unit(rng_next(&s->rng)) < 0.25;
    uint32_t i = 0;
    /* Redraw within the group while busy (bots are busy most of the time at high rates),
     * then take the next free one from a uniform draw. Terminates: fewer pending txs
     * (<= POOL_CAP) than senders, one each at most. */
    for (int attempt = 0; attempt < 8; attempt++) {
        uint64_t r = rng_next(&s->rng);
        i = hot ? (uint32_t)below(r, HOT_SENDERS)
                : HOT_SENDERS + (uint32_t)below(r, MP_SYNTH_SENDERS - HOT_SENDERS);
        if (s->senders[i].slot == MP_SYNTH_SLOT_NONE) return (uint16_t)i;
        hot = false;
    }
    while (s->senders[i].slot != MP_SYNTH_SLOT_NONE)
        i = (i + 1) % MP_SYNTH_SENDERS;
    return (uint16_t)i;
}

/* Fees for a new tx against the current base fee. Tip: mostly 0.01-1 gwei, some up to
 * 50. Max fee: the wallet default 2 * base + tip, capped by the sender's willingness
 * (log-normal around 15 gwei), so demand falls as the base fee rises. */
static void set_fees(mp_synth_t *s, mp_synth_tx_t *e)
{
    double u = unit(rng_next(&s->rng)), v = unit(rng_next(&s->rng));
    double tip_gwei = u < 0.6    ? exp(-4.6 + 4.6 * v)
                      : u < 0.95 ? exp(1.15 * v)
                                 : exp(1.15 + 2.77 * v);
    double z = 0;
    for (int i = 0; i < 4; i++)
        z += unit(rng_next(&s->rng));
    z = (z - 2.0) * 1.7320508075688772; /* Irwin-Hall: about N(0, 1) */
    double will = 15e9 * exp(0.8 * z);
    uint64_t tip = (uint64_t)(tip_gwei * 1e9);
    uint64_t cap = (uint64_t)will;
    bool legacy = unit(rng_next(&s->rng)) < 0.08;
    uint64_t b = s->base_fee;
    if (legacy) {
        uint64_t price = b + b / 4 + tip;
        if (price > cap) price = cap > tip ? cap : tip;
        e->max_fee = e->tip = price;
        e->flags |= MP_SYNTH_TXF_LEGACY;
    } else {
        uint64_t max_fee = 2 * b + tip;
        if (max_fee > cap) max_fee = cap > tip ? cap : tip;
        e->max_fee = max_fee;
        e->tip = tip;
    }
}

static uint64_t bump(uint64_t x, unsigned per_mille)
{
    u128 y = (u128)x + (u128)x * per_mille / 1000 + 1;
    return y > UINT64_MAX ? UINT64_MAX : (uint64_t)y;
}

static void new_tx(mp_synth_t *s, uint64_t t, uint64_t k)
{
    uint64_t id = s->next_tx_id++;
    claim_slot(s, id, t);
    uint16_t sender = pick_sender(s);
    mp_synth_tx_t *e = &s->pool[id & POOL_MASK];
    uint64_t crng;
    unsigned kind;
    memset(e, 0, sizeof *e);
    e->tx_id = id;
    e->content_id = id;
    mp_synth_content_begin(s->cfg.seed, id, &crng, &kind, &e->gas_limit, &e->gas_used);
    e->kind = (uint8_t)kind;
    e->eth_usd_cents = (uint32_t)(s->eth_usd_e8 / 1000000);
    e->created_s = (uint32_t)(t / NS);
    e->sender = sender;
    e->state = TX_PENDING;
    set_fees(s, e);
    s->senders[sender].slot = (uint16_t)(id & POOL_MASK);
    s->pending++;
    if (!s->war_active && unit(rng_next(&s->rng)) < P_WAR) {
        /* A race for one inclusion: high bid now, re-bid every 1-3 s, 3-5 times. */
        e->flags |= MP_SYNTH_TXF_WAR;
        e->tip = bump(e->tip, 3000);
        if (e->max_fee < e->tip + 2 * s->base_fee) e->max_fee = e->tip + 2 * s->base_fee;
        s->war_active = 1;
        s->war_tx_id = id;
        s->war_bumps = 0;
        s->war_target = (uint8_t)(3 + below(rng_next(&s->rng), 3));
        s->war_next_ns = t + NS + below(rng_next(&s->rng), 2 * NS);
        s->war_last_slot = k;
    }
    push(s, MP_EV_TX_SEEN, t, 0, 0, (uint16_t)(id & POOL_MASK), 0);
}

/* Same sender, nonce and content under a new hash with both fees raised by
 * per_mille_lo..hi per mille (at least 10 %, what nodes require to replace). */
static mp_synth_tx_t *replace_tx(mp_synth_t *s, mp_synth_tx_t *old, uint64_t t,
                                 unsigned per_mille_lo, unsigned per_mille_hi)
{
    mp_synth_tx_t copy = *old;
    uint64_t old_id = old->tx_id;
    old->state = TX_FREE; /* not free_tx: the sender and a war carry over */
    old->flags = 0;
    s->pending--;
    uint64_t id = s->next_tx_id++;
    claim_slot(s, id, t); /* the old slot is already free: never evicts the original */
    unsigned pm =
        per_mille_lo + (unsigned)below(rng_next(&s->rng), per_mille_hi - per_mille_lo + 1);
    copy.tx_id = id;
    copy.max_fee = bump(copy.max_fee, pm);
    copy.tip = bump(copy.tip, pm); /* tip <= max_fee still holds: same factor */
    mp_synth_tx_t *e = &s->pool[id & POOL_MASK];
    *e = copy;
    s->senders[copy.sender].slot = (uint16_t)(id & POOL_MASK);
    s->pending++;
    if (copy.flags & MP_SYNTH_TXF_WAR) s->war_tx_id = id;
    push(s, MP_EV_TX_REPLACED, t, old_id, id, 0, 0);
    push(s, MP_EV_TX_SEEN, t, 0, 0, (uint16_t)(id & POOL_MASK), 0);
    return e;
}

/* A probe for a pending tx to speed up or drop: pending txs are the recent insertions
 * (older ones were mined or evicted), so draw among the last 2 * pending + 8: about half
 * the probes hit at any rate. */
static mp_synth_tx_t *recent_tx(mp_synth_t *s)
{
    uint64_t window = 2 * s->pending + 8;
    if (window > s->next_tx_id) window = s->next_tx_id;
    if (window > MP_SYNTH_POOL_CAP) window = MP_SYNTH_POOL_CAP;
    if (!window) return &s->pool[0]; /* free at the start */
    uint64_t id = s->next_tx_id - 1 - below(rng_next(&s->rng), window);
    return &s->pool[id & POOL_MASK];
}

/* One tx slot: maybe a random drop, then a war re-bid, a speed-up or a new tx. Exactly
 * one TX_SEEN per slot, so the rate counts txs. */
static void run_slot(mp_synth_t *s)
{
    uint64_t t = s->slot_ns, k = s->slot;
    s->slot++;
    s->slot_ns += s->period_ns;
    s->slot_rem += s->period_rem;
    if (s->slot_rem >= s->rate_div) {
        s->slot_rem -= s->rate_div;
        s->slot_ns++;
    }
    s->q_len = s->q_pos = 0;

    if (unit(rng_next(&s->rng)) < P_DROP) {
        mp_synth_tx_t *e = recent_tx(s);
        if (e->state == TX_PENDING && !(e->flags & MP_SYNTH_TXF_WAR))
            drop_tx(s, e, e->max_fee < s->base_fee ? MP_DROP_UNDERPRICED : MP_DROP_INVALID, t);
    }
    if (s->war_active && (t >= s->war_next_ns || k - s->war_last_slot >= WAR_MAX_SLOTS)) {
        mp_synth_tx_t *e = &s->pool[s->war_tx_id & POOL_MASK];
        if (e->state == TX_PENDING && e->tx_id == s->war_tx_id) {
            e = replace_tx(s, e, t, 125, 400);
            s->war_bumps++;
            s->war_last_slot = k;
            s->war_next_ns = t + NS + below(rng_next(&s->rng), 2 * NS);
            if (s->war_bumps >= s->war_target) { /* won: minable from now on */
                e->flags &= (uint8_t)~MP_SYNTH_TXF_WAR;
                s->war_active = 0;
            }
            return;
        }
        s->war_active = 0; /* unreachable by the invariants; never stall on it */
    }
    if (unit(rng_next(&s->rng)) < P_REPLACE) {
        for (int probe = 0; probe < 2; probe++) {
            mp_synth_tx_t *e = recent_tx(s);
            if (e->state == TX_PENDING && !(e->flags & MP_SYNTH_TXF_WAR)) {
                replace_tx(s, e, t, 100, 500);
                return;
            }
        }
    }
    new_tx(s, t, k);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t block_number_at(uint64_t ts)
{
    if (ts >= MERGE_S) return MERGE_BLOCK + (ts - MERGE_S) / 12;
    return ts > BEACON_GENESIS_S ? (ts - BEACON_GENESIS_S) / 12 + 1 : 1;
}

/* Builds the block due at next_block_ns: the pending txs that pay at least the base fee,
 * highest effective tip first, oldest first among equals, up to the gas limit, plus
 * private order flow that shrinks as the base fee rises. Emits BLOCK and queues the
 * TX_MINED events; then moves the base fee by the EIP-1559 rule. */
static void build_block(mp_synth_t *s, mp_event_t *ev)
{
    uint64_t keys[MP_SYNTH_POOL_CAP];
    uint64_t t = s->next_block_ns, base = s->base_fee, min_id = UINT64_MAX;
    const uint64_t tip_max = (1ull << 44) - 1;
    size_t n = 0;
    for (size_t i = 0; i < MP_SYNTH_POOL_CAP; i++) {
        const mp_synth_tx_t *e = &s->pool[i];
        if (e->state == TX_PENDING && !(e->flags & MP_SYNTH_TXF_WAR) && e->max_fee >= base &&
            e->tx_id < min_id)
            min_id = e->tx_id;
    }
    /* Pending ids lie within POOL_CAP of each other (older slots were evicted), so
     * id - min_id fits the low 20 bits under a 44-bit inverted tip. */
    for (size_t i = 0; i < MP_SYNTH_POOL_CAP; i++) {
        const mp_synth_tx_t *e = &s->pool[i];
        if (e->state != TX_PENDING || (e->flags & MP_SYNTH_TXF_WAR) || e->max_fee < base) continue;
        uint64_t eff = e->max_fee - base;
        if (!(e->flags & MP_SYNTH_TXF_LEGACY) && e->tip < eff) eff = e->tip;
        if (eff > tip_max) eff = tip_max;
        keys[n++] = (tip_max - eff) << 20 | (e->tx_id - min_id);
    }
    qsort(keys, n, sizeof keys[0], cmp_u64);

    uint64_t gas = 0;
    uint32_t count = 0;
    for (size_t i = 0; i < n && count < MP_SYNTH_MINED_MAX; i++) {
        mp_synth_tx_t *e = &s->pool[(min_id + (keys[i] & 0xfffff)) & POOL_MASK];
        if (gas + e->gas_used > MP_SYNTH_GAS_LIMIT) {
            if (MP_SYNTH_GAS_LIMIT - gas < 21000) break;
            continue;
        }
        gas += e->gas_used;
        s->mined[count++] = e->tx_id;
        s->senders[e->sender].nonce_count++;
        free_tx(s, e);
    }
    double priv = (double)MP_SYNTH_GAS_LIMIT * PRIVATE_REF_WEI / (PRIVATE_REF_WEI + (double)base) *
                  (0.8 + 0.4 * unit(rng_next(&s->rng)));
    uint64_t private_gas = (uint64_t)priv;
    if (private_gas > MP_SYNTH_GAS_LIMIT - gas) private_gas = MP_SYNTH_GAS_LIMIT - gas;
    gas += private_gas;

    ev->type = MP_EV_BLOCK;
    ev->time_ns = t;
    ev->u.block.chain_id = s->cfg.chain_id;
    ev->u.block.number = s->block_number;
    fill_id(ev->u.block.hash, MP_HASH_LEN, s->cfg.seed, D_BLOCKHASH, s->block_number);
    ev->u.block.base_fee = base;
    ev->u.block.gas_used = gas;
    ev->u.block.gas_limit = MP_SYNTH_GAS_LIMIT;
    ev->u.block.timestamp = t / NS;
    ev->u.block.tx_count = count + (uint32_t)(private_gas / 110000);

    s->mined_count = count;
    s->mined_pos = 0;
    s->mined_block = s->block_number;
    s->mined_time_ns = t;

    if (gas > GAS_TARGET) {
        u128 d = (u128)base * (gas - GAS_TARGET) / GAS_TARGET / 8;
        u128 nb = (u128)base + (d < 1 ? 1 : d);
        s->base_fee = nb > UINT64_MAX ? UINT64_MAX : (uint64_t)nb;
    } else {
        s->base_fee = base - (uint64_t)((u128)base * (GAS_TARGET - gas) / GAS_TARGET / 8);
    }
    s->block_number++;
    s->next_block_ns += MP_SYNTH_BLOCK_NS;
}

/* Mean-reverting random walk: +-0.15 % per tick, pulled 0.05 % of the gap back. */
static uint64_t walk(mp_synth_t *s, uint64_t p, uint64_t ref)
{
    int64_t step = (int64_t)below(rng_next(&s->rng), 3001) - 1500;
    __int128 np = (__int128)p + (__int128)p * step / 1000000 + ((__int128)ref - (__int128)p) / 2000;
    if (np < 100000000) /* $1 floor */
        np = 100000000;
    return (uint64_t)np;
}

static const char *const price_symbols[2] = {"ETH/USD", "BTC/USD"};

static void set_price(mp_event_t *ev, uint64_t t, unsigned sym, uint64_t price_e8)
{
    ev->type = MP_EV_PRICE;
    ev->time_ns = t;
    strcpy(ev->u.price.symbol, price_symbols[sym]);
    ev->u.price.price = (double)price_e8 / 1e8;
}

/* ---- emission ---- */

static void emit_seen(mp_synth_t *s, const mp_synth_queued_t *q, mp_event_t *ev)
{
    const mp_synth_tx_t *e = &s->pool[q->slot];
    mp_tx_seen_t *tx = &ev->u.tx;
    gen_t g;

    ev->type = MP_EV_TX_SEEN;
    ev->time_ns = q->time_ns;
    tx->chain_id = s->cfg.chain_id;
    tx_hash(s, e->tx_id, tx->hash);
    sender_addr(s, e->sender, tx->from);
    tx->nonce = sender_nonce(s, e->sender);
    tx->source = MP_SOURCE_SYNTHETIC;

    memset(&g, 0, sizeof g);
    g.seed = s->cfg.seed;
    g.buf = s->input;
    g.cap = MP_INPUT_PREFIX_MAX;
    g.has_to = true;
    g.now_s = e->created_s;
    g.eth_usd = e->eth_usd_cents / 100.0;
    g.btc_per_eth = (double)s->btc_ref_e8 / (double)s->eth_ref_e8;
    memcpy(g.from, tx->from, MP_ADDR_LEN);
    mp_synth_content_encode(&g, e->content_id, e->kind);

    memcpy(tx->to, g.to, MP_ADDR_LEN);
    tx->has_to = g.has_to;
    tx->gas_limit = e->gas_limit;
    if (e->flags & MP_SYNTH_TXF_LEGACY) {
        tx->tx_type = 0;
        tx->gas_price = e->max_fee;
    } else {
        tx->tx_type = 2;
        tx->gas_price = e->max_fee; /* what geth reports for a pending 1559 tx */
        tx->max_fee = e->max_fee;
        tx->max_priority_fee = e->tip;
    }
    for (int i = 0; i < 16; i++)
        tx->value.be[16 + i] = (uint8_t)(g.value >> (120 - 8 * i));
    tx->input_len = g.full_len ? g.full_len : g.len;
    tx->input_prefix_len = g.len;
    tx->input_prefix = s->input;
}

static void emit_queued(mp_synth_t *s, const mp_synth_queued_t *q, mp_event_t *ev)
{
    switch (q->type) {
    case MP_EV_TX_SEEN: emit_seen(s, q, ev); return;
    case MP_EV_TX_REPLACED:
        ev->type = MP_EV_TX_REPLACED;
        ev->time_ns = q->time_ns;
        ev->u.replaced.chain_id = s->cfg.chain_id;
        tx_hash(s, q->a, ev->u.replaced.hash);
        tx_hash(s, q->b, ev->u.replaced.replaced_by);
        return;
    case MP_EV_TX_DROPPED:
        ev->type = MP_EV_TX_DROPPED;
        ev->time_ns = q->time_ns;
        ev->u.dropped.chain_id = s->cfg.chain_id;
        tx_hash(s, q->a, ev->u.dropped.hash);
        ev->u.dropped.reason = q->reason;
        return;
    default: /* MP_EV_PRICE */ set_price(ev, q->time_ns, (unsigned)q->a, q->b); return;
    }
}

int mp_synth_next(mp_synth_t *s, mp_event_t *ev)
{
    if (!s || !ev) return -EINVAL;
    memset(ev, 0, sizeof *ev);
    if (s->q_pos < s->q_len) {
        emit_queued(s, &s->q[s->q_pos++], ev);
        return 0;
    }
    if (s->mined_pos < s->mined_count) {
        ev->type = MP_EV_TX_MINED;
        ev->time_ns = s->mined_time_ns;
        ev->u.mined.chain_id = s->cfg.chain_id;
        tx_hash(s, s->mined[s->mined_pos++], ev->u.mined.hash);
        ev->u.mined.block_number = s->mined_block;
        return 0;
    }
    /* Scheduled events due no later than the next tx slot go first: block, price, tick. */
    uint64_t t = s->slot_ns;
    if (s->next_block_ns <= t && s->next_block_ns <= s->next_price_ns &&
        s->next_block_ns <= s->next_tick_ns) {
        build_block(s, ev);
        return 0;
    }
    if (s->next_price_ns <= t && s->next_price_ns <= s->next_tick_ns) {
        uint64_t pt = s->next_price_ns;
        s->eth_usd_e8 = walk(s, s->eth_usd_e8, s->eth_ref_e8);
        s->btc_usd_e8 = walk(s, s->btc_usd_e8, s->btc_ref_e8);
        s->next_price_ns += PRICE_NS;
        s->q_len = s->q_pos = 0;
        push(s, MP_EV_PRICE, pt, 1, s->btc_usd_e8, 0, 0);
        set_price(ev, pt, 0, s->eth_usd_e8);
        return 0;
    }
    if (s->next_tick_ns <= t) {
        ev->type = MP_EV_TICK;
        ev->time_ns = s->next_tick_ns;
        s->next_tick_ns += TICK_NS;
        return 0;
    }
    run_slot(s);
    emit_queued(s, &s->q[s->q_pos++], ev);
    return 0;
}

uint64_t mp_synth_peek_time(const mp_synth_t *s)
{
    if (s->q_pos < s->q_len) return s->q[s->q_pos].time_ns;
    if (s->mined_pos < s->mined_count) return s->mined_time_ns;
    uint64_t t = s->slot_ns;
    if (s->next_block_ns < t) t = s->next_block_ns;
    if (s->next_price_ns < t) t = s->next_price_ns;
    if (s->next_tick_ns < t) t = s->next_tick_ns;
    return t;
}

int mp_synth_init(mp_synth_t *s, const mp_synth_config_t *cfg)
{
    if (!s || !cfg) return -EINVAL;
    int err = mp_synth_kinds_setup();
    if (err) return err;
    memset(s, 0, sizeof *s);
    s->magic = MP_SYNTH_MAGIC;
    s->version = MP_SYNTH_VERSION;
    s->size = (uint32_t)sizeof *s;
    s->cfg = *cfg;
    if (!s->cfg.chain_id) s->cfg.chain_id = 1;
    if (!s->cfg.start_unix_ns) s->cfg.start_unix_ns = mp_wall_ns();
    uint64_t seed = s->cfg.seed, start = s->cfg.start_unix_ns;
    s->rng = derive(seed, D_INIT, 0);
    s->rate_div = s->cfg.rate ? s->cfg.rate : MP_SYNTH_NOMINAL_RATE;
    s->period_ns = NS / s->rate_div;
    s->period_rem = NS % s->rate_div;
    s->slot_ns = start;

    s->next_tick_ns = (start / TICK_NS + 1) * TICK_NS;
    s->next_price_ns = (start / PRICE_NS + 1) * PRICE_NS + PRICE_OFFSET_NS;
    uint64_t genesis_ns = BEACON_GENESIS_S * NS;
    s->next_block_ns =
        start < genesis_ns
            ? genesis_ns
            : genesis_ns + ((start - genesis_ns) / MP_SYNTH_BLOCK_NS + 1) * MP_SYNTH_BLOCK_NS;
    s->block_number = block_number_at(s->next_block_ns / NS);
    s->base_fee = 8 * GWEI + below(derive(seed, D_INIT, 1), 17 * GWEI);
    s->eth_ref_e8 = s->eth_usd_e8 =
        300000000000ull * (80 + below(derive(seed, D_INIT, 2), 46)) / 100;
    s->btc_ref_e8 = s->btc_usd_e8 =
        6000000000000ull * (80 + below(derive(seed, D_INIT, 3), 46)) / 100;
    for (size_t i = 0; i < MP_SYNTH_SENDERS; i++)
        s->senders[i].slot = MP_SYNTH_SLOT_NONE;
    return 0;
}

int mp_synth_validate(const mp_synth_t *s)
{
    if (!s || s->magic != MP_SYNTH_MAGIC || s->version != MP_SYNTH_VERSION ||
        s->size != sizeof *s || !s->rate_div || s->q_len > MP_SYNTH_QUEUE_CAP ||
        s->q_pos > s->q_len || s->mined_count > MP_SYNTH_MINED_MAX ||
        s->mined_pos > s->mined_count || s->pending > MP_SYNTH_POOL_CAP || !s->eth_ref_e8)
        return -EINVAL;
    for (size_t i = 0; i < s->q_len; i++) {
        if (s->q[i].type < MP_EV_TYPE_MIN || s->q[i].type > MP_EV_TYPE_MAX ||
            s->q[i].slot >= MP_SYNTH_POOL_CAP || (s->q[i].type == MP_EV_PRICE && s->q[i].a > 1))
            return -EINVAL;
    }
    unsigned kind_count = mp_synth_kind_count();
    for (size_t i = 0; i < MP_SYNTH_POOL_CAP; i++) {
        const mp_synth_tx_t *e = &s->pool[i];
        if (e->state > TX_PENDING || e->kind >= kind_count || e->sender >= MP_SYNTH_SENDERS ||
            (e->state == TX_PENDING &&
             ((e->tx_id & POOL_MASK) != i || s->senders[e->sender].slot != i)))
            return -EINVAL;
    }
    for (size_t i = 0; i < MP_SYNTH_SENDERS; i++) {
        uint16_t slot = s->senders[i].slot;
        if (slot != MP_SYNTH_SLOT_NONE && slot >= MP_SYNTH_POOL_CAP) return -EINVAL;
    }
    return 0;
}

uint64_t mp_synth_fingerprint(const mp_synth_config_t *cfg)
{
    uint64_t chain = cfg->chain_id ? cfg->chain_id : 1;
    uint64_t h = derive(cfg->seed, D_FINGERPRINT, MP_SYNTH_VERSION);
    h = mix64(h ^ cfg->rate * 0x9e3779b97f4a7c15ull);
    return mix64(h ^ chain * 0xd1b54a32d192ed03ull);
}
