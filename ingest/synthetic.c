/* Owns the synthetic mempool: the kinds of transactions it sends and their ABI calldata,
 * the pending pool with per-sender nonces, replacements, gas wars and drops, 12 s blocks
 * with the EIP-1559 base fee, price walks and ticks; and the paced mp_source_t wrapper.
 * The generator is a pure function of the seed and its state struct (no clock, no
 * pointers); only the wrapper, and a start time of 0, read the clock. */
#include "ingest/synthetic.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "proto/eth_catalog.h"

typedef unsigned __int128 u128;

#define NS 1000000000ull
#define GWEI 1000000000ull
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

/* Derivation domains: each population or id space draws from its own stream. */
enum {
    D_SENDER = 1,
    D_NONCE,
    D_EOA,
    D_TOKEN,
    D_TOKEN_PRICE,
    D_NFT,
    D_SAFE,
    D_FEED,
    D_FEED_PRICE,
    D_FORWARDER,
    D_CONTRACT,
    D_SELECTOR,
    D_PAIR,
    D_POOL,
    D_BUNDLER,
    D_ACCOUNT,
    D_L2TOKEN,
    D_TXHASH,
    D_BLOCKHASH,
    D_CONTENT,
    D_INIT,
    D_FINGERPRINT,
};

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* splitmix64 step. */
static inline uint64_t rng_next(uint64_t *st)
{
    *st += 0x9e3779b97f4a7c15ull;
    return mix64(*st);
}

static inline uint64_t derive(uint64_t seed, uint64_t domain, uint64_t idx)
{
    return mix64(seed ^ mix64(domain * 0xd1b54a32d192ed03ull + idx + 0x9e3779b97f4a7c15ull));
}

static inline double unit(uint64_t r)
{
    return (double)(r >> 11) * 0x1.0p-53;
}

