/* Fee market per chain and price ticks per symbol (SPEC 3.4 market.main): a bounded
 * rolling window of pending fee samples with percentiles, histogram and the EIP-1559
 * next base fee; prices with their change over about a minute. All state is POD the
 * readmodel keeps in shared memory. */
#ifndef MP_RM_MARKET_H
#define MP_RM_MARKET_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/event.h"
#include "readmodel/rm_entities.h"
#include "readmodel/touch.h"

#define MP_MARKET_CAPACITY 16              /* chains */
#define MP_MARKET_SAMPLES 4096             /* fee samples per chain; a power of two */
#define MP_MARKET_WINDOW_NS 60000000000ull /* event time a sample stays in the window */
_Static_assert((MP_MARKET_SAMPLES & (MP_MARKET_SAMPLES - 1)) == 0, "sample ring is a power of two");

/* One pending transaction's bid, in wei. */
typedef struct mp_fee_sample {
    uint64_t time_ns;      /* event time it was seen */
    uint64_t priority_fee; /* max priority fee; legacy: gas price above the base fee */
    uint64_t max_fee;      /* max fee; legacy: gas price */
} mp_fee_sample_t;
_Static_assert(sizeof(mp_fee_sample_t) == 24, "fee sample layout");

/* One chain's market. Invariants: the window is the last min(added, MP_MARKET_SAMPLES)
 * samples, samples[(added - 1) & (MP_MARKET_SAMPLES - 1)] being the newest (oldest
 * overwritten first); of those, the percentiles count the ones younger than
 * MP_MARKET_WINDOW_NS at the recompute time. fees.base_fee / next_base_fee come from the
 * highest block applied (head_number, valid when has_head). */
typedef struct mp_market_chain {
    mp_rm_fee_market_t fees; /* the market.main entity */
    uint64_t head_number;
    uint32_t has_head;
    uint32_t reserved0;
    uint64_t added; /* free-running count of samples ever added */
    mp_fee_sample_t samples[MP_MARKET_SAMPLES];
} mp_market_chain_t;
_Static_assert(sizeof(mp_market_chain_t) == 200 + 24 + 24 * MP_MARKET_SAMPLES, "market layout");

/* The fee markets of up to MP_MARKET_CAPACITY chains; zeroed = empty. Invariants as the
 * chain table: slots [0, used) distinct, chain_ids[i] == chains[i].fees.chain_id,
 * last_active_s[i] the latest event second of the chain (eviction order). */
typedef struct mp_market_table {
    uint32_t used;
    uint32_t reserved0;
    uint64_t chain_ids[MP_MARKET_CAPACITY];
    uint64_t last_active_s[MP_MARKET_CAPACITY];
    mp_market_chain_t chains[MP_MARKET_CAPACITY];
} mp_market_table_t;
_Static_assert(sizeof(mp_market_table_t) ==
                   8 + 16 * MP_MARKET_CAPACITY + sizeof(mp_market_chain_t) * MP_MARKET_CAPACITY,
               "market table layout");
_Static_assert(sizeof(mp_market_table_t) == 1576712, "market table size");

/* Where an event landed, for the engine's deltas. */
typedef struct mp_market_result {
    int32_t slot;  /* chains[slot].fees is the entity */
    bool inserted; /* first event of this chain */
    bool changed;  /* the entity changed: upsert it */
    bool evicted;  /* a chain left the table: remove its entity */
    uint64_t evicted_chain_id;
} mp_market_result_t;

/* Prepares a fresh table (zeroes it). For new memory only: nothing is touched. */
void mp_market_init(mp_market_table_t *t);

/* Adds the fee bid of a pending tx seen at time_ns to its chain's window: O(1), the
 * entity moves on TICK/BLOCK only. Legacy txs (no 1559 fees) bid gas_price as max fee
 * and gas_price minus the head's base fee (0 when below; all of it before any block) as
 * priority fee. Returns 0, or -EINVAL. */
int mp_market_on_tx(mp_market_table_t *t, const mp_tx_seen_t *tx, uint64_t time_ns,
                    const mp_rm_touch_t *touch, mp_market_result_t *res);

/* Applies a BLOCK: a block at or above the market's head sets base_fee and the EIP-1559
 * next_base_fee from its gas used and limit; an older block changes nothing. Then
 * recomputes the window at time_ns. Returns 0, or -EINVAL. */
int mp_market_on_block(mp_market_table_t *t, const mp_block_t *b, uint64_t time_ns,
                       const mp_rm_touch_t *touch, mp_market_result_t *res);

/* Recomputes every chain's window at the TICK time_ns. Writes the slots whose entity
 * changed to changed[] (up to max_changed; the caller's buffer); returns how many. */
