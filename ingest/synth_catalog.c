/* Resolves the synthetic generator's contract ids (A_*) into addresses through their
 * labels in the protocol catalog. */
#include "ingest/synth_catalog.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "proto/eth_catalog.h"

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

uint8_t mp_synth_addr[A_COUNT][MP_ADDR_LEN];

int mp_synth_catalog_load(void)
{
    int err = mp_catalog_init();
    for (unsigned i = 0; i < A_COUNT && !err; i++) {
        const mp_catalog_address_t *a = mp_catalog_address_by_label(known_labels[i]);
        if (!a) {
            mp_log("synthetic: the catalog has no address labelled \"%s\"; proto/eth_catalog.c "
                   "and ingest/synth_catalog.c disagree",
                   known_labels[i]);
            err = -EINVAL;
            break;
        }
        memcpy(mp_synth_addr[i], a->addr, MP_ADDR_LEN);
    }
    return err;
}
