/* Owns the opportunity heuristics: swap calldata decoding (Uniswap V2/V3 routers,
 * multicall, Universal Router), the sandwich / backrun / liquidation / gas-war rules and
 * their scores, and the detector context tables (lending activity, replacements, fee
 * escalation runs). */
#include "readmodel/opportunities.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "readmodel/rate.h"

#define NS_PER_S 1e9
#define WEI_PER_GWEI 1e9

/* ---- names and ids ---- */

static const char *const kind_names[] = {
    [MP_OPP_SANDWICH] = "sandwich_candidate",
    [MP_OPP_BACKRUN] = "backrun_candidate",
    [MP_OPP_LIQUIDATION] = "liquidation_candidate",
    [MP_OPP_GAS_WAR] = "gas_war",
};
static const char *const kind_tags[] = {
    [MP_OPP_SANDWICH] = "sandwich",
    [MP_OPP_BACKRUN] = "backrun",
    [MP_OPP_LIQUIDATION] = "liquidation",
    [MP_OPP_GAS_WAR] = "gas_war",
};
static const char *const status_names[] = {
    [MP_OPP_OPEN] = "open",
    [MP_OPP_EXPIRED] = "expired",
    [MP_OPP_MINED] = "mined",
    [MP_OPP_REPLACED] = "replaced",
};

const char *mp_opp_kind_name(unsigned kind)
{
    return kind < sizeof kind_names / sizeof kind_names[0] && kind_names[kind] ? kind_names[kind]
                                                                               : "unknown";
}

const char *mp_opp_kind_tag(unsigned kind)
{
    return kind < sizeof kind_tags / sizeof kind_tags[0] && kind_tags[kind] ? kind_tags[kind]
                                                                            : "unknown";
}

const char *mp_opp_status_name(unsigned status)
{
    return status < sizeof status_names / sizeof status_names[0] ? status_names[status] : "unknown";
}

static const char hex_digits[] = "0123456789abcdef";

void mp_opp_make_id(unsigned kind, const uint8_t trigger[MP_HASH_LEN], mp_rm_id_t *id)
{
    memset(id, 0, sizeof *id);
    const char *tag = mp_opp_kind_tag(kind);
    size_t n = strlen(tag); /* at most 11: "liquidation" */
    char *out = (char *)id->bytes;
    memcpy(out, tag, n);
    out[n++] = ':';
    for (int i = 0; i < 8; i++) {
        out[n++] = hex_digits[trigger[i] >> 4];
        out[n++] = hex_digits[trigger[i] & 15];
    }
}

double mp_opp_input(const mp_rm_opportunity_t *o, const char *name, double fallback)
{
    for (unsigned i = 0; i < o->input_count && i < MP_RM_OPP_INPUTS; i++)
        if (!strncmp(o->inputs[i].name, name, sizeof o->inputs[i].name)) return o->inputs[i].value;
    return fallback;
}

void mp_opp_init(mp_opp_ctx_t *ctx)
{
    memset(ctx, 0, sizeof *ctx);
}

/* ---- candidate output ---- */

typedef struct cand_out {
    mp_rm_opportunity_t *buf;
    int cap;
    int n;
} cand_out_t;

/* A zeroed, open candidate in the next free output slot, or NULL when the output is
 * full (the candidate is dropped). */
static mp_rm_opportunity_t *cand_new(cand_out_t *w, unsigned kind, const uint8_t *trigger,
                                     uint64_t chain_id, unsigned protocol, uint64_t time_ns)
{
    if (w->n >= w->cap) return NULL;
    mp_rm_opportunity_t *o = &w->buf[w->n++];
    memset(o, 0, sizeof *o);
    mp_opp_make_id(kind, trigger, &o->id);
    memcpy(o->trigger, trigger, MP_HASH_LEN);
    o->chain_id = chain_id;
    o->kind = (uint8_t)kind;
    o->status = MP_OPP_OPEN;
    o->protocol = (uint8_t)protocol;
    o->detected_unix_ns = time_ns;
    o->updated_unix_ns = time_ns;
    return o;
}

static void cand_input(mp_rm_opportunity_t *o, const char *name, double value)
{
    if (o->input_count >= MP_RM_OPP_INPUTS) return;
    mp_rm_opp_input_t *in = &o->inputs[o->input_count++];
    strncpy(in->name, name, sizeof in->name - 1);
    in->value = value;
}

/* ---- reason text ----
 * Reasons are built by a small formatter rather than printf: glibc's float printing
 * costs about a microsecond per candidate, and this is deterministic by construction. */

typedef struct text {
    char *buf;
    size_t cap; /* including the NUL */
    size_t len;
} text_t;

static void put_ch(text_t *t, char c)
{
    if (t->len + 1 < t->cap) t->buf[t->len++] = c;
    t->buf[t->len] = '\0';
}

static void put_str(text_t *t, const char *s)
{
    while (*s)
        put_ch(t, *s++);
}

static void put_u64(text_t *t, uint64_t v)
{
    char d[20];
    int n = 0;
    do
        d[n++] = (char)('0' + v % 10);
    while ((v /= 10));
    while (n)
        put_ch(t, d[--n]);
}

/* v with 4 significant digits, trailing zeros dropped, like %.4g: plain notation for
 * magnitudes 1e-4 .. 1e15, else d.ddde+X. */
