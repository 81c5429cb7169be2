/* Synthetic swap traffic: the pair, size and slippage of a trade, and its calldata for the
 * DEX routers (Uniswap V2, V3, SwapRouter02, Universal Router), aggregators (1inch, 0x),
 * Curve, Balancer, and bots calling V2 pairs and V3 pools directly. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ingest/synth_encode.h"

static uint64_t deadline(gen_t *g)
{
    return g->now_s + 60 + below(rng_next(&g->rng), 1800);
}

enum { PAIR_ANY, PAIR_ETH_IN, PAIR_ETH_OUT, PAIR_TAIL };

typedef struct swap {
    token_t in, out;
    double usd;
    u128 amount_in, min_out; /* exact-input terms */
    u128 amount_out, max_in; /* exact-output terms */
    uint32_t fee;            /* V3 pool fee tier, hundredths of a bip */
} swap_t;

/* Slippage tolerance: mostly 0.5 %, a long tail up to 15 % (the sandwichable ones). */
static double slippage(gen_t *g)
{
    double u = unit(rng_next(&g->rng));
    if (u < 0.6) return 0.005;
    if (u < 0.85) return uniform_in(g, 0.005, 0.03);
    return uniform_in(g, 0.03, 0.15);
}

static void plan_swap(gen_t *g, swap_t *sw, int mode)
{
    token_t a, b;
    double u = unit(rng_next(&g->rng));
    token_major(g, T_WETH, &a);
    if (mode == PAIR_TAIL || (mode == PAIR_ANY && u >= 0.60) || (mode != PAIR_ANY && u >= 0.65)) {
        token_tail(g, &b);
    } else if (mode == PAIR_ANY && u >= 0.55) {
        token_major(g, T_USDC, &a);
        token_major(g, T_USDT, &b);
    } else {
        double v = mode == PAIR_ANY ? u / 0.55 : u / 0.65;
        token_major(g, v < 0.55 ? T_USDC : v < 0.82 ? T_USDT : v < 0.91 ? T_DAI : T_WBTC, &b);
    }
    bool flip = mode == PAIR_ETH_OUT || (mode != PAIR_ETH_IN && (rng_next(&g->rng) & 1));
    sw->in = flip ? b : a;
    sw->out = flip ? a : b;
    sw->usd = notional_usd(g);
    double slip = slippage(g);
    double out_usd = sw->usd * 0.997; /* pool fee */
    sw->amount_in = units(sw->usd, sw->in.usd, sw->in.decimals);
    sw->min_out = units(out_usd * (1.0 - slip), sw->out.usd, sw->out.decimals);
    sw->amount_out = units(out_usd, sw->out.usd, sw->out.decimals);
    sw->max_in = units(sw->usd * (1.0 + slip), sw->in.usd, sw->in.decimals);
    if (sw->in.stable && sw->out.stable)
        sw->fee = 100;
    else if (!memcmp(sw->in.addr, mp_synth_addr[A_WETH], MP_ADDR_LEN) ||
             !memcmp(sw->out.addr, mp_synth_addr[A_WETH], MP_ADDR_LEN))
        sw->fee =
            (sw->in.usd < 1e-3 || sw->out.usd < 1e-3 || (rng_next(&g->rng) & 3) == 0) ? 3000 : 500;
    else
        sw->fee = 3000;
    if (mode == PAIR_TAIL && (rng_next(&g->rng) & 1)) sw->fee = 10000;
}

static bool is_weth(const token_t *t)
{
    return !memcmp(t->addr, mp_synth_addr[A_WETH], MP_ADDR_LEN);
}

