/* Tests of proto/eth_catalog: every selector and address of the Ethereum reference
 * classifies as documented, the classification rules (deploy, transfers, unknowns,
 * selectors resolved by address), and the table's integrity: each signature hashes to its
 * selector with keccak-256 and each address carries a valid EIP-55 checksum. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/hex.h"
#include "proto/eth_catalog.h"

/* ---- keccak-256 (the pre-standard padding Ethereum uses: 0x01 ... 0x80) ---- */

static const uint64_t keccak_rc[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808aull, 0x8000000080008000ull,
    0x000000000000808bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000aull,
    0x000000008000808bull, 0x800000000000008bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800aull, 0x800000008000000aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

/* Rotation offsets, indexed x + 5 y. */
static const unsigned keccak_rot[25] = {0,  1,  62, 28, 27, 36, 44, 6,  55, 20, 3,  10, 43,
                                        25, 39, 41, 45, 15, 21, 8,  18, 2,  61, 56, 14};

static uint64_t rotl(uint64_t x, unsigned n)
{
    return n ? (x << n) | (x >> (64 - n)) : x;
}

static void keccak_f1600(uint64_t a[25])
{
    for (int round = 0; round < 24; round++) {
        uint64_t c[5], b[25];
        for (int x = 0; x < 5; x++) /* theta */
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (int x = 0; x < 5; x++) {
            uint64_t d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
            for (int y = 0; y < 25; y += 5)
                a[x + y] ^= d;
        }
        for (int x = 0; x < 5; x++) /* rho and pi */
            for (int y = 0; y < 5; y++)
                b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y], keccak_rot[x + 5 * y]);
        for (int x = 0; x < 5; x++) /* chi */
            for (int y = 0; y < 5; y++)
                a[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
        a[0] ^= keccak_rc[round]; /* iota */
    }
}

static void absorb_block(uint64_t a[25], const uint8_t *blk)
{
    for (int i = 0; i < 17; i++) { /* rate 1088 bits = 17 little-endian lanes */
        uint64_t w = 0;
        for (int j = 0; j < 8; j++)
            w |= (uint64_t)blk[8 * i + j] << (8 * j);
        a[i] ^= w;
    }
    keccak_f1600(a);
}

static void keccak256(const void *data, size_t n, uint8_t out[32])
{
    const uint8_t *p = data;
    uint64_t a[25] = {0};
    uint8_t last[136];
    for (; n >= 136; n -= 136, p += 136)
        absorb_block(a, p);
    memset(last, 0, sizeof last);
    memcpy(last, p, n);
    last[n] ^= 0x01;
    last[135] ^= 0x80;
    absorb_block(a, last);
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)(a[i / 8] >> (8 * (i % 8)));
}

static uint32_t selector_of_signature(const char *sig)
{
    uint8_t h[32];
    keccak256(sig, strlen(sig), h);
    return mp_selector_of(h);
}

/* EIP-55: a hex letter is upper case iff the matching nibble of keccak(lowercase hex) >= 8. */
static bool eip55_valid(const char *text)
{
    char lower[41];
    uint8_t h[32];
    if (strlen(text) != 42 || text[0] != '0' || text[1] != 'x') return false;
    for (int i = 0; i < 40; i++)
        lower[i] = (char)tolower((unsigned char)text[2 + i]);
    lower[40] = '\0';
    keccak256(lower, 40, h);
    for (int i = 0; i < 40; i++) {
        char c = text[2 + i];
        unsigned nibble = i % 2 ? h[i / 2] & 15 : h[i / 2] >> 4;
        if (isalpha((unsigned char)c) && (isupper((unsigned char)c) != 0) != (nibble >= 8))
            return false;
    }
    return true;
}

