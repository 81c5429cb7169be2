/* The event schema every source produces and the readmodel consumes (SPEC 3.1), and
 * its msgpack encoding in ring records. */
#ifndef MP_EVENT_H
#define MP_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_HASH_LEN 32
#define MP_ADDR_LEN 20
#define MP_INPUT_PREFIX_MAX 4096 /* calldata kept per tx; the full length travels beside it */
#define MP_SYMBOL_MAX 16         /* price symbol incl. NUL */
#define MP_EVENT_SCHEMA_VERSION 1
/* Upper bound of one encoded event; a ring record never needs more payload. */
#define MP_EVENT_MAX_ENCODED (MP_INPUT_PREFIX_MAX + 512)

typedef enum mp_event_type {
    MP_EV_TX_SEEN = 1,
    MP_EV_TX_REPLACED = 2,
    MP_EV_TX_DROPPED = 3,
    MP_EV_TX_MINED = 4,
    MP_EV_BLOCK = 5,
    MP_EV_PRICE = 6,
    MP_EV_TICK = 7,
} mp_event_type_t;
#define MP_EV_TYPE_MIN MP_EV_TX_SEEN
#define MP_EV_TYPE_MAX MP_EV_TICK

typedef enum mp_source_kind {
    MP_SOURCE_SYNTHETIC = 0,
    MP_SOURCE_FILE = 1,
    MP_SOURCE_ETH = 2,
} mp_source_kind_t;

typedef enum mp_drop_reason {
    MP_DROP_UNKNOWN = 0,
    MP_DROP_EVICTED = 1,   /* the node's pool evicted it */
    MP_DROP_UNDERPRICED = 2,
    MP_DROP_INVALID = 3,   /* nonce used by another tx, balance gone */
} mp_drop_reason_t;

/* 256-bit unsigned integer (wei values), big-endian bytes as on the wire. */
typedef struct mp_u256 {
    uint8_t be[32];
} mp_u256_t;

typedef struct mp_tx_seen {
    uint64_t chain_id;
    uint8_t hash[MP_HASH_LEN];
    uint8_t from[MP_ADDR_LEN];
    uint8_t to[MP_ADDR_LEN]; /* all zero when has_to is false */
    bool has_to;             /* false: contract creation */
    uint8_t tx_type;         /* 0 legacy, 1 access list, 2 EIP-1559, 3 blob, 4 set-code */
    uint8_t source;          /* mp_source_kind_t */
    uint64_t nonce;
    uint64_t gas_limit;
    /* Fees in wei, saturated at UINT64_MAX (18.4 ETH per gas) by the sources. */
    uint64_t gas_price;        /* legacy price; for 1559 what the node reports (often max fee) */
    uint64_t max_fee;          /* 0 for legacy */
    uint64_t max_priority_fee; /* 0 for legacy */
    mp_u256_t value;
    uint32_t input_len;          /* full calldata length in bytes */
    uint32_t input_prefix_len;   /* bytes in input_prefix, <= MP_INPUT_PREFIX_MAX and <= input_len */
    const uint8_t *input_prefix; /* borrowed: the producer's buffer, or the decoded payload */
} mp_tx_seen_t;

typedef struct mp_tx_replaced {
    uint64_t chain_id;
    uint8_t hash[MP_HASH_LEN];        /* the replaced tx */
    uint8_t replaced_by[MP_HASH_LEN]; /* the tx with the same (from, nonce) that took its place */
} mp_tx_replaced_t;

typedef struct mp_tx_dropped {
    uint64_t chain_id;
    uint8_t hash[MP_HASH_LEN];
    uint8_t reason; /* mp_drop_reason_t */
} mp_tx_dropped_t;

typedef struct mp_tx_mined {
    uint64_t chain_id;
    uint8_t hash[MP_HASH_LEN];
    uint64_t block_number;
} mp_tx_mined_t;

typedef struct mp_block {
    uint64_t chain_id;
    uint64_t number;
    uint8_t hash[MP_HASH_LEN];
    uint64_t base_fee; /* wei */
    uint64_t gas_used;
    uint64_t gas_limit;
    uint64_t timestamp; /* block timestamp, unix seconds */
    uint32_t tx_count;
} mp_block_t;

typedef struct mp_price {
    char symbol[MP_SYMBOL_MAX]; /* NUL-terminated, e.g. "ETH/USD" */
    double price;
} mp_price_t;

/* One event. time_ns is event time (unix ns): when the tx was seen, the block observed,
 * the price ticked, or the tick's second; the readmodel's TTLs and windows run on it. */
typedef struct mp_event {
    uint16_t type; /* mp_event_type_t */
    uint64_t time_ns;
    union {
        mp_tx_seen_t tx;
        mp_tx_replaced_t replaced;
        mp_tx_dropped_t dropped;
        mp_tx_mined_t mined;
        mp_block_t block;
        mp_price_t price;
    } u;
} mp_event_t;

/* Encodes ev as msgpack into buf: an array [schema_version, type, time_ns, fields...].
 * Returns 0 and the byte count in *len; -ENOSPC when cap is too small; -EINVAL when ev
 * is not encodable (unknown type, prefix longer than the limit or than input_len). */
int mp_event_encode(const mp_event_t *ev, uint8_t *buf, size_t cap, size_t *len);

/* Decodes one event from exactly len bytes. Never reads outside buf. Pointers in ev
 * (input_prefix) point into buf and live as long as it does. Arrays longer than this
 * schema knows are accepted (later versions append fields). Returns 0, or -EBADMSG for
 * a malformed, truncated or trailing-garbage payload, an unknown type or a field of the
 * wrong kind or size. */
int mp_event_decode(mp_event_t *ev, const uint8_t *buf, size_t len);

/* "TX_SEEN", ...; "UNKNOWN" for other values. */
const char *mp_event_type_name(uint16_t type);

/* Writes ev as one JSON object (no newline) with its seq into out. Hashes, addresses
 * and calldata as 0x hex, the u256 value as a decimal string. Returns the length written,
 * or -ENOSPC when cap is too small (out then holds a truncated, unterminated prefix). */
int mp_event_to_json(const mp_event_t *ev, uint64_t seq, char *out, size_t cap);

/* Decimal text of a u256 into out (at least 79 bytes). Returns the length. */
size_t mp_u256_to_dec(const mp_u256_t *v, char *out);

/* Sets v from a u64. */
void mp_u256_from_u64(mp_u256_t *v, uint64_t x);

#endif
