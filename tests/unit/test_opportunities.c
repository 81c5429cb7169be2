/* Unit tests for readmodel/opportunities.c: each detector firing and not firing on
 * calldata built here with a small ABI encoder, the gas-war tables and their expiry,
 * ids and names, touch discipline and determinism. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "readmodel/opportunities.h"

#include "touch_harness.h"

#define S 1000000000ull
#define T0 (1700000000ull * S)
#define GWEI 1000000000ull
#define E6 ((unsigned __int128)1000000u)
#define E18 ((unsigned __int128)1000000000000000000ull)

/* ---- ABI encoding ---- */

typedef struct cd {
    uint8_t b[MP_INPUT_PREFIX_MAX];
    uint32_t len;
} cd_t;

static void cd_sel(cd_t *c, uint32_t sel)
{
    c->len = 0;
    for (int i = 0; i < 4; i++)
        c->b[c->len++] = (uint8_t)(sel >> (24 - 8 * i));
}

static void cd_u128(cd_t *c, unsigned __int128 v)
{
    cr_assert_leq(c->len + 32, sizeof c->b);
    memset(c->b + c->len, 0, 16);
    for (int i = 0; i < 16; i++)
        c->b[c->len + 16 + i] = (uint8_t)(v >> (120 - 8 * i));
    c->len += 32;
}

static void cd_max(cd_t *c)
{
    memset(c->b + c->len, 0xff, 32);
    c->len += 32;
}

static void cd_addr(cd_t *c, const uint8_t a[MP_ADDR_LEN])
{
    memset(c->b + c->len, 0, 12);
    memcpy(c->b + c->len + 12, a, MP_ADDR_LEN);
    c->len += 32;
}

/* Appends raw bytes zero-padded to a word boundary (a `bytes` body after its length). */
static void cd_bytes_body(cd_t *c, const uint8_t *p, uint32_t n)
{
    memcpy(c->b + c->len, p, n);
    uint32_t padded = (n + 31) / 32 * 32;
    memset(c->b + c->len + n, 0, padded - n);
    c->len += padded;
}

/* The arguments of c (without its selector) as a `bytes` element: length + body. */
static void cd_call_as_bytes(cd_t *outer, const cd_t *inner)
{
    cd_u128(outer, inner->len);
    cd_bytes_body(outer, inner->b, inner->len);
}

static const uint8_t *addr_of(const char *label)
{
    const mp_catalog_address_t *a = mp_catalog_address_by_label(label);
    cr_assert_not_null(a, "catalog has no %s", label);
    return a->addr;
}

static void addr_fill(uint8_t a[MP_ADDR_LEN], uint8_t v)
{
    memset(a, v, MP_ADDR_LEN);
}

/* V2: swapExactTokensForTokens-shaped (amountIn, amountOutMin, path, to, deadline). */
static void v2_tokens_in(cd_t *c, uint32_t sel, unsigned __int128 in, unsigned __int128 min_out,
                         const uint8_t *from_token, const uint8_t *to_token)
{
    uint8_t me[MP_ADDR_LEN];
    addr_fill(me, 0x77);
    cd_sel(c, sel);
    cd_u128(c, in);
    cd_u128(c, min_out);
    cd_u128(c, 5 * 32); /* path offset */
    cd_addr(c, me);
    cd_u128(c, 1800000000);
    cd_u128(c, 2);
    cd_addr(c, from_token);
    cd_addr(c, to_token);
}

/* V2: swapExactETHForTokens(amountOutMin, path, to, deadline). */
static void v2_eth_in(cd_t *c, unsigned __int128 min_out, const uint8_t *to_token)
{
    uint8_t me[MP_ADDR_LEN];
    addr_fill(me, 0x77);
    cd_sel(c, 0x7ff36ab5);
    cd_u128(c, min_out);
    cd_u128(c, 4 * 32);
    cd_addr(c, me);
    cd_u128(c, 1800000000);
    cd_u128(c, 2);
    cd_addr(c, addr_of("WETH"));
    cd_addr(c, to_token);
}

/* V3 SwapRouter exactInputSingle((tokenIn, tokenOut, fee, recipient, deadline, amountIn,
 * amountOutMinimum, sqrtPriceLimitX96)). */
static void v3_single(cd_t *c, const uint8_t *tin, const uint8_t *tout, unsigned __int128 in,
                      unsigned __int128 min_out, unsigned __int128 limit)
{
    uint8_t me[MP_ADDR_LEN];
    addr_fill(me, 0x77);
    cd_sel(c, 0x414bf389);
    cd_addr(c, tin);
    cd_addr(c, tout);
    cd_u128(c, 3000);
    cd_addr(c, me);
    cd_u128(c, 1800000000);
    cd_u128(c, in);
    cd_u128(c, min_out);
    cd_u128(c, limit);
}

/* ---- transactions ---- */

static uint8_t next_tag = 1;

static mp_tx_seen_t tx_call(const uint8_t *to, const cd_t *cd, unsigned __int128 value_wei)
{
    mp_tx_seen_t tx;
    memset(&tx, 0, sizeof tx);
    tx.chain_id = 1;
    memset(tx.hash, next_tag, sizeof tx.hash);
    tx.hash[1] = 0xab;
    next_tag++;
    addr_fill(tx.from, 0x51);
    memcpy(tx.to, to, MP_ADDR_LEN);
    tx.has_to = true;
    tx.tx_type = 2;
    tx.gas_limit = 250000;
    tx.max_fee = 40 * GWEI;
    tx.max_priority_fee = 2 * GWEI;
    tx.gas_price = tx.max_fee;
    for (int i = 0; i < 16; i++)
        tx.value.be[16 + i] = (uint8_t)(value_wei >> (120 - 8 * i));
    if (cd) {
        tx.input_prefix = cd->b;
        tx.input_prefix_len = cd->len;
        tx.input_len = cd->len;
    }
    return tx;
}

typedef struct run {
    mp_rm_opportunity_t out[MP_OPP_MAX_PER_TX];
    int n;
} run_t;

static run_t run_touch(mp_opp_ctx_t *ctx, const mp_tx_seen_t *tx, uint64_t time_ns,
                       const mp_rm_touch_t *touch)
{
    mp_classification_t c;
    cr_assert_eq(mp_catalog_classify(tx->to, tx->has_to, tx->input_prefix, tx->input_prefix_len,
                                     &tx->value, &c),
                 0);
    run_t r;
    memset(&r, 0, sizeof r);
    r.n = mp_opp_on_tx(ctx, tx, &c, time_ns, touch, r.out, MP_OPP_MAX_PER_TX);
    cr_assert_geq(r.n, 0);
    for (int i = 0; i < r.n; i++) { /* every candidate is explained */
        cr_assert_gt(strlen(r.out[i].reason), 10);
        cr_assert_lt(strlen(r.out[i].reason), MP_RM_REASON_LEN);
        cr_assert_gt(r.out[i].input_count, 0);
        cr_assert_leq(r.out[i].score, 100);
        cr_assert_eq(r.out[i].status, MP_OPP_OPEN);
        cr_assert_eq(r.out[i].detected_unix_ns, time_ns);
    }
    return r;
}