Test(keccak, matches_known_vectors)
{
    uint8_t h[32];
    char hex[67];
    keccak256("", 0, h);
    mp_hex_encode(hex, h, 32);
    cr_assert_str_eq(hex, "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    cr_assert_eq(selector_of_signature("transfer(address,uint256)"), 0xa9059cbbu);
    /* 200 bytes: more than one block */
    char long_input[201];
    memset(long_input, 'a', 200);
    long_input[200] = '\0';
    keccak256(long_input, 200, h);
    uint8_t h2[32];
    keccak256(long_input, 200, h2);
    cr_assert_eq(memcmp(h, h2, 32), 0);
    cr_assert_neq(h[0] | h[1] | h[2] | h[3], 0);
}

/* ---- helpers ---- */

/* Mainnet addresses from reference/ethereum.md, written here again on purpose: the test
 * must not read them from the table it checks. */
#define UNI_V2_ROUTER "0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D"
#define UNI_V3_ROUTER "0xE592427A0AEce92De3Edee1F18E0157C05861564"
#define UNI_ROUTER02 "0x68b3465833fb72A70ecDF485E0e4C7bD8665Fc45"
#define UR_OLD "0xEf1c6E67703c7BD7107eed8303Fbe6EC2554BF6B"
#define UR_12 "0x3fC91A3afd70395Cd496C647d5a6CC9D4B2b7FAD"
#define UR_V4 "0x66a9893cC07D91D95644AEDD05D03f95e1dBA8Af"
#define PERMIT2 "0x000000000022D473030F116dDEE9F6B43aC78BA3"
#define WETH "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
#define USDC "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
#define USDT "0xdAC17F958D2ee523a2206206994597C13D831ec7"
#define DAI "0x6B175474E89094C44Da98b954EedeAC495271d0F"
#define WBTC "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599"
#define ONEINCH_V4 "0x1111111254fb6c44bAC0beD2854e76F90643097d"
#define ONEINCH_V5 "0x1111111254EEB25477B68fb85Ed929f73A960582"
#define ONEINCH_V6 "0x111111125421cA6dc452d289314280a0f8842A65"
#define ZEROX "0xDef1C0ded9bec7F1a1670819833240f027b25EfF"
#define SEAPORT_11 "0x00000000006c3852cbEf3e08E8dF289169EdE581"
#define SEAPORT_15 "0x00000000000000ADc04C56Bf30aC9d3c0aAF14dC"
#define SEAPORT_16 "0x0000000000000068F116a894984e2DB1123eB395"
#define AAVE_V2 "0x7d2768dE32b0b80b7a3454c06BdAc94A69DDc7A9"
#define AAVE_V3 "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2"
#define COMET "0xc3d688B66703497DAA19211EEdff47f25384cdc3"
#define CURVE_3POOL "0xbEbc44782C7dB0a1A60Cb6fe97d0b483032FF1C7"
#define BALANCER "0xBA12222222228d8Ba445958a75a0704d566BF2C8"
#define ENS_REGISTRY "0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e"
#define ENS_CONTROLLER "0x253553366Da8546fC250F225fe3d25d0C782303b"
#define ENS_RESOLVER "0x231b0Ee14048e9dCcD1d247744d114a4EB5E8E63"
#define OP_BRIDGE "0x99C9fc46f92E8a1c0deC1b1747d010903E884bE1"
#define OP_PORTAL "0xbEb5Fc579115071764c7423A4f12eDde41f106Ed"
#define BASE_BRIDGE "0x3154Cf16ccdb4C6d922629664174b904d80F2C35"
#define ARB_INBOX "0x4Dbd4fc535Ac27206064B68FfCf827b0A60BAB3f"
#define ARB_GATEWAY "0x72Ce9c846789fdB6fC1f34aC4AD25Dd9ef7031ef"
#define POLYGON_RCM "0xA0c68C638235ee32657e8f720a23ceC1bFc77C77"
#define STETH "0xae7ab96520DE3A18E5e111B5EaAb095312D7fE84"
/* Not a catalog address: any contract the catalog does not know. */
#define ELSEWHERE "0x1234567890abcdef1234567890abcdef12345678"

typedef struct expect {
    const char *to;
    uint32_t selector;
    const char *protocol;
    const char *category;
    const char *method;
} expect_t;

static void addr_of(const char *text, uint8_t out[MP_ADDR_LEN])
{
    cr_assert_eq(mp_hex_decode_fixed(out, MP_ADDR_LEN, text, strlen(text)), 0, "address %s", text);
}

static mp_classification_t classify_call(const char *to, uint32_t selector)
{
    uint8_t addr[MP_ADDR_LEN], input[4 + 64] = {0};
    mp_classification_t c;
    addr_of(to, addr);
    input[0] = (uint8_t)(selector >> 24);
    input[1] = (uint8_t)(selector >> 16);
    input[2] = (uint8_t)(selector >> 8);
    input[3] = (uint8_t)selector;
    cr_assert_eq(mp_catalog_classify(addr, true, input, sizeof input, NULL, &c), 0);
    return c;
}

static void check_calls(const expect_t *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mp_classification_t c = classify_call(e[i].to, e[i].selector);
        cr_assert_str_eq(mp_protocol_name(c.protocol), e[i].protocol, "0x%08x at %s: protocol",
                         e[i].selector, e[i].to);
        cr_assert_str_eq(mp_category_name(c.category), e[i].category, "0x%08x at %s: category",
                         e[i].selector, e[i].to);
        cr_assert_str_eq(mp_classification_method(&c), e[i].method, "0x%08x at %s: method",
                         e[i].selector, e[i].to);
        cr_assert(c.has_selector);
        cr_assert_eq(c.selector, e[i].selector);
    }
}

#define CHECK(...)                                                                                 \
    do {                                                                                           \
        static const expect_t cases_[] = {__VA_ARGS__};                                            \
        check_calls(cases_, sizeof cases_ / sizeof cases_[0]);                                     \
    } while (0)

