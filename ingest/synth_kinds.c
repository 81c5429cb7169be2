/* The kind table (the synthetic traffic mix: weight, encoder, variant and gas of every
 * kind of tx), the weighted draw of a kind, and a tx's content stream from its first draw
 * to its encoding. */
#include "ingest/synth_kinds.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/synth_encode.h"
#include "ingest/synth_rng.h"

/* ---- the kind table: the traffic mix ---- */

typedef void (*encode_fn)(gen_t *g, unsigned variant);

typedef struct kind {
    uint16_t weight; /* relative frequency, per ~10000 txs */
    uint8_t variant;
    uint8_t used_lo, used_hi; /* percent of the limit a mined tx consumes */
    uint32_t gas_lo, gas_hi;  /* gas limit range */
    encode_fn encode;
} kind_t;
/* One row: weight, variant, encoder, gas limit range, percent of it used. */
/* clang-format off */
#define KIND(weight, variant, encode, gas_lo, gas_hi, used_lo, used_hi) \
    {(weight), (variant), (used_lo), (used_hi), (gas_lo), (gas_hi), (encode)}
/* clang-format on */

static const kind_t kinds[] = {
    KIND(1800, 0, mp_synth_enc_eth_transfer, 21000, 21000, 100, 100),
    /* ERC-20: transfer major / long-tail, approve, transferFrom, Permit2 approve */
    KIND(900, 0, mp_synth_enc_erc20, 50000, 90000, 55, 85),
    KIND(400, 1, mp_synth_enc_erc20, 50000, 120000, 45, 80),
    KIND(500, 2, mp_synth_enc_erc20, 46000, 70000, 60, 90),
    KIND(50, 3, mp_synth_enc_erc20, 60000, 100000, 55, 85),
    KIND(60, 4, mp_synth_enc_erc20, 50000, 80000, 60, 85),
    KIND(150, 0, mp_synth_enc_weth, 30000, 50000, 60, 95),
    KIND(100, 1, mp_synth_enc_weth, 35000, 60000, 60, 95),
    /* DEX swaps: the bulk of the traffic */
    KIND(350, 0, mp_synth_enc_v2, 120000, 220000, 55, 85),
    KIND(400, 1, mp_synth_enc_v2, 120000, 220000, 55, 85),
    KIND(300, 2, mp_synth_enc_v2, 120000, 220000, 55, 85),
    KIND(60, 3, mp_synth_enc_v2, 120000, 220000, 55, 85),
    KIND(80, 4, mp_synth_enc_v2, 120000, 220000, 55, 85),
    KIND(50, 5, mp_synth_enc_v2, 120000, 220000, 55, 85),
    KIND(50, 6, mp_synth_enc_v2, 120000, 220000, 55, 85),
    KIND(120, 7, mp_synth_enc_v2, 120000, 220000, 55, 85),
    KIND(100, 8, mp_synth_enc_v2, 120000, 220000, 55, 85),
    KIND(40, 0, mp_synth_enc_v2_liquidity, 200000, 350000, 60, 90),
    KIND(30, 1, mp_synth_enc_v2_liquidity, 200000, 350000, 60, 90),
    KIND(15, 2, mp_synth_enc_v2_liquidity, 200000, 350000, 60, 90),
    KIND(10, 3, mp_synth_enc_v2_liquidity, 200000, 350000, 60, 90),
    KIND(100, 0, mp_synth_enc_v2_pair, 100000, 250000, 40, 80),
    KIND(200, 0, mp_synth_enc_v3, 130000, 230000, 55, 85),
    KIND(80, 1, mp_synth_enc_v3, 130000, 230000, 55, 85),
    KIND(30, 2, mp_synth_enc_v3, 130000, 230000, 55, 85),
    KIND(150, 0, mp_synth_enc_r02, 130000, 230000, 55, 85),
    KIND(350, 1, mp_synth_enc_r02, 130000, 230000, 55, 85),
    KIND(60, 2, mp_synth_enc_r02, 130000, 230000, 55, 85),
    KIND(350, 0, mp_synth_enc_universal_router, 150000, 300000, 50, 80),
    KIND(250, 1, mp_synth_enc_universal_router, 150000, 300000, 50, 80),
    KIND(200, 2, mp_synth_enc_universal_router, 150000, 300000, 50, 80),
    KIND(100, 3, mp_synth_enc_universal_router, 150000, 300000, 50, 80),
    KIND(150, 0, mp_synth_enc_1inch, 130000, 250000, 55, 85),
    KIND(80, 1, mp_synth_enc_1inch, 130000, 250000, 55, 85),
    KIND(40, 2, mp_synth_enc_1inch, 130000, 250000, 55, 85),
    KIND(100, 0, mp_synth_enc_0x, 130000, 250000, 55, 85),
    KIND(150, 0, mp_synth_enc_curve, 130000, 250000, 55, 85),
    KIND(80, 0, mp_synth_enc_balancer, 130000, 250000, 55, 85),
    KIND(60, 0, mp_synth_enc_v3_pool, 150000, 300000, 40, 80),
    /* NFT */
    KIND(70, 0, mp_synth_enc_seaport, 150000, 300000, 50, 85),
    KIND(50, 1, mp_synth_enc_seaport, 150000, 300000, 50, 85),
    KIND(60, 0, mp_synth_enc_nft, 46000, 60000, 70, 95),
    KIND(60, 1, mp_synth_enc_nft, 80000, 150000, 50, 85),
    KIND(20, 2, mp_synth_enc_nft, 80000, 150000, 50, 85),
    KIND(40, 3, mp_synth_enc_nft, 60000, 120000, 50, 85),
    /* lending, with occasional liquidations */
    KIND(80, 0, mp_synth_enc_aave, 200000, 350000, 55, 85),
    KIND(40, 1, mp_synth_enc_aave, 300000, 500000, 55, 85),
    KIND(40, 2, mp_synth_enc_aave, 200000, 300000, 55, 85),
    KIND(40, 3, mp_synth_enc_aave, 200000, 350000, 55, 85),
    KIND(15, 4, mp_synth_enc_aave, 250000, 350000, 55, 85),
    KIND(10, 5, mp_synth_enc_aave, 400000, 1200000, 40, 80),
    KIND(10, 6, mp_synth_enc_aave, 300000, 1500000, 40, 90),
    KIND(30, 0, mp_synth_enc_comet, 100000, 200000, 55, 85),
    KIND(20, 1, mp_synth_enc_comet, 100000, 200000, 55, 85),
    KIND(3, 2, mp_synth_enc_comet, 500000, 2000000, 40, 80),
    /* oracles */
    KIND(80, 0, mp_synth_enc_chainlink, 250000, 500000, 50, 80),
    KIND(20, 1, mp_synth_enc_chainlink, 250000, 500000, 50, 80),
    KIND(20, 2, mp_synth_enc_chainlink, 300000, 600000, 50, 80),
    /* bridges */
    KIND(40, 0, mp_synth_enc_bridge, 100000, 200000, 50, 85),
    KIND(10, 1, mp_synth_enc_bridge, 100000, 200000, 50, 85),
    KIND(50, 2, mp_synth_enc_bridge, 100000, 200000, 50, 85),
    KIND(15, 3, mp_synth_enc_bridge, 100000, 200000, 50, 85),
    KIND(50, 4, mp_synth_enc_bridge, 80000, 150000, 50, 85),
    KIND(20, 5, mp_synth_enc_bridge, 200000, 400000, 50, 85),
    KIND(15, 6, mp_synth_enc_bridge, 80000, 150000, 50, 85),
    KIND(10, 7, mp_synth_enc_bridge, 150000, 300000, 50, 85),
    KIND(50, 8, mp_synth_enc_bridge, 100000, 200000, 50, 85),
    /* naming, staking, smart wallets */
    KIND(25, 0, mp_synth_enc_ens, 46000, 60000, 70, 95),
    KIND(25, 1, mp_synth_enc_ens, 250000, 350000, 60, 90),
    KIND(15, 2, mp_synth_enc_ens, 80000, 120000, 60, 90),
    KIND(10, 3, mp_synth_enc_ens, 50000, 70000, 60, 90),
    KIND(50, 0, mp_synth_enc_lido, 80000, 120000, 60, 90),
    KIND(150, 0, mp_synth_enc_safe, 80000, 300000, 50, 85),
    KIND(60, 0, mp_synth_enc_4337, 200000, 700000, 40, 80),
    KIND(60, 1, mp_synth_enc_4337, 200000, 700000, 40, 80),
    /* everything else */
    KIND(500, 0, mp_synth_enc_unknown, 50000, 400000, 30, 90),
    KIND(40, 0, mp_synth_enc_deploy, 150000, 3000000, 70, 95),
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])
_Static_assert(N_KINDS <= 255, "kind ids fit mp_synth_tx_t.kind");