static inline uint64_t below(uint64_t r, uint64_t n)
{
    return (uint64_t)(((u128)r * n) >> 64);
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* n bytes (n <= 32) of the id's stream in a domain: hashes and addresses. The bytes are
 * the words in host order: only their determinism matters, and a checkpoint is never
 * restored on another machine. */
static inline void fill_id(uint8_t *out, size_t n, uint64_t seed, uint64_t domain, uint64_t id)
{
    uint64_t base = derive(seed, domain, id), w[4];
    for (size_t i = 0; i < (n + 7) / 8; i++)
        w[i] = mix64(base + (i + 1) * 0x9e3779b97f4a7c15ull);
    memcpy(out, w, n);
}

/* ---- catalog addresses the generator sends to ---- */

enum {
    A_V2_ROUTER,
    A_V3_ROUTER,
    A_ROUTER02,
    A_UR_OLD,
    A_UR_12,
    A_UR_V4,
    A_PERMIT2,
    A_WETH,
    A_USDC,
    A_USDT,
    A_DAI,
    A_WBTC, /* in token order, see token_major() */
    A_1INCH_V5,
    A_1INCH_V6,
    A_0X,
    A_SEAPORT_15,
    A_SEAPORT_16,
    A_AAVE_V2,
    A_AAVE_V3,
    A_COMET,
    A_CURVE_3POOL,
    A_BALANCER,
    A_ENS_CONTROLLER,
    A_ENS_RESOLVER,
    A_OP_BRIDGE,
    A_OP_PORTAL,
    A_BASE_BRIDGE,
    A_ARB_INBOX,
    A_ARB_GATEWAY,
    A_POLYGON,
    A_ACROSS,
    A_STETH,
    A_EP06,
    A_EP07,
    A_COUNT
};

static const char *const known_labels[A_COUNT] = {
    [A_V2_ROUTER] = "Uniswap V2 Router02",
    [A_V3_ROUTER] = "Uniswap V3 SwapRouter",
    [A_ROUTER02] = "Uniswap SwapRouter02",
    [A_UR_OLD] = "Universal Router (older)",
    [A_UR_12] = "Universal Router v1.2",
    [A_UR_V4] = "Universal Router (v4)",
    [A_PERMIT2] = "Permit2",
    [A_WETH] = "WETH",
    [A_USDC] = "USDC",
    [A_USDT] = "USDT",
    [A_DAI] = "DAI",
    [A_WBTC] = "WBTC",
    [A_1INCH_V5] = "1inch v5 Router",
    [A_1INCH_V6] = "1inch v6 Router",
    [A_0X] = "0x Exchange Proxy",
    [A_SEAPORT_15] = "Seaport 1.5",
    [A_SEAPORT_16] = "Seaport 1.6",
    [A_AAVE_V2] = "Aave v2 LendingPool",
    [A_AAVE_V3] = "Aave v3 Pool",
    [A_COMET] = "Compound cUSDCv3",
    [A_CURVE_3POOL] = "Curve 3pool",
    [A_BALANCER] = "Balancer Vault",
    [A_ENS_CONTROLLER] = "ENS Registrar Controller",
    [A_ENS_RESOLVER] = "ENS Public Resolver",
    [A_OP_BRIDGE] = "OP L1StandardBridge",
    [A_OP_PORTAL] = "OptimismPortal",
    [A_BASE_BRIDGE] = "Base L1StandardBridge",
    [A_ARB_INBOX] = "Arbitrum Inbox",
    [A_ARB_GATEWAY] = "Arbitrum L1 GatewayRouter",
    [A_POLYGON] = "Polygon RootChainManager",
    [A_ACROSS] = "Across SpokePool",
    [A_STETH] = "Lido stETH",
    [A_EP06] = "ERC-4337 EntryPoint v0.6",
    [A_EP07] = "ERC-4337 EntryPoint v0.7",
};

/* Filled once by setup_once; read-only afterwards (pthread_once orders the writes before
 * every caller of mp_synth_init, the only way to reach the readers). */
static uint8_t known[A_COUNT][MP_ADDR_LEN];
static int setup_err;
static pthread_once_t setup_guard = PTHREAD_ONCE_INIT;

/* ---- calldata writer ---- */

typedef struct gen {
    uint64_t seed;
    uint64_t rng; /* the tx content's own stream: same content_id, same calldata */
    uint8_t *buf;
    uint32_t cap;
    uint32_t len;
    uint32_t full_len; /* calldata length when longer than buf (deployments), else 0 */
    uint8_t from[MP_ADDR_LEN];
    uint8_t to[MP_ADDR_LEN];
    bool has_to;
    u128 value;
    uint64_t now_s;
    double eth_usd;
    double btc_per_eth;
    uint8_t sink[32]; /* absorbs words past cap; encoders stay far below it by design */
} gen_t;

static uint8_t *word(gen_t *g)
{
    if (g->len + 32 > g->cap) {
        memset(g->sink, 0, sizeof g->sink);
        return g->sink;
    }
    uint8_t *w = g->buf + g->len;
    memset(w, 0, 32);
    g->len += 32;
    return w;
}

static void w_u64(gen_t *g, uint64_t v)
{
    put_be64(word(g) + 24, v);
}

static void w_u128(gen_t *g, u128 v)
{
    uint8_t *w = word(g);
    put_be64(w + 16, (uint64_t)(v >> 64));
    put_be64(w + 24, (uint64_t)v);
}

/* Two 128-bit halves in one word (ERC-4337 v0.7 packed gas fields). */
static void w_pair128(gen_t *g, uint64_t hi, uint64_t lo)
{
    uint8_t *w = word(g);
    put_be64(w + 8, hi);
    put_be64(w + 24, lo);
}

static void w_max(gen_t *g)
{
    memset(word(g), 0xff, 32);
}

static void w_addr(gen_t *g, const uint8_t *a)
{
    memcpy(word(g) + 12, a, MP_ADDR_LEN);
}

static void w_rand(gen_t *g)
{
    uint8_t *w = word(g);
    for (int i = 0; i < 4; i++)
        put_be64(w + 8 * i, rng_next(&g->rng));
}

/* Reserves a word to patch later (an offset or a length); returns its position. */
static uint32_t w_hole(gen_t *g)
{
    uint32_t at = g->len;
    word(g);
    return at;
}

static void patch(gen_t *g, uint32_t at, uint64_t v)
{
    if (at + 32 <= g->len) put_be64(g->buf + at + 24, v);
}

/* Patches the offset word at `at` to point here, relative to `base`. */
static void patch_here(gen_t *g, uint32_t at, uint32_t base)
{
    patch(g, at, g->len - base);
}

static void w_bytes(gen_t *g, const uint8_t *p, uint32_t n)
{
    w_u64(g, n);
    for (uint32_t i = 0; i < n; i += 32) {
        uint8_t *w = word(g);
        memcpy(w, p + i, n - i < 32 ? n - i : 32);
    }
}

static void w_rand_bytes(gen_t *g, uint32_t n)
{
    w_u64(g, n);
    for (uint32_t i = 0; i < n; i += 32) {
        uint8_t *w = word(g);
        uint8_t tmp[32];
        for (int j = 0; j < 4; j++)
            put_be64(tmp + 8 * j, rng_next(&g->rng));
        memcpy(w, tmp, n - i < 32 ? n - i : 32);
    }
}

static void put_sel(gen_t *g, uint32_t sel)
{
    g->buf[0] = (uint8_t)(sel >> 24);
    g->buf[1] = (uint8_t)(sel >> 16);
    g->buf[2] = (uint8_t)(sel >> 8);
    g->buf[3] = (uint8_t)sel;
    g->len = 4;
}

/* A nested encoding (bytes argument holding a call) into tmp; continue the parent's
 * stream afterwards with end_sub. */
static gen_t begin_sub(const gen_t *g, uint8_t *tmp, uint32_t cap)
{
    gen_t sub = *g;
    sub.buf = tmp;
    sub.cap = cap;
    sub.len = 0;
    return sub;
}

static void end_sub(gen_t *g, const gen_t *sub)
{
    g->rng = sub->rng;
    w_bytes(g, sub->buf, sub->len);
}

/* ---- amounts, tokens, people ---- */

static const double pow10_tab[19] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                     1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

static u128 units(double usd, double price_usd, unsigned decimals)
{
    double x = usd / price_usd * pow10_tab[decimals];
    if (!(x >= 1.0)) x = 1.0;
    if (x > 1e36) x = 1e36;
    return (u128)x;
}

static double uniform_in(gen_t *g, double lo, double hi)
{
    return lo + (hi - lo) * unit(rng_next(&g->rng));
}

/* Trade size in USD: log-uniform $20..$50k, 2 % whales up to 100x larger. */
static double notional_usd(gen_t *g)
{
    double usd = exp(uniform_in(g, 3.0, 10.8));
    if (unit(rng_next(&g->rng)) < 0.02) usd *= exp(uniform_in(g, 2.3, 4.6));
    return usd;
}

static u128 eth_wei(double eth)
{
    return (u128)(eth * 1e18);
}

/* ETH moved by a plain transfer: 0.001..20 ETH, 1 % whales 20..2000 ETH. */
static double eth_amount(gen_t *g)
{
    if (unit(rng_next(&g->rng)) < 0.01) return exp(uniform_in(g, 3.0, 7.6));
    return exp(uniform_in(g, -6.9, 3.0));
}

static uint64_t deadline(gen_t *g)
{
    return g->now_s + 60 + below(rng_next(&g->rng), 1800);
}

static void eoa(gen_t *g, uint8_t out[MP_ADDR_LEN])
{
    fill_id(out, MP_ADDR_LEN, g->seed, D_EOA, below(rng_next(&g->rng), 1u << 20));
}

static void population(gen_t *g, uint64_t domain, uint64_t n, uint8_t out[MP_ADDR_LEN])
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

static void token_major(const gen_t *g, unsigned t, token_t *o)
{
    static const unsigned dec[] = {18, 6, 6, 18, 8};
    memcpy(o->addr, known[A_WETH + t], MP_ADDR_LEN);
    o->decimals = dec[t];
    o->stable = t == T_USDC || t == T_USDT || t == T_DAI;
    o->usd = t == T_WETH ? g->eth_usd : t == T_WBTC ? g->eth_usd * g->btc_per_eth : 1.0;
}

/* One of 256 long-tail tokens, each with a fixed price between 1e-8 and 10 USD. */
static void token_tail(gen_t *g, token_t *o)
{
    uint64_t id = below(rng_next(&g->rng), 256);
    fill_id(o->addr, MP_ADDR_LEN, g->seed, D_TOKEN, id);
    o->decimals = (id & 7) == 0 ? 9 : 18;
    o->stable = false;
    o->usd = pow(10.0, -8.0 + 9.0 * unit(derive(g->seed, D_TOKEN_PRICE, id)));
}

static void token_any_major(gen_t *g, token_t *o)
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
    else if (!memcmp(sw->in.addr, known[A_WETH], MP_ADDR_LEN) ||
             !memcmp(sw->out.addr, known[A_WETH], MP_ADDR_LEN))
        sw->fee =
            (sw->in.usd < 1e-3 || sw->out.usd < 1e-3 || (rng_next(&g->rng) & 3) == 0) ? 3000 : 500;
    else
        sw->fee = 3000;
    if (mode == PAIR_TAIL && (rng_next(&g->rng) & 1)) sw->fee = 10000;
}