static void put_num(text_t *t, double v)
{
    if (v != v) {
        put_str(t, "nan");
        return;
    }
    if (v < 0) {
        put_ch(t, '-');
        v = -v;
    }
    if (v == 0) {
        put_ch(t, '0');
        return;
    }
    if (v > 1.7e308) {
        put_str(t, "inf");
        return;
    }
    int e = 0; /* v ~ m * 10^(e - 3), m in [1000, 10000) */
    while (v >= 10000.0) {
        v /= 10;
        e++;
    }
    while (v < 1000.0) {
        v *= 10;
        e--;
    }
    uint64_t m = (uint64_t)(v + 0.5);
    if (m >= 10000) {
        m /= 10;
        e++;
    }
    char d[4] = {(char)('0' + m / 1000), (char)('0' + m / 100 % 10), (char)('0' + m / 10 % 10),
                 (char)('0' + m % 10)};
    int nd = 4;
    while (nd > 1 && d[nd - 1] == '0')
        nd--;
    int x = e + 3; /* decimal exponent of the first digit */
    if (x >= 15 || x < -4) {
        put_ch(t, d[0]);
        if (nd > 1) put_ch(t, '.');
        for (int i = 1; i < nd; i++)
            put_ch(t, d[i]);
        put_str(t, x < 0 ? "e-" : "e+");
        put_u64(t, (uint64_t)(x < 0 ? -x : x));
    } else if (x >= 0) {
        for (int i = 0; i <= x; i++)
            put_ch(t, i < nd ? d[i] : '0');
        if (nd > x + 1) {
            put_ch(t, '.');
            for (int i = x + 1; i < nd; i++)
                put_ch(t, d[i]);
        }
    } else {
        put_str(t, "0.");
        for (int i = -1; i > x; i--)
            put_ch(t, '0');
        for (int i = 0; i < nd; i++)
            put_ch(t, d[i]);
    }
}

/* "0x12345678...": a short form of an address. */
static void put_addr(text_t *t, const uint8_t *a)
{
    put_str(t, "0x");
    for (int i = 0; i < 4; i++) {
        put_ch(t, hex_digits[a[i] >> 4]);
        put_ch(t, hex_digits[a[i] & 15]);
    }
    put_str(t, "...");
}

/* One typed reason argument; the R* macros build them, so argument types are checked
 * at compile time (no varargs). */
typedef struct reason_arg {
    char kind; /* 's' string, 'u' integer, 'g' number (4 significant digits), 'a' address */
    union {
        const char *s;
        uint64_t u;
        double g;
        const uint8_t *a;
    } v;
} reason_arg_t;
#define RS(x) ((reason_arg_t){'s', {.s = (x)}})
#define RU(x) ((reason_arg_t){'u', {.u = (x)}})
#define RG(x) ((reason_arg_t){'g', {.g = (x)}})
#define RA(x) ((reason_arg_t){'a', {.a = (x)}})
#define REASON(o, fmt, ...)                                                                        \
    cand_reason((o), (fmt), (const reason_arg_t[]){__VA_ARGS__},                                   \
                sizeof((const reason_arg_t[]){__VA_ARGS__}) / sizeof(reason_arg_t))

/* Writes the candidate's one-line reason: fmt with each '%' replaced by the next
 * argument (a '%' past the last argument is dropped). Truncates to the field. */
static void cand_reason(mp_rm_opportunity_t *o, const char *fmt, const reason_arg_t *args, size_t n)
{
    text_t t = {o->reason, sizeof o->reason, 0};
    o->reason[0] = '\0';
    size_t next = 0;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            put_ch(&t, *f);
            continue;
        }
        if (next >= n) continue;
        const reason_arg_t *a = &args[next++];
        switch (a->kind) {
        case 's': put_str(&t, a->v.s); break;
        case 'u': put_u64(&t, a->v.u); break;
        case 'g': put_num(&t, a->v.g); break;
        default: put_addr(&t, a->v.a); break;
        }
    }
}

/* 0..100, rounding down; NaN scores 0. */
static uint8_t clamp_score(double s)
{
    if (!(s > 0)) return 0;
    return s >= 100 ? 100 : (uint8_t)s;
}

static inline double fmin2(double a, double b)
{
    return a < b ? a : b;
}

/* ---- byte and ABI word reading ---- */

/* Big-endian 64-bit load. */
static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* Calldata arguments: p[0..len) after the selector. Offsets inside are relative to a
 * base the caller names, as the ABI defines for each dynamic value. */
typedef struct abi {
    const uint8_t *p;
    uint64_t len;
} abi_t;

static const uint8_t *abi_word(abi_t a, uint64_t off)
{
    return off <= a.len && a.len - off >= 32 ? a.p + off : NULL;
}

/* OR of the 8-byte limbs in w[from, to) (multiples of 4), for zero tests. */
static uint64_t or_bytes(const uint8_t *w, unsigned from, unsigned to)
{
    uint64_t acc = 0;
    for (unsigned i = from; i + 8 <= to; i += 8) {
        uint64_t v;
        memcpy(&v, w + i, 8);
        acc |= v;
    }
    if ((to - from) % 8) {
        uint32_t v;
        memcpy(&v, w + to - 4, 4);
        acc |= v;
    }
    return acc;
}

static bool word_is_zero(const uint8_t *w)
{
    return !or_bytes(w, 0, 32);
}

static bool abi_u64(abi_t a, uint64_t off, uint64_t *v)
{
    const uint8_t *w = abi_word(a, off);
    if (!w || or_bytes(w, 0, 24)) return false;
    *v = rd64(w + 24);
    return true;
}

static bool abi_addr(abi_t a, uint64_t off, uint8_t out[MP_ADDR_LEN])
{
    const uint8_t *w = abi_word(a, off);
    if (!w || or_bytes(w, 0, 12)) return false;
    memcpy(out, w + 12, MP_ADDR_LEN);
    return true;
}

/* Where the dynamic value whose offset word sits at head lives: base + offset. */
static bool abi_tail(abi_t a, uint64_t base, uint64_t head, uint64_t *at)
{
    uint64_t off;
    if (!abi_u64(a, head, &off) || off > a.len || base > a.len - off) return false;
    *at = base + off;
    return true;
}