/* ---- every selector of the reference ---- */

Test(eth_catalog, classifies_erc20_calls_on_a_known_token)
{
    CHECK({USDC, 0xa9059cbb, "erc20", "transfer", "transfer"},
          {USDT, 0x095ea7b3, "erc20", "approval", "approve"},
          {DAI, 0x23b872dd, "erc20", "transfer", "transferFrom"},
          {WBTC, 0xd505accf, "erc20", "approval", "permit"},
          {USDC, 0x40c10f19, "erc20", "other", "mint"});
}

Test(eth_catalog, classifies_erc20_selectors_on_unknown_tokens_as_erc20)
{
    CHECK({ELSEWHERE, 0xa9059cbb, "erc20", "transfer", "transfer"},
          {ELSEWHERE, 0x095ea7b3, "erc20", "approval", "approve"},
          {ELSEWHERE, 0x23b872dd, "erc20", "transfer", "transferFrom"},
          {ELSEWHERE, 0xd505accf, "erc20", "approval", "permit"},
          {ELSEWHERE, 0x40c10f19, "erc20", "other", "mint"});
}

Test(eth_catalog, classifies_nft_selectors_on_any_collection)
{
    CHECK({ELSEWHERE, 0xa22cb465, "nft", "approval", "setApprovalForAll"},
          {ELSEWHERE, 0x42842e0e, "nft", "nft", "safeTransferFrom"},
          {ELSEWHERE, 0xb88d4fde, "nft", "nft", "safeTransferFrom"},
          {ELSEWHERE, 0xf242432a, "nft", "nft", "safeTransferFrom"});
}

Test(eth_catalog, classifies_weth_deposit_and_withdraw)
{
    CHECK({WETH, 0xd0e30db0, "weth", "other", "deposit"},
          {WETH, 0x2e1a7d4d, "weth", "other", "withdraw"},
          /* WETH is a token too: its ERC-20 calls stay weth, with the ERC-20 meaning */
          {WETH, 0xa9059cbb, "weth", "transfer", "transfer"},
          {WETH, 0x095ea7b3, "weth", "approval", "approve"});
}

Test(eth_catalog, deposit_on_an_unknown_contract_is_not_weth)
{
    CHECK({ELSEWHERE, 0xd0e30db0, "unknown", "other", "deposit"},
          {ELSEWHERE, 0x2e1a7d4d, "unknown", "other", "withdraw"});
}

Test(eth_catalog, classifies_uniswap_v2_router_swaps)
{
    CHECK({UNI_V2_ROUTER, 0x38ed1739, "uniswap-v2", "swap", "swapExactTokensForTokens"},
          {UNI_V2_ROUTER, 0x8803dbee, "uniswap-v2", "swap", "swapTokensForExactTokens"},
          {UNI_V2_ROUTER, 0x7ff36ab5, "uniswap-v2", "swap", "swapExactETHForTokens"},
          {UNI_V2_ROUTER, 0x4a25d94a, "uniswap-v2", "swap", "swapTokensForExactETH"},
          {UNI_V2_ROUTER, 0x18cbafe5, "uniswap-v2", "swap", "swapExactTokensForETH"},
          {UNI_V2_ROUTER, 0xfb3bdb41, "uniswap-v2", "swap", "swapETHForExactTokens"},
          {UNI_V2_ROUTER, 0x5c11d795, "uniswap-v2", "swap",
           "swapExactTokensForTokensSupportingFeeOnTransferTokens"},
          {UNI_V2_ROUTER, 0xb6f9de95, "uniswap-v2", "swap",
           "swapExactETHForTokensSupportingFeeOnTransferTokens"},
          {UNI_V2_ROUTER, 0x791ac947, "uniswap-v2", "swap",
           "swapExactTokensForETHSupportingFeeOnTransferTokens"});
}

Test(eth_catalog, classifies_uniswap_v2_liquidity)
{
    CHECK({UNI_V2_ROUTER, 0xe8e33700, "uniswap-v2", "liquidity", "addLiquidity"},
          {UNI_V2_ROUTER, 0xf305d719, "uniswap-v2", "liquidity", "addLiquidityETH"},
          {UNI_V2_ROUTER, 0xbaa2abde, "uniswap-v2", "liquidity", "removeLiquidity"},
          {UNI_V2_ROUTER, 0x02751cec, "uniswap-v2", "liquidity", "removeLiquidityETH"});
}

Test(eth_catalog, classifies_v2_router_selectors_on_forks_as_uniswap_v2)
{
    CHECK({ELSEWHERE, 0x38ed1739, "uniswap-v2", "swap", "swapExactTokensForTokens"},
          {ELSEWHERE, 0x022c0d9f, "uniswap-v2", "swap", "swap"});
}

