/* The protocol contracts the synthetic generator sends to, by id. Their addresses come
 * from the protocol catalog by label (ingest/synth_catalog.c), so the generator and the
 * classifier cannot disagree on them. */
#ifndef MP_SYNTH_CATALOG_H
#define MP_SYNTH_CATALOG_H

#include <stdint.h>

#include "proto/event.h"

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

/* Addresses by A_* id. Filled once by mp_synth_catalog_load; read-only afterwards
 * (pthread_once orders the writes before every caller of mp_synth_init, the only way to
 * reach the readers). */
extern uint8_t mp_synth_addr[A_COUNT][MP_ADDR_LEN];

/* Initialises the protocol catalog and fills mp_synth_addr from it. Not thread-safe:
 * mp_synth_kinds_setup calls it once under pthread_once. Returns 0, or -EINVAL when the
 * catalog fails its checks or has no address with one of the labels (logged). */
int mp_synth_catalog_load(void);

#endif