/* The `bytes` value at `at` (its length word), fully inside a. */
static bool abi_bytes(abi_t a, uint64_t at, abi_t *out)
{
    uint64_t n;
    if (!abi_u64(a, at, &n) || at + 32 > a.len || n > a.len - at - 32) return false;
    out->p = a.p + at + 32;
    out->len = n;
    return true;
}

/* A 256-bit big-endian amount as a double, from its four 64-bit limbs (each rounded
 * once, then summed: deterministic, within a few ulps). */
static double amount_of(const uint8_t *w)
{
    uint64_t hi = rd64(w), mid_hi = rd64(w + 8), mid_lo = rd64(w + 16);
    double d = (double)rd64(w + 24);
    if (mid_lo) d += (double)mid_lo * 0x1p64;
    if (hi | mid_hi) /* beyond 2^128: rare in practice (uint256 max sentinels) */
        d += (double)mid_hi * 0x1p128 + (double)hi * 0x1p192;
    return d;
}

/* ---- tokens ---- */

typedef struct token {
    const char *label; /* catalog label of the address row */
    double large;      /* "large swap" size in whole tokens */
    uint8_t decimals;
    bool usd; /* a USD stablecoin, valued at 1 USD */
    bool eth; /* ETH or WETH */
} token_t;

static const token_t known_tokens[] = {
    {"WETH", MP_OPP_LARGE_ETH, 18, false, true},  {"USDC", MP_OPP_LARGE_USD, 6, true, false},
    {"USDT", MP_OPP_LARGE_USD, 6, true, false},   {"DAI", MP_OPP_LARGE_USD, 18, true, false},
    {"WBTC", MP_OPP_LARGE_WBTC, 8, false, false},
};
static const token_t eth_native = {"ETH", MP_OPP_LARGE_ETH, 18, false, true};

static const double pow10_table[19] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                       1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

/* The known token at addr, by its catalog row, or NULL. */
static const token_t *token_at(const uint8_t addr[MP_ADDR_LEN])
{
    const mp_catalog_address_t *row = mp_catalog_find_address(addr);
    if (!row || (row->protocol != MP_PROTO_WETH && row->protocol != MP_PROTO_ERC20)) return NULL;
    for (size_t i = 0; i < sizeof known_tokens / sizeof known_tokens[0]; i++)
        if (!strcmp(row->label, known_tokens[i].label)) return &known_tokens[i];
    return NULL;
}

static double units_of(const token_t *t, double raw)
{
    return raw / pow10_table[t->decimals];
}

static double tip_wei(const mp_tx_seen_t *tx)
{
    return (double)(tx->max_priority_fee ? tx->max_priority_fee : tx->gas_price);
}

static double value_eth(const mp_tx_seen_t *tx)
{
    return amount_of(tx->value.be) / 1e18;
}

/* ---- swap decoding ---- */

/* An exact-input swap as decoded: tokens, input amount (or msg.value), minimum out. */
typedef struct swap {
    const char *method;
    bool eth_in; /* the input is msg.value */
    uint8_t token_in[MP_ADDR_LEN];
    uint8_t token_out[MP_ADDR_LEN];
    const uint8_t *amount_in; /* 32-byte word; NULL when eth_in */
    const uint8_t *min_out;   /* 32-byte word */
    bool price_limited;       /* V3 sqrtPriceLimitX96 set: the price move is capped */
} swap_t;

/* V2 address[] path whose offset word is at head (offsets relative to base). */
static bool v2_path(abi_t a, uint64_t base, uint64_t head, swap_t *s)
{
    uint64_t at, n;
    if (!abi_tail(a, base, head, &at) || !abi_u64(a, at, &n) || n < 2 || n > 16) return false;
    return abi_addr(a, at + 32, s->token_in) && abi_addr(a, at + 32 * n, s->token_out);
}

/* V3 packed path (token, fee(3), token, ...) as `bytes` whose offset word is at head. */
static bool v3_path(abi_t a, uint64_t base, uint64_t head, swap_t *s)
{
    uint64_t at;
    abi_t path;
    if (!abi_tail(a, base, head, &at) || !abi_bytes(a, at, &path)) return false;
    if (path.len < 43 || (path.len - 20) % 23) return false;
    memcpy(s->token_in, path.p, MP_ADDR_LEN);
    memcpy(s->token_out, path.p + path.len - MP_ADDR_LEN, MP_ADDR_LEN);
    return true;
}

/* Words from which the input and minimum output are read. */
static bool take_amounts(abi_t a, uint64_t in_off, uint64_t min_off, swap_t *s)
{
    s->amount_in = abi_word(a, in_off);
    s->min_out = abi_word(a, min_off);
    return s->amount_in && s->min_out;
}

/* Universal Router amounts may be "the router's balance" (bit 255 set): with ETH sent,
 * that balance is the wrapped msg.value. */
static bool ur_amount(const mp_tx_seen_t *tx, swap_t *s)
{
    if (!(s->amount_in[0] & 0x80)) return true;
    if (word_is_zero(tx->value.be)) return false;
    s->eth_in = true;
    s->amount_in = NULL;
    return true;
}

static bool decode_swap(uint32_t sel, abi_t a, const mp_tx_seen_t *tx, swap_t *s, int depth);

/* multicall(bytes[]) variants: the first inner call that is a decodable swap. */
static bool decode_multicall(abi_t a, uint64_t head, const mp_tx_seen_t *tx, swap_t *s, int depth)
{
    uint64_t arr, n;
    if (depth > 0 || !abi_tail(a, 0, head, &arr) || !abi_u64(a, arr, &n)) return false;
    for (uint64_t i = 0; i < n && i < 8; i++) {
        uint64_t at;
        abi_t call;
        if (!abi_tail(a, arr + 32, arr + 32 + 32 * i, &at) || !abi_bytes(a, at, &call) ||
            call.len < 4)
            return false;
        abi_t args = {call.p + 4, call.len - 4};
        if (decode_swap(mp_selector_of(call.p), args, tx, s, depth + 1)) return true;
    }
    return false;
}

