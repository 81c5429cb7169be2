/* Ethereum JSON-RPC transaction objects (eth_subscription results, eth_getTransactionBy*
 * results, recorded JSONL) -> mp_tx_seen_t. Shared by the file and WebSocket sources. */
#ifndef MP_RPC_TX_H
#define MP_RPC_TX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/event.h"

/* Enough for every message the parsers below write. */
#define MP_RPC_TX_ERR_MAX 160

/* Fills tx from one transaction object. Fields read (all hex strings as JSON-RPC writes
 * them): hash, from (required); to (null or absent: contract creation); nonce, gas,
 * value (required); input, or data when input is absent (required, may be "0x");
 * type (absent: 0); chainId (absent or null: default_chain_id). Fees: gasPrice is
 * required for types 0 and 1, for which max_fee and max_priority_fee stay 0;
 * maxFeePerGas and maxPriorityFeePerGas are required for types 2, 3 and 4, and
 * gasPrice then defaults to maxFeePerGas. Other types take whichever fees are present.
 * Fees and quantities may have up to 256 bits; fees above 2^64-1 wei saturate at
 * UINT64_MAX, nonce and gas must fit 64 bits.
 * Calldata goes into input_buf (MP_INPUT_PREFIX_MAX bytes, owned by the caller), cut at
 * that size; tx->input_len keeps the full length and tx->input_prefix points at
 * input_buf. tx->source is left 0 for the caller to set. Unknown fields are ignored.
 * Returns 0, or -EINVAL with a message naming the field (or "not a JSON object") in err
 * (NUL-terminated, truncated to errlen). tx is unspecified after an error. */
int mp_rpc_tx_from_json(const json_t *obj, uint64_t default_chain_id, mp_tx_seen_t *tx,
                        uint8_t *input_buf, char *err, size_t errlen);

/* Parses len bytes of JSON text (one value, duplicate keys rejected, nothing after it)
 * and fills tx as mp_rpc_tx_from_json does. Returns 0, -EBADMSG when the text is not
 * valid JSON (err says where), or the errors of mp_rpc_tx_from_json (-EINVAL, also for
 * valid JSON that is not an object). */
int mp_rpc_tx_parse(const char *text, size_t len, uint64_t default_chain_id, mp_tx_seen_t *tx,
                    uint8_t *input_buf, char *err, size_t errlen);

/* Parses a JSON-RPC hex quantity ("0x" then 1 to 64 significant hex digits, leading
 * zeros tolerated) into a big-endian u256. Returns 0, -EINVAL on bad syntax, or -ERANGE
 * above 256 bits. */
int mp_rpc_hex_u256(mp_u256_t *out, const char *text, size_t len);

/* The u256 as a u64, UINT64_MAX when it does not fit. */
uint64_t mp_rpc_u256_saturate(const mp_u256_t *v);

#endif
