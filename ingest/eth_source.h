/* `--source eth:ws[s]://HOST:PORT[/path]`: an Ethereum node's JSON-RPC WebSocket as an
 * mp_source_t. Pending transactions from eth_subscribe newPendingTransactions (full
 * objects, or hashes fetched with eth_getTransactionByHash), blocks and mined marking
 * from newHeads + eth_getBlockByHash, replacements from (from, nonce) reuse. */
#ifndef MP_ETH_SOURCE_H
#define MP_ETH_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/source.h"

#define MP_ETH_MAX_MESSAGE_DEFAULT (4u << 20)
#define MP_ETH_DEDUPE_DEFAULT 65536u

typedef struct mp_eth_source_config {
    const char *url;        /* ws://HOST:PORT[/path] or wss://HOST[:PORT][/path] */
    const char *ca_file;    /* wss: trusted CAs (PEM); NULL: the system store */
    uint64_t chain_id;      /* until the node answers eth_chainId, and for txs without one */
    bool hashes_only;       /* subscribe without full objects (bodies fetched by hash) */
    size_t max_message;     /* largest accepted message; 0: MP_ETH_MAX_MESSAGE_DEFAULT */
    uint32_t dedupe_window; /* tx hashes remembered (power of two); 0: MP_ETH_DEDUPE_DEFAULT */
} mp_eth_source_config_t;

/* Splits a ws:// or wss:// URL into host (brackets of an IPv6 literal removed), port
 * (default 80, or 443 with TLS), *tls, and path (default "/", query kept). Returns 0 or
 * -EINVAL (message in err). */
int mp_eth_parse_url(const char *url, char *host, size_t hostcap, uint16_t *port, bool *tls,
                     char *path, size_t pathcap, char *err, size_t errlen);

/* Creates the source; it connects on the first next() call (TLS for wss://, the server
 * certificate and name verified against ca_file or the system store) and reconnects by itself
 * (jittered exponential backoff, 250 ms to 5 s), resubscribing each time; hashes already
 * emitted (the last dedupe_window) never produce a second TX_SEEN. Memory is bounded:
 * messages above max_message close the connection (counted, then reconnect), at most
 * 8 MiB of received messages wait for processing, at most 128 transaction fetches and 16
 * block fetches are in flight, 16384 hashes wait to be fetched (more are dropped and
 * counted). next() returns TX_SEEN, TX_REPLACED (a new hash for a pending (from, nonce)),
 * BLOCK then TX_MINED for each of its transactions, and a TICK each wall-clock second;
 * it never returns MP_SOURCE_END. Malformed messages are counted in malformed_total and
 * logged (first 10, then every 10,000th). The source cannot be resumed: save returns 0.
 * Counters for ingest's metrics are in s->stats. Returns NULL with a message in err for
 * a bad URL or configuration, or out of memory. */
mp_source_t *mp_eth_source_create(const mp_eth_source_config_t *cfg, char *err, size_t errlen);

#endif