static run_t run(mp_opp_ctx_t *ctx, const mp_tx_seen_t *tx, uint64_t time_ns)
{
    return run_touch(ctx, tx, time_ns, NULL);
}

static const mp_rm_opportunity_t *find_kind(const run_t *r, unsigned kind)
{
    for (int i = 0; i < r->n; i++)
        if (r->out[i].kind == kind) return &r->out[i];
    return NULL;
}

static mp_opp_ctx_t *ctx_new(void)
{
    mp_opp_ctx_t *ctx = malloc(sizeof *ctx);
    cr_assert(ctx);
    mp_opp_init(ctx);
    return ctx;
}

static void set_eth_usd(mp_opp_ctx_t *ctx, double price, uint64_t time_ns)
{
    mp_price_t p;
    memset(&p, 0, sizeof p);
    strcpy(p.symbol, "ETH/USD");
    p.price = price;
    cr_assert_eq(mp_opp_on_price(ctx, &p, time_ns, NULL), 1);
}

/* ---- sandwich ---- */

Test(opportunities, sandwich_fires_on_zero_min_out)
{
    mp_opp_ctx_t *ctx = ctx_new();
    cd_t cd;
    v2_eth_in(&cd, 0, addr_of("USDC"));
    mp_tx_seen_t tx = tx_call(addr_of("Uniswap V2 Router02"), &cd, 20 * E18);
    run_t r = run(ctx, &tx, T0);
    const mp_rm_opportunity_t *o = find_kind(&r, MP_OPP_SANDWICH);
    cr_assert_not_null(o);
    cr_assert_eq(o->protocol, MP_PROTO_UNISWAP_V2);
    cr_assert_eq(mp_opp_input(o, "slippage_bps", -1), 10000);
    cr_assert_eq(mp_opp_input(o, "amount_in", -1), 20.0);
    cr_assert_eq(mp_opp_input(o, "size_vs_large", -1), 2.0);
    /* size 25 + 12.5 * log2(2) = 37.5, room 50 */
    cr_assert_eq(o->score, 87);
    cr_assert_eq(memcmp(o->trigger, tx.hash, MP_HASH_LEN), 0);
    cr_assert_eq(o->chain_id, 1);
    cr_assert_not_null(strstr(o->reason, "amountOutMin 0"));
    free(ctx);
}

Test(opportunities, sandwich_fires_on_priced_slippage_room)
{
    mp_opp_ctx_t *ctx = ctx_new();
    set_eth_usd(ctx, 3000, T0 - 30 * S);
    cd_t cd; /* 60000 USDC -> WETH, expected 20 WETH, min 18: 1000 bps of room */
    v2_tokens_in(&cd, 0x38ed1739, 60000 * E6, 18 * E18, addr_of("USDC"), addr_of("WETH"));
    mp_tx_seen_t tx = tx_call(addr_of("Uniswap V2 Router02"), &cd, 0);
    run_t r = run(ctx, &tx, T0);
    const mp_rm_opportunity_t *o = find_kind(&r, MP_OPP_SANDWICH);
    cr_assert_not_null(o);
    cr_assert_float_eq(mp_opp_input(o, "slippage_bps", -1), 1000.0, 1e-6);
    cr_assert_float_eq(mp_opp_input(o, "expected_out", -1), 20.0, 1e-9);
    cr_assert_eq(mp_opp_input(o, "amount_out_min", -1), 18.0);
    cr_assert_eq(mp_opp_input(o, "eth_usd", -1), 3000.0);
    cr_assert_float_eq(mp_opp_input(o, "size_vs_large", -1), 2.4, 1e-9);
    cr_assert_eq(o->input_count, 6);
    cr_assert_str_eq(o->reason, "swapExactTokensForTokens 60000 USDC -> WETH: min out 18 is 1000 "
                                "bps under 20 expected at 3000 ETH/USD");
    free(ctx);
}

Test(opportunities, sandwich_prices_eth_to_stable_swaps_too)
{
    mp_opp_ctx_t *ctx = ctx_new();
    set_eth_usd(ctx, 2500, T0);
    cd_t cd; /* 40 WETH -> USDT (fee-on-transfer variant), expected 100000, min 97000 */
    v2_tokens_in(&cd, 0x791ac947, 40 * E18, 97000 * E6, addr_of("WETH"), addr_of("USDT"));
    mp_tx_seen_t tx = tx_call(addr_of("Uniswap V2 Router02"), &cd, 0);
    run_t r = run(ctx, &tx, T0 + S);
    const mp_rm_opportunity_t *o = find_kind(&r, MP_OPP_SANDWICH);
    cr_assert_not_null(o);
    cr_assert_float_eq(mp_opp_input(o, "slippage_bps", -1), 300.0, 1e-6);
    free(ctx);
}

Test(opportunities, sandwich_not_on_a_small_swap)
{
    mp_opp_ctx_t *ctx = ctx_new();
    cd_t cd;
    v2_eth_in(&cd, 0, addr_of("DAI"));
    mp_tx_seen_t tx = tx_call(addr_of("Uniswap V2 Router02"), &cd, 2 * E18);
    run_t r = run(ctx, &tx, T0);
    cr_assert_eq(r.n, 0);
    free(ctx);
}

Test(opportunities, sandwich_not_on_a_tight_min_out)
{
    mp_opp_ctx_t *ctx = ctx_new();
    set_eth_usd(ctx, 3000, T0);
    cd_t cd; /* expected 20 WETH, min 19.95: 25 bps */
    v2_tokens_in(&cd, 0x38ed1739, 60000 * E6, 1995 * E18 / 100, addr_of("USDC"), addr_of("WETH"));
    mp_tx_seen_t tx = tx_call(addr_of("Uniswap V2 Router02"), &cd, 0);
    run_t r = run(ctx, &tx, T0);
    cr_assert_null(find_kind(&r, MP_OPP_SANDWICH));
    cr_assert_not_null(find_kind(&r, MP_OPP_BACKRUN), "still a large swap");
    free(ctx);
}