/* Universal Router execute(commands, inputs[, deadline]): the first V2/V3 exact-input
 * swap command. */
static bool decode_universal(abi_t a, const mp_tx_seen_t *tx, swap_t *s)
{
    uint64_t cmd_at, arr, n;
    abi_t cmds;
    if (!abi_tail(a, 0, 0, &cmd_at) || !abi_bytes(a, cmd_at, &cmds) || !abi_tail(a, 0, 32, &arr) ||
        !abi_u64(a, arr, &n))
        return false;
    for (uint64_t i = 0; i < cmds.len && i < n && i < 16; i++) {
        unsigned cmd = cmds.p[i] & 0x3f; /* the high bits are flags */
        if (cmd != 0x00 && cmd != 0x08)  /* V3_SWAP_EXACT_IN, V2_SWAP_EXACT_IN */
            continue;
        uint64_t at;
        abi_t in;
        if (!abi_tail(a, arr + 32, arr + 32 + 32 * i, &at) || !abi_bytes(a, at, &in)) return false;
        /* (recipient, amountIn, amountOutMin, path, payerIsUser) */
        if (!take_amounts(in, 32, 64, s)) return false;
        bool ok = cmd == 0x00 ? v3_path(in, 0, 96, s) : v2_path(in, 0, 96, s);
        s->method = cmd == 0x00 ? "execute/V3_SWAP_EXACT_IN" : "execute/V2_SWAP_EXACT_IN";
        return ok && ur_amount(tx, s);
    }
    return false;
}

static bool decode_swap(uint32_t sel, abi_t a, const mp_tx_seen_t *tx, swap_t *s, int depth)
{
    memset(s, 0, sizeof *s);
    uint64_t t;
    switch (sel) {
    case 0x38ed1739: /* swapExactTokensForTokens(amountIn, amountOutMin, path, to, deadline) */
    case 0x5c11d795: /* ...SupportingFeeOnTransferTokens */
    case 0x18cbafe5: /* swapExactTokensForETH */
    case 0x791ac947: /* ...SupportingFeeOnTransferTokens */
    case 0x472b43f3: /* SwapRouter02 swapExactTokensForTokens(amountIn, amountOutMin, path, to) */
        s->method = sel == 0x18cbafe5 || sel == 0x791ac947 ? "swapExactTokensForETH"
                                                           : "swapExactTokensForTokens";
        return take_amounts(a, 0, 32, s) && v2_path(a, 0, 64, s);
    case 0x7ff36ab5: /* swapExactETHForTokens(amountOutMin, path, to, deadline) */
    case 0xb6f9de95: /* ...SupportingFeeOnTransferTokens */
        s->method = "swapExactETHForTokens";
        s->eth_in = true;
        s->min_out = abi_word(a, 0);
        return s->min_out && v2_path(a, 0, 32, s);
    case 0x414bf389: /* exactInputSingle((tokenIn, tokenOut, fee, recipient, deadline,
                        amountIn, amountOutMinimum, sqrtPriceLimitX96)) */
    case 0x04e45aaf: /* SwapRouter02: same without deadline */ {
        uint64_t in_off = sel == 0x414bf389 ? 160 : 128;
        s->method = "exactInputSingle";
        if (!abi_addr(a, 0, s->token_in) || !abi_addr(a, 32, s->token_out) ||
            !take_amounts(a, in_off, in_off + 32, s))
            return false;
        const uint8_t *limit = abi_word(a, in_off + 64);
        s->price_limited = limit && !word_is_zero(limit);
        return true;
    }
    case 0xc04b8d59: /* exactInput((path, recipient, deadline, amountIn, amountOutMinimum)) */
    case 0xb858183f: /* SwapRouter02: same without deadline */ {
        uint64_t in_off = sel == 0xc04b8d59 ? 96 : 64;
        s->method = "exactInput";
        return abi_tail(a, 0, 0, &t) && v3_path(a, t, t, s) &&
               take_amounts(a, t + in_off, t + in_off + 32, s);
    }
    case 0xac9650d8: /* multicall(bytes[]) */ return decode_multicall(a, 0, tx, s, depth);
    case 0x5ae401dc: /* multicall(uint256 deadline, bytes[]) */
    case 0x1f0464d1: /* multicall(bytes32 previousBlockhash, bytes[]) */
        return decode_multicall(a, 32, tx, s, depth);
    case 0x3593564c: /* execute(bytes, bytes[], uint256) */
    case 0x24856bc3: /* execute(bytes, bytes[]) */ return depth == 0 && decode_universal(a, tx, s);
    default: return false;
    }
}

/* ---- swap evaluation ---- */

/* What a decoded swap measures. Amounts are whole tokens when the token is known, raw
 * integers otherwise. */
typedef struct swap_eval {
    const token_t *in, *out;
    double amount_in, min_out;
    double size_ratio; /* size / the token's "large" mark; 0 when no side is known */
    bool min_zero;
    bool room_known; /* slippage room measured (zero min-out, or priced pair) */
    bool priced;     /* room from the ETH/USD price */
    double room_bps;
    double expected_out;
} swap_eval_t;

static bool price_fresh(const mp_opp_ctx_t *ctx, uint64_t time_ns)
{
    if (!(ctx->eth_usd > 0)) return false;
    return time_ns <= ctx->eth_usd_time_ns ||
           time_ns - ctx->eth_usd_time_ns <= MP_OPP_PRICE_MAX_AGE_NS;
}

