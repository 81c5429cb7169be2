/* The protocol catalog: which Ethereum contracts and 4-byte selectors mempulse knows, as
 * data, and the classifier that turns (to, calldata, value) into protocol, category and
 * method (SPEC 3.2). */
#ifndef MP_ETH_CATALOG_H
#define MP_ETH_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/event.h"

/* Protocol ids. The values are stored in the read-model region (feature keys), so they
 * are append-only: a new protocol goes just before MP_PROTO_COUNT, never in between. */
typedef enum mp_protocol {
    MP_PROTO_UNKNOWN = 0,
    MP_PROTO_UNISWAP_V2,
    MP_PROTO_UNISWAP_V3,
    MP_PROTO_UNIVERSAL_ROUTER,
    MP_PROTO_1INCH,
    MP_PROTO_0X,
    MP_PROTO_SEAPORT,
    MP_PROTO_AAVE,
    MP_PROTO_COMPOUND,
    MP_PROTO_CURVE,
    MP_PROTO_BALANCER,
    MP_PROTO_LIDO,
    MP_PROTO_ENS,
    MP_PROTO_BRIDGE_OP,
    MP_PROTO_BRIDGE_BASE,
    MP_PROTO_BRIDGE_ARBITRUM,
    MP_PROTO_BRIDGE_POLYGON,
    MP_PROTO_BRIDGE_ACROSS,
    MP_PROTO_CHAINLINK,
    MP_PROTO_SAFE,
    MP_PROTO_ERC4337,
    MP_PROTO_ERC20,
    MP_PROTO_NFT,
    MP_PROTO_WETH,
    MP_PROTO_ETH_TRANSFER,
    MP_PROTO_DEPLOY,
    MP_PROTO_COUNT
} mp_protocol_t;

/* Category ids; append-only for the same reason as mp_protocol_t. */
typedef enum mp_category {
    MP_CAT_OTHER = 0,
    MP_CAT_SWAP,
    MP_CAT_TRANSFER,
    MP_CAT_APPROVAL,
    MP_CAT_LIQUIDITY,
    MP_CAT_LENDING,
    MP_CAT_LIQUIDATION,
    MP_CAT_NFT,
    MP_CAT_BRIDGE,
    MP_CAT_ORACLE,
    MP_CAT_STAKING,
    MP_CAT_NAMING,
    MP_CAT_WALLET,
    MP_CAT_DEPLOY,
    MP_CAT_COUNT
} mp_category_t;

/* Selector row flags. */
enum {
    /* The selector is generic (multicall(bytes[]), deposit()): the row's protocol and
     * category hold only when `to` is a catalog address of that protocol. */
    MP_SEL_BOUND = 1u << 0,
    /* Not even the method name is trusted on other contracts (0x00000000 is Seaport's
     * gas-golfed name but also what many bots call): elsewhere it stays hex. */
    MP_SEL_LOCAL_NAME = 1u << 1,
};

/* One selector row. Several rows may share a selector (one per protocol). */
typedef struct mp_catalog_selector {
    uint32_t selector;     /* first 4 calldata bytes, big-endian */
    uint8_t protocol;      /* mp_protocol_t */
    uint8_t category;      /* mp_category_t */
    uint8_t flags;         /* MP_SEL_* */
    const char *method;    /* function name, e.g. "swapExactTokensForTokens" */
    const char *signature; /* canonical signature whose keccak-256 starts with selector;
                            * NULL only where it is not known exactly */
} mp_catalog_selector_t;

/* One known contract. */
typedef struct mp_catalog_address {
    uint8_t addr[MP_ADDR_LEN];
    uint8_t protocol;  /* mp_protocol_t */
    const char *text;  /* EIP-55 checksummed "0x..." as written in the table */
    const char *label; /* unique human name, e.g. "WETH", "Uniswap V2 Router02" */
} mp_catalog_address_t;