int mp_market_on_tick(mp_market_table_t *t, uint64_t time_ns, const mp_rm_touch_t *touch,
                      uint16_t *changed, int max_changed);

/* Recomputes one market at now_ns: samples in the window, p10/p25/p50/p75/p90 of
 * priority and max fee (nearest rank), the priority fee histogram. Writes the entity
 * (and updated_unix_ns) only when a figure changed. Work: O(window) with a radix sort,
 * on 96 KiB of stack. Returns 1 when changed, else 0. */
int mp_market_recompute(mp_market_chain_t *m, uint64_t now_ns, const mp_rm_touch_t *touch);

/* The slot of chain_id, or -ENOENT. */
int mp_market_find(const mp_market_table_t *t, uint64_t chain_id);

/* EIP-1559 base fee of the block after one with this base fee, gas used and gas limit
 * (elasticity 2, change denominator 8), in exact integer arithmetic: target = limit / 2;
 * used == target keeps it; above adds max(1, base * (used - target) / target / 8),
 * saturating; below subtracts base * (target - used) / target / 8. A zero target keeps
 * the base fee. */
uint64_t mp_market_next_base_fee(uint64_t base_fee, uint64_t gas_used, uint64_t gas_limit);

/* Nearest-rank percentile of n ascending values: the value at rank ceil(pct * n / 100)
 * (at least rank 1). 0 for n == 0; pct is clamped to 100. */
uint64_t mp_market_percentile(const uint64_t *sorted, uint32_t n, unsigned pct);

/* Histogram bucket of a priority fee in wei: the largest i with edge(i) <= fee. */
unsigned mp_market_hist_bucket(uint64_t priority_fee_wei);

/* Lower edge of histogram bucket i in wei (see rm_entities.h); UINT64_MAX past the end. */
uint64_t mp_market_hist_edge(unsigned i);

/* Entity id of a chain's fee market: ASCII "fees:<decimal chain id>", zero-padded. */
void mp_market_fee_id(uint64_t chain_id, mp_rm_id_t *id);

/* ---- prices ---- */

#define MP_PRICE_CAPACITY 32
#define MP_PRICE_HISTORY 16
#define MP_PRICE_HISTORY_STEP_NS 5000000000ull /* at most one history sample per 5 s */
#define MP_PRICE_CHANGE_NS 60000000000ull      /* change_1m looks this far back */

/* One symbol: its entity and a sparse history (one sample per >= 5 s; 16 of them span
 * more than 75 s) to find the price about a minute earlier. Invariant: the history
 * holds hist_count samples, hist_next the ring index the next one goes to, times
 * ascending in ring order. */
typedef struct mp_price_slot {
    mp_rm_price_t price; /* the market.main price entity */
    uint64_t hist_time_ns[MP_PRICE_HISTORY];
    double hist_price[MP_PRICE_HISTORY];
    uint32_t hist_count;
    uint32_t hist_next;
} mp_price_slot_t;
_Static_assert(sizeof(mp_price_slot_t) == 328, "price slot layout");

/* Up to MP_PRICE_CAPACITY symbols; zeroed = empty; slots [0, used) distinct symbols. */
typedef struct mp_price_table {
    uint32_t used;
    uint32_t reserved0;
    mp_price_slot_t slots[MP_PRICE_CAPACITY];
} mp_price_table_t;
_Static_assert(sizeof(mp_price_table_t) == 8 + 328 * MP_PRICE_CAPACITY, "price table size");

typedef struct mp_price_result {
    int32_t slot; /* slots[slot].price is the entity: upsert it */
    bool inserted;
    bool evicted; /* a symbol left the table: remove its entity */
    char evicted_symbol[MP_SYMBOL_MAX];
} mp_price_result_t;

/* Prepares a fresh table (zeroes it). For new memory only: nothing is touched. */
void mp_price_init(mp_price_table_t *t);

/* Applies a PRICE tick at time_ns: sets price and updated time; the reference is the
 * newest history sample at least MP_PRICE_CHANGE_NS old, else the oldest one (a shorter
 * span, shown by ref_unix_ns), else this tick (change 0); change_1m = price - ref. A new
 * symbol takes a free slot or the least recently updated one's. Returns 0, or -EINVAL
 * for an empty, unterminated symbol or a non-finite price. */
int mp_price_on_tick(mp_price_table_t *t, const mp_price_t *p, uint64_t time_ns,
                     const mp_rm_touch_t *touch, mp_price_result_t *res);

/* The slot of symbol, or -ENOENT. */
int mp_price_find(const mp_price_table_t *t, const char *symbol);

/* Entity id of a price: ASCII "price:<symbol>", zero-padded. */
void mp_market_price_id(const char *symbol, mp_rm_id_t *id);

#endif
