/* What the synthetic content encoders share: amounts in a token's units, the tokens and
 * people a tx draws, and the encoders themselves. An encoder fills one tx's recipient,
 * value and calldata from its content stream (gen_t.rng); `variant` picks the method. */
#ifndef MP_SYNTH_ENCODE_H
#define MP_SYNTH_ENCODE_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ingest/synth_calldata.h"
#include "ingest/synth_catalog.h"
#include "ingest/synth_rng.h"

/* ---- amounts, tokens, people ---- */

static inline u128 units(double usd, double price_usd, unsigned decimals)
{
    static const double pow10_tab[19] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                         1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
    double x = usd / price_usd * pow10_tab[decimals];
    if (!(x >= 1.0)) x = 1.0;
    if (x > 1e36) x = 1e36;
    return (u128)x;
}

static inline double uniform_in(gen_t *g, double lo, double hi)
{
    return lo + (hi - lo) * unit(rng_next(&g->rng));
}

/* Trade size in USD: log-uniform $20..$50k, 2 % whales up to 100x larger. */
static inline double notional_usd(gen_t *g)
{
    double usd = exp(uniform_in(g, 3.0, 10.8));
    if (unit(rng_next(&g->rng)) < 0.02) usd *= exp(uniform_in(g, 2.3, 4.6));
    return usd;
}

static inline u128 eth_wei(double eth)
{
    return (u128)(eth * 1e18);
}

/* ETH moved by a plain transfer: 0.001..20 ETH, 1 % whales 20..2000 ETH. */
static inline double eth_amount(gen_t *g)
{
    if (unit(rng_next(&g->rng)) < 0.01) return exp(uniform_in(g, 3.0, 7.6));
    return exp(uniform_in(g, -6.9, 3.0));
}

static inline void eoa(gen_t *g, uint8_t out[MP_ADDR_LEN])
{
    fill_id(out, MP_ADDR_LEN, g->seed, D_EOA, below(rng_next(&g->rng), 1u << 20));
}

static inline void population(gen_t *g, uint64_t domain, uint64_t n, uint8_t out[MP_ADDR_LEN])
{
    fill_id(out, MP_ADDR_LEN, g->seed, domain, below(rng_next(&g->rng), n));
}

enum { T_WETH, T_USDC, T_USDT, T_DAI, T_WBTC };

typedef struct token {
    uint8_t addr[MP_ADDR_LEN];
    unsigned decimals;
    double usd;
    bool stable;
} token_t;

static inline void token_major(const gen_t *g, unsigned t, token_t *o)
{
    static const unsigned dec[] = {18, 6, 6, 18, 8};
    memcpy(o->addr, mp_synth_addr[A_WETH + t], MP_ADDR_LEN);
    o->decimals = dec[t];
    o->stable = t == T_USDC || t == T_USDT || t == T_DAI;
    o->usd = t == T_WETH ? g->eth_usd : t == T_WBTC ? g->eth_usd * g->btc_per_eth : 1.0;
}

/* One of 256 long-tail tokens, each with a fixed price between 1e-8 and 10 USD. */
static inline void token_tail(gen_t *g, token_t *o)
{
    uint64_t id = below(rng_next(&g->rng), 256);
    fill_id(o->addr, MP_ADDR_LEN, g->seed, D_TOKEN, id);
    o->decimals = (id & 7) == 0 ? 9 : 18;
    o->stable = false;
    o->usd = pow(10.0, -8.0 + 9.0 * unit(derive(g->seed, D_TOKEN_PRICE, id)));
}

static inline void token_any_major(gen_t *g, token_t *o)
{
    double u = unit(rng_next(&g->rng));
    token_major(g,
                u < 0.35   ? T_USDC
                : u < 0.70 ? T_USDT
                : u < 0.80 ? T_DAI
                : u < 0.92 ? T_WETH
                           : T_WBTC,
                o);
}

static inline void set_to(gen_t *g, unsigned known_id)
{
    memcpy(g->to, mp_synth_addr[known_id], MP_ADDR_LEN);
}

/* ---- encoders, one per family ---- */

/* ingest/synth_enc_tokens.c */
void mp_synth_enc_eth_transfer(gen_t *g, unsigned v);
void mp_synth_enc_erc20(gen_t *g, unsigned v);
void mp_synth_enc_weth(gen_t *g, unsigned v);
void mp_synth_enc_seaport(gen_t *g, unsigned v);
void mp_synth_enc_nft(gen_t *g, unsigned v);

/* ingest/synth_enc_swaps.c */
void mp_synth_enc_v2(gen_t *g, unsigned v);
void mp_synth_enc_v2_liquidity(gen_t *g, unsigned v);
void mp_synth_enc_v2_pair(gen_t *g, unsigned v);
void mp_synth_enc_v3(gen_t *g, unsigned v);
void mp_synth_enc_r02(gen_t *g, unsigned v);
void mp_synth_enc_universal_router(gen_t *g, unsigned v);
void mp_synth_enc_1inch(gen_t *g, unsigned v);
void mp_synth_enc_0x(gen_t *g, unsigned v);
void mp_synth_enc_curve(gen_t *g, unsigned v);
void mp_synth_enc_balancer(gen_t *g, unsigned v);
void mp_synth_enc_v3_pool(gen_t *g, unsigned v);

/* ingest/synth_enc_contracts.c */
void mp_synth_enc_aave(gen_t *g, unsigned v);
void mp_synth_enc_comet(gen_t *g, unsigned v);
void mp_synth_enc_chainlink(gen_t *g, unsigned v);
void mp_synth_enc_bridge(gen_t *g, unsigned v);
void mp_synth_enc_ens(gen_t *g, unsigned v);
void mp_synth_enc_lido(gen_t *g, unsigned v);
void mp_synth_enc_safe(gen_t *g, unsigned v);
void mp_synth_enc_4337(gen_t *g, unsigned v);
void mp_synth_enc_unknown(gen_t *g, unsigned v);
void mp_synth_enc_deploy(gen_t *g, unsigned v);

#endif
