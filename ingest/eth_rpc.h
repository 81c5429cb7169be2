/* JSON-RPC requests in flight on the eth source's connection: unique ids, what each
 * request was for, when it was sent, and per-kind in-flight counts that bound fetches. */
#ifndef MP_ETH_RPC_H
#define MP_ETH_RPC_H

#include <stdint.h>

#include "proto/event.h"

typedef enum mp_eth_rpc_kind {
    MP_ETH_RPC_CHAIN_ID = 1,
    MP_ETH_RPC_SUB_PENDING_FULL = 2,   /* newPendingTransactions, true */
    MP_ETH_RPC_SUB_PENDING_HASHES = 3, /* newPendingTransactions */
    MP_ETH_RPC_SUB_HEADS = 4,          /* newHeads */
    MP_ETH_RPC_GET_TX = 5,             /* eth_getTransactionByHash(hash) */
    MP_ETH_RPC_GET_BLOCK = 6,          /* eth_getBlockByHash(hash, false) */
    MP_ETH_RPC_KINDS = 7,
} mp_eth_rpc_kind_t;

/* Slots in the table: ids map to slot id % MP_ETH_RPC_SLOTS, so at most this many
 * requests are outstanding, fewer when an old one blocks its slot. */
#define MP_ETH_RPC_SLOTS 512u

typedef struct mp_eth_rpc_req {
    uint64_t id; /* 0: free slot */
    uint8_t kind;
    uint64_t sent_mono_ns;
    uint8_t hash[MP_HASH_LEN]; /* GET_TX, GET_BLOCK: what was asked for */
    mp_block_t header;         /* GET_BLOCK: the newHeads header, used if the fetch fails */
} mp_eth_rpc_req_t;

typedef struct mp_eth_rpc {
    uint64_t next_id; /* ids never repeat for the source's life: a late answer from an
                         earlier connection finds no request */
    uint32_t inflight[MP_ETH_RPC_KINDS];
    mp_eth_rpc_req_t slots[MP_ETH_RPC_SLOTS];
} mp_eth_rpc_t;

/* Empties the table; ids start at 1. */
void mp_eth_rpc_init(mp_eth_rpc_t *t);

/* Reserves the next id for a request of kind sent now. Returns the slot (id, kind and
 * time set; the caller fills hash/header), or NULL when that id's slot is still busy. */
mp_eth_rpc_req_t *mp_eth_rpc_begin(mp_eth_rpc_t *t, mp_eth_rpc_kind_t kind, uint64_t now_ns);

/* Removes the request with id, copying it into *out. Returns 0, or -ENOENT when no such
 * request is outstanding (unknown, answered already, or expired). */
int mp_eth_rpc_finish(mp_eth_rpc_t *t, uint64_t id, mp_eth_rpc_req_t *out);

/* Removes the oldest request sent before cutoff_ns into *out. Returns 0, or -ENOENT when
 * none is that old. Call repeatedly to expire all. */
int mp_eth_rpc_expire_one(mp_eth_rpc_t *t, uint64_t cutoff_ns, mp_eth_rpc_req_t *out);

static inline uint32_t mp_eth_rpc_inflight(const mp_eth_rpc_t *t, mp_eth_rpc_kind_t kind)
{
    return t->inflight[kind];
}

#endif