Test(opportunities, sandwich_not_when_room_cannot_be_measured)
{
    mp_opp_ctx_t *ctx = ctx_new(); /* no ETH/USD price yet */
    cd_t cd;
    v2_tokens_in(&cd, 0x38ed1739, 60000 * E6, 10 * E18, addr_of("USDC"), addr_of("WETH"));
    mp_tx_seen_t tx = tx_call(addr_of("Uniswap V2 Router02"), &cd, 0);
    run_t r = run(ctx, &tx, T0);
    cr_assert_null(find_kind(&r, MP_OPP_SANDWICH));
    free(ctx);
}

Test(opportunities, sandwich_not_with_a_stale_price)
{
    mp_opp_ctx_t *ctx = ctx_new();
    set_eth_usd(ctx, 3000, T0);
    cd_t cd;
    v2_tokens_in(&cd, 0x38ed1739, 60000 * E6, 10 * E18, addr_of("USDC"), addr_of("WETH"));
    mp_tx_seen_t tx = tx_call(addr_of("Uniswap V2 Router02"), &cd, 0);
    run_t r = run(ctx, &tx, T0 + MP_OPP_PRICE_MAX_AGE_NS + S);
    cr_assert_null(find_kind(&r, MP_OPP_SANDWICH));
    free(ctx);
}

Test(opportunities, sandwich_fires_on_v3_exact_input_single)
{
    mp_opp_ctx_t *ctx = ctx_new();
    cd_t cd;
    v3_single(&cd, addr_of("WETH"), addr_of("USDC"), 30 * E18, 0, 0);
    mp_tx_seen_t tx = tx_call(addr_of("Uniswap V3 SwapRouter"), &cd, 0);
    run_t r = run(ctx, &tx, T0);
    const mp_rm_opportunity_t *o = find_kind(&r, MP_OPP_SANDWICH);
    cr_assert_not_null(o);
    cr_assert_eq(o->protocol, MP_PROTO_UNISWAP_V3);
    cr_assert_eq(mp_opp_input(o, "amount_in", -1), 30.0);
    free(ctx);
}

Test(opportunities, sandwich_not_when_v3_price_limit_is_set)
{
    mp_opp_ctx_t *ctx = ctx_new();
    cd_t cd;
    v3_single(&cd, addr_of("WETH"), addr_of("USDC"), 30 * E18, 0, (unsigned __int128)1 << 96);
    mp_tx_seen_t tx = tx_call(addr_of("Uniswap V3 SwapRouter"), &cd, 0);
    run_t r = run(ctx, &tx, T0);
    cr_assert_null(find_kind(&r, MP_OPP_SANDWICH));
    cr_assert_not_null(find_kind(&r, MP_OPP_BACKRUN));
    free(ctx);
}

Test(opportunities, sandwich_fires_through_swaprouter02_multicall)
{
    mp_opp_ctx_t *ctx = ctx_new();
    uint8_t me[MP_ADDR_LEN];
    addr_fill(me, 0x77);
    cd_t inner; /* SwapRouter02 exactInputSingle: no deadline */
    cd_sel(&inner, 0x04e45aaf);
    cd_addr(&inner, addr_of("WBTC"));
    cd_addr(&inner, addr_of("WETH"));
    cd_u128(&inner, 500);
    cd_addr(&inner, me);
    cd_u128(&inner, 2 * 100000000u); /* 2 WBTC: 5x the large mark */
    cd_u128(&inner, 0);
    cd_u128(&inner, 0);
    cd_t cd; /* multicall(uint256 deadline, bytes[] data) */
    cd_sel(&cd, 0x5ae401dc);
    cd_u128(&cd, 1800000000);
    cd_u128(&cd, 0x40);
    cd_u128(&cd, 1);    /* one element */
    cd_u128(&cd, 0x20); /* its offset from the element heads */
    cd_call_as_bytes(&cd, &inner);
    mp_tx_seen_t tx = tx_call(addr_of("Uniswap SwapRouter02"), &cd, 0);
    run_t r = run(ctx, &tx, T0);
    const mp_rm_opportunity_t *o = find_kind(&r, MP_OPP_SANDWICH);
    cr_assert_not_null(o);
    cr_assert_eq(mp_opp_input(o, "amount_in", -1), 2.0);
    cr_assert_float_eq(mp_opp_input(o, "size_vs_large", -1), 5.0, 1e-9);
    free(ctx);
}

Test(opportunities, sandwich_fires_through_universal_router_v2_command)
{
    mp_opp_ctx_t *ctx = ctx_new();
    uint8_t me[MP_ADDR_LEN];
    addr_fill(me, 0x77);
    cd_t in; /* V2_SWAP_EXACT_IN input: (recipient, amountIn, amountOutMin, path, payerIsUser) */
    in.len = 0;
    cd_addr(&in, me);
    cd_u128(&in, 100000 * E6);
    cd_u128(&in, 0);
    cd_u128(&in, 5 * 32);
    cd_u128(&in, 1);
    cd_u128(&in, 2);
    cd_addr(&in, addr_of("USDC"));
    cd_addr(&in, addr_of("WETH"));
    cd_t cd; /* execute(bytes commands, bytes[] inputs, uint256 deadline) */
    cd_sel(&cd, 0x3593564c);
    cd_u128(&cd, 0x60);
    cd_u128(&cd, 0xa0);
    cd_u128(&cd, 1800000000);
    cd_u128(&cd, 1); /* commands: one byte */
    uint8_t cmd = 0x08;
    cd_bytes_body(&cd, &cmd, 1);
    cd_u128(&cd, 1);
    cd_u128(&cd, 0x20);
    cd_call_as_bytes(&cd, &in);
    mp_tx_seen_t tx = tx_call(addr_of("Universal Router v1.2"), &cd, 0);
    run_t r = run(ctx, &tx, T0);
    const mp_rm_opportunity_t *o = find_kind(&r, MP_OPP_SANDWICH);
    cr_assert_not_null(o);
    cr_assert_eq(o->protocol, MP_PROTO_UNIVERSAL_ROUTER);
    cr_assert_eq(mp_opp_input(o, "amount_in", -1), 100000.0);
    free(ctx);
}

Test(opportunities, truncated_calldata_is_not_decoded)
{
    mp_opp_ctx_t *ctx = ctx_new();
    cd_t cd;
    v2_tokens_in(&cd, 0x38ed1739, 500000 * E6, 0, addr_of("USDC"), addr_of("WETH"));
    for (uint32_t cut = 4; cd.len > 4 && cut < cd.len; cut += 7) {
        mp_tx_seen_t tx = tx_call(addr_of("Uniswap V2 Router02"), &cd, 0);
        tx.input_prefix_len = cut; /* the rest is beyond the kept prefix */
        run_t r = run(ctx, &tx, T0);
        cr_assert_eq(r.n, 0, "cut at %u", cut);
    }
    free(ctx);
}

