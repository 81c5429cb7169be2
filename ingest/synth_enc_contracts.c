/* Synthetic calls to contracts beyond swaps and tokens: lending (Aave, Compound), oracle
 * reports (Chainlink), L2 bridges, ENS, Lido staking, smart wallets (Safe, ERC-4337),
 * contracts outside the catalog and deployments. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ingest/synth_encode.h"

/* Aave: 0 v3 supply, 1 borrow, 2 repay, 3 withdraw, 4 v2 deposit, 5 liquidationCall,
 * 6 flashLoanSimple. */
void mp_synth_enc_aave(gen_t *g, unsigned v)
{
    token_t t, c;
    uint8_t who[MP_ADDR_LEN];
    token_any_major(g, &t);
    u128 amount = units(notional_usd(g) * 4, t.usd, t.decimals);
    set_to(g, v == 4 || (v == 5 && (rng_next(&g->rng) & 3) == 0) ? A_AAVE_V2 : A_AAVE_V3);
    switch (v) {
    case 0:
    case 4:
        put_sel(g, v == 0 ? 0x617ba037 : 0xe8eda9df);
        w_addr(g, t.addr);
        w_u128(g, amount);
        w_addr(g, g->from);
        w_u64(g, 0);
        break;
    case 1:
        put_sel(g, 0xa415bcad);
        w_addr(g, t.addr);
        w_u128(g, amount);
        w_u64(g, 2); /* variable rate */
        w_u64(g, 0);
        w_addr(g, g->from);
        break;
    case 2:
        put_sel(g, 0x573ade81);
        w_addr(g, t.addr);
        w_u128(g, amount);
        w_u64(g, 2);
        w_addr(g, g->from);
        break;
    case 3:
        put_sel(g, 0x69328dec);
        w_addr(g, t.addr);
        w_u128(g, amount);
        w_addr(g, g->from);
        break;
    case 5: /* liquidationCall(collateral, debt, user, debtToCover, receiveAToken) */
        token_major(g, rng_next(&g->rng) & 1 ? T_WETH : T_WBTC, &c);
        token_major(g, rng_next(&g->rng) & 1 ? T_USDC : T_USDT, &t);
        eoa(g, who);
        put_sel(g, 0x00a718a9);
        w_addr(g, c.addr);
        w_addr(g, t.addr);
        w_addr(g, who);
        w_u128(g, units(notional_usd(g) * 10, 1.0, t.decimals));
        w_u64(g, 0);
        break;
    default: /* flashLoanSimple(receiver, asset, amount, params, referral) */
        population(g, D_CONTRACT, 1024, who);
        put_sel(g, 0x42b0b77c);
        w_addr(g, who);
        w_addr(g, t.addr);
        w_u128(g, amount * 20);
        w_u64(g, 0xa0);
        w_u64(g, 0);
        w_rand_bytes(g, 64 + 32 * (uint32_t)below(rng_next(&g->rng), 4));
        break;
    }
}

/* Compound v3 (cUSDCv3): 0 supply(asset, amount), 1 withdraw(asset, amount),
 * 2 absorb(absorber, accounts[]). */
void mp_synth_enc_comet(gen_t *g, unsigned v)
{
    token_t t;
    set_to(g, A_COMET);
    token_major(g, rng_next(&g->rng) & 1 ? T_USDC : T_WETH, &t);
    if (v == 2) {
        unsigned n = 1 + (unsigned)below(rng_next(&g->rng), 3);
        uint8_t who[MP_ADDR_LEN];
        put_sel(g, 0xc3cecfd2);
        w_addr(g, g->from);
        w_u64(g, 0x40);
        w_u64(g, n);
        for (unsigned i = 0; i < n; i++) {
            eoa(g, who);
            w_addr(g, who);
        }
        return;
    }
    put_sel(g, v == 0 ? 0xf2b9fdb8 : 0xf3fef3a3);
    w_addr(g, t.addr);
    w_u128(g, units(notional_usd(g) * 4, t.usd, t.decimals));
}

/* Price (8 decimals) an aggregator reports: feed 0 is ETH/USD, 1 BTC/USD, others fixed. */
static double feed_price_e8(const gen_t *g, uint64_t feed)
{
    if (feed == 0) return g->eth_usd * 1e8;
    if (feed == 1) return g->eth_usd * g->btc_per_eth * 1e8;
    return pow(10.0, -1.0 + 4.0 * unit(derive(g->seed, D_FEED_PRICE, feed))) * 1e8;
}