/* V2 path: direct when one side is WETH or both are stables, else through WETH. */
static unsigned v2_path(const swap_t *sw, uint8_t path[3][MP_ADDR_LEN])
{
    memcpy(path[0], sw->in.addr, MP_ADDR_LEN);
    if (is_weth(&sw->in) || is_weth(&sw->out) || (sw->in.stable && sw->out.stable)) {
        memcpy(path[1], sw->out.addr, MP_ADDR_LEN);
        return 2;
    }
    memcpy(path[1], mp_synth_addr[A_WETH], MP_ADDR_LEN);
    memcpy(path[2], sw->out.addr, MP_ADDR_LEN);
    return 3;
}

/* V3 packed path: token (20) | fee (3) | token (20) [| fee | token]. Returns bytes. */
static uint32_t v3_path(const swap_t *sw, uint8_t out[66])
{
    uint8_t p[3][MP_ADDR_LEN];
    unsigned n = v2_path(sw, p);
    uint32_t len = 0;
    for (unsigned i = 0; i < n; i++) {
        if (i > 0) {
            uint32_t fee = n == 3 ? (i == 1 ? 500 : sw->fee) : sw->fee;
            out[len++] = (uint8_t)(fee >> 16);
            out[len++] = (uint8_t)(fee >> 8);
            out[len++] = (uint8_t)fee;
        }
        memcpy(out + len, p[i], MP_ADDR_LEN);
        len += MP_ADDR_LEN;
    }
    return len;
}

static void w_path(gen_t *g, uint8_t path[3][MP_ADDR_LEN], unsigned n)
{
    w_u64(g, n);
    for (unsigned i = 0; i < n; i++)
        w_addr(g, path[i]);
}

/* Uniswap V2 Router02 swaps. Variants: 0 exactTokensForTokens, 1 exactETHForTokens,
 * 2 exactTokensForETH, 3 tokensForExactTokens, 4 ETHForExactTokens, 5 tokensForExactETH,
 * 6-8 the fee-on-transfer versions of 0-2. */
void mp_synth_enc_v2(gen_t *g, unsigned v)
{
    static const uint32_t sels[] = {0x38ed1739, 0x7ff36ab5, 0x18cbafe5, 0x8803dbee, 0xfb3bdb41,
                                    0x4a25d94a, 0x5c11d795, 0xb6f9de95, 0x791ac947};
    static const int modes[] = {PAIR_ANY,     PAIR_ETH_IN, PAIR_ETH_OUT, PAIR_ANY, PAIR_ETH_IN,
                                PAIR_ETH_OUT, PAIR_TAIL,   PAIR_TAIL,    PAIR_TAIL};
    swap_t sw;
    uint8_t path[3][MP_ADDR_LEN];
    plan_swap(g, &sw, modes[v]);
    if (v == 7) { /* ETH in: WETH first */
        token_t t = sw.in;
        if (!is_weth(&t)) {
            sw.in = sw.out;
            sw.out = t;
            sw.amount_in = units(sw.usd, sw.in.usd, sw.in.decimals);
            sw.min_out = units(sw.usd * 0.95, sw.out.usd, sw.out.decimals);
        }
    } else if (v == 8 && is_weth(&sw.in)) { /* ETH out: WETH last */
        token_t t = sw.in;
        sw.in = sw.out;
        sw.out = t;
        sw.amount_in = units(sw.usd, sw.in.usd, sw.in.decimals);
        sw.min_out = units(sw.usd * 0.95, sw.out.usd, sw.out.decimals);
    }
    set_to(g, A_V2_ROUTER);
    unsigned n = v2_path(&sw, path);
    put_sel(g, sels[v]);
    bool eth_in = v == 1 || v == 4 || v == 7;
    bool exact_out = v == 3 || v == 4 || v == 5;
    if (eth_in) { /* (amountOutMin | amountOut, path, to, deadline), ETH as value */
        g->value = exact_out ? sw.max_in : sw.amount_in;
        w_u128(g, exact_out ? sw.amount_out : sw.min_out);
        w_u64(g, 0x80);
        w_addr(g, g->from);
        w_u64(g, deadline(g));
    } else { /* (amountIn, amountOutMin | amountOut, amountInMax, path, to, deadline) */
        w_u128(g, exact_out ? sw.amount_out : sw.amount_in);
        w_u128(g, exact_out ? sw.max_in : sw.min_out);
        w_u64(g, 0xa0);
        w_addr(g, g->from);
        w_u64(g, deadline(g));
    }
    w_path(g, path, n);
}