static bool is_weth(const token_t *t)
{
    return !memcmp(t->addr, known[A_WETH], MP_ADDR_LEN);
}

/* V2 path: direct when one side is WETH or both are stables, else through WETH. */
static unsigned v2_path(const swap_t *sw, uint8_t path[3][MP_ADDR_LEN])
{
    memcpy(path[0], sw->in.addr, MP_ADDR_LEN);
    if (is_weth(&sw->in) || is_weth(&sw->out) || (sw->in.stable && sw->out.stable)) {
        memcpy(path[1], sw->out.addr, MP_ADDR_LEN);
        return 2;
    }
    memcpy(path[1], known[A_WETH], MP_ADDR_LEN);
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

static void set_to(gen_t *g, unsigned known_id)
{
    memcpy(g->to, known[known_id], MP_ADDR_LEN);
}

/* ---- encoders: one per family; `v` picks the method ---- */

static void enc_eth_transfer(gen_t *g, unsigned v)
{
    (void)v;
    eoa(g, g->to);
    g->value = eth_wei(eth_amount(g));
}

static void enc_erc20(gen_t *g, unsigned v)
{
    token_t t;
    uint8_t who[MP_ADDR_LEN];
    if (v == 1)
        token_tail(g, &t);
    else
        token_any_major(g, &t);
    memcpy(g->to, t.addr, MP_ADDR_LEN);
    u128 amount = units(notional_usd(g), t.usd, t.decimals);
    switch (v) {
    case 0:
    case 1: /* transfer(to, amount) */
        put_sel(g, 0xa9059cbb);
        eoa(g, who);
        w_addr(g, who);
        w_u128(g, amount);
        break;
    case 2: { /* approve(spender, amount): routers, mostly unlimited */
        static const unsigned spenders[] = {A_UR_12,    A_PERMIT2, A_PERMIT2,  A_V2_ROUTER,
                                            A_1INCH_V6, A_0X,      A_ROUTER02, A_AAVE_V3};
        put_sel(g, 0x095ea7b3);
        w_addr(g, known[spenders[below(rng_next(&g->rng), 8)]]);
        if (unit(rng_next(&g->rng)) < 0.7)
            w_max(g);
        else
            w_u128(g, amount);
        break;
    }
    case 3: /* transferFrom(from, to, amount) */
        put_sel(g, 0x23b872dd);
        eoa(g, who);
        w_addr(g, who);
        w_addr(g, g->from);
        w_u128(g, amount);
        break;
    default: /* Permit2 approve(token, spender, uint160 amount, uint48 expiration) */
        set_to(g, A_PERMIT2);
        put_sel(g, 0x87517c45);
        w_addr(g, t.addr);
        w_addr(g, known[A_UR_12]);
        w_u128(g, ((u128)1 << 100) - 1);
        w_u64(g, g->now_s + 30 * 86400);
        break;
    }
}

static void enc_weth(gen_t *g, unsigned v)
{
    set_to(g, A_WETH);
    if (v == 0) {
        put_sel(g, 0xd0e30db0);
        g->value = eth_wei(eth_amount(g));
    } else {
        put_sel(g, 0x2e1a7d4d);
        w_u128(g, eth_wei(eth_amount(g)));
    }
}

/* Uniswap V2 Router02 swaps. Variants: 0 exactTokensForTokens, 1 exactETHForTokens,
 * 2 exactTokensForETH, 3 tokensForExactTokens, 4 ETHForExactTokens, 5 tokensForExactETH,
 * 6-8 the fee-on-transfer versions of 0-2. */
static void enc_v2(gen_t *g, unsigned v)
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
static void enc_v2_liquidity(gen_t *g, unsigned v)
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
static void enc_v2_pair(gen_t *g, unsigned v)
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
static void enc_v3(gen_t *g, unsigned v)
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
static void enc_r02(gen_t *g, unsigned v)
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

static void enc_universal_router(gen_t *g, unsigned v)
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
static void enc_1inch(gen_t *g, unsigned v)
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
static void enc_0x(gen_t *g, unsigned v)
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
static void enc_curve(gen_t *g, unsigned v)
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
static void enc_balancer(gen_t *g, unsigned v)
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
static void enc_v3_pool(gen_t *g, unsigned v)
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

/* Seaport fulfillBasicOrder (1.5) or its all-zero-selector twin (1.6), buying an ERC-721
 * for ETH with creator / marketplace fees as additional recipients. */
static void enc_seaport(gen_t *g, unsigned v)
{
    uint8_t offerer[MP_ADDR_LEN], collection[MP_ADDR_LEN], rec[MP_ADDR_LEN];
    double eth = exp(uniform_in(g, -4.6, 1.6));
    u128 price = eth_wei(eth);
    unsigned nrec = 1 + (unsigned)below(rng_next(&g->rng), 2);
    set_to(g, v == 0 ? A_SEAPORT_15 : A_SEAPORT_16);
    put_sel(g, v == 0 ? 0xfb0f3ee1 : 0x00000000);
    g->value = price;
    eoa(g, offerer);
    population(g, D_NFT, 64, collection);
    w_u64(g, 0x20);
    uint32_t t = g->len;
    w_u64(g, 0);                          /* considerationToken: ETH */
    w_u64(g, 0);                          /* considerationIdentifier */
    w_u128(g, price - price / 40 * nrec); /* to the offerer */
    w_addr(g, offerer);
    w_u64(g, 0); /* zone */
    w_addr(g, collection);
    w_u64(g, below(rng_next(&g->rng), 10000)); /* token id */
    w_u64(g, 1);                               /* offerAmount */
    w_u64(g, 0);                               /* ETH_TO_ERC721_FULL_OPEN */
    w_u64(g, g->now_s - below(rng_next(&g->rng), 86400 * 7));
    w_u64(g, g->now_s + 86400 * (1 + below(rng_next(&g->rng), 30)));
    w_u64(g, 0); /* zoneHash */
    w_rand(g);   /* salt */
    w_rand(g);   /* offererConduitKey */
    w_u64(g, 0); /* fulfillerConduitKey */
    w_u64(g, nrec);
    uint32_t h_rec = w_hole(g), h_sig = w_hole(g);
    patch_here(g, h_rec, t);
    w_u64(g, nrec);
    for (unsigned i = 0; i < nrec; i++) {
        w_u128(g, price / 40);
        population(g, D_EOA, 1024, rec);
        w_addr(g, rec);
    }
    patch_here(g, h_sig, t);
    w_rand_bytes(g, 64);
}

/* NFT contracts: 0 setApprovalForAll, 1 721 safeTransferFrom, 2 with data, 3 1155. */
static void enc_nft(gen_t *g, unsigned v)
{
    uint8_t who[MP_ADDR_LEN];
    population(g, D_NFT, 64, g->to);
    if (v == 0) {
        put_sel(g, 0xa22cb465);
        w_addr(g, known[rng_next(&g->rng) & 1 ? A_SEAPORT_16 : A_SEAPORT_15]);
        w_u64(g, 1);
        return;
    }
    static const uint32_t sels[] = {0, 0x42842e0e, 0xb88d4fde, 0xf242432a};
    put_sel(g, sels[v]);
    eoa(g, who);
    w_addr(g, g->from);
    w_addr(g, who);
    w_u64(g, below(rng_next(&g->rng), 10000));
    if (v == 2) {
        w_u64(g, 0x80);
        w_u64(g, 0);
    } else if (v == 3) {
        w_u64(g, 1 + below(rng_next(&g->rng), 5));
        w_u64(g, 0xa0);
        w_u64(g, 0);
    }
}

/* Aave: 0 v3 supply, 1 borrow, 2 repay, 3 withdraw, 4 v2 deposit, 5 liquidationCall,
 * 6 flashLoanSimple. */
static void enc_aave(gen_t *g, unsigned v)
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
static void enc_comet(gen_t *g, unsigned v)
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
static void enc_chainlink(gen_t *g, unsigned v)
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
static void enc_bridge(gen_t *g, unsigned v)
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
static void enc_ens(gen_t *g, unsigned v)
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
        w_addr(g, known[A_ENS_RESOLVER]);
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

static void enc_lido(gen_t *g, unsigned v)
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
static void enc_safe(gen_t *g, unsigned v)
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
static void enc_4337(gen_t *g, unsigned v)
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
static void enc_unknown(gen_t *g, unsigned v)
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
static void enc_deploy(gen_t *g, unsigned v)
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
    KIND(1800, 0, enc_eth_transfer, 21000, 21000, 100, 100),
    /* ERC-20: transfer major / long-tail, approve, transferFrom, Permit2 approve */
    KIND(900, 0, enc_erc20, 50000, 90000, 55, 85),
    KIND(400, 1, enc_erc20, 50000, 120000, 45, 80),
    KIND(500, 2, enc_erc20, 46000, 70000, 60, 90),
    KIND(50, 3, enc_erc20, 60000, 100000, 55, 85),
    KIND(60, 4, enc_erc20, 50000, 80000, 60, 85),
    KIND(150, 0, enc_weth, 30000, 50000, 60, 95),
    KIND(100, 1, enc_weth, 35000, 60000, 60, 95),
    /* DEX swaps: the bulk of the traffic */
    KIND(350, 0, enc_v2, 120000, 220000, 55, 85),
    KIND(400, 1, enc_v2, 120000, 220000, 55, 85),
    KIND(300, 2, enc_v2, 120000, 220000, 55, 85),
    KIND(60, 3, enc_v2, 120000, 220000, 55, 85),
    KIND(80, 4, enc_v2, 120000, 220000, 55, 85),
    KIND(50, 5, enc_v2, 120000, 220000, 55, 85),
    KIND(50, 6, enc_v2, 120000, 220000, 55, 85),
    KIND(120, 7, enc_v2, 120000, 220000, 55, 85),
    KIND(100, 8, enc_v2, 120000, 220000, 55, 85),
    KIND(40, 0, enc_v2_liquidity, 200000, 350000, 60, 90),
    KIND(30, 1, enc_v2_liquidity, 200000, 350000, 60, 90),
    KIND(15, 2, enc_v2_liquidity, 200000, 350000, 60, 90),
    KIND(10, 3, enc_v2_liquidity, 200000, 350000, 60, 90),
    KIND(100, 0, enc_v2_pair, 100000, 250000, 40, 80),
    KIND(200, 0, enc_v3, 130000, 230000, 55, 85),
    KIND(80, 1, enc_v3, 130000, 230000, 55, 85),
    KIND(30, 2, enc_v3, 130000, 230000, 55, 85),
    KIND(150, 0, enc_r02, 130000, 230000, 55, 85),
    KIND(350, 1, enc_r02, 130000, 230000, 55, 85),
    KIND(60, 2, enc_r02, 130000, 230000, 55, 85),
    KIND(350, 0, enc_universal_router, 150000, 300000, 50, 80),
    KIND(250, 1, enc_universal_router, 150000, 300000, 50, 80),
    KIND(200, 2, enc_universal_router, 150000, 300000, 50, 80),
    KIND(100, 3, enc_universal_router, 150000, 300000, 50, 80),
    KIND(150, 0, enc_1inch, 130000, 250000, 55, 85),
    KIND(80, 1, enc_1inch, 130000, 250000, 55, 85),
    KIND(40, 2, enc_1inch, 130000, 250000, 55, 85),
    KIND(100, 0, enc_0x, 130000, 250000, 55, 85),
    KIND(150, 0, enc_curve, 130000, 250000, 55, 85),
    KIND(80, 0, enc_balancer, 130000, 250000, 55, 85),
    KIND(60, 0, enc_v3_pool, 150000, 300000, 40, 80),
    /* NFT */
    KIND(70, 0, enc_seaport, 150000, 300000, 50, 85),
    KIND(50, 1, enc_seaport, 150000, 300000, 50, 85),
    KIND(60, 0, enc_nft, 46000, 60000, 70, 95),
    KIND(60, 1, enc_nft, 80000, 150000, 50, 85),
    KIND(20, 2, enc_nft, 80000, 150000, 50, 85),
    KIND(40, 3, enc_nft, 60000, 120000, 50, 85),
    /* lending, with occasional liquidations */
    KIND(80, 0, enc_aave, 200000, 350000, 55, 85),
    KIND(40, 1, enc_aave, 300000, 500000, 55, 85),
    KIND(40, 2, enc_aave, 200000, 300000, 55, 85),
    KIND(40, 3, enc_aave, 200000, 350000, 55, 85),
    KIND(15, 4, enc_aave, 250000, 350000, 55, 85),
    KIND(10, 5, enc_aave, 400000, 1200000, 40, 80),
    KIND(10, 6, enc_aave, 300000, 1500000, 40, 90),
    KIND(30, 0, enc_comet, 100000, 200000, 55, 85),
    KIND(20, 1, enc_comet, 100000, 200000, 55, 85),
    KIND(3, 2, enc_comet, 500000, 2000000, 40, 80),
    /* oracles */
    KIND(80, 0, enc_chainlink, 250000, 500000, 50, 80),
    KIND(20, 1, enc_chainlink, 250000, 500000, 50, 80),
    KIND(20, 2, enc_chainlink, 300000, 600000, 50, 80),
    /* bridges */
    KIND(40, 0, enc_bridge, 100000, 200000, 50, 85),
    KIND(10, 1, enc_bridge, 100000, 200000, 50, 85),
    KIND(50, 2, enc_bridge, 100000, 200000, 50, 85),
    KIND(15, 3, enc_bridge, 100000, 200000, 50, 85),
    KIND(50, 4, enc_bridge, 80000, 150000, 50, 85),
    KIND(20, 5, enc_bridge, 200000, 400000, 50, 85),
    KIND(15, 6, enc_bridge, 80000, 150000, 50, 85),
    KIND(10, 7, enc_bridge, 150000, 300000, 50, 85),
    KIND(50, 8, enc_bridge, 100000, 200000, 50, 85),
    /* naming, staking, smart wallets */
    KIND(25, 0, enc_ens, 46000, 60000, 70, 95),
    KIND(25, 1, enc_ens, 250000, 350000, 60, 90),
    KIND(15, 2, enc_ens, 80000, 120000, 60, 90),
    KIND(10, 3, enc_ens, 50000, 70000, 60, 90),
    KIND(50, 0, enc_lido, 80000, 120000, 60, 90),
    KIND(150, 0, enc_safe, 80000, 300000, 50, 85),
    KIND(60, 0, enc_4337, 200000, 700000, 40, 80),
    KIND(60, 1, enc_4337, 200000, 700000, 40, 80),
    /* everything else */
    KIND(500, 0, enc_unknown, 50000, 400000, 30, 90),
    KIND(40, 0, enc_deploy, 150000, 3000000, 70, 95),
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])
_Static_assert(N_KINDS <= 255, "kind ids fit mp_synth_tx_t.kind");

