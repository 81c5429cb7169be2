/* The request table: a direct-mapped array of slots indexed by id, with in-flight counts
 * per kind kept equal to the number of busy slots of that kind. */
#include "ingest/eth_rpc.h"

#include <errno.h>
#include <string.h>

void mp_eth_rpc_init(mp_eth_rpc_t *t)
{
    memset(t, 0, sizeof *t);
    t->next_id = 1;
}

mp_eth_rpc_req_t *mp_eth_rpc_begin(mp_eth_rpc_t *t, mp_eth_rpc_kind_t kind, uint64_t now_ns)
{
    if (kind <= 0 || kind >= MP_ETH_RPC_KINDS) return NULL;
    mp_eth_rpc_req_t *r = &t->slots[t->next_id % MP_ETH_RPC_SLOTS];
    if (r->id) return NULL;
    memset(r, 0, sizeof *r);
    r->id = t->next_id++;
    r->kind = (uint8_t)kind;
    r->sent_mono_ns = now_ns;
    t->inflight[kind]++;
    return r;
}

static void release(mp_eth_rpc_t *t, mp_eth_rpc_req_t *r, mp_eth_rpc_req_t *out)
{
    if (out) *out = *r;
    t->inflight[r->kind]--;
    r->id = 0;
}

int mp_eth_rpc_finish(mp_eth_rpc_t *t, uint64_t id, mp_eth_rpc_req_t *out)
{
    if (id == 0) return -ENOENT;
    mp_eth_rpc_req_t *r = &t->slots[id % MP_ETH_RPC_SLOTS];
    if (r->id != id) return -ENOENT;
    release(t, r, out);
    return 0;
}

int mp_eth_rpc_expire_one(mp_eth_rpc_t *t, uint64_t cutoff_ns, mp_eth_rpc_req_t *out)
{
    mp_eth_rpc_req_t *oldest = NULL;
    for (uint32_t i = 0; i < MP_ETH_RPC_SLOTS; i++) {
        mp_eth_rpc_req_t *r = &t->slots[i];
        if (r->id && r->sent_mono_ns < cutoff_ns && (!oldest || r->id < oldest->id)) oldest = r;
    }
    if (!oldest) return -ENOENT;
    release(t, oldest, out);
    return 0;
}
