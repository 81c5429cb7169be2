/* Opportunity detectors (SPEC 3.3): heuristic, explained candidates (sandwich, backrun,
 * liquidation, gas war) derived from pending transactions, plus the bounded detector
 * context they need across events, kept as POD in shared memory. Candidates report
 * what was measured; no profit is ever claimed. */
#ifndef MP_RM_OPPORTUNITIES_H
#define MP_RM_OPPORTUNITIES_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/eth_catalog.h"
#include "proto/event.h"
#include "readmodel/rm_entities.h"
#include "readmodel/touch.h"

/* ---- thresholds (event time throughout) ---- */
#define MP_OPP_LARGE_ETH 10.0                   /* a swap of this much ETH/WETH is "large" */
#define MP_OPP_LARGE_USD 25000.0                /* ... of this many USDC/USDT/DAI */
#define MP_OPP_LARGE_WBTC 0.4                   /* ... of this much WBTC */
#define MP_OPP_MIN_ROOM_BPS 100.0               /* sandwich: min-out at least 1 % under expected */
#define MP_OPP_PRICE_MAX_AGE_NS 300000000000ull /* an ETH/USD tick older is not used */
#define MP_OPP_LENDING_WINDOW_S 60              /* "recent" lending activity */
#define MP_OPP_REPL_WINDOW_NS 30000000000ull    /* gas war: 3 replacements within 30 s */
#define MP_OPP_REPL_MIN 3
#define MP_OPP_ESC_GAP_NS 12000000000ull /* escalation: at most 12 s between bids */
#define MP_OPP_ESC_MIN_TXS 5             /* escalation: 5 rising bids fire, again 5 bids later */
#define MP_OPP_ESC_STEP_PERMILLE 1100    /* each bid >= 110 % of the previous */
#define MP_OPP_ESC_MIN_RATIO 2           /* and the last >= 2x the first */

/* Most candidates one transaction can yield (a large swap: sandwich + backrun; an
 * oracle update: backrun + liquidation; plus a fee-escalation gas war). */
#define MP_OPP_MAX_PER_TX 4

/* Gas-war replacement tracking per (chain, from, nonce). Empty when replacements == 0. */
typedef struct mp_opp_repl_slot {
    uint64_t chain_id;
    uint64_t nonce;
    uint8_t from[MP_ADDR_LEN];
    uint32_t replacements; /* replacements seen while the entry lived */
    uint64_t times_ns[3];  /* the three latest replacement times, [0] newest, 0 = none */
    uint64_t first_fee;    /* priority fee of the first replaced tx, wei (0 unknown) */
    uint64_t last_fee;     /* ... of the latest replaced tx */
} mp_opp_repl_slot_t;
_Static_assert(sizeof(mp_opp_repl_slot_t) == 80, "replacement slot layout");

/* Fee escalation tracking per (chain, to, selector): the current run of bids each
 * paying more priority fee than the last, from alternating senders. Empty when
 * streak == 0. */
typedef struct mp_opp_esc_slot {
    uint64_t chain_id;
    uint8_t to[MP_ADDR_LEN];
    uint32_t selector;
    uint8_t last_from[MP_ADDR_LEN];
    uint32_t streak;       /* bids in the rising run */
    uint32_t fired_streak; /* streak at the run's last candidate, 0 = none yet */
    uint32_t reserved0;
    uint64_t first_time_ns; /* of the run's first bid */
    uint64_t last_time_ns;
    uint64_t first_fee; /* priority fees, wei */
    uint64_t last_fee;
} mp_opp_esc_slot_t;
_Static_assert(sizeof(mp_opp_esc_slot_t) == 96, "escalation slot layout");

/* Both tables are set-associative: a key hashes (fixed function, no seed) to a set of
 * MP_OPP_WAYS slots; a new key takes an empty way or the way idle longest (ties: lowest
 * way). Lookups and inserts are O(ways). */
#define MP_OPP_WAYS 4
#define MP_OPP_REPL_SETS 256
#define MP_OPP_ESC_SETS 256

/* Lending activity windows, by protocol. */
enum { MP_OPP_LEND_AAVE = 0, MP_OPP_LEND_COMPOUND = 1, MP_OPP_LEND_COUNT = 2 };

/* Detector context: everything detectors remember across events. POD, no pointers,
 * zeroed = empty. Invariants: each rate window obeys rate.h; a table slot is either
 * empty (all zero) or holds the key it was filed under. */