Test(opportunities, hostile_offsets_are_not_followed)
{
    mp_opp_ctx_t *ctx = ctx_new();
    cd_t cd;
    v2_tokens_in(&cd, 0x38ed1739, 500000 * E6, 0, addr_of("USDC"), addr_of("WETH"));
    memset(cd.b + 4 + 64, 0xff, 32); /* path offset 2^256 - 1 */
    mp_tx_seen_t tx = tx_call(addr_of("Uniswap V2 Router02"), &cd, 0);
    cr_assert_eq(run(ctx, &tx, T0).n, 0);
    v2_tokens_in(&cd, 0x38ed1739, 500000 * E6, 0, addr_of("USDC"), addr_of("WETH"));
    cd.b[4 + 160 + 31] = 200; /* path length far past the data */
    tx = tx_call(addr_of("Uniswap V2 Router02"), &cd, 0);
    cr_assert_eq(run(ctx, &tx, T0).n, 0);
    free(ctx);
}

/* ---- backrun ---- */

Test(opportunities, backrun_fires_on_a_large_swap)
{
    mp_opp_ctx_t *ctx = ctx_new();
    set_eth_usd(ctx, 3000, T0);
    cd_t cd; /* 200000 DAI: 8x the mark, tight min-out */
    v2_tokens_in(&cd, 0x38ed1739, 200000 * E18, 66 * E18, addr_of("DAI"), addr_of("WETH"));
    mp_tx_seen_t tx = tx_call(addr_of("Uniswap V2 Router02"), &cd, 0);
    run_t r = run(ctx, &tx, T0);
    const mp_rm_opportunity_t *o = find_kind(&r, MP_OPP_BACKRUN);
    cr_assert_not_null(o);
    cr_assert_null(find_kind(&r, MP_OPP_SANDWICH));
    cr_assert_eq(o->score, 90, "30 + 20 * log2(8)");
    cr_assert_eq(mp_opp_input(o, "large_mark", -1), MP_OPP_LARGE_USD);
    free(ctx);
}

Test(opportunities, backrun_fires_on_a_large_aggregator_swap_by_value)
{
    mp_opp_ctx_t *ctx = ctx_new();
    cd_t cd;
    cd_sel(&cd, 0x12aa3caf); /* 1inch v5 swap: not decoded */
    cd_u128(&cd, 1);
    mp_tx_seen_t tx = tx_call(addr_of("1inch v5 Router"), &cd, 15 * E18);
    run_t r = run(ctx, &tx, T0);
    cr_assert_eq(r.n, 1);
    const mp_rm_opportunity_t *o = find_kind(&r, MP_OPP_BACKRUN);
    cr_assert_not_null(o);
    cr_assert_eq(o->protocol, MP_PROTO_1INCH);
    cr_assert_eq(mp_opp_input(o, "amount_in", -1), 15.0);
    cr_assert_str_eq(o->reason, "swap of 15 ETH, 1.5x the 10 ETH large mark: the pool price "
                                "moves, a backrun can trade against it");
    free(ctx);
}

Test(opportunities, reason_numbers_keep_four_significant_digits)
{
    mp_opp_ctx_t *ctx = ctx_new();
    cd_t cd;
    cd_sel(&cd, 0x12aa3caf);
    cd_u128(&cd, 1);
    mp_tx_seen_t tx = tx_call(addr_of("1inch v5 Router"), &cd, 123456789 * E18 / 10000000);
    run_t r = run(ctx, &tx, T0);
    cr_assert_eq(r.n, 1);
    cr_assert_not_null(strstr(r.out[0].reason, "of 12.35 ETH, 1.235x the 10 ETH"), "%s",
                       r.out[0].reason);
    tx = tx_call(addr_of("1inch v5 Router"), &cd, (unsigned __int128)1 << 120);
    r = run(ctx, &tx, T0);
    cr_assert_not_null(strstr(r.out[0].reason, "of 1.329e+18 ETH"), "%s", r.out[0].reason);
    free(ctx);
}

Test(opportunities, backrun_not_on_a_small_aggregator_swap)
{
    mp_opp_ctx_t *ctx = ctx_new();
    cd_t cd;
    cd_sel(&cd, 0x12aa3caf);
    cd_u128(&cd, 1);
    mp_tx_seen_t tx = tx_call(addr_of("1inch v5 Router"), &cd, 9 * E18);
    cr_assert_eq(run(ctx, &tx, T0).n, 0);
    free(ctx);
}

Test(opportunities, backrun_not_on_unknown_tokens_of_unknown_size)
{
    mp_opp_ctx_t *ctx = ctx_new();
    uint8_t a[MP_ADDR_LEN], b[MP_ADDR_LEN];
    addr_fill(a, 0x0a);
    addr_fill(b, 0x0b);
    cd_t cd;
    v2_tokens_in(&cd, 0x38ed1739, (unsigned __int128)1 << 100, 0, a, b);
    mp_tx_seen_t tx = tx_call(addr_of("Uniswap V2 Router02"), &cd, 0);
    cr_assert_eq(run(ctx, &tx, T0).n, 0);
    free(ctx);
}

static mp_tx_seen_t oracle_tx(cd_t *cd)
{
    uint8_t feed[MP_ADDR_LEN];
    addr_fill(feed, 0xc1);
    cd_sel(cd, 0xb1dc65a4); /* OCR2 transmit */
    for (int i = 0; i < 6; i++)
        cd_u128(cd, (unsigned __int128)i);
    return tx_call(feed, cd, 0);
}

Test(opportunities, backrun_fires_on_a_pending_oracle_update)
{
    mp_opp_ctx_t *ctx = ctx_new();
    cd_t cd;
    mp_tx_seen_t tx = oracle_tx(&cd);
    run_t r = run(ctx, &tx, T0);
    cr_assert_eq(r.n, 1);
    const mp_rm_opportunity_t *o = find_kind(&r, MP_OPP_BACKRUN);
    cr_assert_not_null(o);
    cr_assert_eq(o->protocol, MP_PROTO_CHAINLINK);
    cr_assert_eq(o->score, 50);
    cr_assert_eq(mp_opp_input(o, "lending_txs_60s", -1), 0);
    free(ctx);
}

/* ---- liquidation ---- */