Test(eth_catalog, classifies_uniswap_v3_swaprouter)
{
    CHECK({UNI_V3_ROUTER, 0x414bf389, "uniswap-v3", "swap", "exactInputSingle"},
          {UNI_V3_ROUTER, 0xc04b8d59, "uniswap-v3", "swap", "exactInput"},
          {UNI_V3_ROUTER, 0xdb3e2198, "uniswap-v3", "swap", "exactOutputSingle"},
          {UNI_V3_ROUTER, 0xf28c0498, "uniswap-v3", "swap", "exactOutput"},
          {UNI_V3_ROUTER, 0xac9650d8, "uniswap-v3", "swap", "multicall"});
}

Test(eth_catalog, classifies_swaprouter02)
{
    CHECK({UNI_ROUTER02, 0x04e45aaf, "uniswap-v3", "swap", "exactInputSingle"},
          {UNI_ROUTER02, 0xb858183f, "uniswap-v3", "swap", "exactInput"},
          {UNI_ROUTER02, 0x5ae401dc, "uniswap-v3", "swap", "multicall"},
          {UNI_ROUTER02, 0x1f0464d1, "uniswap-v3", "swap", "multicall"},
          {UNI_ROUTER02, 0xac9650d8, "uniswap-v3", "swap", "multicall"},
          {UNI_ROUTER02, 0x472b43f3, "uniswap-v3", "swap", "swapExactTokensForTokens"});
}

Test(eth_catalog, classifies_uniswap_v3_pool_swap)
{
    CHECK({ELSEWHERE, 0x128acb08, "uniswap-v3", "swap", "swap"});
}

Test(eth_catalog, resolves_multicall_by_address)
{
    CHECK({UNI_V3_ROUTER, 0xac9650d8, "uniswap-v3", "swap", "multicall"},
          {ENS_RESOLVER, 0xac9650d8, "ens", "naming", "multicall"},
          /* at a contract of another protocol the bound rows say nothing about category */
          {USDC, 0xac9650d8, "erc20", "other", "multicall"},
          {ELSEWHERE, 0xac9650d8, "unknown", "other", "multicall"});
}

Test(eth_catalog, classifies_universal_router_at_all_three_addresses)
{
    CHECK({UR_OLD, 0x3593564c, "universal-router", "swap", "execute"},
          {UR_OLD, 0x24856bc3, "universal-router", "swap", "execute"},
          {UR_12, 0x3593564c, "universal-router", "swap", "execute"},
          {UR_12, 0x24856bc3, "universal-router", "swap", "execute"},
          {UR_V4, 0x3593564c, "universal-router", "swap", "execute"},
          {UR_V4, 0x24856bc3, "universal-router", "swap", "execute"});
}

Test(eth_catalog, classifies_1inch_v5_and_v6)
{
    CHECK({ONEINCH_V5, 0x12aa3caf, "1inch", "swap", "swap"},
          {ONEINCH_V5, 0x0502b1c5, "1inch", "swap", "unoswap"},
          {ONEINCH_V5, 0xe449022e, "1inch", "swap", "uniswapV3Swap"},
          {ONEINCH_V6, 0x07ed2379, "1inch", "swap", "swap"},
          {ONEINCH_V6, 0x83800a8e, "1inch", "swap", "unoswap"},
          {ONEINCH_V6, 0x8770ba91, "1inch", "swap", "unoswap2"},
          {ONEINCH_V6, 0xa76dfc3b, "1inch", "swap", "ethUnoswap"},
          {ONEINCH_V4, 0x12aa3caf, "1inch", "swap", "swap"});
}

Test(eth_catalog, classifies_0x_exchange_proxy)
{
    CHECK({ZEROX, 0x415565b0, "0x", "swap", "transformERC20"},
          {ZEROX, 0xd9627aa4, "0x", "swap", "sellToUniswap"},
          {ZEROX, 0x3598d8ab, "0x", "swap", "sellEthForTokenToUniswapV3"},
          {ZEROX, 0x803ba26d, "0x", "swap", "sellTokenForEthToUniswapV3"},
          {ZEROX, 0x6af479b2, "0x", "swap", "sellTokenForTokenToUniswapV3"});
}

Test(eth_catalog, classifies_seaport_fulfilments)
{
    CHECK({SEAPORT_11, 0xfb0f3ee1, "seaport", "nft", "fulfillBasicOrder"},
          {SEAPORT_15, 0xb3a34c4c, "seaport", "nft", "fulfillOrder"},
          {SEAPORT_15, 0xe7acab24, "seaport", "nft", "fulfillAdvancedOrder"},
          {SEAPORT_16, 0x87201b41, "seaport", "nft", "fulfillAvailableAdvancedOrders"},
          {SEAPORT_16, 0x00000000, "seaport", "nft", "fulfillBasicOrder_efficient_6GL6yc"},
          {SEAPORT_15, 0x00000000, "seaport", "nft", "fulfillBasicOrder_efficient_6GL6yc"});
}

