/* The entities of the read model (SPEC 2.3, 3.2-3.4) as they lie in shared memory and
 * in the delta journal: fixed-width, no pointers, sizes pinned by static asserts, since
 * the readmodel writes them and every gateway process and tool reads them. */
#ifndef MP_RM_ENTITIES_H
#define MP_RM_ENTITIES_H

#include <stddef.h>
#include <stdint.h>

#include "proto/event.h"

/* Channels (SPEC 4.2); the index is the journal's channel byte. */
typedef enum mp_rm_channel {
    MP_CH_TX = 0,          /* "tx.main" */
    MP_CH_FEATURE = 1,     /* "feature.main" */
    MP_CH_OPPORTUNITY = 2, /* "opportunity.main" */
    MP_CH_CHAIN = 3,       /* "chain.main" */
    MP_CH_MARKET = 4,      /* "market.main" */
    MP_CH_COUNT = 5
} mp_rm_channel_t;

/* Entity kinds; a channel may carry two (feature.main: top aggregates and recent rows;
 * market.main: fee markets and prices). The kind fixes the entity struct. */
typedef enum mp_rm_kind {
    MP_KIND_TX = 1,          /* mp_rm_tx_t */
    MP_KIND_FEATURE_TOP = 2, /* mp_rm_feature_top_t */
    MP_KIND_FEATURE_RECENT = 3, /* mp_rm_feature_recent_t */
    MP_KIND_OPPORTUNITY = 4, /* mp_rm_opportunity_t */
    MP_KIND_CHAIN = 5,       /* mp_rm_chain_t */
    MP_KIND_FEE_MARKET = 6,  /* mp_rm_fee_market_t */
    MP_KIND_PRICE = 7,       /* mp_rm_price_t */
} mp_rm_kind_t;

/* Entity ids are up to 32 bytes: a tx hash, or a short ASCII key ("uniswap-v2/swap",
 * "fees:1", "price:ETH/USD") padded with zeros. */
#define MP_RM_ID_LEN 32
typedef struct mp_rm_id {
    uint8_t bytes[MP_RM_ID_LEN];
} mp_rm_id_t;

typedef enum mp_rm_tx_status {
    MP_TX_PENDING = 0,
    MP_TX_REPLACED = 1,
    MP_TX_DROPPED = 2,
    MP_TX_MINED = 3,
} mp_rm_tx_status_t;

/* tx.main entity: a transaction summary. */
typedef struct mp_rm_tx {
    uint64_t seq;  /* journal seq of its last change */
    uint8_t hash[MP_HASH_LEN];
    uint8_t from[MP_ADDR_LEN];
    uint8_t to[MP_ADDR_LEN];
    uint8_t has_to;
    uint8_t status;   /* mp_rm_tx_status_t */
    uint8_t tx_type;
    uint8_t protocol; /* mp_protocol_t */
    uint8_t category; /* mp_category_t */
    uint8_t has_selector;
    uint8_t reserved0[2];
    uint32_t selector;
    uint32_t input_len;
    uint64_t chain_id;
    uint64_t nonce;
    uint64_t gas_limit;
    uint64_t gas_price;
    uint64_t max_fee;
    uint64_t max_priority_fee;
    mp_u256_t value;
    uint64_t seen_unix_ns;    /* event time it was first seen */
    uint64_t updated_unix_ns; /* event time of the last status change */
    uint64_t block_number;    /* when mined */
    uint8_t replaced_by[MP_HASH_LEN];
} mp_rm_tx_t;
_Static_assert(sizeof(mp_rm_tx_t) == 232, "tx entity layout");