static void evaluate_swap(const mp_opp_ctx_t *ctx, const mp_tx_seen_t *tx, const swap_t *s,
                          uint64_t time_ns, swap_eval_t *e)
{
    memset(e, 0, sizeof *e);
    e->in = s->eth_in ? &eth_native : token_at(s->token_in);
    e->out = token_at(s->token_out);
    double raw_in = s->eth_in ? amount_of(tx->value.be) : amount_of(s->amount_in);
    double raw_min = amount_of(s->min_out);
    e->amount_in = e->in ? units_of(e->in, raw_in) : raw_in;
    e->min_out = e->out ? units_of(e->out, raw_min) : raw_min;
    e->min_zero = word_is_zero(s->min_out);
    if (e->in) e->size_ratio = e->amount_in / e->in->large;
    if (e->out && e->min_out / e->out->large > e->size_ratio)
        e->size_ratio = e->min_out / e->out->large; /* the minimum out bounds the size */

    if (e->min_zero) {
        e->room_known = true;
        e->room_bps = 10000;
    } else if (e->in && e->out && price_fresh(ctx, time_ns) &&
               ((e->in->eth && e->out->usd) || (e->in->usd && e->out->eth))) {
        e->expected_out = e->in->eth ? e->amount_in * ctx->eth_usd : e->amount_in / ctx->eth_usd;
        if (e->expected_out > 0) {
            e->priced = true;
            e->room_known = true;
            e->room_bps = (e->expected_out - e->min_out) / e->expected_out * 10000.0;
        }
    }
}

static const char *label_of(const token_t *t)
{
    return t ? t->label : "?";
}

/* sandwich score: size 25..50 (25 at the large mark, +12.5 per doubling) plus room
 * 0..50 (room_bps / 20; zero min-out 50). */
static void emit_sandwich(cand_out_t *w, const mp_tx_seen_t *tx, const mp_classification_t *c,
                          const swap_t *s, const swap_eval_t *e, const mp_opp_ctx_t *ctx,
                          uint64_t time_ns)
{
    mp_rm_opportunity_t *o =
        cand_new(w, MP_OPP_SANDWICH, tx->hash, tx->chain_id, c->protocol, time_ns);
    if (!o) return;
    double size_pts = fmin2(50, 25 + 12.5 * log2(e->size_ratio));
    double room_pts = fmin2(50, e->room_bps / 20);
    o->score = clamp_score(size_pts + room_pts);
    cand_input(o, "amount_in", e->amount_in);
    cand_input(o, "amount_out_min", e->min_out);
    cand_input(o, "size_vs_large", e->size_ratio);
    cand_input(o, "slippage_bps", e->room_bps);
    if (e->priced) {
        cand_input(o, "expected_out", e->expected_out);
        cand_input(o, "eth_usd", ctx->eth_usd);
        REASON(o, "% % % -> %: min out % is % bps under % expected at % ETH/USD", RS(s->method),
               RG(e->amount_in), RS(label_of(e->in)), RS(label_of(e->out)), RG(e->min_out),
               RG(e->room_bps), RG(e->expected_out), RG(ctx->eth_usd));
    } else {
        REASON(o, "% % % -> % with amountOutMin 0: no slippage bound", RS(s->method),
               RG(e->amount_in), RS(label_of(e->in)), RS(label_of(e->out)));
    }
}

/* backrun score for a large swap: 30 at the large mark, +20 per doubling, at most 90. */
static void emit_swap_backrun(cand_out_t *w, const mp_tx_seen_t *tx, const mp_classification_t *c,
                              const char *method, const char *unit, double amount, double ratio,
                              double large, uint64_t time_ns)
{
    mp_rm_opportunity_t *o =
        cand_new(w, MP_OPP_BACKRUN, tx->hash, tx->chain_id, c->protocol, time_ns);
    if (!o) return;
    o->score = clamp_score(fmin2(90, 30 + 20 * log2(ratio)));
    cand_input(o, "amount_in", amount);
    cand_input(o, "size_vs_large", ratio);
    cand_input(o, "large_mark", large);
    cand_input(o, "priority_fee_gwei", tip_wei(tx) / WEI_PER_GWEI);
    REASON(o,
           "% of % %, %x the % % large mark: the pool price moves, a backrun can trade against it",
           RS(method), RG(amount), RS(unit), RG(ratio), RG(large), RS(unit));
}

static void detect_swap(cand_out_t *w, const mp_opp_ctx_t *ctx, const mp_tx_seen_t *tx,
                        const mp_classification_t *c, uint64_t time_ns)
{
    swap_t s;
    swap_eval_t e;
    bool decoded = false;
    if (c->has_selector && tx->input_prefix && tx->input_prefix_len >= 4) {
        abi_t args = {tx->input_prefix + 4, tx->input_prefix_len - 4u};
        decoded = decode_swap(c->selector, args, tx, &s, 0);
    }
    if (decoded) {
        evaluate_swap(ctx, tx, &s, time_ns, &e);
        if (e.size_ratio < 1) return;
        if (e.room_known && e.room_bps >= MP_OPP_MIN_ROOM_BPS && !s.price_limited)
            emit_sandwich(w, tx, c, &s, &e, ctx, time_ns);
        bool by_out = !e.in || (e.out && e.min_out / e.out->large > e.amount_in / e.in->large);
        const token_t *side = by_out ? e.out : e.in;
        emit_swap_backrun(w, tx, c, s.method, side->label, by_out ? e.min_out : e.amount_in,
                          e.size_ratio, side->large, time_ns);
        return;
    }
    /* Not decodable (aggregators, pools, exact-output): the ETH sent is the only size. */
    double eth = value_eth(tx);
    if (eth >= MP_OPP_LARGE_ETH)
        emit_swap_backrun(w, tx, c, mp_classification_method(c), "ETH", eth, eth / MP_OPP_LARGE_ETH,
                          MP_OPP_LARGE_ETH, time_ns);
}