/* Uniswap V2 liquidity: 0 addLiquidityETH, 1 removeLiquidityETH, 2 addLiquidity,
 * 3 removeLiquidity. */
void mp_synth_enc_v2_liquidity(gen_t *g, unsigned v)
{
    token_t t, u;
    token_tail(g, &t);
    token_any_major(g, &u);
    double usd = notional_usd(g);
    u128 amt = units(usd, t.usd, t.decimals), eth = units(usd, g->eth_usd, 18);
    set_to(g, A_V2_ROUTER);
    switch (v) {
    case 0:
        put_sel(g, 0xf305d719);
        g->value = eth;
        w_addr(g, t.addr);
        w_u128(g, amt);
        w_u128(g, amt - amt / 100);
        w_u128(g, eth - eth / 100);
        break;
    case 1:
        put_sel(g, 0x02751cec);
        w_addr(g, t.addr);
        w_u128(g, units(usd, 1.0, 9)); /* LP tokens */
        w_u128(g, amt - amt / 50);
        w_u128(g, eth - eth / 50);
        break;
    case 2:
        put_sel(g, 0xe8e33700);
        w_addr(g, t.addr);
        w_addr(g, u.addr);
        w_u128(g, amt);
        w_u128(g, units(usd, u.usd, u.decimals));
        w_u128(g, amt - amt / 100);
        w_u128(g, units(usd * 0.99, u.usd, u.decimals));
        break;
    default:
        put_sel(g, 0xbaa2abde);
        w_addr(g, t.addr);
        w_addr(g, u.addr);
        w_u128(g, units(usd, 1.0, 9));
        w_u128(g, amt - amt / 50);
        w_u128(g, units(usd * 0.98, u.usd, u.decimals));
        break;
    }
    w_addr(g, g->from);
    w_u64(g, deadline(g));
}

/* A bot calling a V2 pair directly: swap(amount0Out, amount1Out, to, data). */
void mp_synth_enc_v2_pair(gen_t *g, unsigned v)
{
    (void)v;
    swap_t sw;
    plan_swap(g, &sw, PAIR_ANY);
    population(g, D_PAIR, 256, g->to);
    put_sel(g, 0x022c0d9f);
    bool zero_first = rng_next(&g->rng) & 1;
    w_u128(g, zero_first ? sw.min_out : 0);
    w_u128(g, zero_first ? 0 : sw.min_out);
    w_addr(g, g->from);
    w_u64(g, 0x80);
    w_u64(g, 0);
}

/* Uniswap V3 SwapRouter: 0 exactInputSingle, 1 exactInput (multi-hop), 2 exactOutputSingle. */
void mp_synth_enc_v3(gen_t *g, unsigned v)
{
    swap_t sw;
    plan_swap(g, &sw, v == 1 ? PAIR_TAIL : PAIR_ANY);
    set_to(g, A_V3_ROUTER);
    if (v == 1) {
        if (is_weth(&sw.in) || is_weth(&sw.out)) { /* make it two hops: stable <-> tail */
            token_t s;
            token_major(g, T_USDC, &s);
            if (is_weth(&sw.in))
                sw.in = s;
            else
                sw.out = s;
            sw.amount_in = units(sw.usd, sw.in.usd, sw.in.decimals);
            sw.min_out = units(sw.usd * 0.97, sw.out.usd, sw.out.decimals);
        }
        uint8_t path[66];
        uint32_t plen = v3_path(&sw, path);
        put_sel(g, 0xc04b8d59);
        w_u64(g, 0x20); /* the params tuple is dynamic (it holds bytes) */
        uint32_t base = g->len;
        uint32_t h_path = w_hole(g);
        w_addr(g, g->from);
        w_u64(g, deadline(g));
        w_u128(g, sw.amount_in);
        w_u128(g, sw.min_out);
        patch_here(g, h_path, base);
        w_bytes(g, path, plen);
        return;
    }
    bool out = v == 2;
    if (is_weth(&sw.in) && (rng_next(&g->rng) & 1))
        g->value = out ? sw.max_in : sw.amount_in; /* ETH in, the router wraps it */
    put_sel(g, out ? 0xdb3e2198 : 0x414bf389);
    w_addr(g, sw.in.addr);
    w_addr(g, sw.out.addr);
    w_u64(g, sw.fee);
    w_addr(g, g->from);
    w_u64(g, deadline(g));
    w_u128(g, out ? sw.amount_out : sw.amount_in);
    w_u128(g, out ? sw.max_in : sw.min_out);
    w_u64(g, 0); /* sqrtPriceLimitX96: none */
}

