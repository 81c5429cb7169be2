/* Deterministic randomness of the synthetic generator: splitmix64 streams, per-domain
 * derivation of ids (hashes, addresses, prices) from the seed, and the draws built on
 * them. Everything the generator emits is a function of these and the seed. */
#ifndef MP_SYNTH_RNG_H
#define MP_SYNTH_RNG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;

#define GWEI 1000000000ull /* wei; fees of the pool and of ERC-4337 ops */

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

#endif