static mp_tx_seen_t aave_supply(cd_t *cd)
{
    uint8_t me[MP_ADDR_LEN];
    addr_fill(me, 0x77);
    cd_sel(cd, 0x617ba037);
    cd_addr(cd, addr_of("USDC"));
    cd_u128(cd, 1000 * E6);
    cd_addr(cd, me);
    cd_u128(cd, 0);
    return tx_call(addr_of("Aave v3 Pool"), cd, 0);
}

Test(opportunities, liquidation_fires_on_oracle_update_after_lending_activity)
{
    mp_opp_ctx_t *ctx = ctx_new();
    cd_t cd, oc;
    for (int i = 0; i < 3; i++) {
        mp_tx_seen_t s = aave_supply(&cd);
        cr_assert_eq(run(ctx, &s, T0 + (uint64_t)i * S).n, 0);
    }
    mp_tx_seen_t tx = oracle_tx(&oc);
    run_t r = run(ctx, &tx, T0 + 20 * S);
    const mp_rm_opportunity_t *o = find_kind(&r, MP_OPP_LIQUIDATION);
    cr_assert_not_null(o);
    cr_assert_eq(o->protocol, MP_PROTO_AAVE);
    cr_assert_eq(mp_opp_input(o, "aave_txs_60s", -1), 3);
    cr_assert_eq(o->score, 60, "30 + 10 per lending tx");
    cr_assert_eq(memcmp(o->trigger, tx.hash, MP_HASH_LEN), 0);
    cr_assert_not_null(find_kind(&r, MP_OPP_BACKRUN));
    free(ctx);
}

Test(opportunities, liquidation_not_when_lending_activity_is_stale)
{
    mp_opp_ctx_t *ctx = ctx_new();
    cd_t cd, oc;
    mp_tx_seen_t s = aave_supply(&cd);
    run(ctx, &s, T0);
    mp_tx_seen_t tx = oracle_tx(&oc);
    run_t r = run(ctx, &tx, T0 + 61 * S);
    cr_assert_null(find_kind(&r, MP_OPP_LIQUIDATION));
    cr_assert_not_null(find_kind(&r, MP_OPP_BACKRUN));
    free(ctx);
}

Test(opportunities, liquidation_fires_on_a_pending_liquidation_call)
{
    mp_opp_ctx_t *ctx = ctx_new();
    uint8_t user[MP_ADDR_LEN];
    addr_fill(user, 0x99);
    cd_t cd; /* liquidationCall(collateral, debt, user, debtToCover, receiveAToken) */
    cd_sel(&cd, 0x00a718a9);
    cd_addr(&cd, addr_of("WETH"));
    cd_addr(&cd, addr_of("USDC"));
    cd_addr(&cd, user);
    cd_u128(&cd, 75000 * E6); /* 3x the stablecoin mark */
    cd_u128(&cd, 0);
    mp_tx_seen_t tx = tx_call(addr_of("Aave v3 Pool"), &cd, 0);
    run_t r = run(ctx, &tx, T0);
    cr_assert_eq(r.n, 1);
    const mp_rm_opportunity_t *o = find_kind(&r, MP_OPP_LIQUIDATION);
    cr_assert_not_null(o);
    cr_assert_eq(o->protocol, MP_PROTO_AAVE);
    cr_assert_eq(mp_opp_input(o, "debt_to_cover", -1), 75000.0);
    cr_assert_eq(o->score, 80, "60 + 10 * log2(1 + 3)");
    free(ctx);
}

Test(opportunities, liquidation_call_covering_the_maximum_is_named_so)
{
    mp_opp_ctx_t *ctx = ctx_new();
    uint8_t user[MP_ADDR_LEN];
    addr_fill(user, 0x99);
    cd_t cd;
    cd_sel(&cd, 0x00a718a9);
    cd_addr(&cd, addr_of("WETH"));
    cd_addr(&cd, addr_of("USDC"));
    cd_addr(&cd, user);
    cd_max(&cd);
    cd_u128(&cd, 0);
    mp_tx_seen_t tx = tx_call(addr_of("Aave v3 Pool"), &cd, 0);
    run_t r = run(ctx, &tx, T0);
    const mp_rm_opportunity_t *o = find_kind(&r, MP_OPP_LIQUIDATION);
    cr_assert_not_null(o);
    cr_assert_eq(mp_opp_input(o, "debt_to_cover_max", -1), 1);
    cr_assert_eq(o->score, 60);
    free(ctx);
}

Test(opportunities, liquidation_fires_on_a_compound_absorb)
{
    mp_opp_ctx_t *ctx = ctx_new();
    uint8_t me[MP_ADDR_LEN], acct[MP_ADDR_LEN];
    addr_fill(me, 0x77);
    cd_t cd; /* absorb(absorber, accounts[]) */
    cd_sel(&cd, 0xc3cecfd2);
    cd_addr(&cd, me);
    cd_u128(&cd, 0x40);
    cd_u128(&cd, 3);
    for (int i = 0; i < 3; i++) {
        addr_fill(acct, (uint8_t)(0x10 + i));
        cd_addr(&cd, acct);
    }
    mp_tx_seen_t tx = tx_call(addr_of("Compound cUSDCv3"), &cd, 0);
    run_t r = run(ctx, &tx, T0);
    const mp_rm_opportunity_t *o = find_kind(&r, MP_OPP_LIQUIDATION);
    cr_assert_not_null(o);
    cr_assert_eq(o->protocol, MP_PROTO_COMPOUND);
    cr_assert_eq(mp_opp_input(o, "accounts", -1), 3);
    cr_assert_eq(o->score, 80);
    free(ctx);
}

Test(opportunities, liquidation_not_on_plain_lending)
{
    mp_opp_ctx_t *ctx = ctx_new();
    cd_t cd;
    mp_tx_seen_t tx = aave_supply(&cd);
    cr_assert_eq(run(ctx, &tx, T0).n, 0);
    free(ctx);
}

/* ---- gas war: replacements ---- */

static mp_opp_replacement_t replacement(uint8_t sender, uint64_t nonce, uint8_t by, uint64_t fee)
{
    mp_opp_replacement_t r;
    memset(&r, 0, sizeof r);
    r.chain_id = 1;
    memset(r.hash, by - 1, sizeof r.hash);
    memset(r.replaced_by, by, sizeof r.replaced_by);
    addr_fill(r.from, sender);
    r.nonce = nonce;
    r.protocol = MP_PROTO_UNISWAP_V2;
    r.priority_fee = fee;
    return r;
}

static int replace(mp_opp_ctx_t *ctx, uint8_t sender, uint64_t nonce, uint8_t by, uint64_t fee,
                   uint64_t time_ns, mp_rm_opportunity_t *out)
{
    mp_opp_replacement_t r = replacement(sender, nonce, by, fee);
    return mp_opp_on_replaced(ctx, &r, time_ns, NULL, out, 1);
}