/* SwapRouter02 exactInputSingle(tokenIn, tokenOut, fee, recipient, amountIn, amountOutMin,
 * sqrtPriceLimitX96): no deadline in the struct. */
static void r02_exact_input_single(gen_t *g, const swap_t *sw)
{
    put_sel(g, 0x04e45aaf);
    w_addr(g, sw->in.addr);
    w_addr(g, sw->out.addr);
    w_u64(g, sw->fee);
    w_addr(g, g->from);
    w_u128(g, sw->amount_in);
    w_u128(g, sw->min_out);
    w_u64(g, 0);
}

/* SwapRouter02: 0 exactInputSingle, 1 multicall(deadline, [exactInputSingle]),
 * 2 its V2 leg swapExactTokensForTokens(amountIn, amountOutMin, path, to). */
void mp_synth_enc_r02(gen_t *g, unsigned v)
{
    swap_t sw;
    plan_swap(g, &sw, PAIR_ANY);
    set_to(g, A_ROUTER02);
    if (is_weth(&sw.in) && v != 2 && (rng_next(&g->rng) & 1)) g->value = sw.amount_in;
    if (v == 0) {
        r02_exact_input_single(g, &sw);
    } else if (v == 1) {
        uint8_t inner[4 + 7 * 32];
        put_sel(g, 0x5ae401dc);
        w_u64(g, deadline(g));
        w_u64(g, 0x40);
        w_u64(g, 1);    /* one call */
        w_u64(g, 0x20); /* its offset after the length word */
        gen_t sub = begin_sub(g, inner, sizeof inner);
        r02_exact_input_single(&sub, &sw);
        end_sub(g, &sub);
    } else {
        uint8_t path[3][MP_ADDR_LEN];
        unsigned n = v2_path(&sw, path);
        put_sel(g, 0x472b43f3);
        w_u128(g, sw.amount_in);
        w_u128(g, sw.min_out);
        w_u64(g, 0x80);
        w_addr(g, g->from);
        w_path(g, path, n);
    }
}

/* Universal Router execute(commands, inputs, deadline). Variants: 0 V2 exact-in,
 * 1 V3 exact-in, 2 ETH in (WRAP_ETH + swap), 3 ETH out (swap + UNWRAP_WETH). */
enum {
    UR_V3_SWAP_EXACT_IN = 0x00,
    UR_V2_SWAP_EXACT_IN = 0x08,
    UR_WRAP_ETH = 0x0b,
    UR_UNWRAP_WETH = 0x0c
};

static void ur_swap_input(gen_t *g, const swap_t *sw, bool v3, const uint8_t *recipient,
                          bool payer_is_user)
{
    w_addr(g, recipient);
    w_u128(g, sw->amount_in);
    w_u128(g, sw->min_out);
    w_u64(g, 0xa0);
    w_u64(g, payer_is_user);
    if (v3) {
        uint8_t path[66];
        uint32_t plen = v3_path(sw, path);
        w_bytes(g, path, plen);
    } else {
        uint8_t path[3][MP_ADDR_LEN];
        unsigned n = v2_path(sw, path);
        w_path(g, path, n);
    }
}