static uint32_t kind_cum[N_KINDS]; /* running weight sums; filled by setup_once */

static int setup_err;
static pthread_once_t setup_guard = PTHREAD_ONCE_INIT;

static void setup_once(void)
{
    int err = mp_synth_catalog_load();
    uint32_t sum = 0;
    for (size_t i = 0; i < N_KINDS; i++) {
        sum += kinds[i].weight;
        kind_cum[i] = sum;
    }
    setup_err = err;
}

static unsigned pick_kind(uint64_t r)
{
    uint32_t x = (uint32_t)below(r, kind_cum[N_KINDS - 1]);
    size_t lo = 0, hi = N_KINDS - 1;
    while (lo < hi) { /* first i with kind_cum[i] > x */
        size_t mid = (lo + hi) / 2;
        if (kind_cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return (unsigned)lo;
}

/* The first CONTENT_HEAD_DRAWS draws of a content stream: kind and gas, taken at
 * insertion (block building needs the gas); emission continues the stream after them. */
#define CONTENT_HEAD_DRAWS 3u
void mp_synth_content_begin(uint64_t seed, uint64_t content_id, uint64_t *rng, unsigned *kind,
                            uint32_t *gas_limit, uint32_t *gas_used)
{
    *rng = derive(seed, D_CONTENT, content_id);
    *kind = pick_kind(rng_next(rng));
    const kind_t *k = &kinds[*kind];
    *gas_limit = k->gas_lo + (uint32_t)below(rng_next(rng), k->gas_hi - k->gas_lo + 1u);
    uint32_t pct = k->used_lo + (uint32_t)below(rng_next(rng), k->used_hi - k->used_lo + 1u);
    *gas_used = (uint32_t)((uint64_t)*gas_limit * pct / 100);
}

void mp_synth_content_encode(gen_t *g, uint64_t content_id, unsigned kind)
{
    /* splitmix64 state advances by a constant per draw: skip the head draws */
    g->rng = derive(g->seed, D_CONTENT, content_id) + CONTENT_HEAD_DRAWS * 0x9e3779b97f4a7c15ull;
    kinds[kind].encode(g, kinds[kind].variant);
}

int mp_synth_kinds_setup(void)
{
    pthread_once(&setup_guard, setup_once);
    return setup_err;
}

unsigned mp_synth_kind_count(void)
{
    return N_KINDS;
}