/* Ascending observations around the feed price, as OCR median reports carry them. */
static void w_observations(gen_t *g, double price_e8, unsigned n)
{
    double p = price_e8 * (1.0 - 0.0005);
    w_u64(g, n);
    for (unsigned i = 0; i < n; i++) {
        p += price_e8 * 0.0001 * unit(rng_next(&g->rng));
        w_u128(g, (u128)p);
    }
}

static void w_signatures(gen_t *g, uint32_t at_rs, uint32_t at_ss, uint32_t base, unsigned k)
{
    patch_here(g, at_rs, base);
    w_u64(g, k);
    for (unsigned i = 0; i < k; i++)
        w_rand(g);
    patch_here(g, at_ss, base);
    w_u64(g, k);
    for (unsigned i = 0; i < k; i++)
        w_rand(g);
}

/* OCR2 transmit(reportContext[3], report, rs, ss, rawVs), the report being
 * (observationsTimestamp, rawObservers, observations[], juelsPerFeeCoin). */
static void ocr2_transmit(gen_t *g, uint64_t feed)
{
    unsigned n = 7 + (unsigned)below(rng_next(&g->rng), 10), k = n / 3 + 1;
    put_sel(g, 0xb1dc65a4);
    w_rand(g);
    w_rand(g);
    w_rand(g);
    uint32_t h_report = w_hole(g), h_rs = w_hole(g), h_ss = w_hole(g);
    w_rand(g); /* rawVs */
    patch_here(g, h_report, 4);
    uint32_t h_len = w_hole(g), start = g->len;
    w_u64(g, g->now_s - 1);
    w_rand(g);
    w_u64(g, 0x80);
    w_u128(g, rng_next(&g->rng) >> 8);
    w_observations(g, feed_price_e8(g, feed), n);
    patch(g, h_len, g->len - start);
    w_signatures(g, h_rs, h_ss, 4, k);
}

/* Chainlink: 0 OCR2 transmit, 1 OCR1 transmit(report, rs, ss, rawVs) with report
 * (rawReportContext, rawObservers, observations[]), 2 forward(aggregator, transmit). */
void mp_synth_enc_chainlink(gen_t *g, unsigned v)
{
    uint64_t feed = below(rng_next(&g->rng), 24);
    uint8_t aggregator[MP_ADDR_LEN];
    fill_id(aggregator, MP_ADDR_LEN, g->seed, D_FEED, feed);
    if (v == 0) {
        memcpy(g->to, aggregator, MP_ADDR_LEN);
        ocr2_transmit(g, feed);
    } else if (v == 1) {
        unsigned n = 7 + (unsigned)below(rng_next(&g->rng), 10), k = n / 3 + 1;
        memcpy(g->to, aggregator, MP_ADDR_LEN);
        put_sel(g, 0xc9807539);
        uint32_t h_report = w_hole(g), h_rs = w_hole(g), h_ss = w_hole(g);
        w_rand(g);
        patch_here(g, h_report, 4);
        uint32_t h_len = w_hole(g), start = g->len;
        w_rand(g);
        w_rand(g);
        w_u64(g, 0x60);
        w_observations(g, feed_price_e8(g, feed), n);
        patch(g, h_len, g->len - start);
        w_signatures(g, h_rs, h_ss, 4, k);
    } else {
        uint8_t inner[2048];
        population(g, D_FORWARDER, 8, g->to);
        put_sel(g, 0x6fadcf72);
        w_addr(g, aggregator);
        w_u64(g, 0x40);
        gen_t sub = begin_sub(g, inner, sizeof inner);
        ocr2_transmit(&sub, feed);
        end_sub(g, &sub);
    }
}

/* Bridges: 0 OP depositETH, 1 OptimismPortal depositTransaction, 2 Base depositETH,
 * 3 Base bridgeETHTo, 4 Arbitrum depositEth, 5 Arbitrum outboundTransfer, 6 Polygon
 * depositEtherFor, 7 Polygon depositFor, 8 Across depositV3. */