Test(eth_catalog, zero_selector_elsewhere_stays_hex)
{
    CHECK({ELSEWHERE, 0x00000000, "unknown", "other", "0x00000000"},
          {USDC, 0x00000000, "erc20", "other", "0x00000000"});
}

Test(eth_catalog, classifies_aave_pool_calls)
{
    CHECK({AAVE_V3, 0x617ba037, "aave", "lending", "supply"},
          {AAVE_V3, 0xa415bcad, "aave", "lending", "borrow"},
          {AAVE_V3, 0x573ade81, "aave", "lending", "repay"},
          {AAVE_V3, 0x69328dec, "aave", "lending", "withdraw"},
          {AAVE_V3, 0x00a718a9, "aave", "liquidation", "liquidationCall"},
          {AAVE_V3, 0xab9c4b5d, "aave", "lending", "flashLoan"},
          {AAVE_V3, 0x42b0b77c, "aave", "lending", "flashLoanSimple"},
          {AAVE_V2, 0xe8eda9df, "aave", "lending", "deposit"},
          {AAVE_V2, 0x00a718a9, "aave", "liquidation", "liquidationCall"});
}

Test(eth_catalog, classifies_liquidation_call_on_aave_forks)
{
    CHECK({ELSEWHERE, 0x00a718a9, "aave", "liquidation", "liquidationCall"});
}

Test(eth_catalog, classifies_compound_v2_and_v3)
{
    CHECK({COMET, 0xa0712d68, "compound", "lending", "mint"},
          {COMET, 0xf5e3c462, "compound", "liquidation", "liquidateBorrow"},
          {COMET, 0xf2b9fdb8, "compound", "lending", "supply"},
          {COMET, 0xf3fef3a3, "compound", "lending", "withdraw"},
          {COMET, 0xc3cecfd2, "compound", "liquidation", "absorb"},
          /* cTokens are not in the catalog: the specific selector still names compound,
           * the generic mint(uint256) does not */
          {ELSEWHERE, 0xf5e3c462, "compound", "liquidation", "liquidateBorrow"},
          {ELSEWHERE, 0xa0712d68, "unknown", "other", "mint"});
}

Test(eth_catalog, classifies_curve_exchanges)
{
    CHECK({CURVE_3POOL, 0x3df02124, "curve", "swap", "exchange"},
          {CURVE_3POOL, 0xa6417ed6, "curve", "swap", "exchange_underlying"},
          {CURVE_3POOL, 0x5b41b908, "curve", "swap", "exchange"},
          {ELSEWHERE, 0x3df02124, "curve", "swap", "exchange"});
}

Test(eth_catalog, classifies_balancer_vault)
{
    CHECK({BALANCER, 0x52bbbe29, "balancer", "swap", "swap"},
          {BALANCER, 0x945bcec9, "balancer", "swap", "batchSwap"});
}

Test(eth_catalog, classifies_lido_submit)
{
    CHECK({STETH, 0xa1903eab, "lido", "staking", "submit"},
          {STETH, 0xa9059cbb, "lido", "transfer", "transfer"});
}

Test(eth_catalog, classifies_ens)
{
    CHECK({ENS_CONTROLLER, 0xf14fcbc8, "ens", "naming", "commit"},
          {ENS_CONTROLLER, 0x74694a2b, "ens", "naming", "register"},
          {ENS_CONTROLLER, 0xf7a16963, "ens", "naming", "registerWithConfig"},
          {ENS_CONTROLLER, 0xacf1a841, "ens", "naming", "renew"},
          {ENS_RESOLVER, 0xd5fa2b00, "ens", "naming", "setAddr"});
}

Test(eth_catalog, classifies_op_bridge_and_portal)
{
    CHECK({OP_BRIDGE, 0xb1a1a882, "bridge-op", "bridge", "depositETH"},
          {OP_BRIDGE, 0x9a2ac6d5, "bridge-op", "bridge", "depositETHTo"},
          {OP_BRIDGE, 0xe11013dd, "bridge-op", "bridge", "bridgeETHTo"},
          {OP_BRIDGE, 0x58a997f6, "bridge-op", "bridge", "depositERC20"},
          {OP_PORTAL, 0xe9e05c42, "bridge-op", "bridge", "depositTransaction"});
}

Test(eth_catalog, classifies_base_bridge_by_address)
{
    CHECK({BASE_BRIDGE, 0xb1a1a882, "bridge-base", "bridge", "depositETH"},
          {BASE_BRIDGE, 0x9a2ac6d5, "bridge-base", "bridge", "depositETHTo"},
          {BASE_BRIDGE, 0xe11013dd, "bridge-base", "bridge", "bridgeETHTo"},
          {BASE_BRIDGE, 0x58a997f6, "bridge-base", "bridge", "depositERC20"},
          /* another OP-stack chain's bridge: the shared ABI reads as bridge-op */
          {ELSEWHERE, 0xb1a1a882, "bridge-op", "bridge", "depositETH"});
}

