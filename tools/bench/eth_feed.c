/* The fake node's transaction feed: tx index -> hash, sender, nonce and JSON object, and a
 * feed hash -> its index, all derived from a fixed seed with splitmix64. */
#include "tools/bench/eth_feed.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define FEED_SEED 0x6d656d70756c7365ull /* any constant */
#define NONCE_BASE_MAX 5000u            /* a sender's first nonce is below this */
#define RECIPIENTS 100000u
#define TOKENS 24u
#define ERC20_PERCENT 55u
#define ERC20_TRANSFER_SELECTOR 0xa9059cbbu
#define ERC20_INPUT_LEN (4u + 32u + 32u)
#define GWEI 1000000000ull /* wei */

/* ---- deterministic randomness: splitmix64 ---- */

/* Each id space draws from its own stream; the values only need to differ. */
enum feed_domain {
    DOMAIN_SENDER = 1,
    DOMAIN_NONCE = 2,
    DOMAIN_RECIPIENT = 3,
    DOMAIN_TOKEN = 4,
    DOMAIN_HASH = 18,
    DOMAIN_CONTENT = 20,
};

/* splitmix64's finalizer: a bijection of 64-bit values that mixes every bit. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The next value of the splitmix64 stream whose state is *st. */
static uint64_t rng_next(uint64_t *st)
{
    *st += 0x9e3779b97f4a7c15ull;
    return mix64(*st);
}

/* The state of member idx's stream in a domain. */
static uint64_t derive(uint64_t domain, uint64_t idx)
{
    return mix64(FEED_SEED ^ mix64(domain * 0xd1b54a32d192ed03ull + idx + 0x9e3779b97f4a7c15ull));
}

/* r scaled into [0, n). */
static uint64_t below(uint64_t r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)r * n) >> 64);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    v = htobe64(v);
    memcpy(p, &v, 8);
}

/* n bytes (n <= 32) of member id of a domain: hashes and addresses. The bytes are words in
 * host order: only their determinism within one run matters. */
static void fill_id(uint8_t *out, size_t n, uint64_t domain, uint64_t id)
{
    uint64_t base = derive(domain, id), w[4];
    for (size_t i = 0; i < (n + 7) / 8; i++)
        w[i] = mix64(base + (i + 1) * 0x9e3779b97f4a7c15ull);
    memcpy(out, w, n);
}

/* n bytes of the stream *rng; n is a multiple of 8. */
static void fill_random(uint8_t *out, size_t n, uint64_t *rng)
{
    for (size_t i = 0; i < n; i += 8)
        put_be64(out + i, rng_next(rng));
}

/* ---- hashes, senders, nonces ---- */

/* A 4-round Feistel permutation of 64-bit values: the tx index hidden in a hash's last 8
 * bytes (so hashes look uniform) that a fetch's hash gives back exactly. */
static const uint64_t feistel_keys[4] = {0x243f6a8885a308d3ull, 0x13198a2e03707344ull,
                                         0xa4093822299f31d0ull, 0x082efa98ec4e6c89ull};

static uint64_t index_permute(uint64_t x, bool inverse)
{
    uint32_t l = (uint32_t)(x >> 32), r = (uint32_t)x;
    for (int k = 0; k < 4; k++) {
        if (!inverse) {
            uint32_t t = r;
            r = l ^ (uint32_t)mix64(r + feistel_keys[k]);
            l = t;
        } else {
            uint32_t t = l;
            l = r ^ (uint32_t)mix64(l + feistel_keys[3 - k]);
            r = t;
        }
    }
    return (uint64_t)l << 32 | r;
}

void mp_eth_feed_hash(uint8_t out[MP_HASH_LEN], uint64_t index)
{
    fill_id(out, MP_HASH_LEN - 8, DOMAIN_HASH, index);
    put_be64(out + MP_HASH_LEN - 8, index_permute(index, false));
}

int mp_eth_feed_index_of(const uint8_t hash[MP_HASH_LEN], uint64_t *index)
{
    uint64_t tail;
    memcpy(&tail, hash + MP_HASH_LEN - 8, 8);
    uint64_t i = index_permute(be64toh(tail), true);
    uint8_t want[MP_HASH_LEN];
    mp_eth_feed_hash(want, i);
    if (memcmp(want, hash, MP_HASH_LEN) != 0) return -ENOENT;
    *index = i;
    return 0;
}

void mp_eth_feed_sender(uint8_t out[MP_ADDR_LEN], uint64_t index)
{
    fill_id(out, MP_ADDR_LEN, DOMAIN_SENDER, index % MP_ETH_FEED_SENDERS);
}