void mp_synth_enc_bridge(gen_t *g, unsigned v)
{
    static const uint64_t across_chains[] = {10, 8453, 42161, 137, 324, 59144};
    u128 eth = eth_wei(exp(uniform_in(g, -4.6, 2.3)));
    token_t t;
    uint8_t l2[MP_ADDR_LEN];
    switch (v) {
    case 0:
    case 2: /* depositETH(minGasLimit, extraData) */
        set_to(g, v == 0 ? A_OP_BRIDGE : A_BASE_BRIDGE);
        put_sel(g, 0xb1a1a882);
        g->value = eth;
        w_u64(g, 200000);
        w_u64(g, 0x40);
        w_u64(g, 0);
        break;
    case 1: /* depositTransaction(to, value, gasLimit, isCreation, data) */
        set_to(g, A_OP_PORTAL);
        put_sel(g, 0xe9e05c42);
        g->value = eth;
        w_addr(g, g->from);
        w_u128(g, eth);
        w_u64(g, 100000);
        w_u64(g, 0);
        w_u64(g, 0xa0);
        w_u64(g, 0);
        break;
    case 3: /* bridgeETHTo(to, minGasLimit, extraData) */
        set_to(g, A_BASE_BRIDGE);
        put_sel(g, 0xe11013dd);
        g->value = eth;
        w_addr(g, g->from);
        w_u64(g, 200000);
        w_u64(g, 0x60);
        w_u64(g, 0);
        break;
    case 4:
        set_to(g, A_ARB_INBOX);
        put_sel(g, 0x439370b1);
        g->value = eth;
        break;
    case 5: { /* outboundTransfer(token, to, amount, maxGas, gasPriceBid, data) */
        uint64_t max_gas = 300000, bid = 100000000 + below(rng_next(&g->rng), 200000000);
        uint64_t submission = 100000000000000ull + below(rng_next(&g->rng), 500000000000000ull);
        token_any_major(g, &t);
        set_to(g, A_ARB_GATEWAY);
        put_sel(g, 0xd2ce7d65);
        g->value = (u128)submission + (u128)max_gas * bid;
        w_addr(g, t.addr);
        w_addr(g, g->from);
        w_u128(g, units(notional_usd(g), t.usd, t.decimals));
        w_u64(g, max_gas);
        w_u64(g, bid);
        w_u64(g, 0xc0);
        w_u64(g, 96); /* data = abi.encode(maxSubmissionCost, bytes("")) */
        w_u64(g, submission);
        w_u64(g, 0x40);
        w_u64(g, 0);
        break;
    }
    case 6:
        set_to(g, A_POLYGON);
        put_sel(g, 0x4faa8a26);
        g->value = eth;
        w_addr(g, g->from);
        break;
    case 7: /* depositFor(user, rootToken, abi.encode(amount)) */
        token_any_major(g, &t);
        set_to(g, A_POLYGON);
        put_sel(g, 0xe3dec8fb);
        w_addr(g, g->from);
        w_addr(g, t.addr);
        w_u64(g, 0x60);
        w_u64(g, 32);
        w_u128(g, units(notional_usd(g), t.usd, t.decimals));
        break;
    default: { /* Across depositV3 */
        bool native = rng_next(&g->rng) & 1;
        token_major(g, native ? T_WETH : T_USDC, &t);
        u128 amount = native ? eth : units(notional_usd(g), 1.0, 6);
        fill_id(l2, MP_ADDR_LEN, g->seed, D_L2TOKEN, native);
        set_to(g, A_ACROSS);
        put_sel(g, 0x7b939232);
        if (native) g->value = amount;
        w_addr(g, g->from);
        w_addr(g, g->from);
        w_addr(g, t.addr);
        w_addr(g, l2);
        w_u128(g, amount);
        w_u128(g, amount - amount / 500);
        w_u64(g, across_chains[below(rng_next(&g->rng), 6)]);
        w_u64(g, 0); /* exclusiveRelayer */
        w_u64(g, g->now_s - 12);
        w_u64(g, g->now_s + 4 * 3600);
        w_u64(g, 0);
        w_u64(g, 0x180);
        w_u64(g, 0);
        break;
    }
    }
}