/* feature.main "top" entity: aggregates of one (protocol, category). */
#define MP_RM_RATE_WINDOW_S 60
typedef struct mp_rm_feature_top {
    uint64_t seq;
    uint8_t protocol;
    uint8_t category;
    uint8_t reserved0[6];
    uint64_t count;           /* transactions seen */
    uint64_t gas_sum;         /* gas limits, saturating */
    uint64_t value_sum_gwei;  /* values in gwei, saturating */
    uint64_t first_seen_unix_ns;
    uint64_t last_seen_unix_ns;
    uint8_t last_tx[MP_HASH_LEN];
    uint32_t rate_60s;        /* transactions in the last 60 s of event time */
    uint32_t reserved1;
    /* Per-second counts: buckets[s % 60] holds event-time second s, for the 60 seconds
     * ending at bucket_second. */
    uint64_t bucket_second;   /* event-time second of the newest bucket */
    uint32_t buckets[MP_RM_RATE_WINDOW_S];
} mp_rm_feature_top_t;
_Static_assert(sizeof(mp_rm_feature_top_t) == 344, "feature top layout");

/* feature.main "recent" entity: the classification of one recent transaction. */
typedef struct mp_rm_feature_recent {
    uint64_t seq;
    uint8_t hash[MP_HASH_LEN];
    uint8_t from[MP_ADDR_LEN];
    uint8_t to[MP_ADDR_LEN];
    uint8_t has_to;
    uint8_t protocol;
    uint8_t category;
    uint8_t has_selector;
    uint32_t selector;
    mp_u256_t value;
    uint64_t gas_limit;
    uint64_t max_priority_fee;
    uint64_t seen_unix_ns;
} mp_rm_feature_recent_t;
_Static_assert(sizeof(mp_rm_feature_recent_t) == 144, "feature recent layout");

typedef enum mp_rm_opp_kind {
    MP_OPP_SANDWICH = 1,
    MP_OPP_BACKRUN = 2,
    MP_OPP_LIQUIDATION = 3,
    MP_OPP_GAS_WAR = 4,
} mp_rm_opp_kind_t;

typedef enum mp_rm_opp_status {
    MP_OPP_OPEN = 0,
    MP_OPP_EXPIRED = 1,
    MP_OPP_MINED = 2,
    MP_OPP_REPLACED = 3,
} mp_rm_opp_status_t;

/* One measured input of a score: what the heuristic saw, named. */
#define MP_RM_OPP_INPUTS 6
typedef struct mp_rm_opp_input {
    char name[24]; /* NUL-padded, e.g. "slippage_bps" */
    double value;
} mp_rm_opp_input_t;

#define MP_RM_REASON_LEN 160
/* opportunity.main entity: a heuristic candidate, explained (SPEC 3.3). */
typedef struct mp_rm_opportunity {
    uint64_t seq;
    mp_rm_id_t id;         /* ASCII "<kind>:<first 16 hex of trigger>" padded */
    uint8_t trigger[MP_HASH_LEN];
    uint64_t chain_id;
    uint8_t kind;          /* mp_rm_opp_kind_t */
    uint8_t status;        /* mp_rm_opp_status_t */
    uint8_t protocol;      /* mp_protocol_t */
    uint8_t score;         /* 0..100 */
    uint8_t input_count;
    uint8_t reserved0[3];
    uint64_t detected_unix_ns;
    uint64_t updated_unix_ns;
    mp_rm_opp_input_t inputs[MP_RM_OPP_INPUTS];
    char reason[MP_RM_REASON_LEN]; /* one line, NUL-terminated */
} mp_rm_opportunity_t;
_Static_assert(sizeof(mp_rm_opportunity_t) == 456, "opportunity layout");