Test(eth_catalog, classifies_arbitrum_bridge)
{
    CHECK({ARB_INBOX, 0x439370b1, "bridge-arbitrum", "bridge", "depositEth"},
          {ARB_GATEWAY, 0xd2ce7d65, "bridge-arbitrum", "bridge", "outboundTransfer"});
}

Test(eth_catalog, classifies_polygon_bridge)
{
    CHECK({POLYGON_RCM, 0x4faa8a26, "bridge-polygon", "bridge", "depositEtherFor"},
          {POLYGON_RCM, 0xe3dec8fb, "bridge-polygon", "bridge", "depositFor"});
}

Test(eth_catalog, classifies_across_deposit_anywhere)
{
    CHECK({ELSEWHERE, 0x7b939232, "bridge-across", "bridge", "depositV3"},
          {"0x5c7BCd6E7De5423a257D81B442095A1a6ced35C5", 0x7b939232, "bridge-across", "bridge",
           "depositV3"});
}

Test(eth_catalog, classifies_chainlink_oracle_updates_on_any_aggregator)
{
    CHECK({ELSEWHERE, 0xc9807539, "chainlink", "oracle", "transmit"},
          {ELSEWHERE, 0xb1dc65a4, "chainlink", "oracle", "transmit"},
          {ELSEWHERE, 0x6fadcf72, "chainlink", "oracle", "forward"});
}

Test(eth_catalog, classifies_safe_exec_transaction)
{
    CHECK({ELSEWHERE, 0x6a761202, "safe", "wallet", "execTransaction"});
}

Test(eth_catalog, classifies_erc4337_handle_ops)
{
    CHECK({ELSEWHERE, 0x1fad948c, "erc4337", "wallet", "handleOps"},
          {"0x5FF137D4b0FDCD49DcA30c7CF57E578a026d2789", 0x1fad948c, "erc4337", "wallet",
           "handleOps"},
          {"0x0000000071727De22E5E9d8BAf0edAc6f37da032", 0x765e827f, "erc4337", "wallet",
           "handleOps"});
}

Test(eth_catalog, classifies_permit2_approvals)
{
    CHECK({PERMIT2, 0x87517c45, "erc20", "approval", "approve"},
          {ELSEWHERE, 0x87517c45, "unknown", "other", "approve"});
}

/* ---- every address of the reference ---- */