Test(opportunities, gas_war_fires_on_the_third_replacement_within_30s)
{
    mp_opp_ctx_t *ctx = ctx_new();
    mp_rm_opportunity_t o;
    cr_assert_eq(replace(ctx, 0x42, 7, 10, 2 * GWEI, T0, &o), 0);
    cr_assert_eq(replace(ctx, 0x42, 7, 11, 3 * GWEI, T0 + 10 * S, &o), 0);
    cr_assert_eq(replace(ctx, 0x42, 7, 12, 4 * GWEI, T0 + 25 * S, &o), 1);
    cr_assert_eq(o.kind, MP_OPP_GAS_WAR);
    cr_assert_eq(o.trigger[0], 12);
    cr_assert_eq(o.protocol, MP_PROTO_UNISWAP_V2);
    cr_assert_eq(mp_opp_input(&o, "replacements", -1), 3);
    cr_assert_eq(mp_opp_input(&o, "last3_span_s", -1), 25.0);
    cr_assert_eq(mp_opp_input(&o, "nonce", -1), 7);
    cr_assert_eq(mp_opp_input(&o, "first_fee_gwei", -1), 2.0);
    cr_assert_eq(mp_opp_input(&o, "last_fee_gwei", -1), 4.0);
    cr_assert_eq(o.score, 55);
    cr_assert_str_eq(o.reason, "0x42424242... nonce 7 replaced 3 times, the last 3 within 25 s: a "
                               "priority gas auction");
    /* a fourth one fires again, scoring higher */
    cr_assert_eq(replace(ctx, 0x42, 7, 13, 5 * GWEI, T0 + 26 * S, &o), 1);
    cr_assert_eq(o.score, 70);
    free(ctx);
}

Test(opportunities, gas_war_not_on_two_replacements)
{
    mp_opp_ctx_t *ctx = ctx_new();
    mp_rm_opportunity_t o;
    cr_assert_eq(replace(ctx, 0x42, 7, 10, GWEI, T0, &o), 0);
    cr_assert_eq(replace(ctx, 0x42, 7, 11, GWEI, T0 + S, &o), 0);
    /* another sender's and another nonce's replacements do not add up */
    cr_assert_eq(replace(ctx, 0x43, 7, 20, GWEI, T0 + 2 * S, &o), 0);
    cr_assert_eq(replace(ctx, 0x42, 8, 30, GWEI, T0 + 3 * S, &o), 0);
    free(ctx);
}

Test(opportunities, gas_war_not_when_replacements_are_more_than_30s_apart)
{
    mp_opp_ctx_t *ctx = ctx_new();
    mp_rm_opportunity_t o;
    cr_assert_eq(replace(ctx, 0x42, 7, 10, GWEI, T0, &o), 0);
    cr_assert_eq(replace(ctx, 0x42, 7, 11, GWEI, T0 + 20 * S, &o), 0);
    cr_assert_eq(replace(ctx, 0x42, 7, 12, GWEI, T0 + 40 * S, &o), 0, "the first three span 40 s");
    cr_assert_eq(replace(ctx, 0x42, 7, 13, GWEI, T0 + 75 * S, &o), 0, "35 s of silence restarts");
    free(ctx);
}

Test(opportunities, tick_expires_quiet_replacement_entries)
{
    mp_opp_ctx_t *ctx = ctx_new();
    mp_rm_opportunity_t o;
    replace(ctx, 0x42, 7, 10, GWEI, T0, &o);
    replace(ctx, 0x42, 7, 11, GWEI, T0 + S, &o);
    cr_assert_eq(mp_opp_on_tick(ctx, T0 + 20 * S, NULL), 0);
    cr_assert_eq(mp_opp_on_tick(ctx, T0 + 32 * S, NULL), 1);
    for (size_t i = 0; i < sizeof ctx->repl / sizeof ctx->repl[0]; i++)
        cr_assert_eq(ctx->repl[i].replacements, 0);
    free(ctx);
}

Test(opportunities, replacement_table_stays_bounded_under_many_keys)
{
    mp_opp_ctx_t *ctx = ctx_new();
    mp_rm_opportunity_t o;
    for (uint64_t n = 0; n < 100000; n++)
        replace(ctx, (uint8_t)n, n, 1, GWEI, T0 + n, &o);
    size_t live = 0;
    for (size_t i = 0; i < sizeof ctx->repl / sizeof ctx->repl[0]; i++)
        live += ctx->repl[i].replacements != 0;
    cr_assert_leq(live, MP_OPP_REPL_SETS * MP_OPP_WAYS);
    cr_assert_gt(live, MP_OPP_REPL_SETS * MP_OPP_WAYS / 2, "the hash spreads keys");
    free(ctx);
}

/* ---- gas war: fee escalation ---- */

static mp_tx_seen_t mint_bid(uint8_t sender, uint64_t tip)
{
    uint8_t nft[MP_ADDR_LEN], me[MP_ADDR_LEN];
    addr_fill(nft, 0xd7);
    addr_fill(me, sender);
    static cd_t cd;
    cd_sel(&cd, 0x40c10f19); /* mint(address,uint256) on an unknown contract */
    cd_addr(&cd, me);
    cd_u128(&cd, 1);
    mp_tx_seen_t tx = tx_call(nft, &cd, 0);
    addr_fill(tx.from, sender);
    tx.max_priority_fee = tip;
    return tx;
}

Test(opportunities, gas_war_fires_on_escalating_bids_to_one_method)
{
    mp_opp_ctx_t *ctx = ctx_new();
    const uint64_t tips[5] = {1000, 1200, 1500, 1800, 2200}; /* mwei... x 1e6 below */
    run_t r;
    for (int i = 0; i < 5; i++) {
        mp_tx_seen_t tx = mint_bid((uint8_t)(0x60 + i), tips[i] * 1000000);
        r = run(ctx, &tx, T0 + (uint64_t)i * S);
        cr_assert_eq(r.n, i == 4 ? 1 : 0, "bid %d", i);
    }
    const mp_rm_opportunity_t *o = find_kind(&r, MP_OPP_GAS_WAR);
    cr_assert_not_null(o);
    cr_assert_eq(mp_opp_input(o, "bids", -1), 5);
    cr_assert_eq(mp_opp_input(o, "span_s", -1), 4.0);
    cr_assert_float_eq(mp_opp_input(o, "fee_ratio", -1), 2.2, 1e-9);
    cr_assert_float_eq(mp_opp_input(o, "last_fee_gwei", -1), 2.2, 1e-9);
    cr_assert_eq(o->score, 47, "30 + 15 * log2(2.2)");
    cr_assert_str_eq(o->reason, "5 rising bids to 0xd7d7d7d7... mint within 4 s from alternating "
                                "senders: 1 -> 2.2 gwei priority fee");
    /* the next rising bid does not fire again at once */
    mp_tx_seen_t tx = mint_bid(0x70, 3000 * 1000000ull);
    cr_assert_eq(run(ctx, &tx, T0 + 5 * S).n, 0);
    free(ctx);
}