static void w_name(gen_t *g)
{
    char name[16];
    uint32_t n = 3 + (uint32_t)below(rng_next(&g->rng), 12);
    for (uint32_t i = 0; i < n; i++)
        name[i] = (char)('a' + below(rng_next(&g->rng), 26));
    w_bytes(g, (const uint8_t *)name, n);
}

/* ENS: 0 commit(commitment), 1 register(...8 args), 2 renew(name, duration),
 * 3 setAddr(node, addr) on the public resolver. */
void mp_synth_enc_ens(gen_t *g, unsigned v)
{
    uint64_t years = 1 + below(rng_next(&g->rng), 3);
    u128 price = units(5.5 * (double)years, g->eth_usd, 18);
    set_to(g, v == 3 ? A_ENS_RESOLVER : A_ENS_CONTROLLER);
    if (v == 0) {
        put_sel(g, 0xf14fcbc8);
        w_rand(g);
    } else if (v == 1) {
        put_sel(g, 0x74694a2b);
        g->value = price;
        uint32_t h_name = w_hole(g);
        w_addr(g, g->from);
        w_u64(g, years * 31536000);
        w_rand(g);
        w_addr(g, mp_synth_addr[A_ENS_RESOLVER]);
        uint32_t h_data = w_hole(g);
        w_u64(g, rng_next(&g->rng) & 1);
        w_u64(g, 0);
        patch_here(g, h_name, 4);
        w_name(g);
        patch_here(g, h_data, 4);
        w_u64(g, 0);
    } else if (v == 2) {
        put_sel(g, 0xacf1a841);
        g->value = price;
        w_u64(g, 0x40);
        w_u64(g, years * 31536000);
        w_name(g);
    } else {
        put_sel(g, 0xd5fa2b00);
        w_rand(g);
        w_addr(g, g->from);
    }
}

void mp_synth_enc_lido(gen_t *g, unsigned v)
{
    (void)v;
    set_to(g, A_STETH);
    put_sel(g, 0xa1903eab);
    g->value = eth_wei(exp(uniform_in(g, -3.0, 3.5)));
    w_u64(g, 0); /* no referral */
}

/* transfer(to, amount) of a major token, as the inner call of wallets. */
static void call_transfer(gen_t *g, token_t *t)
{
    uint8_t who[MP_ADDR_LEN];
    token_any_major(g, t);
    put_sel(g, 0xa9059cbb);
    eoa(g, who);
    w_addr(g, who);
    w_u128(g, units(notional_usd(g), t->usd, t->decimals));
}

/* Safe execTransaction(to, value, data, operation, safeTxGas, baseGas, gasPrice,
 * gasToken, refundReceiver, signatures): a token transfer or an ETH payment. */
void mp_synth_enc_safe(gen_t *g, unsigned v)
{
    (void)v;
    uint8_t inner[4 + 2 * 32], dest[MP_ADDR_LEN];
    token_t t;
    population(g, D_SAFE, 512, g->to);
    gen_t sub = begin_sub(g, inner, sizeof inner);
    bool token = unit(rng_next(&sub.rng)) < 0.6;
    u128 eth = 0;
    if (token) {
        call_transfer(&sub, &t);
        memcpy(dest, t.addr, MP_ADDR_LEN);
    } else {
        eoa(&sub, dest);
        eth = eth_wei(eth_amount(&sub));
    }
    put_sel(g, 0x6a761202);
    w_addr(g, dest);
    w_u128(g, eth);
    uint32_t h_data = w_hole(g);
    for (int i = 0; i < 6; i++)
        w_u64(g, 0); /* operation, safeTxGas, baseGas, gasPrice, gasToken, refundReceiver */
    uint32_t h_sigs = w_hole(g);
    patch_here(g, h_data, 4);
    end_sub(g, &sub);
    patch_here(g, h_sigs, 4);
    w_rand_bytes(g, 65 * (1 + (uint32_t)below(rng_next(&g->rng), 3)));
}

/* ERC-4337 handleOps([op], beneficiary) at EntryPoint v0.6 (v = 0) or v0.7 (v = 1); the
 * op's callData is the account's execute(token, 0, transfer(...)). */