/* Result of a classification. Strings are static; nothing here needs freeing. */
typedef struct mp_classification {
    uint8_t protocol;  /* mp_protocol_t */
    uint8_t category;  /* mp_category_t */
    bool has_selector; /* calldata had at least 4 bytes */
    uint32_t selector; /* valid when has_selector */
    /* Static method name, or NULL when the selector is not in the catalog (or not
     * trusted at this address): then method_hex holds "0x" + 8 hex digits. */
    const char *method;
    char method_hex[11];
    const mp_catalog_address_t *address; /* the catalog row of `to`, or NULL */
    const mp_catalog_selector_t *row;    /* the selector row that decided, or NULL */
} mp_classification_t;

/* Builds the lookup tables from the catalog data and checks it (addresses parse and are
 * unique, no duplicate (selector, protocol) row, every bound row has an address of its
 * protocol). Idempotent and thread-safe; mp_catalog_classify calls it on first use.
 * Returns 0, or -EINVAL when the compiled-in table is inconsistent (logged once). */
int mp_catalog_init(void);

/* Classifies one transaction without allocating; O(1) lookups.
 * to/has_to: recipient (has_to false: contract creation). input/input_len: the calldata
 * bytes available (a prefix is enough: only the first 4 are read); input may be NULL when
 * input_len is 0. value: wei sent, NULL meaning zero.
 * Rules, first match wins: no `to` -> deploy/deploy; no calldata -> eth-transfer/transfer
 * when value > 0, else method "empty" (category other, protocol of a catalog `to` or
 * unknown); a catalog address decides the protocol and its selector row the
 * category and method; otherwise the selector's unbound row decides (ERC-20 and NFT
 * selectors on any token, protocol-specific selectors on forks); else unknown/other
 * with the selector in hex. Returns 0, or -EINVAL when out is NULL or the catalog failed
 * mp_catalog_init (out is then unknown/other). */
int mp_catalog_classify(const uint8_t to[MP_ADDR_LEN], bool has_to, const uint8_t *input,
                        uint32_t input_len, const mp_u256_t *value, mp_classification_t *out);

/* The method to show: c->method, or c->method_hex for an uncatalogued selector, or ""
 * when there was no selector. The pointer lives as long as c. */
static inline const char *mp_classification_method(const mp_classification_t *c)
{
    return c->method ? c->method : c->method_hex;
}

/* "uniswap-v2", "eth-transfer", ...; "unknown" for out-of-range ids. */
const char *mp_protocol_name(unsigned protocol);

/* "swap", "liquidation", ...; "other" for out-of-range ids. */
const char *mp_category_name(unsigned category);

/* Inverse of mp_protocol_name / mp_category_name. Return the id, or -EINVAL. */
int mp_protocol_from_name(const char *name);
int mp_category_from_name(const char *name);

/* Catalog rows for iteration (tests, the synthetic generator, docs). Indexes run from 0
 * to count - 1 in table order; rows are static and never change after init. The
 * accessors return NULL for an index out of range or when init failed. */
size_t mp_catalog_selector_count(void);
const mp_catalog_selector_t *mp_catalog_selector_at(size_t i);
size_t mp_catalog_address_count(void);
const mp_catalog_address_t *mp_catalog_address_at(size_t i);

/* The row for (selector, protocol), or NULL. */
const mp_catalog_selector_t *mp_catalog_find_selector(uint32_t selector, unsigned protocol);

/* The catalog row of an address, or NULL. */
const mp_catalog_address_t *mp_catalog_find_address(const uint8_t addr[MP_ADDR_LEN]);

/* The address row with this exact label, or NULL. Linear: for setup code, not per tx. */
const mp_catalog_address_t *mp_catalog_address_by_label(const char *label);

/* Reads the selector from calldata: big-endian first 4 bytes. len must be >= 4. */
static inline uint32_t mp_selector_of(const uint8_t *input)
{
    return (uint32_t)input[0] << 24 | (uint32_t)input[1] << 16 | (uint32_t)input[2] << 8 |
           (uint32_t)input[3];
}

#endif