Test(opportunities, gas_war_not_on_flat_bids)
{
    mp_opp_ctx_t *ctx = ctx_new();
    for (int i = 0; i < 20; i++) {
        mp_tx_seen_t tx = mint_bid((uint8_t)(0x60 + i), (i % 2 ? 2 : 1) * GWEI);
        cr_assert_eq(run(ctx, &tx, T0 + (uint64_t)i * S).n, 0);
    }
    free(ctx);
}

Test(opportunities, gas_war_not_on_bids_that_rise_too_little_in_total)
{
    mp_opp_ctx_t *ctx = ctx_new();
    const uint64_t tips[6] = {1000, 1110, 1230, 1360, 1500, 1660}; /* +11 % steps, 1.66x */
    for (int i = 0; i < 6; i++) {
        mp_tx_seen_t tx = mint_bid((uint8_t)(0x60 + i), tips[i] * 1000000);
        cr_assert_eq(run(ctx, &tx, T0 + (uint64_t)i * S).n, 0);
    }
    free(ctx);
}

Test(opportunities, gas_war_not_on_bids_from_one_sender)
{
    mp_opp_ctx_t *ctx = ctx_new();
    for (int i = 0; i < 8; i++) {
        mp_tx_seen_t tx = mint_bid(0x60, GWEI << i);
        cr_assert_eq(run(ctx, &tx, T0 + (uint64_t)i * S).n, 0);
    }
    free(ctx);
}

Test(opportunities, gas_war_not_on_slow_bids)
{
    mp_opp_ctx_t *ctx = ctx_new();
    for (int i = 0; i < 8; i++) {
        mp_tx_seen_t tx = mint_bid((uint8_t)(0x60 + i), GWEI << i);
        cr_assert_eq(run(ctx, &tx, T0 + (uint64_t)i * 13 * S).n, 0);
    }
    free(ctx);
}

Test(opportunities, gas_war_not_on_escalating_token_transfers)
{
    mp_opp_ctx_t *ctx = ctx_new();
    uint8_t me[MP_ADDR_LEN];
    addr_fill(me, 0x77);
    for (int i = 0; i < 8; i++) {
        cd_t cd;
        cd_sel(&cd, 0xa9059cbb);
        cd_addr(&cd, me);
        cd_u128(&cd, 5);
        mp_tx_seen_t tx = tx_call(addr_of("USDT"), &cd, 0);
        addr_fill(tx.from, (uint8_t)(0x60 + i));
        tx.max_priority_fee = GWEI << i;
        cr_assert_eq(run(ctx, &tx, T0 + (uint64_t)i * S).n, 0);
    }
    free(ctx);
}

Test(opportunities, tick_expires_quiet_escalation_runs)
{
    mp_opp_ctx_t *ctx = ctx_new();
    mp_tx_seen_t tx = mint_bid(0x60, GWEI);
    run(ctx, &tx, T0);
    cr_assert_eq(mp_opp_on_tick(ctx, T0 + 5 * S, NULL), 0);
    cr_assert_eq(mp_opp_on_tick(ctx, T0 + 13 * S, NULL), 1);
    free(ctx);
}

/* ---- output, ids, names, price hook ---- */

Test(opportunities, output_is_bounded_by_max_out)
{
    mp_opp_ctx_t *ctx = ctx_new();
    cd_t cd;
    v2_eth_in(&cd, 0, addr_of("USDC"));
    mp_tx_seen_t tx = tx_call(addr_of("Uniswap V2 Router02"), &cd, 20 * E18);
    mp_classification_t c;
    mp_catalog_classify(tx.to, true, cd.b, cd.len, &tx.value, &c);
    mp_rm_opportunity_t out[2];
    memset(out, 0xee, sizeof out);
    cr_assert_eq(mp_opp_on_tx(ctx, &tx, &c, T0, NULL, out, 1), 1);
    cr_assert_eq(out[1].seq, 0xeeeeeeeeeeeeeeeeull, "nothing past max_out");
    cr_assert_eq(mp_opp_on_tx(ctx, &tx, &c, T0, NULL, NULL, 0), 0);
    cr_assert_eq(mp_opp_on_tx(NULL, &tx, &c, T0, NULL, out, 1), -EINVAL);
    free(ctx);
}

Test(opportunities, id_is_tag_and_16_hex_digits)
{
    uint8_t h[MP_HASH_LEN];
    for (int i = 0; i < MP_HASH_LEN; i++)
        h[i] = (uint8_t)(0x01 * i + 0xa0);
    mp_rm_id_t id;
    mp_opp_make_id(MP_OPP_LIQUIDATION, h, &id);
    cr_assert_str_eq((const char *)id.bytes, "liquidation:a0a1a2a3a4a5a6a7");
    mp_opp_make_id(MP_OPP_SANDWICH, h, &id);
    cr_assert_str_eq((const char *)id.bytes, "sandwich:a0a1a2a3a4a5a6a7");
    cr_assert_eq(id.bytes[MP_RM_ID_LEN - 1], 0);
}

Test(opportunities, kind_and_status_names)
{
    cr_assert_str_eq(mp_opp_kind_name(MP_OPP_SANDWICH), "sandwich_candidate");
    cr_assert_str_eq(mp_opp_kind_name(MP_OPP_BACKRUN), "backrun_candidate");
    cr_assert_str_eq(mp_opp_kind_name(MP_OPP_LIQUIDATION), "liquidation_candidate");
    cr_assert_str_eq(mp_opp_kind_name(MP_OPP_GAS_WAR), "gas_war");
    cr_assert_str_eq(mp_opp_kind_name(0), "unknown");
    cr_assert_str_eq(mp_opp_kind_name(99), "unknown");
    cr_assert_str_eq(mp_opp_status_name(MP_OPP_OPEN), "open");
    cr_assert_str_eq(mp_opp_status_name(MP_OPP_EXPIRED), "expired");
    cr_assert_str_eq(mp_opp_status_name(MP_OPP_MINED), "mined");
    cr_assert_str_eq(mp_opp_status_name(MP_OPP_REPLACED), "replaced");
    cr_assert_str_eq(mp_opp_status_name(9), "unknown");
}