uint64_t mp_eth_feed_nonce(uint64_t index)
{
    uint64_t sender = index % MP_ETH_FEED_SENDERS;
    return below(derive(DOMAIN_NONCE, sender), NONCE_BASE_MAX) + index / MP_ETH_FEED_SENDERS;
}

/* ---- the transaction object ---- */

typedef struct tx_model {
    uint8_t hash[MP_HASH_LEN], from[MP_ADDR_LEN], to[MP_ADDR_LEN];
    uint64_t nonce, gas, max_fee, priority_fee, value;
    uint8_t input[ERC20_INPUT_LEN];
    uint32_t input_len;
    uint8_t r[32], s[32];
    unsigned y_parity;
} tx_model_t;

/* A plain ETH transfer (21000 gas, empty input) or an ERC-20 transfer(address,uint256) call
 * to one of TOKENS token contracts; EIP-1559 fees in realistic ranges. */
static void tx_model(tx_model_t *m, uint64_t index)
{
    uint64_t rng = derive(DOMAIN_CONTENT, index);
    memset(m, 0, sizeof *m);
    mp_eth_feed_hash(m->hash, index);
    mp_eth_feed_sender(m->from, index);
    m->nonce = mp_eth_feed_nonce(index);
    uint8_t recipient[MP_ADDR_LEN];
    fill_id(recipient, MP_ADDR_LEN, DOMAIN_RECIPIENT, below(rng_next(&rng), RECIPIENTS));
    if (below(rng_next(&rng), 100) < ERC20_PERCENT) {
        fill_id(m->to, MP_ADDR_LEN, DOMAIN_TOKEN, below(rng_next(&rng), TOKENS));
        m->gas = 50000 + below(rng_next(&rng), 30000);
        put_be64(m->input, (uint64_t)ERC20_TRANSFER_SELECTOR << 32); /* first 4 bytes */
        memset(m->input + 4, 0, 64);
        memcpy(m->input + 4 + 12, recipient, MP_ADDR_LEN);
        put_be64(m->input + 4 + 32 + 24, below(rng_next(&rng), 1000000000000ull) * 1000000u);
        m->input_len = ERC20_INPUT_LEN;
    } else {
        memcpy(m->to, recipient, MP_ADDR_LEN);
        m->gas = 21000;
        m->value = GWEI * below(rng_next(&rng), 5000000000ull); /* up to 5 ETH */
    }
    m->priority_fee = GWEI / 10 + below(rng_next(&rng), 3 * GWEI);
    m->max_fee = m->priority_fee + 10 * GWEI + below(rng_next(&rng), 50 * GWEI);
    fill_random(m->r, sizeof m->r, &rng);
    fill_random(m->s, sizeof m->s, &rng);
    m->y_parity = (unsigned)(rng_next(&rng) & 1);
}

void mp_eth_feed_put_tx(mp_json_text_t *t, uint64_t index)
{
    tx_model_t m;
    tx_model(&m, index);
    mp_json_text_lit(t, "{\"type\":\"0x2\",\"chainId\":\"0x1\",\"nonce\":");
    mp_json_text_qty(t, m.nonce);
    mp_json_text_lit(t, ",\"gas\":");
    mp_json_text_qty(t, m.gas);
    mp_json_text_lit(t, ",\"maxFeePerGas\":");
    mp_json_text_qty(t, m.max_fee);
    mp_json_text_lit(t, ",\"maxPriorityFeePerGas\":");
    mp_json_text_qty(t, m.priority_fee);
    mp_json_text_lit(t, ",\"to\":");
    mp_json_text_hex(t, m.to, MP_ADDR_LEN);
    mp_json_text_lit(t, ",\"value\":");
    mp_json_text_qty(t, m.value);
    mp_json_text_lit(t, ",\"accessList\":[],\"input\":");
    mp_json_text_hex(t, m.input, m.input_len);
    mp_json_text_lit(t, ",\"r\":");
    mp_json_text_hex(t, m.r, sizeof m.r);
    mp_json_text_lit(t, ",\"s\":");
    mp_json_text_hex(t, m.s, sizeof m.s);
    mp_json_text_lit(t, ",\"yParity\":");
    mp_json_text_qty(t, m.y_parity);
    mp_json_text_lit(t, ",\"v\":");
    mp_json_text_qty(t, m.y_parity);
    mp_json_text_lit(t, ",\"hash\":");
    mp_json_text_hex(t, m.hash, MP_HASH_LEN);
    mp_json_text_lit(
        t, ",\"blockHash\":null,\"blockNumber\":null,\"transactionIndex\":null,\"from\":");
    mp_json_text_hex(t, m.from, MP_ADDR_LEN);
    mp_json_text_lit(t, ",\"gasPrice\":");
    mp_json_text_qty(t, m.max_fee);
    mp_json_text_lit(t, "}");
}
