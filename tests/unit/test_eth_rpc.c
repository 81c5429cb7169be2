/* The eth source's request table (ids, in-flight bounds, expiry) and ws:// URL parsing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "ingest/eth_rpc.h"
#include "ingest/eth_source.h"

static mp_eth_rpc_t table;

Test(eth_rpc, ids_are_unique_and_finish_returns_the_request_once)
{
    mp_eth_rpc_init(&table);
    mp_eth_rpc_req_t *a = mp_eth_rpc_begin(&table, MP_ETH_RPC_GET_TX, 100);
    cr_assert_not_null(a);
    uint64_t ida = a->id;
    a->hash[0] = 0x42;
    mp_eth_rpc_req_t *b = mp_eth_rpc_begin(&table, MP_ETH_RPC_GET_BLOCK, 200);
    cr_assert_not_null(b);
    cr_expect_neq(ida, b->id);
    cr_expect_eq(mp_eth_rpc_inflight(&table, MP_ETH_RPC_GET_TX), 1);
    mp_eth_rpc_req_t out;
    cr_assert_eq(mp_eth_rpc_finish(&table, ida, &out), 0);
    cr_expect_eq(out.kind, MP_ETH_RPC_GET_TX);
    cr_expect_eq(out.hash[0], 0x42);
    cr_expect_eq(out.sent_mono_ns, 100);
    cr_expect_eq(mp_eth_rpc_finish(&table, ida, &out), -ENOENT);
    cr_expect_eq(mp_eth_rpc_finish(&table, 0, &out), -ENOENT);
    cr_expect_eq(mp_eth_rpc_finish(&table, 999999, &out), -ENOENT);
    cr_expect_eq(mp_eth_rpc_inflight(&table, MP_ETH_RPC_GET_TX), 0);
    cr_expect_eq(mp_eth_rpc_inflight(&table, MP_ETH_RPC_GET_BLOCK), 1);
}

Test(eth_rpc, a_busy_slot_blocks_new_requests_until_it_is_answered)
{
    mp_eth_rpc_init(&table);
    mp_eth_rpc_req_t *first = mp_eth_rpc_begin(&table, MP_ETH_RPC_GET_TX, 1);
    uint64_t first_id = first->id;
    for (uint32_t i = 1; i < MP_ETH_RPC_SLOTS; i++) {
        mp_eth_rpc_req_t *r = mp_eth_rpc_begin(&table, MP_ETH_RPC_GET_TX, 1);
        cr_assert_not_null(r);
        mp_eth_rpc_finish(&table, r->id, NULL);
    }
    /* The next id maps to the first request's slot, still outstanding. */
    cr_expect_null(mp_eth_rpc_begin(&table, MP_ETH_RPC_GET_TX, 2));
    cr_assert_eq(mp_eth_rpc_finish(&table, first_id, NULL), 0);
    mp_eth_rpc_req_t *r = mp_eth_rpc_begin(&table, MP_ETH_RPC_GET_TX, 2);
    cr_assert_not_null(r);
    cr_expect_gt(r->id, first_id);
}

Test(eth_rpc, expiry_removes_old_requests_oldest_first)
{
    mp_eth_rpc_init(&table);
    uint64_t old1 = mp_eth_rpc_begin(&table, MP_ETH_RPC_GET_TX, 10)->id;
    uint64_t old2 = mp_eth_rpc_begin(&table, MP_ETH_RPC_GET_BLOCK, 20)->id;
    uint64_t young = mp_eth_rpc_begin(&table, MP_ETH_RPC_GET_TX, 1000)->id;
    mp_eth_rpc_req_t out;
    cr_assert_eq(mp_eth_rpc_expire_one(&table, 500, &out), 0);
    cr_expect_eq(out.id, old1);
    cr_assert_eq(mp_eth_rpc_expire_one(&table, 500, &out), 0);
    cr_expect_eq(out.id, old2);
    cr_expect_eq(mp_eth_rpc_expire_one(&table, 500, &out), -ENOENT);
    cr_expect_eq(mp_eth_rpc_finish(&table, young, NULL), 0);
    cr_expect_eq(mp_eth_rpc_inflight(&table, MP_ETH_RPC_GET_TX), 0);
    cr_expect_eq(mp_eth_rpc_inflight(&table, MP_ETH_RPC_GET_BLOCK), 0);
}

static bool tls;

static int parse(const char *url, char *host, uint16_t *port, char *path)
{
    char err[200];
    return mp_eth_parse_url(url, host, 64, port, &tls, path, 64, err, sizeof err);
}

Test(eth_url, host_port_and_path_are_split)
{
    char host[64], path[64];
    uint16_t port;
    cr_assert_eq(parse("ws://127.0.0.1:8545", host, &port, path), 0);
    cr_expect_str_eq(host, "127.0.0.1");
    cr_expect_eq(port, 8545);
    cr_expect_str_eq(path, "/");
    cr_assert_eq(parse("ws://node.local:8546/ws/v1?key=a", host, &port, path), 0);
    cr_expect_str_eq(host, "node.local");
    cr_expect_str_eq(path, "/ws/v1?key=a");
    cr_assert_eq(parse("ws://[::1]:9/x", host, &port, path), 0);
    cr_expect_str_eq(host, "::1");
    cr_expect_eq(port, 9);
    cr_assert_eq(parse("ws://example", host, &port, path), 0);
    cr_expect_eq(port, 80);
    cr_expect_not(tls);
    cr_assert_eq(parse("wss://example/ws", host, &port, path), 0);
    cr_expect_eq(port, 443);
    cr_expect(tls);
    cr_expect_str_eq(path, "/ws");
}

Test(eth_url, bad_urls_are_refused)
{
    char host[64], path[64];
    uint16_t port;
    cr_expect_eq(parse("http://node:8545", host, &port, path), -EINVAL);
    cr_expect_eq(parse("ws://:8545", host, &port, path), -EINVAL);
    cr_expect_eq(parse("ws://node:0", host, &port, path), -EINVAL);
    cr_expect_eq(parse("ws://node:70000", host, &port, path), -EINVAL);
    cr_expect_eq(parse("ws://node:85x45", host, &port, path), -EINVAL);
    cr_expect_eq(parse("ws://[::1", host, &port, path), -EINVAL);
}
