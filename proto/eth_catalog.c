/* Owns the protocol catalog data (selector rows, contract addresses) and the O(1) lookup
 * tables built from it at init, plus the classification rules over them. To teach
 * mempulse a protocol, add rows below; tests/unit/test_eth_catalog.c checks every
 * signature against its selector with keccak-256 and every address's EIP-55 checksum. */
#include "proto/eth_catalog.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "common/hex.h"
#include "common/log.h"

static const char *const protocol_names[MP_PROTO_COUNT] = {
    [MP_PROTO_UNKNOWN] = "unknown",
    [MP_PROTO_UNISWAP_V2] = "uniswap-v2",
    [MP_PROTO_UNISWAP_V3] = "uniswap-v3",
    [MP_PROTO_UNIVERSAL_ROUTER] = "universal-router",
    [MP_PROTO_1INCH] = "1inch",
    [MP_PROTO_0X] = "0x",
    [MP_PROTO_SEAPORT] = "seaport",
    [MP_PROTO_AAVE] = "aave",
    [MP_PROTO_COMPOUND] = "compound",
    [MP_PROTO_CURVE] = "curve",
    [MP_PROTO_BALANCER] = "balancer",
    [MP_PROTO_LIDO] = "lido",
    [MP_PROTO_ENS] = "ens",
    [MP_PROTO_BRIDGE_OP] = "bridge-op",
    [MP_PROTO_BRIDGE_BASE] = "bridge-base",
    [MP_PROTO_BRIDGE_ARBITRUM] = "bridge-arbitrum",
    [MP_PROTO_BRIDGE_POLYGON] = "bridge-polygon",
    [MP_PROTO_BRIDGE_ACROSS] = "bridge-across",
    [MP_PROTO_CHAINLINK] = "chainlink",
    [MP_PROTO_SAFE] = "safe",
    [MP_PROTO_ERC4337] = "erc4337",
    [MP_PROTO_ERC20] = "erc20",
    [MP_PROTO_NFT] = "nft",
    [MP_PROTO_WETH] = "weth",
    [MP_PROTO_ETH_TRANSFER] = "eth-transfer",
    [MP_PROTO_DEPLOY] = "deploy",
};

static const char *const category_names[MP_CAT_COUNT] = {
    [MP_CAT_OTHER] = "other",
    [MP_CAT_SWAP] = "swap",
    [MP_CAT_TRANSFER] = "transfer",
    [MP_CAT_APPROVAL] = "approval",
    [MP_CAT_LIQUIDITY] = "liquidity",
    [MP_CAT_LENDING] = "lending",
    [MP_CAT_LIQUIDATION] = "liquidation",
    [MP_CAT_NFT] = "nft",
    [MP_CAT_BRIDGE] = "bridge",
    [MP_CAT_ORACLE] = "oracle",
    [MP_CAT_STAKING] = "staking",
    [MP_CAT_NAMING] = "naming",
    [MP_CAT_WALLET] = "wallet",
    [MP_CAT_DEPLOY] = "deploy",
};