Test(opportunities, price_hook_keeps_only_fresh_eth_usd)
{
    mp_opp_ctx_t *ctx = ctx_new();
    mp_price_t p;
    memset(&p, 0, sizeof p);
    strcpy(p.symbol, "BTC/USD");
    p.price = 60000;
    cr_assert_eq(mp_opp_on_price(ctx, &p, T0, NULL), 0);
    strcpy(p.symbol, "ETH/USD");
    p.price = -1;
    cr_assert_eq(mp_opp_on_price(ctx, &p, T0, NULL), 0);
    p.price = 3000;
    cr_assert_eq(mp_opp_on_price(ctx, &p, T0, NULL), 1);
    p.price = 2000;
    cr_assert_eq(mp_opp_on_price(ctx, &p, T0 - S, NULL), 0, "older than the one held");
    cr_assert_eq(ctx->eth_usd, 3000);
    free(ctx);
}

/* ---- discipline ---- */

Test(opportunities, every_mutator_keeps_the_touch_discipline)
{
    mp_opp_ctx_t *ctx = ctx_new();
    harness_t h;
    cd_t cd;
    const mp_rm_touch_t *t;
    for (int round = 0; round < 3; round++) {
        uint64_t base = T0 + (uint64_t)round * 100 * S;
        set_eth_usd(ctx, 3000 + round, base);
        t = harness_begin(&h, ctx, sizeof *ctx);
        mp_price_t p;
        memset(&p, 0, sizeof p);
        strcpy(p.symbol, "ETH/USD");
        p.price = 3001 + round;
        mp_opp_on_price(ctx, &p, base + 1, t);
        harness_end(&h);

        mp_tx_seen_t s = aave_supply(&cd);
        t = harness_begin(&h, ctx, sizeof *ctx);
        run_touch(ctx, &s, base + S, t);
        harness_end(&h);
        cr_assert_leq(h.touched_bytes, 64);

        v2_tokens_in(&cd, 0x38ed1739, 60000 * E6, 18 * E18, addr_of("USDC"), addr_of("WETH"));
        mp_tx_seen_t sw = tx_call(addr_of("Uniswap V2 Router02"), &cd, 0);
        t = harness_begin(&h, ctx, sizeof *ctx);
        cr_assert_eq(run_touch(ctx, &sw, base + 2 * S, t).n, 2);
        harness_end(&h);

        mp_tx_seen_t ot = oracle_tx(&cd);
        t = harness_begin(&h, ctx, sizeof *ctx);
        run_touch(ctx, &ot, base + 3 * S, t);
        harness_end(&h);

        for (int i = 0; i < 6; i++) {
            mp_tx_seen_t bid = mint_bid((uint8_t)(0x60 + i), GWEI << i);
            t = harness_begin(&h, ctx, sizeof *ctx);
            run_touch(ctx, &bid, base + 4 * S + (uint64_t)i, t);
            harness_end(&h);
            cr_assert_leq(h.touched_bytes, sizeof(mp_opp_esc_slot_t));
        }
        for (int i = 0; i < 4; i++) {
            mp_opp_replacement_t r = replacement(0x42, 7, (uint8_t)(10 + i), GWEI);
            mp_rm_opportunity_t o;
            t = harness_begin(&h, ctx, sizeof *ctx);
            mp_opp_on_replaced(ctx, &r, base + 5 * S + (uint64_t)i, t, &o, 1);
            harness_end(&h);
            cr_assert_leq(h.touched_bytes, sizeof(mp_opp_repl_slot_t));
        }
        t = harness_begin(&h, ctx, sizeof *ctx);
        mp_opp_on_tick(ctx, base + 60 * S, t);
        harness_end(&h);
    }
    free(ctx);
}

Test(opportunities, same_events_give_identical_state_and_candidates)
{
    static mp_rm_opportunity_t outs[2][4096];
    int counts[2] = {0, 0};
    mp_opp_ctx_t *ctxs[2] = {ctx_new(), ctx_new()};
    for (int pass = 0; pass < 2; pass++) {
        mp_opp_ctx_t *ctx = ctxs[pass];
        next_tag = 1;
        cd_t cd;
        for (uint64_t i = 0; i < 3000; i++) {
            uint64_t now = T0 + i * S / 4;
            mp_tx_seen_t tx;
            switch (i % 6) {
            case 0:
                v2_eth_in(&cd, i % 12 ? 0 : 1000 * E6, addr_of("USDC"));
                tx =
                    tx_call(addr_of("Uniswap V2 Router02"), &cd, (unsigned __int128)(i % 40) * E18);
                break;
            case 1: tx = aave_supply(&cd); break;
            case 2: tx = oracle_tx(&cd); break;
            case 3: tx = mint_bid((uint8_t)i, GWEI * (1 + i % 7)); break;
            case 4:
                v3_single(&cd, addr_of("WETH"), addr_of("DAI"), (i % 50) * E18, (i % 3) * E18, 0);
                tx = tx_call(addr_of("Uniswap V3 SwapRouter"), &cd, 0);
                break;
            default: {
                mp_opp_replacement_t r = replacement((uint8_t)(i % 5), i % 3, (uint8_t)i, GWEI * i);
                int n = mp_opp_on_replaced(ctx, &r, now, NULL, &outs[pass][counts[pass]], 1);
                counts[pass] += n;
                if (i % 4 == 0) mp_opp_on_tick(ctx, now, NULL);
                if (i % 11 == 0) set_eth_usd(ctx, 2000 + (double)i, now);
                continue;
            }
            }
            mp_classification_t c;
            mp_catalog_classify(tx.to, tx.has_to, tx.input_prefix, tx.input_prefix_len, &tx.value,
                                &c);
            int n =
                mp_opp_on_tx(ctx, &tx, &c, now, NULL, &outs[pass][counts[pass]], MP_OPP_MAX_PER_TX);
            cr_assert_geq(n, 0);
            counts[pass] += n;
            cr_assert_lt(counts[pass], 4096 - MP_OPP_MAX_PER_TX);
        }
    }
    cr_assert_gt(counts[0], 100, "the run exercises the detectors");
    cr_assert_eq(counts[0], counts[1]);
    cr_assert_eq(memcmp(outs[0], outs[1], sizeof outs[0][0] * (size_t)counts[0]), 0);
    cr_assert_eq(memcmp(ctxs[0], ctxs[1], sizeof *ctxs[0]), 0);
    free(ctxs[0]);
    free(ctxs[1]);
}