static uint32_t kind_cum[N_KINDS]; /* running weight sums; filled by setup_once */

static void setup_once(void)
{
    int err = mp_catalog_init();
    for (unsigned i = 0; i < A_COUNT && !err; i++) {
        const mp_catalog_address_t *a = mp_catalog_address_by_label(known_labels[i]);
        if (!a) {
            mp_log("synthetic: the catalog has no address labelled \"%s\"; proto/eth_catalog.c "
                   "and ingest/synthetic.c disagree",
                   known_labels[i]);
            err = -EINVAL;
            break;
        }
        memcpy(known[i], a->addr, MP_ADDR_LEN);
    }
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
static void content_begin(uint64_t seed, uint64_t content_id, uint64_t *rng, unsigned *kind,
                          uint32_t *gas_limit, uint32_t *gas_used)
{
    *rng = derive(seed, D_CONTENT, content_id);
    *kind = pick_kind(rng_next(rng));
    const kind_t *k = &kinds[*kind];
    *gas_limit = k->gas_lo + (uint32_t)below(rng_next(rng), k->gas_hi - k->gas_lo + 1u);
    uint32_t pct = k->used_lo + (uint32_t)below(rng_next(rng), k->used_hi - k->used_lo + 1u);
    *gas_used = (uint32_t)((uint64_t)*gas_limit * pct / 100);
}

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
    content_begin(s->cfg.seed, id, &crng, &kind, &e->gas_limit, &e->gas_used);
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
    /* splitmix64 state advances by a constant per draw: skip the head draws */
    g.rng =
        derive(s->cfg.seed, D_CONTENT, e->content_id) + CONTENT_HEAD_DRAWS * 0x9e3779b97f4a7c15ull;
    kinds[e->kind].encode(&g, kinds[e->kind].variant);

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
    pthread_once(&setup_guard, setup_once);
    if (setup_err) return setup_err;
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
    for (size_t i = 0; i < MP_SYNTH_POOL_CAP; i++) {
        const mp_synth_tx_t *e = &s->pool[i];
        if (e->state > TX_PENDING || e->kind >= N_KINDS || e->sender >= MP_SYNTH_SENDERS ||
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

/* ---- the paced source ---- */

typedef struct synth_source {
    mp_source_t base;
    /* Pacing: the event due at anchor_event_ns is due at anchor_mono_ns on the monotonic
     * clock; later events are due proportionally later. Not part of the saved state. */
    uint64_t anchor_mono_ns;
    uint64_t anchor_event_ns;
    double speed; /* event time per wall time; 0: unpaced */
    mp_synth_t gen;
} synth_source_t;

static void anchor_now(synth_source_t *ss)
{
    ss->anchor_mono_ns = mp_mono_ns();
    ss->anchor_event_ns = mp_synth_peek_time(&ss->gen);
}

static int synth_source_next(mp_source_t *src, mp_event_t *ev, uint64_t *wait_ns)
{
    synth_source_t *ss = (synth_source_t *)src;
    if (ss->gen.cfg.rate && ss->speed > 0) {
        uint64_t t = mp_synth_peek_time(&ss->gen);
        uint64_t ahead = t > ss->anchor_event_ns ? t - ss->anchor_event_ns : 0;
        uint64_t due = ss->anchor_mono_ns + (uint64_t)((double)ahead / ss->speed);
        uint64_t now = mp_mono_ns();
        if (now < due) {
            *wait_ns = due - now;
            return MP_SOURCE_IDLE;
        }
    }
    mp_synth_next(&ss->gen, ev);
    return MP_SOURCE_EVENT;
}

static uint32_t synth_source_save(mp_source_t *src, void *buf, uint32_t cap)
{
    synth_source_t *ss = (synth_source_t *)src;
    if (cap < sizeof ss->gen) {
        mp_log("synthetic: checkpoint slot of %u bytes cannot hold the %zu-byte generator state",
               cap, sizeof ss->gen);
        return 0;
    }
    memcpy(buf, &ss->gen, sizeof ss->gen);
    return (uint32_t)sizeof ss->gen;
}

static int synth_source_restore(mp_source_t *src, const void *buf, uint32_t len)
{
    synth_source_t *ss = (synth_source_t *)src;
    if (!buf || len != sizeof ss->gen) return -EINVAL;
    /* Validate a private copy: the checkpoint buffer may be unaligned, and a bad image
     * must leave the running generator untouched. */
    mp_synth_t *img = malloc(sizeof *img);
    if (!img) return -ENOMEM;
    memcpy(img, buf, sizeof *img);
    int err = mp_synth_validate(img);
    if (!err && (img->cfg.seed != ss->gen.cfg.seed || img->cfg.rate != ss->gen.cfg.rate ||
                 img->cfg.chain_id != ss->gen.cfg.chain_id))
        err = -EINVAL;
    if (!err) {
        memcpy(&ss->gen, img, sizeof *img);
        anchor_now(ss);
    }
    free(img);
    return err;
}

/* Regenerates and discards n events as fast as the generator runs (the loop calls this
 * right after restore for events already committed), then re-anchors the pacing clock so
 * the rate holds from now on without a catch-up burst. */
static int synth_source_skip(mp_source_t *src, uint64_t n)
{
    synth_source_t *ss = (synth_source_t *)src;
    mp_event_t ev;
    for (uint64_t i = 0; i < n; i++)
        mp_synth_next(&ss->gen, &ev);
    anchor_now(ss);
    return 0;
}

static void synth_source_destroy(mp_source_t *src)
{
    free(src);
}

static const mp_source_ops_t synth_ops = {
    .next = synth_source_next,
    .save = synth_source_save,
    .restore = synth_source_restore,
    .skip = synth_source_skip,
    .destroy = synth_source_destroy,
};

mp_source_t *mp_synthetic_source_create(const mp_synth_config_t *cfg)
{
    if (!cfg) return NULL;
    synth_source_t *ss = calloc(1, sizeof *ss);
    if (!ss) {
        mp_log("synthetic: cannot allocate %zu bytes for the generator", sizeof *ss);
        return NULL;
    }
    if (mp_synth_init(&ss->gen, cfg) != 0) {
        free(ss);
        return NULL;
    }
    ss->base.ops = &synth_ops;
    ss->base.name = "synthetic";
    ss->base.fingerprint = mp_synth_fingerprint(cfg);
    /* A checkpoint is a 372 KiB copy; with skip, regenerating up to this many events
     * after a restart takes about 10 ms at any rate. */
    ss->base.checkpoint_every = MP_SYNTH_CHECKPOINT_EVERY;
    ss->speed = 1.0;
    anchor_now(ss);
    return &ss->base;
}

void mp_synthetic_source_set_speed(mp_source_t *src, double speed)
{
    synth_source_t *ss = (synth_source_t *)src;
    ss->speed = speed > 0 ? speed : 0;
    anchor_now(ss);
}