void mp_synth_enc_4337(gen_t *g, unsigned v)
{
    uint8_t account[MP_ADDR_LEN], bundler[MP_ADDR_LEN], call[4 + 7 * 32], xfer[4 + 2 * 32];
    token_t t;
    set_to(g, v == 0 ? A_EP06 : A_EP07);
    population(g, D_ACCOUNT, 4096, account);
    population(g, D_BUNDLER, 16, bundler);
    /* execute(address dest, uint256 value, bytes func) */
    gen_t c = begin_sub(g, call, sizeof call);
    gen_t x = begin_sub(&c, xfer, sizeof xfer);
    call_transfer(&x, &t);
    c.rng = x.rng;
    put_sel(&c, 0xb61d27f6);
    w_addr(&c, t.addr);
    w_u64(&c, 0);
    w_u64(&c, 0x60);
    w_bytes(&c, xfer, x.len);
    g->rng = c.rng;

    uint64_t call_gas = 50000 + below(rng_next(&g->rng), 200000);
    uint64_t verif_gas = 80000 + below(rng_next(&g->rng), 300000);
    uint64_t pre_gas = 45000 + below(rng_next(&g->rng), 20000);
    uint64_t prio = 100000000 + below(rng_next(&g->rng), 2000000000);
    uint64_t max_fee = prio + 20 * GWEI;
    bool paymaster = rng_next(&g->rng) & 1;

    put_sel(g, v == 0 ? 0x1fad948c : 0x765e827f);
    w_u64(g, 0x40);
    w_addr(g, bundler);
    w_u64(g, 1);
    w_u64(g, 0x20);
    uint32_t op = g->len;
    w_addr(g, account);
    w_u64(g, below(rng_next(&g->rng), 500));
    uint32_t h_init = w_hole(g), h_call = w_hole(g), h_pm, h_sig;
    if (v == 0) {
        w_u64(g, call_gas);
        w_u64(g, verif_gas);
        w_u64(g, pre_gas);
        w_u64(g, max_fee);
        w_u64(g, prio);
    } else {
        w_pair128(g, verif_gas, call_gas); /* accountGasLimits */
        w_u64(g, pre_gas);
        w_pair128(g, prio, max_fee); /* gasFees */
    }
    h_pm = w_hole(g);
    h_sig = w_hole(g);
    patch_here(g, h_init, op);
    w_u64(g, 0);
    patch_here(g, h_call, op);
    w_bytes(g, call, c.len);
    patch_here(g, h_pm, op);
    w_rand_bytes(g, paymaster ? (v == 0 ? 84 : 116) : 0);
    patch_here(g, h_sig, op);
    w_rand_bytes(g, 65);
}

/* A contract outside the catalog (bots, games, vaults): one of four selectors each. */
void mp_synth_enc_unknown(gen_t *g, unsigned v)
{
    (void)v;
    uint64_t contract = below(rng_next(&g->rng), 1024);
    fill_id(g->to, MP_ADDR_LEN, g->seed, D_CONTRACT, contract);
    put_sel(g,
            (uint32_t)(derive(g->seed, D_SELECTOR, contract * 4 + (rng_next(&g->rng) & 3)) >> 32));
    unsigned words = (unsigned)below(rng_next(&g->rng), 9);
    for (unsigned i = 0; i < words; i++) {
        if (rng_next(&g->rng) & 1)
            w_u64(g, rng_next(&g->rng) >> (rng_next(&g->rng) & 63));
        else
            w_rand(g);
    }
    if (unit(rng_next(&g->rng)) < 0.1) g->value = eth_wei(eth_amount(g) / 10);
}

/* Contract creation: solc-style init code, 1.5 to 24 KB (the prefix is capped). */
void mp_synth_enc_deploy(gen_t *g, unsigned v)
{
    (void)v;
    static const uint8_t prelude[] = {0x60, 0x80, 0x60, 0x40, 0x52};
    g->has_to = false;
    memset(g->to, 0, MP_ADDR_LEN);
    uint32_t full = 1500 + (uint32_t)below(rng_next(&g->rng), 22500);
    uint32_t n = full < g->cap ? full : g->cap;
    memcpy(g->buf, prelude, sizeof prelude);
    for (uint32_t i = sizeof prelude; i < n; i += 8) {
        uint8_t tmp[8];
        put_be64(tmp, rng_next(&g->rng));
        memcpy(g->buf + i, tmp, n - i < 8 ? n - i : 8);
    }
    g->len = n;
    g->full_len = full;
}
