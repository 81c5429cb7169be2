/* A fake Ethereum node on 127.0.0.1 for eth-feed-bench: one WebSocket client (the ingest's
 * eth source), the HTTP upgrade done here and the framing by wslay, and the JSON-RPC the
 * source speaks: eth_chainId, eth_subscribe to newPendingTransactions (full objects or
 * hashes) and newHeads, eth_getTransactionByHash alone or in batches of up to 64. Anything
 * else is answered with a JSON-RPC error, and counted. It announces the transactions of
 * eth_feed.h in index order and serves the body of any announced one.
 *
 * Single-threaded and non-blocking: the caller drives it with mp_fake_node_turn. Memory is
 * bounded: framed output waits in a fixed buffer, requests are not read while 4 MB of
 * answers wait (a client that does not read is not answered without bound), and the caller
 * holds announcements back while mp_fake_node_backlogged. */
#ifndef MP_ETH_FAKE_NODE_H
#define MP_ETH_FAKE_NODE_H

#include <stdbool.h>
#include <stdint.h>

/* What the client subscribed to for pending transactions. */
typedef enum mp_fake_node_pending {
    MP_FAKE_NODE_PENDING_NONE,
    MP_FAKE_NODE_PENDING_FULL,   /* newPendingTransactions with full objects */
    MP_FAKE_NODE_PENDING_HASHES, /* newPendingTransactions, hashes only */
} mp_fake_node_pending_t;

/* What the node did so far, for the caller to read; only the node writes it. */
typedef struct mp_fake_node_status {
    mp_fake_node_pending_t pending;
    bool heads; /* subscribed to newHeads */
    /* Txs [0, announced) of the feed were queued as notifications; the next announce is
     * tx `announced`. */
    uint64_t announced;
    uint64_t served;          /* tx bodies in eth_getTransactionByHash answers */
    uint64_t unknown_fetches; /* fetches of hashes never announced (a fault of the client) */
    uint64_t errors_sent;     /* JSON-RPC errors answered (a fault: the client sent junk) */
    uint64_t batches;         /* JSON-RPC batches (arrays) received */
    char why[160];            /* why the connection became unusable; empty while it works */
} mp_fake_node_status_t;

typedef struct mp_fake_node mp_fake_node_t;

/* A non-blocking listening socket on 127.0.0.1, port chosen by the kernel (*port). Returns
 * the fd, or -errno. */
int mp_fake_node_listen(uint16_t *port);

/* Waits up to wait_ms for a connection on lfd and accepts it (non-blocking, TCP_NODELAY).
 * Returns its fd, -EAGAIN when none came (or the wait was interrupted), or -errno. */
int mp_fake_node_accept(int lfd, int wait_ms);

/* Takes the accepted connection fd (owned from now on, closed on failure): answers the
 * client's WebSocket upgrade request, blocking until deadline (mono ns) at most, and sets
 * up wslay. Returns 0 with *out set, or -errno (a failed upgrade is logged). */
int mp_fake_node_open(mp_fake_node_t **out, int fd, uint64_t deadline);

/* Closes the connection and frees n; NULL is ignored. */
void mp_fake_node_close(mp_fake_node_t *n);

/* Waits up to wait_ms for the socket, reads and answers requests, writes what is queued
 * until the socket is full. Returns 0, or -EPIPE once the connection is unusable (the
 * reason in status.why). */
int mp_fake_node_turn(mp_fake_node_t *n, int wait_ms);

/* True while 256 KB of messages wait in wslay: the client reads slower than the node
 * announces, and announcing should pause. */
bool mp_fake_node_backlogged(const mp_fake_node_t *n);

/* Queues tx status.announced of the feed as an eth_subscription notification, the full
 * object or its hash, and counts it announced. It is sent by the following turns. Returns
 * 0 or -EPIPE (status.why set). */
int mp_fake_node_announce(mp_fake_node_t *n, bool full);

/* The node's status; valid until mp_fake_node_close. */
const mp_fake_node_status_t *mp_fake_node_status(const mp_fake_node_t *n);

#endif