/* chain.main entity: one chain's head and pace (SPEC 3.4). */
typedef struct mp_rm_chain {
    uint64_t seq;
    uint64_t chain_id;
    uint64_t head_number;
    uint8_t head_hash[MP_HASH_LEN];
    uint64_t base_fee;
    uint64_t gas_used;
    uint64_t gas_limit;
    uint64_t head_timestamp;      /* block timestamp, unix s */
    uint64_t head_seen_unix_ns;   /* event time the head arrived */
    uint64_t avg_block_time_ms;   /* mean of the last blocks' timestamp deltas */
    uint64_t pending_count;       /* tracked pending transactions of this chain */
    uint32_t tx_rate_10s;         /* tx seen in the last 10 s of event time */
    uint32_t tx_rate_60s;         /* ... in the last 60 s */
    uint64_t blocks_seen;
    uint64_t bucket_second;
    uint32_t buckets[MP_RM_RATE_WINDOW_S];
    uint64_t block_time_sum_ms;   /* of the deltas in block_times_ms */
    uint32_t block_times_ms[8];   /* ring of the last 8 block time deltas */
    uint32_t block_time_count;    /* deltas in the ring, <= 8 */
    uint32_t block_time_next;     /* ring index the next delta goes to */
} mp_rm_chain_t;
#define MP_RM_BLOCK_TIMES 8
_Static_assert(sizeof(mp_rm_chain_t) == 424, "chain layout");

#define MP_RM_FEE_HIST_BUCKETS 16
/* market.main fee entity: one chain's pending fee market over the rolling window. */
typedef struct mp_rm_fee_market {
    uint64_t seq;
    uint64_t chain_id;
    uint64_t window_ms;       /* event-time width of the sample window */
    uint32_t samples;         /* pending txs in the window */
    uint32_t reserved0;
    uint64_t priority_fee_pct[5]; /* p10, p25, p50, p75, p90, wei */
    uint64_t max_fee_pct[5];
    uint64_t base_fee;        /* of the head */
    uint64_t next_base_fee;   /* EIP-1559 estimate for the next block */
    /* Priority fee histogram: bucket i counts fees in [edge(i), edge(i+1)) gwei where
     * the 16 lower edges are 0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 20, 50,
     * 100, 200 and edge(16) is infinity: the last bucket is [200, inf).
     * mp_market_hist_edge() gives them in wei. */
    uint32_t histogram[MP_RM_FEE_HIST_BUCKETS];
    uint64_t updated_unix_ns;
} mp_rm_fee_market_t;
_Static_assert(sizeof(mp_rm_fee_market_t) == 200, "fee market layout");

/* market.main price entity: the last tick of one symbol. */
typedef struct mp_rm_price {
    uint64_t seq;
    char symbol[MP_SYMBOL_MAX];
    double price;
    double change_1m;          /* price minus the price about 60 s of event time earlier */
    double ref_price;          /* that earlier price */
    uint64_t ref_unix_ns;
    uint64_t updated_unix_ns;
} mp_rm_price_t;
_Static_assert(sizeof(mp_rm_price_t) == 64, "price layout");

/* Any one entity, for code that copies entities of every kind (journal readers, tools). */
typedef union mp_rm_entity {
    mp_rm_tx_t tx;
    mp_rm_feature_top_t top;
    mp_rm_feature_recent_t recent;
    mp_rm_opportunity_t opp;
    mp_rm_chain_t chain;
    mp_rm_fee_market_t fee;
    mp_rm_price_t price;
} mp_rm_entity_t;

/* The entity struct size of a kind; 0 for a kind this layout does not define (a journal
 * entry naming one is corrupt). */
static inline size_t mp_rm_kind_size(unsigned kind)
{
    switch (kind) {
    case MP_KIND_TX: return sizeof(mp_rm_tx_t);
    case MP_KIND_FEATURE_TOP: return sizeof(mp_rm_feature_top_t);
    case MP_KIND_FEATURE_RECENT: return sizeof(mp_rm_feature_recent_t);
    case MP_KIND_OPPORTUNITY: return sizeof(mp_rm_opportunity_t);
    case MP_KIND_CHAIN: return sizeof(mp_rm_chain_t);
    case MP_KIND_FEE_MARKET: return sizeof(mp_rm_fee_market_t);
    case MP_KIND_PRICE: return sizeof(mp_rm_price_t);
    default: return 0;
    }
}

#endif