/* ---- lending activity, oracle updates, liquidations ---- */

static int lending_index(unsigned protocol)
{
    return protocol == MP_PROTO_AAVE       ? MP_OPP_LEND_AAVE
           : protocol == MP_PROTO_COMPOUND ? MP_OPP_LEND_COMPOUND
                                           : -1;
}

static uint32_t lending_recent(const mp_opp_ctx_t *ctx, int i, uint64_t time_ns)
{
    return mp_rate_sum(ctx->lending_buckets[i], ctx->lending_second[i], mp_rate_second(time_ns),
                       MP_OPP_LENDING_WINDOW_S);
}

static void detect_oracle(cand_out_t *w, const mp_opp_ctx_t *ctx, const mp_tx_seen_t *tx,
                          const mp_classification_t *c, uint64_t time_ns)
{
    uint32_t aave = lending_recent(ctx, MP_OPP_LEND_AAVE, time_ns);
    uint32_t comp = lending_recent(ctx, MP_OPP_LEND_COMPOUND, time_ns);
    uint32_t lending = aave + comp;
    const char *method = mp_classification_method(c);

    /* backrun: 50, +3 per recent lending tx, at most 80 */
    mp_rm_opportunity_t *o =
        cand_new(w, MP_OPP_BACKRUN, tx->hash, tx->chain_id, c->protocol, time_ns);
    if (o) {
        o->score = clamp_score(50 + fmin2(30, 3.0 * lending));
        cand_input(o, "lending_txs_60s", lending);
        cand_input(o, "priority_fee_gwei", tip_wei(tx) / WEI_PER_GWEI);
        cand_input(o, "calldata_bytes", tx->input_len);
        REASON(o,
               "pending Chainlink %: a price update lands next block; positions and trades "
               "priced by the feed follow it",
               RS(method));
    }
    if (!lending) return;
    /* liquidation: 30, +10 per recent lending tx, at most 80 */
    unsigned proto = comp > aave ? MP_PROTO_COMPOUND : MP_PROTO_AAVE;
    o = cand_new(w, MP_OPP_LIQUIDATION, tx->hash, tx->chain_id, proto, time_ns);
    if (!o) return;
    o->score = clamp_score(30 + fmin2(50, 10.0 * lending));
    cand_input(o, "aave_txs_60s", aave);
    cand_input(o, "compound_txs_60s", comp);
    cand_input(o, "priority_fee_gwei", tip_wei(tx) / WEI_PER_GWEI);
    REASON(o,
           "pending Chainlink % with % Aave and % Compound txs in the last 60 s: positions "
           "near their threshold may turn liquidatable",
           RS(method), RU(aave), RU(comp));
}

/* liquidation score: 60, +10 * log2(1 + size) at most +30, where size is the debt
 * covered over the token's large mark (Aave, known debt token) or the accounts absorbed
 * (Comet); unknown sizes add nothing. */
static void detect_liquidation_call(cand_out_t *w, const mp_opp_ctx_t *ctx, const mp_tx_seen_t *tx,
                                    const mp_classification_t *c, uint64_t time_ns)
{
    abi_t a = {NULL, 0};
    if (tx->input_prefix && tx->input_prefix_len >= 4)
        a = (abi_t){tx->input_prefix + 4, tx->input_prefix_len - 4u};
    int li = lending_index(c->protocol);
    uint32_t lending = li >= 0 ? lending_recent(ctx, li, time_ns) : 0;
    const char *method = mp_classification_method(c);
    double size = 0;

    mp_rm_opportunity_t *o =
        cand_new(w, MP_OPP_LIQUIDATION, tx->hash, tx->chain_id, c->protocol, time_ns);
    if (!o) return;
    const uint8_t *amount;
    uint8_t debt_asset[MP_ADDR_LEN];
    uint64_t at, accounts;
    switch (c->has_selector ? c->selector : 0) {
    case 0x00a718a9: /* liquidationCall(collateral, debt, user, debtToCover, receiveAToken) */
        if ((amount = abi_word(a, 96)) && abi_addr(a, 32, debt_asset)) {
            const token_t *t = token_at(debt_asset);
            if (amount[0] & 0x80) { /* type(uint256).max: as much as the close factor allows */
                cand_input(o, "debt_to_cover_max", 1);
            } else if (t) {
                double units = units_of(t, amount_of(amount));
                size = units / t->large;
                cand_input(o, "debt_to_cover", units);
                cand_input(o, "size_vs_large", size);
            } else {
                cand_input(o, "debt_to_cover_raw", amount_of(amount));
            }
        }
        break;
    case 0xf5e3c462: /* liquidateBorrow(borrower, repayAmount, cTokenCollateral) */
        if ((amount = abi_word(a, 32))) cand_input(o, "repay_amount_raw", amount_of(amount));
        break;
    case 0xc3cecfd2: /* absorb(absorber, accounts[]) */
        if (abi_tail(a, 0, 32, &at) && abi_u64(a, at, &accounts)) {
            size = (double)accounts;
            cand_input(o, "accounts", size);
        }
        break;
    default: break;
    }
    o->score = clamp_score(60 + fmin2(30, 10 * log2(1 + size)));
    cand_input(o, "priority_fee_gwei", tip_wei(tx) / WEI_PER_GWEI);
    cand_input(o, "lending_txs_60s", lending);
    REASON(o,
           "pending % %: a liquidation is under way; competing liquidators and collateral "
           "backruns follow",
           RS(mp_protocol_name(c->protocol)), RS(method));
}

