/* The transactions eth-feed-bench's fake node announces: tx number `index` (0, 1, 2, ...)
 * is a pure function of the index, so the node serves fetches and the checker verifies
 * TX_SEEN without storing anything. Invariants: distinct indexes have distinct hashes, and
 * a hash maps back to its index exactly (mp_eth_feed_index_of); a (sender, nonce) pair
 * never repeats, so the eth source must report no duplicate and no replacement. */
#ifndef MP_ETH_FEED_H
#define MP_ETH_FEED_H

#include "proto/event.h"
#include "tools/bench/json_text.h"

#include <stdint.h>

/* Tx index i comes from sender i % MP_ETH_FEED_SENDERS. */
#define MP_ETH_FEED_SENDERS 4096u

/* The hash of tx index: uniform-looking bytes that carry the index (permuted) in the last 8. */
void mp_eth_feed_hash(uint8_t out[MP_HASH_LEN], uint64_t index);

/* The index whose hash is exactly hash. Returns 0, or -ENOENT for a hash not of this feed. */
int mp_eth_feed_index_of(const uint8_t hash[MP_HASH_LEN], uint64_t *index);

/* The sender of tx index. */
void mp_eth_feed_sender(uint8_t out[MP_ADDR_LEN], uint64_t index);

/* The nonce of tx index: each sender's nonces run base, base + 1, ... one per round of
 * MP_ETH_FEED_SENDERS txs, from a per-sender base below 5000. */
uint64_t mp_eth_feed_nonce(uint64_t index);

/* Appends tx index as the JSON object a node (anvil's shape) serves for a pending EIP-1559
 * transaction: a plain ETH transfer or an ERC-20 transfer(address,uint256) call, with
 * realistic fees and gas; at most MP_ETH_FEED_TX_JSON_MAX bytes. */
void mp_eth_feed_put_tx(mp_json_text_t *t, uint64_t index);

/* Bound of one object appended by mp_eth_feed_put_tx (about 900 bytes in practice). */
#define MP_ETH_FEED_TX_JSON_MAX 1536u

#endif