void mp_synth_enc_universal_router(gen_t *g, unsigned v)
{
    static const uint8_t msg_sender[MP_ADDR_LEN] = {[19] = 1},
                         router_itself[MP_ADDR_LEN] = {[19] = 2};
    double u = unit(rng_next(&g->rng));
    set_to(g, u < 0.6 ? A_UR_12 : u < 0.9 ? A_UR_V4 : A_UR_OLD);
    swap_t sw;
    plan_swap(g, &sw, v == 2 ? PAIR_ETH_IN : v == 3 ? PAIR_ETH_OUT : PAIR_ANY);
    bool v3 = v == 1 || ((v == 2 || v == 3) && (rng_next(&g->rng) & 1));
    uint8_t cmds[2];
    unsigned ncmd = 0;
    if (v == 2) cmds[ncmd++] = UR_WRAP_ETH;
    cmds[ncmd++] = v3 ? UR_V3_SWAP_EXACT_IN : UR_V2_SWAP_EXACT_IN;
    if (v == 3) cmds[ncmd++] = UR_UNWRAP_WETH;

    put_sel(g, 0x3593564c);
    uint32_t h_cmds = w_hole(g), h_inputs = w_hole(g);
    w_u64(g, deadline(g));
    patch_here(g, h_cmds, 4);
    w_bytes(g, cmds, ncmd);
    patch_here(g, h_inputs, 4);
    w_u64(g, ncmd);
    uint32_t arr = g->len, h_elem[2];
    for (unsigned i = 0; i < ncmd; i++)
        h_elem[i] = w_hole(g);
    for (unsigned i = 0; i < ncmd; i++) {
        patch_here(g, h_elem[i], arr);
        uint32_t h_len = w_hole(g), start = g->len;
        if (cmds[i] == UR_WRAP_ETH) {
            w_addr(g, router_itself);
            w_u128(g, sw.amount_in);
            g->value = sw.amount_in;
        } else if (cmds[i] == UR_UNWRAP_WETH) {
            w_addr(g, msg_sender);
            w_u128(g, sw.min_out);
        } else {
            ur_swap_input(g, &sw, v3, v == 3 ? router_itself : msg_sender, v != 2);
        }
        patch(g, h_len, g->len - start);
    }
}

/* 1inch: 0 v6 unoswap(token, amount, minReturn, dex), 1 v6 ethUnoswap(minReturn, dex),
 * 2 v5 unoswap(srcToken, amount, minReturn, pools[]). Addresses are uint256 in v6; a dex
 * word is a pool address with protocol flags in the top bits. */
void mp_synth_enc_1inch(gen_t *g, unsigned v)
{
    swap_t sw;
    uint8_t pool[MP_ADDR_LEN];
    plan_swap(g, &sw, v == 1 ? PAIR_ETH_IN : PAIR_ANY);
    population(g, D_POOL, 256, pool);
    uint8_t *w;
    if (v == 0) {
        set_to(g, A_1INCH_V6);
        put_sel(g, 0x83800a8e);
        w_addr(g, sw.in.addr);
        w_u128(g, sw.amount_in);
        w_u128(g, sw.min_out);
    } else if (v == 1) {
        set_to(g, A_1INCH_V6);
        put_sel(g, 0xa76dfc3b);
        g->value = sw.amount_in;
        w_u128(g, sw.min_out);
    } else {
        set_to(g, A_1INCH_V5);
        put_sel(g, 0x0502b1c5);
        w_addr(g, sw.in.addr);
        w_u128(g, sw.amount_in);
        w_u128(g, sw.min_out);
        w_u64(g, 0x80);
        w_u64(g, 1);
    }
    w = word(g);
    memcpy(w + 12, pool, MP_ADDR_LEN);
    w[0] = 0x20; /* protocol flag bits */
}