typedef struct mp_opp_ctx {
    double eth_usd; /* last ETH/USD tick, 0 = none */
    uint64_t eth_usd_time_ns;
    uint64_t lending_second[MP_OPP_LEND_COUNT];
    uint32_t lending_buckets[MP_OPP_LEND_COUNT][MP_RM_RATE_WINDOW_S];
    mp_opp_repl_slot_t repl[MP_OPP_REPL_SETS * MP_OPP_WAYS];
    mp_opp_esc_slot_t esc[MP_OPP_ESC_SETS * MP_OPP_WAYS];
} mp_opp_ctx_t;
_Static_assert(sizeof(mp_opp_ctx_t) == 16 + 16 + 480 + 80 * 1024 + 96 * 1024, "opp ctx layout");
_Static_assert(sizeof(mp_opp_ctx_t) == 180736, "opp ctx size");

/* What the engine knows at a TX_REPLACED: the event plus the replaced tx's sender,
 * nonce, protocol and priority fee (from its detail index). */
typedef struct mp_opp_replacement {
    uint64_t chain_id;
    uint8_t hash[MP_HASH_LEN];        /* the replaced tx */
    uint8_t replaced_by[MP_HASH_LEN]; /* the replacing tx: the candidate's trigger */
    uint8_t from[MP_ADDR_LEN];
    uint8_t protocol; /* mp_protocol_t of the replaced tx */
    uint64_t nonce;
    uint64_t priority_fee; /* of the replaced tx, wei; 0 when unknown */
} mp_opp_replacement_t;

/* Prepares a fresh context (zeroes it). For new memory only: nothing is touched. */
void mp_opp_init(mp_opp_ctx_t *ctx);

/* Runs the detectors on one pending transaction with its classification, seen at
 * time_ns, and updates the context (lending activity, fee escalation runs). Writes up to
 * max_out candidates to out (the caller's buffer, not touched; status open, seq 0;
 * the engine stores them and owns later status changes) and returns how many, or
 * -EINVAL on NULL arguments. Candidates beyond max_out are dropped. Calldata is read
 * only within tx->input_prefix_len; a truncated or malformed argument means "not
 * decodable", never a fault. */
int mp_opp_on_tx(mp_opp_ctx_t *ctx, const mp_tx_seen_t *tx, const mp_classification_t *c,
                 uint64_t time_ns, const mp_rm_touch_t *touch, mp_rm_opportunity_t *out,
                 int max_out);

/* Files one replacement of (chain, from, nonce) at time_ns; when it is the third or a
 * later one within MP_OPP_REPL_WINDOW_NS, writes a gas_war candidate triggered by
 * r->replaced_by. Returns the number of candidates (0 or 1), or -EINVAL. */
int mp_opp_on_replaced(mp_opp_ctx_t *ctx, const mp_opp_replacement_t *r, uint64_t time_ns,
                       const mp_rm_touch_t *touch, mp_rm_opportunity_t *out, int max_out);

/* Remembers the ETH/USD price (symbol "ETH/USD"; other symbols are ignored, as are
 * non-positive prices and ticks older than the one held). Returns 1 when kept, else 0. */
int mp_opp_on_price(mp_opp_ctx_t *ctx, const mp_price_t *p, uint64_t time_ns,
                    const mp_rm_touch_t *touch);

/* Expires table entries idle past their windows at the TICK time_ns (replacements:
 * MP_OPP_REPL_WINDOW_NS since the newest; escalation runs: MP_OPP_ESC_GAP_NS since the
 * last bid). Returns the number of entries cleared. */
int mp_opp_on_tick(mp_opp_ctx_t *ctx, uint64_t time_ns, const mp_rm_touch_t *touch);

/* Candidate id: ASCII "<tag>:<first 16 hex digits of trigger>" zero-padded, where tag is
 * the short kind tag ("sandwich", "backrun", "liquidation", "gas_war"): the long kind
 * names do not fit the 32-byte id with 16 digits. */
void mp_opp_make_id(unsigned kind, const uint8_t trigger[MP_HASH_LEN], mp_rm_id_t *id);

/* "sandwich_candidate", "backrun_candidate", "liquidation_candidate", "gas_war";
 * "unknown" otherwise. */
const char *mp_opp_kind_name(unsigned kind);

/* Short tag used in ids: "sandwich", "backrun", "liquidation", "gas_war", "unknown". */
const char *mp_opp_kind_tag(unsigned kind);

/* "open", "expired", "mined", "replaced"; "unknown" otherwise. */
const char *mp_opp_status_name(unsigned status);

/* The named input's value in o, or `fallback` when o has no input of that name. */
double mp_opp_input(const mp_rm_opportunity_t *o, const char *name, double fallback);

#endif