Test(eth_catalog, maps_every_reference_address_to_its_protocol)
{
    static const struct {
        const char *addr, *protocol;
    } cases[] = {
        {UNI_V2_ROUTER, "uniswap-v2"},
        {UNI_V3_ROUTER, "uniswap-v3"},
        {UNI_ROUTER02, "uniswap-v3"},
        {UR_OLD, "universal-router"},
        {UR_12, "universal-router"},
        {UR_V4, "universal-router"},
        {PERMIT2, "erc20"},
        {WETH, "weth"},
        {USDC, "erc20"},
        {USDT, "erc20"},
        {DAI, "erc20"},
        {WBTC, "erc20"},
        {ONEINCH_V4, "1inch"},
        {ONEINCH_V5, "1inch"},
        {ONEINCH_V6, "1inch"},
        {ZEROX, "0x"},
        {SEAPORT_11, "seaport"},
        {SEAPORT_15, "seaport"},
        {SEAPORT_16, "seaport"},
        {AAVE_V2, "aave"},
        {AAVE_V3, "aave"},
        {COMET, "compound"},
        {CURVE_3POOL, "curve"},
        {BALANCER, "balancer"},
        {ENS_REGISTRY, "ens"},
        {ENS_CONTROLLER, "ens"},
        {ENS_RESOLVER, "ens"},
        {OP_BRIDGE, "bridge-op"},
        {OP_PORTAL, "bridge-op"},
        {BASE_BRIDGE, "bridge-base"},
        {ARB_INBOX, "bridge-arbitrum"},
        {ARB_GATEWAY, "bridge-arbitrum"},
        {POLYGON_RCM, "bridge-polygon"},
        {STETH, "lido"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* a selector nobody has: the address alone decides */
        mp_classification_t c = classify_call(cases[i].addr, 0xdeadbeef);
        cr_assert_str_eq(mp_protocol_name(c.protocol), cases[i].protocol, "%s", cases[i].addr);
        cr_assert_eq(c.category, MP_CAT_OTHER, "%s", cases[i].addr);
        cr_assert_str_eq(mp_classification_method(&c), "0xdeadbeef");
        cr_assert_not_null(c.address, "%s", cases[i].addr);
        cr_assert_eq(strcasecmp(c.address->text, cases[i].addr), 0);
        /* lookups are case-insensitive by construction: bytes, not text */
        uint8_t a[MP_ADDR_LEN];
        addr_of(cases[i].addr, a);
        cr_assert_eq(mp_catalog_find_address(a), c.address);
    }
}

/* ---- the rules ---- */

Test(eth_catalog, nil_to_is_deploy)
{
    static const uint8_t initcode[] = {0x60, 0x80, 0x60, 0x40, 0x52};
    mp_classification_t c;
    cr_assert_eq(mp_catalog_classify(NULL, false, initcode, sizeof initcode, NULL, &c), 0);
    cr_assert_eq(c.protocol, MP_PROTO_DEPLOY);
    cr_assert_eq(c.category, MP_CAT_DEPLOY);
    cr_assert_str_eq(mp_classification_method(&c), "deploy");
}

Test(eth_catalog, value_without_calldata_is_eth_transfer)
{
    uint8_t to[MP_ADDR_LEN];
    mp_u256_t v;
    mp_classification_t c;
    addr_of(ELSEWHERE, to);
    memset(&v, 0, sizeof v);
    v.be[31] = 1;
    cr_assert_eq(mp_catalog_classify(to, true, NULL, 0, &v, &c), 0);
    cr_assert_eq(c.protocol, MP_PROTO_ETH_TRANSFER);
    cr_assert_eq(c.category, MP_CAT_TRANSFER);
    cr_assert_str_eq(mp_classification_method(&c), "transfer");
    cr_assert_not(c.has_selector);
}

Test(eth_catalog, value_to_a_known_contract_without_calldata_is_eth_transfer)
{
    uint8_t to[MP_ADDR_LEN];
    mp_u256_t v;
    mp_classification_t c;
    addr_of(WETH, to);
    memset(&v, 0, sizeof v);
    v.be[0] = 0x80; /* only the top byte set: the whole width counts */
    cr_assert_eq(mp_catalog_classify(to, true, NULL, 0, &v, &c), 0);
    cr_assert_eq(c.protocol, MP_PROTO_ETH_TRANSFER);
}

Test(eth_catalog, zero_value_without_calldata_is_empty)
{
    uint8_t to[MP_ADDR_LEN];
    mp_classification_t c;
    addr_of(ELSEWHERE, to);
    cr_assert_eq(mp_catalog_classify(to, true, NULL, 0, NULL, &c), 0);
    cr_assert_eq(c.protocol, MP_PROTO_UNKNOWN);
    cr_assert_eq(c.category, MP_CAT_OTHER);
    cr_assert_str_eq(mp_classification_method(&c), "empty");
}

Test(eth_catalog, unknown_selector_on_unknown_contract_is_unknown_with_hex_method)
{
    mp_classification_t c = classify_call(ELSEWHERE, 0x0a1b2c3d);
    cr_assert_eq(c.protocol, MP_PROTO_UNKNOWN);
    cr_assert_eq(c.category, MP_CAT_OTHER);
    cr_assert_null(c.method);
    cr_assert_str_eq(mp_classification_method(&c), "0x0a1b2c3d");
    cr_assert_null(c.row);
    cr_assert_null(c.address);
}

Test(eth_catalog, calldata_shorter_than_a_selector_is_unknown)
{
    uint8_t to[MP_ADDR_LEN], input[3] = {0xa9, 0x05, 0x9c};
    mp_classification_t c;
    addr_of(ELSEWHERE, to);
    cr_assert_eq(mp_catalog_classify(to, true, input, sizeof input, NULL, &c), 0);
    cr_assert_eq(c.protocol, MP_PROTO_UNKNOWN);
    cr_assert_not(c.has_selector);
    cr_assert_str_eq(mp_classification_method(&c), "short-calldata");
}

Test(eth_catalog, classify_rejects_null_output)
{
    uint8_t to[MP_ADDR_LEN] = {0};
    cr_assert_eq(mp_catalog_classify(to, true, NULL, 0, NULL, NULL), -EINVAL);
}

Test(eth_catalog, method_names_are_the_rows_static_strings)
{
    mp_classification_t c = classify_call(UNI_V2_ROUTER, 0x38ed1739);
    cr_assert_not_null(c.row);
    cr_assert_eq(c.method, c.row->method);
    cr_assert_eq(c.row->selector, 0x38ed1739u);
    cr_assert_eq(c.row, mp_catalog_find_selector(0x38ed1739, MP_PROTO_UNISWAP_V2));
}

/* ---- table integrity ---- */

Test(eth_catalog, init_accepts_the_compiled_table)
{
    cr_assert_eq(mp_catalog_init(), 0);
    cr_assert_eq(mp_catalog_init(), 0, "idempotent");
    cr_assert_geq(mp_catalog_selector_count(), 95);
    cr_assert_geq(mp_catalog_address_count(), 34);
}

Test(eth_catalog, every_signature_hashes_to_its_selector)
{
    size_t n = mp_catalog_selector_count(), verified = 0, unverified = 0;
    for (size_t i = 0; i < n; i++) {
        const mp_catalog_selector_t *r = mp_catalog_selector_at(i);
        cr_assert_not_null(r);
        if (!r->signature) {
            /* Listed, never skipped silently: a row we cannot check by hashing. */
            cr_log_warn("selector 0x%08x (%s %s) has no exact signature", r->selector,
                        mp_protocol_name(r->protocol), r->method);
            unverified++;
            continue;
        }
        cr_expect_eq(selector_of_signature(r->signature), r->selector,
                     "%s hashes to 0x%08x, the row says 0x%08x", r->signature,
                     selector_of_signature(r->signature), r->selector);
        /* the method is the signature's function name */
        size_t name_len = strcspn(r->signature, "(");
        cr_expect(strlen(r->method) == name_len && !strncmp(r->method, r->signature, name_len),
                  "method %s vs signature %s", r->method, r->signature);
        verified++;
    }
    cr_log_info("%zu selector rows: %zu verified by keccak-256, %zu without signature", n, verified,
                unverified);
    cr_assert_eq(verified + unverified, n);
    cr_assert_eq(unverified, 0, "every row should carry its exact signature");
}

Test(eth_catalog, every_address_has_a_valid_eip55_checksum)
{
    for (size_t i = 0; i < mp_catalog_address_count(); i++) {
        const mp_catalog_address_t *a = mp_catalog_address_at(i);
        cr_assert_not_null(a);
        cr_assert(eip55_valid(a->text), "%s (%s) fails its EIP-55 checksum", a->text, a->label);
    }
}

Test(eth_catalog, eip55_check_rejects_a_miscased_address)
{
    cr_assert(eip55_valid(WETH));
    cr_assert_not(eip55_valid("0xc02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"));
}

Test(eth_catalog, lookups_find_every_row)
{
    for (size_t i = 0; i < mp_catalog_selector_count(); i++) {
        const mp_catalog_selector_t *r = mp_catalog_selector_at(i);
        cr_assert_eq(mp_catalog_find_selector(r->selector, r->protocol), r, "row %zu", i);
    }
    for (size_t i = 0; i < mp_catalog_address_count(); i++) {
        const mp_catalog_address_t *a = mp_catalog_address_at(i);
        cr_assert_eq(mp_catalog_find_address(a->addr), a, "%s", a->text);
        cr_assert_eq(mp_catalog_address_by_label(a->label), a, "%s", a->label);
    }
    cr_assert_null(mp_catalog_selector_at(mp_catalog_selector_count()));
    cr_assert_null(mp_catalog_address_at(mp_catalog_address_count()));
    cr_assert_null(mp_catalog_address_by_label("no such contract"));
}

Test(eth_catalog, every_row_classifies_as_itself_at_home)
{
    /* A row applies at an address of its protocol or, unbound, anywhere. */
    for (size_t i = 0; i < mp_catalog_selector_count(); i++) {
        const mp_catalog_selector_t *r = mp_catalog_selector_at(i);
        const mp_catalog_address_t *home = NULL;
        for (size_t j = 0; j < mp_catalog_address_count() && !home; j++) {
            if (mp_catalog_address_at(j)->protocol == r->protocol) home = mp_catalog_address_at(j);
        }
        const char *text = home ? home->text : ELSEWHERE;
        cr_assert(home || !(r->flags & MP_SEL_BOUND), "bound row 0x%08x has no home", r->selector);
        mp_classification_t c = classify_call(text, r->selector);
        cr_assert_eq(c.protocol, r->protocol, "0x%08x %s", r->selector, r->method);
        cr_assert_eq(c.category, r->category, "0x%08x %s", r->selector, r->method);
        cr_assert_str_eq(mp_classification_method(&c), r->method);
    }
}

Test(eth_catalog, protocol_and_category_names_round_trip)
{
    for (unsigned p = 0; p < MP_PROTO_COUNT; p++) {
        cr_assert_not_null(mp_protocol_name(p));
        cr_assert_eq(mp_protocol_from_name(mp_protocol_name(p)), (int)p);
    }
    for (unsigned k = 0; k < MP_CAT_COUNT; k++)
        cr_assert_eq(mp_category_from_name(mp_category_name(k)), (int)k);
    cr_assert_str_eq(mp_protocol_name(MP_PROTO_COUNT), "unknown");
    cr_assert_str_eq(mp_category_name(MP_CAT_COUNT), "other");
    cr_assert_eq(mp_protocol_from_name("uniswap-v4"), -EINVAL);
    cr_assert_eq(mp_category_from_name(NULL), -EINVAL);
    cr_assert_str_eq(mp_protocol_name(MP_PROTO_UNIVERSAL_ROUTER), "universal-router");
    cr_assert_str_eq(mp_category_name(MP_CAT_LIQUIDATION), "liquidation");
}