/* 0x sellToUniswap(tokens[], sellAmount, minBuyAmount, isSushi). */
void mp_synth_enc_0x(gen_t *g, unsigned v)
{
    (void)v;
    swap_t sw;
    uint8_t path[3][MP_ADDR_LEN];
    plan_swap(g, &sw, PAIR_ANY);
    set_to(g, A_0X);
    unsigned n = v2_path(&sw, path);
    put_sel(g, 0xd9627aa4);
    w_u64(g, 0x80);
    w_u128(g, sw.amount_in);
    w_u128(g, sw.min_out);
    w_u64(g, (rng_next(&g->rng) & 3) == 0);
    w_path(g, path, n);
}

/* Curve 3pool exchange(i, j, dx, min_dy) over DAI(0), USDC(1), USDT(2). */
void mp_synth_enc_curve(gen_t *g, unsigned v)
{
    (void)v;
    static const unsigned dec[3] = {18, 6, 6};
    unsigned i = (unsigned)below(rng_next(&g->rng), 3);
    unsigned j = (i + 1 + (unsigned)below(rng_next(&g->rng), 2)) % 3;
    double usd = notional_usd(g), slip = slippage(g) / 5;
    set_to(g, A_CURVE_3POOL);
    put_sel(g, 0x3df02124);
    w_u64(g, i);
    w_u64(g, j);
    w_u128(g, units(usd, 1.0, dec[i]));
    w_u128(g, units(usd * 0.9996 * (1.0 - slip), 1.0, dec[j]));
}

/* Balancer Vault swap(singleSwap, funds, limit, deadline). */
void mp_synth_enc_balancer(gen_t *g, unsigned v)
{
    (void)v;
    swap_t sw;
    plan_swap(g, &sw, PAIR_ANY);
    set_to(g, A_BALANCER);
    put_sel(g, 0x52bbbe29);
    uint32_t h_single = w_hole(g);
    w_addr(g, g->from); /* funds: sender, fromInternalBalance, recipient, toInternalBalance */
    w_u64(g, 0);
    w_addr(g, g->from);
    w_u64(g, 0);
    w_u128(g, sw.min_out);
    w_u64(g, deadline(g));
    patch_here(g, h_single, 4);
    uint32_t tuple = g->len;
    w_rand(g);   /* poolId */
    w_u64(g, 0); /* GIVEN_IN */
    w_addr(g, sw.in.addr);
    w_addr(g, sw.out.addr);
    w_u128(g, sw.amount_in);
    uint32_t h_data = w_hole(g);
    patch_here(g, h_data, tuple);
    w_u64(g, 0);
}

/* A bot calling a V3 pool: swap(recipient, zeroForOne, amountSpecified, sqrtPriceLimitX96,
 * data) with the price limit at the far end of the range. */
void mp_synth_enc_v3_pool(gen_t *g, unsigned v)
{
    (void)v;
    static const uint8_t max_sqrt_minus_1[MP_ADDR_LEN] = {0xff, 0xfd, 0x89, 0x63, 0xef, 0xd1, 0xfc,
                                                          0x6a, 0x50, 0x64, 0x88, 0x49, 0x5d, 0x95,
                                                          0x1d, 0x52, 0x63, 0x98, 0x8d, 0x25};
    swap_t sw;
    plan_swap(g, &sw, PAIR_ANY);
    population(g, D_POOL, 256, g->to);
    bool zero_for_one = rng_next(&g->rng) & 1;
    put_sel(g, 0x128acb08);
    w_addr(g, g->from);
    w_u64(g, zero_for_one);
    w_u128(g, sw.amount_in);
    if (zero_for_one)
        w_u64(g, 0x1000276a4ull); /* MIN_SQRT_RATIO + 1 */
    else
        w_addr(g, max_sqrt_minus_1);
    w_u64(g, 0xa0);
    w_rand_bytes(g, 64);
}