/* ---- set-associative tables ---- */

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint64_t hash_key(uint64_t chain_id, const uint8_t addr[MP_ADDR_LEN], uint64_t extra)
{
    uint64_t h = mix64(chain_id ^ 0x9e3779b97f4a7c15ull);
    h = mix64(h ^ rd64(addr));
    h = mix64(h ^ rd64(addr + 8));
    h = mix64(h ^ ((uint64_t)addr[16] << 24 | (uint64_t)addr[17] << 16 | (uint64_t)addr[18] << 8 |
                   addr[19]));
    return mix64(h ^ extra);
}

/* ---- gas war: replacements ---- */

static mp_opp_repl_slot_t *repl_slot(mp_opp_ctx_t *ctx, const mp_opp_replacement_t *r, bool *found)
{
    mp_opp_repl_slot_t *set =
        &ctx->repl[(hash_key(r->chain_id, r->from, r->nonce) % MP_OPP_REPL_SETS) * MP_OPP_WAYS];
    mp_opp_repl_slot_t *victim = NULL;
    for (int i = 0; i < MP_OPP_WAYS; i++) {
        mp_opp_repl_slot_t *e = &set[i];
        if (e->replacements && e->chain_id == r->chain_id && e->nonce == r->nonce &&
            !memcmp(e->from, r->from, MP_ADDR_LEN)) {
            *found = true;
            return e;
        }
        if (!victim ||
            (victim->replacements && (!e->replacements || e->times_ns[0] < victim->times_ns[0])))
            victim = e;
    }
    *found = false;
    return victim;
}

int mp_opp_on_replaced(mp_opp_ctx_t *ctx, const mp_opp_replacement_t *r, uint64_t time_ns,
                       const mp_rm_touch_t *touch, mp_rm_opportunity_t *out, int max_out)
{
    if (!ctx || !r || (max_out > 0 && !out)) return -EINVAL;
    bool found;
    mp_opp_repl_slot_t *e = repl_slot(ctx, r, &found);
    mp_rm_touch(touch, e, sizeof *e);
    if (found && time_ns > e->times_ns[0] && time_ns - e->times_ns[0] > MP_OPP_REPL_WINDOW_NS)
        found = false; /* the previous run went quiet: this starts a new one */
    if (!found) {
        memset(e, 0, sizeof *e);
        e->chain_id = r->chain_id;
        e->nonce = r->nonce;
        memcpy(e->from, r->from, MP_ADDR_LEN);
        e->first_fee = r->priority_fee;
    }
    e->replacements++;
    e->times_ns[2] = e->times_ns[1];
    e->times_ns[1] = e->times_ns[0];
    e->times_ns[0] = time_ns;
    if (r->priority_fee) e->last_fee = r->priority_fee;

    if (e->replacements < MP_OPP_REPL_MIN) return 0;
    uint64_t span = time_ns > e->times_ns[2] ? time_ns - e->times_ns[2] : 0;
    if (span > MP_OPP_REPL_WINDOW_NS) return 0;
    cand_out_t w = {out, max_out, 0};
    mp_rm_opportunity_t *o =
        cand_new(&w, MP_OPP_GAS_WAR, r->replaced_by, r->chain_id, r->protocol, time_ns);
    if (!o) return 0;
    /* 55 at three replacements, +15 per further one */
    o->score = clamp_score(40 + 15.0 * (e->replacements - 2));
    cand_input(o, "replacements", e->replacements);
    cand_input(o, "last3_span_s", span / NS_PER_S);
    cand_input(o, "nonce", (double)r->nonce);
    if (e->first_fee && e->last_fee) {
        cand_input(o, "first_fee_gwei", e->first_fee / WEI_PER_GWEI);
        cand_input(o, "last_fee_gwei", e->last_fee / WEI_PER_GWEI);
    }
    REASON(o, "% nonce % replaced % times, the last 3 within % s: a priority gas auction",
           RA(r->from), RU(r->nonce), RU(e->replacements), RG(span / NS_PER_S));
    return w.n;
}

/* ---- gas war: fee escalation on one contract method ---- */

/* Competing bids go to contracts whose methods are contested (mints, launches, unknown
 * contracts, liquidations). Busy generic methods (token transfers, router swaps) are
 * left out: independent senders there produce rising runs by chance. */
static bool escalation_eligible(const mp_tx_seen_t *tx, const mp_classification_t *c)
{
    if (!tx->has_to || !c->has_selector) return false;
    return c->category == MP_CAT_OTHER || c->category == MP_CAT_NFT ||
           c->category == MP_CAT_LIQUIDATION;
}

static mp_opp_esc_slot_t *esc_slot(mp_opp_ctx_t *ctx, const mp_tx_seen_t *tx, uint32_t selector,
                                   bool *found)
{
    mp_opp_esc_slot_t *set =
        &ctx->esc[(hash_key(tx->chain_id, tx->to, selector) % MP_OPP_ESC_SETS) * MP_OPP_WAYS];
    mp_opp_esc_slot_t *victim = NULL;
    for (int i = 0; i < MP_OPP_WAYS; i++) {
        mp_opp_esc_slot_t *e = &set[i];
        if (e->streak && e->chain_id == tx->chain_id && e->selector == selector &&
            !memcmp(e->to, tx->to, MP_ADDR_LEN)) {
            *found = true;
            return e;
        }
        if (!victim || (victim->streak && (!e->streak || e->last_time_ns < victim->last_time_ns)))
            victim = e;
    }
    *found = false;
    return victim;
}

