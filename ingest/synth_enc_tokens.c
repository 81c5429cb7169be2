/* Synthetic asset movements: ETH transfers, ERC-20 transfers and approvals (Permit2
 * included), WETH wrapping, NFT sales on Seaport and calls on NFT collections. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ingest/synth_encode.h"

void mp_synth_enc_eth_transfer(gen_t *g, unsigned v)
{
    (void)v;
    eoa(g, g->to);
    g->value = eth_wei(eth_amount(g));
}

void mp_synth_enc_erc20(gen_t *g, unsigned v)
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
        w_addr(g, mp_synth_addr[spenders[below(rng_next(&g->rng), 8)]]);
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
        w_addr(g, mp_synth_addr[A_UR_12]);
        w_u128(g, ((u128)1 << 100) - 1);
        w_u64(g, g->now_s + 30 * 86400);
        break;
    }
}

void mp_synth_enc_weth(gen_t *g, unsigned v)
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
/* Seaport fulfillBasicOrder (1.5) or its all-zero-selector twin (1.6), buying an ERC-721
 * for ETH with creator / marketplace fees as additional recipients. */
void mp_synth_enc_seaport(gen_t *g, unsigned v)
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
void mp_synth_enc_nft(gen_t *g, unsigned v)
{
    uint8_t who[MP_ADDR_LEN];
    population(g, D_NFT, 64, g->to);
    if (v == 0) {
        put_sel(g, 0xa22cb465);
        w_addr(g, mp_synth_addr[rng_next(&g->rng) & 1 ? A_SEAPORT_16 : A_SEAPORT_15]);
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
