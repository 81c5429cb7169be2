/* The writer-private state sections of the read-model region: the domain modules' POD
 * tables (features, detectors, chains, fee markets, prices) plus the engine's dirty
 * marks. Readers never look here; they read the published slots. */
#ifndef MP_RM_STATE_H
#define MP_RM_STATE_H

#include <stdint.h>

#include "readmodel/chain.h"
#include "readmodel/feature_top.h"
#include "readmodel/market.h"
#include "readmodel/opportunities.h"

#define MP_RM_FEATURE_TOP_MAX MP_FEAT_CAPACITY
/* market slots: fee markets first, then prices. */
#define MP_RM_MARKET_FEE_SLOTS MP_MARKET_CAPACITY
#define MP_RM_MARKET_MIN (MP_MARKET_CAPACITY + MP_PRICE_CAPACITY)

typedef struct mp_rm_feature_state {
    mp_feat_table_t table;
    /* Keys updated since the last TICK: their aggregates are published then, once per
     * second of event time, not per transaction. */
    uint8_t dirty[MP_FEAT_CAPACITY];
} mp_rm_feature_state_t;

typedef struct mp_rm_opp_state {
    mp_opp_ctx_t ctx;
} mp_rm_opp_state_t;

typedef struct mp_rm_market_state {
    mp_chain_table_t chains;
    mp_price_table_t prices;
    mp_market_table_t fees;
} mp_rm_market_state_t;

#endif