/* escalation score: 30, +10 per bid past the fifth, +15 per doubling of the fee. */
static void track_escalation(cand_out_t *w, mp_opp_ctx_t *ctx, const mp_tx_seen_t *tx,
                             const mp_classification_t *c, uint64_t time_ns,
                             const mp_rm_touch_t *touch)
{
    uint64_t fee = tx->max_priority_fee ? tx->max_priority_fee : tx->gas_price;
    bool found;
    mp_opp_esc_slot_t *e = esc_slot(ctx, tx, c->selector, &found);
    mp_rm_touch(touch, e, sizeof *e);
    bool rising = found && fee && e->last_fee &&
                  (time_ns <= e->last_time_ns || time_ns - e->last_time_ns <= MP_OPP_ESC_GAP_NS) &&
                  (unsigned __int128)fee * 1000 >=
                      (unsigned __int128)e->last_fee * MP_OPP_ESC_STEP_PERMILLE &&
                  memcmp(e->last_from, tx->from, MP_ADDR_LEN);
    if (rising) {
        e->streak++;
    } else { /* this bid starts a new run */
        memset(e, 0, sizeof *e);
        e->chain_id = tx->chain_id;
        memcpy(e->to, tx->to, MP_ADDR_LEN);
        e->selector = c->selector;
        e->streak = 1;
        e->first_time_ns = time_ns;
        e->first_fee = fee;
    }
    memcpy(e->last_from, tx->from, MP_ADDR_LEN);
    e->last_time_ns = time_ns;
    e->last_fee = fee;

    if (e->streak < MP_OPP_ESC_MIN_TXS ||
        (e->fired_streak && e->streak < e->fired_streak + MP_OPP_ESC_MIN_TXS) ||
        (unsigned __int128)e->last_fee < (unsigned __int128)e->first_fee * MP_OPP_ESC_MIN_RATIO)
        return;
    e->fired_streak = e->streak;

    mp_rm_opportunity_t *o =
        cand_new(w, MP_OPP_GAS_WAR, tx->hash, tx->chain_id, c->protocol, time_ns);
    if (!o) return;
    double ratio = (double)e->last_fee / (double)e->first_fee;
    double span = (time_ns > e->first_time_ns ? time_ns - e->first_time_ns : 0) / NS_PER_S;
    o->score = clamp_score(30 + 10.0 * (e->streak - MP_OPP_ESC_MIN_TXS) + 15 * log2(ratio));
    cand_input(o, "bids", e->streak);
    cand_input(o, "span_s", span);
    cand_input(o, "first_fee_gwei", e->first_fee / WEI_PER_GWEI);
    cand_input(o, "last_fee_gwei", e->last_fee / WEI_PER_GWEI);
    cand_input(o, "fee_ratio", ratio);
    REASON(o, "% rising bids to % % within % s from alternating senders: % -> % gwei priority fee",
           RU(e->streak), RA(tx->to), RS(mp_classification_method(c)), RG(span),
           RG(e->first_fee / WEI_PER_GWEI), RG(e->last_fee / WEI_PER_GWEI));
}

/* ---- entry points ---- */

int mp_opp_on_tx(mp_opp_ctx_t *ctx, const mp_tx_seen_t *tx, const mp_classification_t *c,
                 uint64_t time_ns, const mp_rm_touch_t *touch, mp_rm_opportunity_t *out,
                 int max_out)
{
    if (!ctx || !tx || !c || (max_out > 0 && !out)) return -EINVAL;
    cand_out_t w = {out, max_out > 0 ? max_out : 0, 0};

    int li = lending_index(c->protocol);
    if (li >= 0 && (c->category == MP_CAT_LENDING || c->category == MP_CAT_LIQUIDATION))
        mp_rate_record(ctx->lending_buckets[li], &ctx->lending_second[li], mp_rate_second(time_ns),
                       1, touch);

    switch (c->category) {
    case MP_CAT_SWAP: detect_swap(&w, ctx, tx, c, time_ns); break;
    case MP_CAT_ORACLE: detect_oracle(&w, ctx, tx, c, time_ns); break;
    case MP_CAT_LIQUIDATION: detect_liquidation_call(&w, ctx, tx, c, time_ns); break;
    default: break;
    }
    if (escalation_eligible(tx, c)) track_escalation(&w, ctx, tx, c, time_ns, touch);
    return w.n;
}

int mp_opp_on_price(mp_opp_ctx_t *ctx, const mp_price_t *p, uint64_t time_ns,
                    const mp_rm_touch_t *touch)
{
    if (!ctx || !p || strncmp(p->symbol, "ETH/USD", MP_SYMBOL_MAX) || !(p->price > 0) ||
        !isfinite(p->price) || time_ns < ctx->eth_usd_time_ns)
        return 0;
    mp_rm_touch(touch, &ctx->eth_usd, sizeof ctx->eth_usd + sizeof ctx->eth_usd_time_ns);
    ctx->eth_usd = p->price;
    ctx->eth_usd_time_ns = time_ns;
    return 1;
}

int mp_opp_on_tick(mp_opp_ctx_t *ctx, uint64_t time_ns, const mp_rm_touch_t *touch)
{
    if (!ctx) return -EINVAL;
    int cleared = 0;
    for (size_t i = 0; i < sizeof ctx->repl / sizeof ctx->repl[0]; i++) {
        mp_opp_repl_slot_t *e = &ctx->repl[i];
        if (e->replacements && time_ns > e->times_ns[0] &&
            time_ns - e->times_ns[0] > MP_OPP_REPL_WINDOW_NS) {
            mp_rm_touch(touch, e, sizeof *e);
            memset(e, 0, sizeof *e);
            cleared++;
        }
    }
    for (size_t i = 0; i < sizeof ctx->esc / sizeof ctx->esc[0]; i++) {
        mp_opp_esc_slot_t *e = &ctx->esc[i];
        if (e->streak && time_ns > e->last_time_ns &&
            time_ns - e->last_time_ns > MP_OPP_ESC_GAP_NS) {
            mp_rm_touch(touch, e, sizeof *e);
            memset(e, 0, sizeof *e);
            cleared++;
        }
    }
    return cleared;
}