/* clang-format off */
#define ROW(sel, proto, cat, flags, method, sig) \
    {(sel), MP_PROTO_##proto, MP_CAT_##cat, (flags), (method), (sig)}
/* clang-format on */
#define BOUND MP_SEL_BOUND
#define LOCAL (MP_SEL_BOUND | MP_SEL_LOCAL_NAME)

/* Selector rows, grouped by protocol. Where a selector has several rows, the first
 * unbound one is what a contract outside the catalog gets; the others apply at their
 * own protocol's addresses. */
static const mp_catalog_selector_t selector_rows[] = {
    /* ERC-20 on any token contract */
    ROW(0xa9059cbb, ERC20, TRANSFER, 0, "transfer", "transfer(address,uint256)"),
    ROW(0x095ea7b3, ERC20, APPROVAL, 0, "approve", "approve(address,uint256)"),
    ROW(0x23b872dd, ERC20, TRANSFER, 0, "transferFrom", "transferFrom(address,address,uint256)"),
    ROW(0xd505accf, ERC20, APPROVAL, 0, "permit",
        "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"),
    ROW(0x40c10f19, ERC20, OTHER, 0, "mint", "mint(address,uint256)"),
    /* Permit2's allowance setter: only meaningful at Permit2 (an erc20 row below) */
    ROW(0x87517c45, ERC20, APPROVAL, BOUND, "approve", "approve(address,address,uint160,uint48)"),

    /* ERC-721 / ERC-1155 on any collection */
    ROW(0xa22cb465, NFT, APPROVAL, 0, "setApprovalForAll", "setApprovalForAll(address,bool)"),
    ROW(0x42842e0e, NFT, NFT, 0, "safeTransferFrom", "safeTransferFrom(address,address,uint256)"),
    ROW(0xb88d4fde, NFT, NFT, 0, "safeTransferFrom",
        "safeTransferFrom(address,address,uint256,bytes)"),
    ROW(0xf242432a, NFT, NFT, 0, "safeTransferFrom",
        "safeTransferFrom(address,address,uint256,uint256,bytes)"),

    /* WETH: deposit() and withdraw(uint256) are common names, so bound to WETH */
    ROW(0xd0e30db0, WETH, OTHER, BOUND, "deposit", "deposit()"),
    ROW(0x2e1a7d4d, WETH, OTHER, BOUND, "withdraw", "withdraw(uint256)"),

    /* Uniswap V2 Router02 (and its many forks), pairs */
    ROW(0x38ed1739, UNISWAP_V2, SWAP, 0, "swapExactTokensForTokens",
        "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)"),
    ROW(0x8803dbee, UNISWAP_V2, SWAP, 0, "swapTokensForExactTokens",
        "swapTokensForExactTokens(uint256,uint256,address[],address,uint256)"),
    ROW(0x7ff36ab5, UNISWAP_V2, SWAP, 0, "swapExactETHForTokens",
        "swapExactETHForTokens(uint256,address[],address,uint256)"),
    ROW(0x4a25d94a, UNISWAP_V2, SWAP, 0, "swapTokensForExactETH",
        "swapTokensForExactETH(uint256,uint256,address[],address,uint256)"),
    ROW(0x18cbafe5, UNISWAP_V2, SWAP, 0, "swapExactTokensForETH",
        "swapExactTokensForETH(uint256,uint256,address[],address,uint256)"),
    ROW(0xfb3bdb41, UNISWAP_V2, SWAP, 0, "swapETHForExactTokens",
        "swapETHForExactTokens(uint256,address[],address,uint256)"),
    ROW(0x5c11d795, UNISWAP_V2, SWAP, 0, "swapExactTokensForTokensSupportingFeeOnTransferTokens",
        "swapExactTokensForTokensSupportingFeeOnTransferTokens(uint256,uint256,address[],address,"
        "uint256)"),
    ROW(0xb6f9de95, UNISWAP_V2, SWAP, 0, "swapExactETHForTokensSupportingFeeOnTransferTokens",
        "swapExactETHForTokensSupportingFeeOnTransferTokens(uint256,address[],address,uint256)"),
    ROW(0x791ac947, UNISWAP_V2, SWAP, 0, "swapExactTokensForETHSupportingFeeOnTransferTokens",
        "swapExactTokensForETHSupportingFeeOnTransferTokens(uint256,uint256,address[],address,"
        "uint256)"),
    ROW(0xe8e33700, UNISWAP_V2, LIQUIDITY, 0, "addLiquidity",
        "addLiquidity(address,address,uint256,uint256,uint256,uint256,address,uint256)"),
    ROW(0xf305d719, UNISWAP_V2, LIQUIDITY, 0, "addLiquidityETH",
        "addLiquidityETH(address,uint256,uint256,uint256,address,uint256)"),
    ROW(0xbaa2abde, UNISWAP_V2, LIQUIDITY, 0, "removeLiquidity",
        "removeLiquidity(address,address,uint256,uint256,uint256,address,uint256)"),
    ROW(0x02751cec, UNISWAP_V2, LIQUIDITY, 0, "removeLiquidityETH",
        "removeLiquidityETH(address,uint256,uint256,uint256,address,uint256)"),
    ROW(0x022c0d9f, UNISWAP_V2, SWAP, 0, "swap", "swap(uint256,uint256,address,bytes)"),
    /* SwapRouter02's V2 leg (no deadline argument) */
    ROW(0x472b43f3, UNISWAP_V2, SWAP, 0, "swapExactTokensForTokens",
        "swapExactTokensForTokens(uint256,uint256,address[],address)"),

    /* Uniswap V3 SwapRouter, SwapRouter02, pools */
    ROW(0x414bf389, UNISWAP_V3, SWAP, 0, "exactInputSingle",
        "exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))"),
    ROW(0xc04b8d59, UNISWAP_V3, SWAP, 0, "exactInput",
        "exactInput((bytes,address,uint256,uint256,uint256))"),
    ROW(0xdb3e2198, UNISWAP_V3, SWAP, 0, "exactOutputSingle",
        "exactOutputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))"),
    ROW(0xf28c0498, UNISWAP_V3, SWAP, 0, "exactOutput",
        "exactOutput((bytes,address,uint256,uint256,uint256))"),
    ROW(0xac9650d8, UNISWAP_V3, SWAP, BOUND, "multicall", "multicall(bytes[])"),
    ROW(0x04e45aaf, UNISWAP_V3, SWAP, 0, "exactInputSingle",
        "exactInputSingle((address,address,uint24,address,uint256,uint256,uint160))"),
    ROW(0xb858183f, UNISWAP_V3, SWAP, 0, "exactInput",
        "exactInput((bytes,address,uint256,uint256))"),
    ROW(0x5ae401dc, UNISWAP_V3, SWAP, 0, "multicall", "multicall(uint256,bytes[])"),
    ROW(0x1f0464d1, UNISWAP_V3, SWAP, 0, "multicall", "multicall(bytes32,bytes[])"),
    ROW(0x128acb08, UNISWAP_V3, SWAP, 0, "swap", "swap(address,bool,int256,uint160,bytes)"),

    /* Uniswap Universal Router */
    ROW(0x3593564c, UNIVERSAL_ROUTER, SWAP, 0, "execute", "execute(bytes,bytes[],uint256)"),
    ROW(0x24856bc3, UNIVERSAL_ROUTER, SWAP, 0, "execute", "execute(bytes,bytes[])"),

    /* 1inch aggregation routers v5 and v6 (v6 passes addresses as uint256) */
    ROW(0x12aa3caf, 1INCH, SWAP, 0, "swap",
        "swap(address,(address,address,address,address,uint256,uint256,uint256),bytes,bytes)"),
    ROW(0x0502b1c5, 1INCH, SWAP, 0, "unoswap", "unoswap(address,uint256,uint256,uint256[])"),
    ROW(0xe449022e, 1INCH, SWAP, 0, "uniswapV3Swap", "uniswapV3Swap(uint256,uint256,uint256[])"),
    ROW(0x07ed2379, 1INCH, SWAP, 0, "swap",
        "swap(address,(address,address,address,address,uint256,uint256,uint256),bytes)"),
    ROW(0x83800a8e, 1INCH, SWAP, 0, "unoswap", "unoswap(uint256,uint256,uint256,uint256)"),
    ROW(0x8770ba91, 1INCH, SWAP, 0, "unoswap2",
        "unoswap2(uint256,uint256,uint256,uint256,uint256)"),
    ROW(0xa76dfc3b, 1INCH, SWAP, 0, "ethUnoswap", "ethUnoswap(uint256,uint256)"),

    /* 0x Exchange Proxy */
    ROW(0x415565b0, 0X, SWAP, 0, "transformERC20",
        "transformERC20(address,address,uint256,uint256,(uint32,bytes)[])"),
    ROW(0xd9627aa4, 0X, SWAP, 0, "sellToUniswap", "sellToUniswap(address[],uint256,uint256,bool)"),
    ROW(0x3598d8ab, 0X, SWAP, 0, "sellEthForTokenToUniswapV3",
        "sellEthForTokenToUniswapV3(bytes,uint256,address)"),
    ROW(0x803ba26d, 0X, SWAP, 0, "sellTokenForEthToUniswapV3",
        "sellTokenForEthToUniswapV3(bytes,uint256,uint256,address)"),
    ROW(0x6af479b2, 0X, SWAP, 0, "sellTokenForTokenToUniswapV3",
        "sellTokenForTokenToUniswapV3(bytes,uint256,uint256,address)"),

    /* Seaport */
    ROW(0xfb0f3ee1, SEAPORT, NFT, 0, "fulfillBasicOrder",
        "fulfillBasicOrder((address,uint256,uint256,address,address,address,uint256,uint256,"
        "uint8,uint256,uint256,bytes32,uint256,bytes32,bytes32,uint256,(uint256,address)[],"
        "bytes))"),
    ROW(0xb3a34c4c, SEAPORT, NFT, 0, "fulfillOrder",
        "fulfillOrder(((address,address,(uint8,address,uint256,uint256,uint256)[],(uint8,"
        "address,uint256,uint256,uint256,address)[],uint8,uint256,uint256,bytes32,uint256,"
        "bytes32,uint256),bytes),bytes32)"),
    ROW(0xe7acab24, SEAPORT, NFT, 0, "fulfillAdvancedOrder",
        "fulfillAdvancedOrder(((address,address,(uint8,address,uint256,uint256,uint256)[],"
        "(uint8,address,uint256,uint256,uint256,address)[],uint8,uint256,uint256,bytes32,"
        "uint256,bytes32,uint256),uint120,uint120,bytes,bytes),(uint256,uint8,uint256,uint256,"
        "bytes32[])[],bytes32,address)"),
    ROW(0x87201b41, SEAPORT, NFT, 0, "fulfillAvailableAdvancedOrders",
        "fulfillAvailableAdvancedOrders(((address,address,(uint8,address,uint256,uint256,"
        "uint256)[],(uint8,address,uint256,uint256,uint256,address)[],uint8,uint256,uint256,"
        "bytes32,uint256,bytes32,uint256),uint120,uint120,bytes,bytes)[],(uint256,uint8,uint256,"
        "uint256,bytes32[])[],(uint256,uint256)[][],(uint256,uint256)[][],bytes32,address,"
        "uint256)"),
    /* Seaport 1.5+: fulfillBasicOrder with a mined name whose selector is all zeros */
    ROW(0x00000000, SEAPORT, NFT, LOCAL, "fulfillBasicOrder_efficient_6GL6yc",
        "fulfillBasicOrder_efficient_6GL6yc((address,uint256,uint256,address,address,address,"
        "uint256,uint256,uint8,uint256,uint256,bytes32,uint256,bytes32,bytes32,uint256,(uint256,"
        "address)[],bytes))"),

    /* Aave v3 Pool (v2 LendingPool shares borrow/repay/withdraw/liquidationCall/flashLoan) */
    ROW(0x617ba037, AAVE, LENDING, 0, "supply", "supply(address,uint256,address,uint16)"),
    ROW(0xa415bcad, AAVE, LENDING, 0, "borrow", "borrow(address,uint256,uint256,uint16,address)"),
    ROW(0x573ade81, AAVE, LENDING, 0, "repay", "repay(address,uint256,uint256,address)"),
    ROW(0x69328dec, AAVE, LENDING, 0, "withdraw", "withdraw(address,uint256,address)"),
    ROW(0x00a718a9, AAVE, LIQUIDATION, 0, "liquidationCall",
        "liquidationCall(address,address,address,uint256,bool)"),
    ROW(0xab9c4b5d, AAVE, LENDING, 0, "flashLoan",
        "flashLoan(address,address[],uint256[],uint256[],address,bytes,uint16)"),
    ROW(0x42b0b77c, AAVE, LENDING, 0, "flashLoanSimple",
        "flashLoanSimple(address,address,uint256,bytes,uint16)"),
    ROW(0xe8eda9df, AAVE, LENDING, 0, "deposit", "deposit(address,uint256,address,uint16)"),

    /* Compound v2 cTokens and v3 Comet; the short signatures are generic, so bound */
    ROW(0xa0712d68, COMPOUND, LENDING, BOUND, "mint", "mint(uint256)"),
    ROW(0xf5e3c462, COMPOUND, LIQUIDATION, 0, "liquidateBorrow",
        "liquidateBorrow(address,uint256,address)"),
    ROW(0xf2b9fdb8, COMPOUND, LENDING, BOUND, "supply", "supply(address,uint256)"),
    ROW(0xf3fef3a3, COMPOUND, LENDING, BOUND, "withdraw", "withdraw(address,uint256)"),
    ROW(0xc3cecfd2, COMPOUND, LIQUIDATION, 0, "absorb", "absorb(address,address[])"),

    /* Curve pools */
    ROW(0x3df02124, CURVE, SWAP, 0, "exchange", "exchange(int128,int128,uint256,uint256)"),
    ROW(0xa6417ed6, CURVE, SWAP, 0, "exchange_underlying",
        "exchange_underlying(int128,int128,uint256,uint256)"),
    ROW(0x5b41b908, CURVE, SWAP, 0, "exchange", "exchange(uint256,uint256,uint256,uint256)"),

    /* Balancer V2 Vault */
    ROW(0x52bbbe29, BALANCER, SWAP, 0, "swap",
        "swap((bytes32,uint8,address,address,uint256,bytes),(address,bool,address,bool),"
        "uint256,uint256)"),
    ROW(0x945bcec9, BALANCER, SWAP, 0, "batchSwap",
        "batchSwap(uint8,(bytes32,uint256,uint256,uint256,bytes)[],address[],(address,bool,"
        "address,bool),int256[],uint256)"),

    /* Lido */
    ROW(0xa1903eab, LIDO, STAKING, 0, "submit", "submit(address)"),

    /* ENS controller and resolver */
    ROW(0xf14fcbc8, ENS, NAMING, BOUND, "commit", "commit(bytes32)"),
    ROW(0x74694a2b, ENS, NAMING, 0, "register",
        "register(string,address,uint256,bytes32,address,bytes[],bool,uint16)"),
    ROW(0xf7a16963, ENS, NAMING, 0, "registerWithConfig",
        "registerWithConfig(string,address,uint256,bytes32,address,address)"),
    ROW(0xacf1a841, ENS, NAMING, 0, "renew", "renew(string,uint256)"),
    ROW(0xd5fa2b00, ENS, NAMING, 0, "setAddr", "setAddr(bytes32,address)"),
    ROW(0xac9650d8, ENS, NAMING, BOUND, "multicall", "multicall(bytes[])"),

    /* OP-stack L1StandardBridge: the same ABI serves OP Mainnet and Base */
    ROW(0xb1a1a882, BRIDGE_OP, BRIDGE, 0, "depositETH", "depositETH(uint32,bytes)"),
    ROW(0x9a2ac6d5, BRIDGE_OP, BRIDGE, 0, "depositETHTo", "depositETHTo(address,uint32,bytes)"),
    ROW(0xe11013dd, BRIDGE_OP, BRIDGE, 0, "bridgeETHTo", "bridgeETHTo(address,uint32,bytes)"),
    ROW(0x58a997f6, BRIDGE_OP, BRIDGE, 0, "depositERC20",
        "depositERC20(address,address,uint256,uint32,bytes)"),
    ROW(0xe9e05c42, BRIDGE_OP, BRIDGE, 0, "depositTransaction",
        "depositTransaction(address,uint256,uint64,bool,bytes)"),
    ROW(0xb1a1a882, BRIDGE_BASE, BRIDGE, BOUND, "depositETH", "depositETH(uint32,bytes)"),
    ROW(0x9a2ac6d5, BRIDGE_BASE, BRIDGE, BOUND, "depositETHTo",
        "depositETHTo(address,uint32,bytes)"),
    ROW(0xe11013dd, BRIDGE_BASE, BRIDGE, BOUND, "bridgeETHTo", "bridgeETHTo(address,uint32,bytes)"),
    ROW(0x58a997f6, BRIDGE_BASE, BRIDGE, BOUND, "depositERC20",
        "depositERC20(address,address,uint256,uint32,bytes)"),

    /* Arbitrum Inbox and L1 GatewayRouter */
    ROW(0x439370b1, BRIDGE_ARBITRUM, BRIDGE, 0, "depositEth", "depositEth()"),
    ROW(0xd2ce7d65, BRIDGE_ARBITRUM, BRIDGE, 0, "outboundTransfer",
        "outboundTransfer(address,address,uint256,uint256,uint256,bytes)"),

    /* Polygon RootChainManager */
    ROW(0x4faa8a26, BRIDGE_POLYGON, BRIDGE, 0, "depositEtherFor", "depositEtherFor(address)"),
    ROW(0xe3dec8fb, BRIDGE_POLYGON, BRIDGE, 0, "depositFor", "depositFor(address,address,bytes)"),

    /* Across SpokePool */
    ROW(0x7b939232, BRIDGE_ACROSS, BRIDGE, 0, "depositV3",
        "depositV3(address,address,address,address,uint256,uint256,uint256,address,uint32,"
        "uint32,uint32,bytes)"),

    /* Chainlink OCR aggregators and forwarders: price updates */
    ROW(0xc9807539, CHAINLINK, ORACLE, 0, "transmit",
        "transmit(bytes,bytes32[],bytes32[],bytes32)"),
    ROW(0xb1dc65a4, CHAINLINK, ORACLE, 0, "transmit",
        "transmit(bytes32[3],bytes,bytes32[],bytes32[],bytes32)"),
    ROW(0x6fadcf72, CHAINLINK, ORACLE, 0, "forward", "forward(address,bytes)"),

    /* Safe multisig proxies */
    ROW(0x6a761202, SAFE, WALLET, 0, "execTransaction",
        "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,"
        "bytes)"),

    /* ERC-4337 EntryPoint v0.6 and v0.7 */
    ROW(0x1fad948c, ERC4337, WALLET, 0, "handleOps",
        "handleOps((address,uint256,bytes,bytes,uint256,uint256,uint256,uint256,uint256,bytes,"
        "bytes)[],address)"),
    ROW(0x765e827f, ERC4337, WALLET, 0, "handleOps",
        "handleOps((address,uint256,bytes,bytes,bytes32,uint256,bytes32,bytes,bytes)[],"
        "address)"),
};

/* clang-format off */
#define ADDR(proto, text, label) {{0}, MP_PROTO_##proto, (text), (label)}
/* clang-format on */

/* Known mainnet contracts, EIP-55 text; addr is filled from text at init. */
static mp_catalog_address_t address_rows[] = {
    ADDR(UNISWAP_V2, "0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D", "Uniswap V2 Router02"),
    ADDR(UNISWAP_V3, "0xE592427A0AEce92De3Edee1F18E0157C05861564", "Uniswap V3 SwapRouter"),
    ADDR(UNISWAP_V3, "0x68b3465833fb72A70ecDF485E0e4C7bD8665Fc45", "Uniswap SwapRouter02"),
    ADDR(UNIVERSAL_ROUTER, "0xEf1c6E67703c7BD7107eed8303Fbe6EC2554BF6B",
         "Universal Router (older)"),
    ADDR(UNIVERSAL_ROUTER, "0x3fC91A3afd70395Cd496C647d5a6CC9D4B2b7FAD", "Universal Router v1.2"),
    ADDR(UNIVERSAL_ROUTER, "0x66a9893cC07D91D95644AEDD05D03f95e1dBA8Af", "Universal Router (v4)"),
    /* Permit2 holds token allowances for any spender: its calls are token approvals */
    ADDR(ERC20, "0x000000000022D473030F116dDEE9F6B43aC78BA3", "Permit2"),
    ADDR(WETH, "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "WETH"),
    ADDR(ERC20, "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "USDC"),
    ADDR(ERC20, "0xdAC17F958D2ee523a2206206994597C13D831ec7", "USDT"),
    ADDR(ERC20, "0x6B175474E89094C44Da98b954EedeAC495271d0F", "DAI"),
    ADDR(ERC20, "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599", "WBTC"),
    ADDR(1INCH, "0x1111111254fb6c44bAC0beD2854e76F90643097d", "1inch v4 Router"),
    ADDR(1INCH, "0x1111111254EEB25477B68fb85Ed929f73A960582", "1inch v5 Router"),
    ADDR(1INCH, "0x111111125421cA6dc452d289314280a0f8842A65", "1inch v6 Router"),
    ADDR(0X, "0xDef1C0ded9bec7F1a1670819833240f027b25EfF", "0x Exchange Proxy"),
    ADDR(SEAPORT, "0x00000000006c3852cbEf3e08E8dF289169EdE581", "Seaport 1.1"),
    ADDR(SEAPORT, "0x00000000000000ADc04C56Bf30aC9d3c0aAF14dC", "Seaport 1.5"),
    ADDR(SEAPORT, "0x0000000000000068F116a894984e2DB1123eB395", "Seaport 1.6"),
    ADDR(AAVE, "0x7d2768dE32b0b80b7a3454c06BdAc94A69DDc7A9", "Aave v2 LendingPool"),
    ADDR(AAVE, "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2", "Aave v3 Pool"),
    ADDR(COMPOUND, "0xc3d688B66703497DAA19211EEdff47f25384cdc3", "Compound cUSDCv3"),
    ADDR(CURVE, "0xbEbc44782C7dB0a1A60Cb6fe97d0b483032FF1C7", "Curve 3pool"),
    ADDR(BALANCER, "0xBA12222222228d8Ba445958a75a0704d566BF2C8", "Balancer Vault"),
    ADDR(ENS, "0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e", "ENS Registry"),
    ADDR(ENS, "0x253553366Da8546fC250F225fe3d25d0C782303b", "ENS Registrar Controller"),
    ADDR(ENS, "0x231b0Ee14048e9dCcD1d247744d114a4EB5E8E63", "ENS Public Resolver"),
    ADDR(BRIDGE_OP, "0x99C9fc46f92E8a1c0deC1b1747d010903E884bE1", "OP L1StandardBridge"),
    ADDR(BRIDGE_OP, "0xbEb5Fc579115071764c7423A4f12eDde41f106Ed", "OptimismPortal"),
    ADDR(BRIDGE_BASE, "0x3154Cf16ccdb4C6d922629664174b904d80F2C35", "Base L1StandardBridge"),
    ADDR(BRIDGE_ARBITRUM, "0x4Dbd4fc535Ac27206064B68FfCf827b0A60BAB3f", "Arbitrum Inbox"),
    ADDR(BRIDGE_ARBITRUM, "0x72Ce9c846789fdB6fC1f34aC4AD25Dd9ef7031ef",
         "Arbitrum L1 GatewayRouter"),
    ADDR(BRIDGE_POLYGON, "0xA0c68C638235ee32657e8f720a23ceC1bFc77C77", "Polygon RootChainManager"),
    ADDR(BRIDGE_ACROSS, "0x5c7BCd6E7De5423a257D81B442095A1a6ced35C5", "Across SpokePool"),
    ADDR(LIDO, "0xae7ab96520DE3A18E5e111B5EaAb095312D7fE84", "Lido stETH"),
    ADDR(ERC4337, "0x5FF137D4b0FDCD49DcA30c7CF57E578a026d2789", "ERC-4337 EntryPoint v0.6"),
    ADDR(ERC4337, "0x0000000071727De22E5E9d8BAf0edAc6f37da032", "ERC-4337 EntryPoint v0.7"),
};

#define N_SELECTORS (sizeof selector_rows / sizeof selector_rows[0])
#define N_ADDRESSES (sizeof address_rows / sizeof address_rows[0])

/* Open-addressing tables, at most half full so a miss ends within a few probes. A slot
 * holds 1 + an index (0 = empty): for selectors the index into by_selector of the first
 * row with that selector, for addresses the index into address_rows. */
#define SEL_TABLE_BITS 9
#define ADDR_TABLE_BITS 7
_Static_assert(2 * N_SELECTORS <= (1u << SEL_TABLE_BITS), "selector table at most half full");
_Static_assert(2 * N_ADDRESSES <= (1u << ADDR_TABLE_BITS), "address table at most half full");
_Static_assert(N_SELECTORS < UINT16_MAX && N_ADDRESSES < UINT16_MAX, "slot width");

/* Row indexes sorted by selector, table order kept among equal selectors (so "the first
 * unbound row" is the table's first). */
static uint16_t by_selector[N_SELECTORS];
static uint16_t sel_table[1u << SEL_TABLE_BITS];
static uint16_t addr_table[1u << ADDR_TABLE_BITS];

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
/* 0 before init, 1 ready, -1 the data failed its checks. Written once inside init_once;
 * the release store pairs with the acquire load in catalog_ready(). */
static _Atomic int init_state;

static inline uint32_t sel_hash(uint32_t sel)
{
    return (sel * 0x9E3779B1u) >> (32 - SEL_TABLE_BITS);
}

static inline uint32_t addr_hash(const uint8_t a[MP_ADDR_LEN])
{
    /* The tail: vanity addresses share leading zero bytes, never trailing ones. */
    uint64_t k;
    memcpy(&k, a + MP_ADDR_LEN - 8, 8);
    return (uint32_t)((k * 0x9E3779B97F4A7C15ull) >> (64 - ADDR_TABLE_BITS));
}

static int check_row(size_t i)
{
    const mp_catalog_selector_t *r = &selector_rows[i];
    if (r->protocol >= MP_PROTO_COUNT || r->category >= MP_CAT_COUNT || !r->method ||
        !r->method[0]) {
        mp_log("eth_catalog: selector row %zu (0x%08x) has an invalid protocol, category or "
               "method; fix the row in proto/eth_catalog.c",
               i, r->selector);
        return -EINVAL;
    }
    for (size_t j = 0; j < i; j++) {
        const mp_catalog_selector_t *o = &selector_rows[j];
        if (o->selector != r->selector) continue;
        if (o->protocol == r->protocol) {
            mp_log("eth_catalog: selector 0x%08x is listed twice for %s; keep one row", r->selector,
                   protocol_names[r->protocol]);
            return -EINVAL;
        }
        if (!(o->flags & MP_SEL_BOUND) && !(r->flags & MP_SEL_BOUND)) {
            /* Only the first unbound row can ever apply off its protocol's addresses. */
            mp_log("eth_catalog: selector 0x%08x is unbound for both %s and %s; mark the "
                   "narrower one MP_SEL_BOUND",
                   r->selector, protocol_names[o->protocol], protocol_names[r->protocol]);
            return -EINVAL;
        }
    }
    if (r->flags & MP_SEL_BOUND) {
        bool found = false;
        for (size_t a = 0; a < N_ADDRESSES && !found; a++)
            found = address_rows[a].protocol == r->protocol;
        if (!found) {
            mp_log("eth_catalog: bound selector 0x%08x of %s has no address of its protocol, "
                   "so it could never apply; add the address or drop MP_SEL_BOUND",
                   r->selector, protocol_names[r->protocol]);
            return -EINVAL;
        }
    }
    return 0;
}

static int build_addresses(void)
{
    for (size_t i = 0; i < N_ADDRESSES; i++) {
        mp_catalog_address_t *a = &address_rows[i];
        if (a->protocol >= MP_PROTO_COUNT || !a->label ||
            mp_hex_decode_fixed(a->addr, MP_ADDR_LEN, a->text, strlen(a->text)) != 0) {
            mp_log("eth_catalog: address row %zu (%s) does not parse; fix proto/eth_catalog.c", i,
                   a->text ? a->text : "(null)");
            return -EINVAL;
        }
        for (size_t j = 0; j < i; j++) {
            if (!memcmp(address_rows[j].addr, a->addr, MP_ADDR_LEN) ||
                !strcmp(address_rows[j].label, a->label)) {
                mp_log("eth_catalog: address %s (%s) duplicates row %zu", a->text, a->label, j);
                return -EINVAL;
            }
        }
        uint32_t h = addr_hash(a->addr);
        while (addr_table[h])
            h = (h + 1) & ((1u << ADDR_TABLE_BITS) - 1);
        addr_table[h] = (uint16_t)(i + 1);
    }
    return 0;
}

static void build_selectors(void)
{
    /* Insertion sort: stable, and n is about a hundred. */
    for (size_t i = 0; i < N_SELECTORS; i++) {
        size_t j = i;
        while (j > 0 && selector_rows[by_selector[j - 1]].selector > selector_rows[i].selector) {
            by_selector[j] = by_selector[j - 1];
            j--;
        }
        by_selector[j] = (uint16_t)i;
    }
    for (size_t i = 0; i < N_SELECTORS; i++) {
        uint32_t sel = selector_rows[by_selector[i]].selector;
        if (i > 0 && selector_rows[by_selector[i - 1]].selector == sel)
            continue; /* the slot points at the first row of a run */
        uint32_t h = sel_hash(sel);
        while (sel_table[h])
            h = (h + 1) & ((1u << SEL_TABLE_BITS) - 1);
        sel_table[h] = (uint16_t)(i + 1);
    }
}

static void catalog_build(void)
{
    int err = build_addresses();
    for (size_t i = 0; i < N_SELECTORS && !err; i++)
        err = check_row(i);
    if (!err) build_selectors();
    atomic_store_explicit(&init_state, err ? -1 : 1, memory_order_release);
}

int mp_catalog_init(void)
{
    pthread_once(&init_once, catalog_build);
    return atomic_load_explicit(&init_state, memory_order_acquire) == 1 ? 0 : -EINVAL;
}

static inline bool catalog_ready(void)
{
    /* Pairs with the release store in catalog_build(): tables are complete once seen. */
    if (atomic_load_explicit(&init_state, memory_order_acquire) == 1) return true;
    return mp_catalog_init() == 0;
}

/* Position in by_selector of the first row with this selector; *n receives the run
 * length (0 when the selector is not catalogued). */
static size_t selector_run(uint32_t sel, size_t *n)
{
    uint32_t h = sel_hash(sel);
    for (;;) {
        uint16_t slot = sel_table[h];
        if (!slot) {
            *n = 0;
            return 0;
        }
        size_t first = slot - 1u;
        if (selector_rows[by_selector[first]].selector == sel) {
            size_t end = first + 1;
            while (end < N_SELECTORS && selector_rows[by_selector[end]].selector == sel)
                end++;
            *n = end - first;
            return first;
        }
        h = (h + 1) & ((1u << SEL_TABLE_BITS) - 1);
    }
}

const mp_catalog_address_t *mp_catalog_find_address(const uint8_t addr[MP_ADDR_LEN])
{
    if (!catalog_ready()) return NULL;
    uint32_t h = addr_hash(addr);
    for (;;) {
        uint16_t slot = addr_table[h];
        if (!slot) return NULL;
        const mp_catalog_address_t *a = &address_rows[slot - 1u];
        if (!memcmp(a->addr, addr, MP_ADDR_LEN)) return a;
        h = (h + 1) & ((1u << ADDR_TABLE_BITS) - 1);
    }
}

const mp_catalog_selector_t *mp_catalog_find_selector(uint32_t selector, unsigned protocol)
{
    if (!catalog_ready()) return NULL;
    size_t n, first = selector_run(selector, &n);
    for (size_t i = first; i < first + n; i++) {
        if (selector_rows[by_selector[i]].protocol == protocol)
            return &selector_rows[by_selector[i]];
    }
    return NULL;
}

static bool u256_is_zero(const mp_u256_t *v)
{
    if (!v) return true;
    uint8_t acc = 0;
    for (size_t i = 0; i < sizeof v->be; i++)
        acc |= v->be[i];
    return acc == 0;
}

static void set_hex_method(mp_classification_t *out)
{
    static const char digits[] = "0123456789abcdef";
    out->method = NULL;
    out->method_hex[0] = '0';
    out->method_hex[1] = 'x';
    for (int i = 0; i < 8; i++)
        out->method_hex[2 + i] = digits[(out->selector >> (28 - 4 * i)) & 0xf];
    out->method_hex[10] = '\0';
}

/* Chooses the row for a selector run at a catalog address of protocol p: the row of that
 * protocol, else the first unbound row (an ERC-20 call on WETH), else the first row. */
static const mp_catalog_selector_t *row_at_address(size_t first, size_t n, unsigned p)
{
    const mp_catalog_selector_t *unbound = NULL;
    for (size_t i = first; i < first + n; i++) {
        const mp_catalog_selector_t *r = &selector_rows[by_selector[i]];
        if (r->protocol == p) return r;
        if (!unbound && !(r->flags & MP_SEL_BOUND)) unbound = r;
    }
    return unbound ? unbound : &selector_rows[by_selector[first]];
}

int mp_catalog_classify(const uint8_t to[MP_ADDR_LEN], bool has_to, const uint8_t *input,
                        uint32_t input_len, const mp_u256_t *value, mp_classification_t *out)
{
    if (!out) return -EINVAL;
    out->protocol = MP_PROTO_UNKNOWN;
    out->category = MP_CAT_OTHER;
    out->has_selector = false;
    out->selector = 0;
    out->method = NULL;
    out->method_hex[0] = '\0';
    out->address = NULL;
    out->row = NULL;
    if (!catalog_ready()) return -EINVAL;

    if (!has_to) {
        out->protocol = MP_PROTO_DEPLOY;
        out->category = MP_CAT_DEPLOY;
        out->method = "deploy";
        return 0;
    }
    if (to) out->address = mp_catalog_find_address(to);
    if (input_len == 0 || !input) {
        if (!u256_is_zero(value)) {
            out->protocol = MP_PROTO_ETH_TRANSFER;
            out->category = MP_CAT_TRANSFER;
            out->method = "transfer";
        } else {
            out->protocol = out->address ? out->address->protocol : MP_PROTO_UNKNOWN;
            out->method = "empty"; /* zero value, no data: a cancellation or a ping */
        }
        return 0;
    }
    if (input_len < 4) {
        out->protocol = out->address ? out->address->protocol : MP_PROTO_UNKNOWN;
        out->method = "short-calldata";
        return 0;
    }

    out->has_selector = true;
    out->selector = mp_selector_of(input);
    size_t n, first = selector_run(out->selector, &n);

    if (out->address) {
        out->protocol = out->address->protocol;
        if (n == 0) {
            set_hex_method(out);
            return 0;
        }
        const mp_catalog_selector_t *r = row_at_address(first, n, out->protocol);
        out->row = r;
        if (r->protocol == out->protocol || !(r->flags & MP_SEL_BOUND))
            out->category = r->category; /* bound rows of other protocols say nothing here */
        if (r->protocol == out->protocol || !(r->flags & MP_SEL_LOCAL_NAME))
            out->method = r->method;
        else
            set_hex_method(out);
        return 0;
    }

    for (size_t i = first; i < first + n; i++) {
        const mp_catalog_selector_t *r = &selector_rows[by_selector[i]];
        if (!(r->flags & MP_SEL_BOUND)) {
            out->row = r;
            out->protocol = r->protocol;
            out->category = r->category;
            out->method = r->method;
            return 0;
        }
    }
    /* Only bound rows (or none): the contract is unknown, the name may still help. */
    if (n > 0 && !(selector_rows[by_selector[first]].flags & MP_SEL_LOCAL_NAME))
        out->method = selector_rows[by_selector[first]].method;
    else
        set_hex_method(out);
    return 0;
}

const char *mp_protocol_name(unsigned protocol)
{
    return protocol < MP_PROTO_COUNT ? protocol_names[protocol] : "unknown";
}

const char *mp_category_name(unsigned category)
{
    return category < MP_CAT_COUNT ? category_names[category] : "other";
}

int mp_protocol_from_name(const char *name)
{
    for (unsigned i = 0; name && i < MP_PROTO_COUNT; i++) {
        if (!strcmp(protocol_names[i], name)) return (int)i;
    }
    return -EINVAL;
}

int mp_category_from_name(const char *name)
{
    for (unsigned i = 0; name && i < MP_CAT_COUNT; i++) {
        if (!strcmp(category_names[i], name)) return (int)i;
    }
    return -EINVAL;
}

size_t mp_catalog_selector_count(void)
{
    return N_SELECTORS;
}

const mp_catalog_selector_t *mp_catalog_selector_at(size_t i)
{
    return i < N_SELECTORS && catalog_ready() ? &selector_rows[i] : NULL;
}

size_t mp_catalog_address_count(void)
{
    return N_ADDRESSES;
}

const mp_catalog_address_t *mp_catalog_address_at(size_t i)
{
    return i < N_ADDRESSES && catalog_ready() ? &address_rows[i] : NULL;
}

const mp_catalog_address_t *mp_catalog_address_by_label(const char *label)
{
    if (!label || !catalog_ready()) return NULL;
    for (size_t i = 0; i < N_ADDRESSES; i++) {
        if (!strcmp(address_rows[i].label, label)) return &address_rows[i];
    }
    return NULL;
}
