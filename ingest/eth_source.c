/* The eth source: connection lifecycle (connect, subscribe, backoff), JSON-RPC message
 * dispatch, hash fetching, dedupe and replacement detection, and the event queue that
 * next() drains one event at a time. */
#include "ingest/eth_source.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/clock.h"
#include "common/hex.h"
#include "common/log.h"
#include "ingest/eth_rpc.h"
#include "ingest/eth_window.h"
#include "ingest/rpc_tx.h"
#include "ingest/ws_client.h"

#define NS_PER_MS 1000000ull
#define NS_PER_SEC 1000000000ull
#define PUMP_WAIT_NS (20 * NS_PER_MS)    /* longest socket wait inside next() */
#define OPEN_TIMEOUT_NS (5 * NS_PER_SEC) /* connect + handshake */
#define BACKOFF_MIN_NS (250 * NS_PER_MS)
#define BACKOFF_MAX_NS (5 * NS_PER_SEC)
#define STABLE_NS (5 * NS_PER_SEC) /* a connection this old resets the backoff */
#define REQUEST_TIMEOUT_NS (10 * NS_PER_SEC)
#define FIFO_MAX_BYTES (8u << 20) /* received messages waiting; plus one in flight */
#define FETCH_QUEUE 16384u        /* hashes waiting for eth_getTransactionByHash */
#define MAX_TX_INFLIGHT 128u
#define MAX_BLOCK_INFLIGHT 16u
#define FETCH_BATCH 16u      /* requests per JSON-RPC batch message */
#define MESSAGES_PER_CALL 64 /* messages parsed by one next() before it yields */
#define NONCE_WINDOW 16384u  /* (from, nonce) pairs remembered for replacements */
#define LOG_FIRST 10
#define LOG_EVERY 10000
#define OUT_QUEUE 4

enum {
    ST_CONNECTED,
    ST_RECONNECTS,
    ST_NOTIFICATIONS,
    ST_RPC_ERRORS,
    ST_FETCHES,
    ST_FETCH_LATENCY_US,
    ST_FETCH_DROPPED,
    ST_OVERSIZE,
    ST_PROTOCOL_ERRORS,
    ST_DUPLICATES,
    ST_REPLACEMENTS,
    ST_COUNT
};

static const mp_source_stat_t stat_names[ST_COUNT] = {
    [ST_CONNECTED] = {"eth_upstream_connected", true, 0},
    [ST_RECONNECTS] = {"eth_reconnects_total", false, 0},
    [ST_NOTIFICATIONS] = {"eth_notifications_total", false, 0},
    [ST_RPC_ERRORS] = {"eth_rpc_errors_total", false, 0},
    [ST_FETCHES] = {"eth_fetches_total", false, 0},
    [ST_FETCH_LATENCY_US] = {"eth_fetch_latency_us_total", false, 0},
    [ST_FETCH_DROPPED] = {"eth_fetch_dropped_total", false, 0},
    [ST_OVERSIZE] = {"eth_oversize_messages_total", false, 0},
    [ST_PROTOCOL_ERRORS] = {"eth_protocol_errors_total", false, 0},
    [ST_DUPLICATES] = {"eth_duplicates_total", false, 0},
    [ST_REPLACEMENTS] = {"eth_replacements_total", false, 0},
};

/* One received message waiting to be parsed. */
typedef struct eth_msg {
    struct eth_msg *next;
    size_t len;
    char data[];
} eth_msg_t;

typedef struct eth_source {
    mp_source_t base; /* first: the loop holds &base */
    mp_source_stat_t stats[ST_COUNT];
    char url[512];
    char host[256];
    char path[256];
    uint16_t port;
    bool tls;
    char ca_file[256];
    bool hashes_only;
    bool no_batch; /* the node refused a JSON-RPC batch: one request per message */
    size_t max_message;
    uint64_t chain_id; /* the node's, once eth_chainId answered */

    /* connection */
    mp_ws_client_t *ws;
    bool session_started; /* requests of this connection sent */
    uint64_t connections;
    uint64_t opened_mono_ns;
    uint32_t failures; /* consecutive attempts that did not last STABLE_NS */
    uint64_t reconnect_at_ns;
    char pending_sub[96], heads_sub[96];

    /* received messages, oldest first */
    eth_msg_t *fifo_head, *fifo_tail;
    size_t fifo_bytes;
    uint64_t messages; /* parsed so far: the position named in logs */

    mp_eth_rpc_t rpc;
    uint8_t (*fetch_queue)[MP_HASH_LEN];
    uint32_t fetch_head, fetch_count;
    uint64_t queue_full_drops; /* hashes announced while the fetch queue was full */
    mp_eth_window_t *seen;      /* hashes emitted as TX_SEEN */
    mp_eth_window_t *nonces;    /* from || nonce -> latest hash */
    mp_eth_window_t *mined_set; /* hashes marked mined: never reported as replaced */

    /* work in progress: a batch response being walked, a block's hashes being marked */
    json_t *batch;
    size_t batch_idx;
    json_t *mined; /* array of hashes (strings) or tx objects */
    size_t mined_idx;
    uint64_t mined_block;

    mp_event_t out[OUT_QUEUE];
    uint32_t out_head, out_count;
    uint8_t input_buf[MP_INPUT_PREFIX_MAX]; /* calldata of the one queued TX_SEEN */
    uint64_t next_tick_wall_ns;
    uint64_t logged_malformed;
    uint64_t logged_rpc_errors;
} eth_source_t;

static void malformed(eth_source_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void malformed(eth_source_t *s, const char *fmt, ...)
{
    uint64_t n = ++s->base.malformed_total;
    if (n > LOG_FIRST && n % LOG_EVERY) return;
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    mp_log("eth source: %s: message %" PRIu64 " (connection %" PRIu64 "): %s (malformed #%" PRIu64
           ")",
           s->url, s->messages, s->connections, why, n);
}

/* ---- URL ---- */

int mp_eth_parse_url(const char *url, char *host, size_t hostcap, uint16_t *port, bool *tls,
                     char *path, size_t pathcap, char *err, size_t errlen)
{
    size_t scheme;
    if (strncmp(url, "wss://", 6) == 0) {
        *tls = true;
        scheme = 6;
    } else if (strncmp(url, "ws://", 5) == 0) {
        *tls = false;
        scheme = 5;
    } else {
        snprintf(err, errlen, "'%s': expected ws://HOST:PORT[/path] or wss://HOST[:PORT][/path]",
                 url);
        return -EINVAL;
    }
    const char *p = url + scheme, *hend;
    const char *h = p;
    if (*p == '[') {
        h = p + 1;
        hend = strchr(h, ']');
        if (!hend) goto bad;
        p = hend + 1;
    } else {
        hend = p + strcspn(p, ":/?");
        p = hend;
    }
    size_t hlen = (size_t)(hend - h);
    if (hlen == 0 || hlen >= hostcap) goto bad;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    unsigned long pv = *tls ? 443 : 80;
    if (*p == ':') {
        char *end;
        pv = strtoul(p + 1, &end, 10);
        if (end == p + 1 || pv == 0 || pv > 65535) goto bad;
        p = end;
    }
    *port = (uint16_t)pv;
    if (*p && *p != '/' && *p != '?') goto bad;
    int n = snprintf(path, pathcap, "%s%s", *p == '/' ? "" : "/", p);
    if (n < 0 || (size_t)n >= pathcap) goto bad;
    return 0;
bad:
    snprintf(err, errlen, "'%s': expected ws[s]://HOST[:PORT][/path] (port 1-65535)", url);
    return -EINVAL;
}

/* ---- event queue ---- */

static mp_event_t *push_event(eth_source_t *s, uint16_t type)
{
    /* Callers produce at most two events per message and only when the queue is empty. */
    mp_event_t *ev = &s->out[(s->out_head + s->out_count++) % OUT_QUEUE];
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->time_ns = mp_wall_ns();
    return ev;
}

static bool pop_event(eth_source_t *s, mp_event_t *ev)
{
    if (!s->out_count) return false;
    *ev = s->out[s->out_head];
    s->out_head = (s->out_head + 1) % OUT_QUEUE;
    s->out_count--;
    return true;
}

/* ---- requests ---- */

static int send_request(eth_source_t *s, mp_eth_rpc_kind_t kind, const char *method,
                        const char *params, const uint8_t *hash, const mp_block_t *header)
{
    if (!s->ws) return -ENOTCONN;
    mp_eth_rpc_req_t *r = mp_eth_rpc_begin(&s->rpc, kind, mp_mono_ns());
    if (!r) return -EBUSY;
    if (hash) memcpy(r->hash, hash, MP_HASH_LEN);
    if (header) r->header = *header;
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64 ",\"method\":\"%s\","
                     "\"params\":%s}",
                     r->id, method, params);
    int ret = mp_ws_client_send_text(s->ws, buf, (size_t)n);
    if (ret) mp_eth_rpc_finish(&s->rpc, r->id, NULL);
    return ret;
}

static void start_session(eth_source_t *s)
{
    s->session_started = true;
    send_request(s, MP_ETH_RPC_CHAIN_ID, "eth_chainId", "[]", NULL, NULL);
    if (s->hashes_only)
        send_request(s, MP_ETH_RPC_SUB_PENDING_HASHES, "eth_subscribe",
                     "[\"newPendingTransactions\"]", NULL, NULL);
    else
        send_request(s, MP_ETH_RPC_SUB_PENDING_FULL, "eth_subscribe",
                     "[\"newPendingTransactions\",true]", NULL, NULL);
    send_request(s, MP_ETH_RPC_SUB_HEADS, "eth_subscribe", "[\"newHeads\"]", NULL, NULL);
}

/* Sends queued hashes as batches of eth_getTransactionByHash, within the in-flight bound. */
static void issue_fetches(eth_source_t *s)
{
    while (s->fetch_count && mp_eth_rpc_inflight(&s->rpc, MP_ETH_RPC_GET_TX) < MAX_TX_INFLIGHT) {
        char buf[FETCH_BATCH * 200 + 8];
        size_t len = 0;
        uint64_t ids[FETCH_BATCH];
        uint32_t n = 0;
        uint32_t batch = s->no_batch ? 1 : FETCH_BATCH;
        if (!s->no_batch) buf[len++] = '[';
        while (n < batch && s->fetch_count &&
               mp_eth_rpc_inflight(&s->rpc, MP_ETH_RPC_GET_TX) < MAX_TX_INFLIGHT) {
            const uint8_t *hash = s->fetch_queue[s->fetch_head % FETCH_QUEUE];
            mp_eth_rpc_req_t *r = mp_eth_rpc_begin(&s->rpc, MP_ETH_RPC_GET_TX, mp_mono_ns());
            if (!r) break;
            memcpy(r->hash, hash, MP_HASH_LEN);
            char hex[2 * MP_HASH_LEN + 3];
            mp_hex_encode(hex, hash, MP_HASH_LEN);
            len += (size_t)snprintf(buf + len, sizeof buf - len,
                                    "%s{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64
                                    ",\"method\":\"eth_getTransactionByHash\",\"params\":[\"%s\"]}",
                                    n ? "," : "", r->id, hex);
            ids[n++] = r->id;
            s->fetch_head++;
            s->fetch_count--;
        }
        if (!n) return; /* the next id's slot is busy: retry on a later call */
        if (!s->no_batch) buf[len++] = ']';
        if (mp_ws_client_send_text(s->ws, buf, len) != 0) {
            for (uint32_t i = 0; i < n; i++)
                mp_eth_rpc_finish(&s->rpc, ids[i], NULL);
            s->stats[ST_FETCH_DROPPED].value += n;
            return;
        }
    }
}

static void queue_fetch(eth_source_t *s, const uint8_t hash[MP_HASH_LEN])
{
    if (s->fetch_count == FETCH_QUEUE) {
        /* The node announces faster than it answers our fetches: the hash is lost (the
         * same socket carries the answers, so we cannot stop reading it). */
        s->stats[ST_FETCH_DROPPED].value++;
        if (s->queue_full_drops++ % LOG_EVERY == 0)
            mp_log("eth source: %s: fetch queue full (%u hashes waiting for bodies): %" PRIu64
                   " announced hashes dropped so far",
                   s->url, FETCH_QUEUE, s->queue_full_drops);
        return;
    }
    memcpy(s->fetch_queue[(s->fetch_head + s->fetch_count++) % FETCH_QUEUE], hash, MP_HASH_LEN);
}

/* ---- transactions ---- */

/* Emits TX_SEEN for a transaction not seen before, preceded by TX_REPLACED when it takes
 * the (from, nonce) of another pending one. */
static void on_tx_object(eth_source_t *s, const json_t *obj)
{
    mp_tx_seen_t tx;
    char err[MP_RPC_TX_ERR_MAX];
    if (mp_rpc_tx_from_json(obj, s->chain_id, &tx, s->input_buf, err, sizeof err) != 0) {
        malformed(s, "transaction: %s", err);
        return;
    }
    if (mp_eth_window_get(s->seen, tx.hash)) {
        s->stats[ST_DUPLICATES].value++;
        return;
    }
    mp_eth_window_put(s->seen, tx.hash, NULL);
    uint8_t key[MP_ETH_WINDOW_KEY] = {0};
    memcpy(key, tx.from, MP_ADDR_LEN);
    for (int i = 0; i < 8; i++)
        key[MP_ADDR_LEN + i] = (uint8_t)(tx.nonce >> (56 - 8 * i));
    const uint8_t *prev = mp_eth_window_get(s->nonces, key);
    /* A mined prev means the nonce was reused on another chain (a dev node restarted
     * from genesis, a reorg): not a replacement of anything pending. */
    if (prev && memcmp(prev, tx.hash, MP_HASH_LEN) != 0 && !mp_eth_window_get(s->mined_set, prev)) {
        mp_event_t *ev = push_event(s, MP_EV_TX_REPLACED);
        ev->u.replaced.chain_id = tx.chain_id;
        memcpy(ev->u.replaced.hash, prev, MP_HASH_LEN);
        memcpy(ev->u.replaced.replaced_by, tx.hash, MP_HASH_LEN);
        s->stats[ST_REPLACEMENTS].value++;
    }
    mp_eth_window_put(s->nonces, key, tx.hash);
    tx.source = MP_SOURCE_ETH;
    mp_event_t *ev = push_event(s, MP_EV_TX_SEEN);
    ev->u.tx = tx;
}

static int get_hash(const json_t *v, uint8_t out[MP_HASH_LEN])
{
    if (!json_is_string(v)) return -EINVAL;
    const char *t = json_string_value(v);
    size_t n = json_string_length(v);
    if (n != 2 + 2 * MP_HASH_LEN || t[0] != '0' || (t[1] != 'x' && t[1] != 'X')) return -EINVAL;
    return mp_hex_decode_fixed(out, MP_HASH_LEN, t, n);
}

static void on_pending_hash(eth_source_t *s, const json_t *v)
{
    uint8_t hash[MP_HASH_LEN];
    if (get_hash(v, hash) != 0) {
        malformed(s, "pending notification: result is neither a tx object nor a tx hash");
        return;
    }
    if (mp_eth_window_get(s->seen, hash)) {
        s->stats[ST_DUPLICATES].value++;
        return;
    }
    queue_fetch(s, hash);
}

/* ---- blocks ---- */

static int get_u64_field(const json_t *obj, const char *name, uint64_t *out, bool required)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v)) return required ? -EINVAL : 0;
    if (!json_is_string(v)) return -EINVAL;
    return mp_hex_u64(out, json_string_value(v), json_string_length(v));
}

/* Header fields shared by newHeads results and eth_getBlockByHash results. */
static int parse_header(eth_source_t *s, const json_t *obj, mp_block_t *b, const char **why)
{
    memset(b, 0, sizeof *b);
    b->chain_id = s->chain_id;
    *why = "not an object";
    if (!json_is_object(obj)) return -EINVAL;
    *why = "field 'hash'";
    if (get_hash(json_object_get(obj, "hash"), b->hash)) return -EINVAL;
    *why = "field 'number'";
    if (get_u64_field(obj, "number", &b->number, true)) return -EINVAL;
    *why = "field 'baseFeePerGas'";
    if (get_u64_field(obj, "baseFeePerGas", &b->base_fee, false)) return -EINVAL;
    *why = "field 'gasUsed'";
    if (get_u64_field(obj, "gasUsed", &b->gas_used, true)) return -EINVAL;
    *why = "field 'gasLimit'";
    if (get_u64_field(obj, "gasLimit", &b->gas_limit, true)) return -EINVAL;
    *why = "field 'timestamp'";
    if (get_u64_field(obj, "timestamp", &b->timestamp, true)) return -EINVAL;
    return 0;
}

static void on_head(eth_source_t *s, const json_t *obj)
{
    mp_block_t b;
    const char *why;
    if (parse_header(s, obj, &b, &why)) {
        malformed(s, "newHeads notification: %s", why);
        return;
    }
    char params[2 * MP_HASH_LEN + 16];
    char hex[2 * MP_HASH_LEN + 3];
    mp_hex_encode(hex, b.hash, MP_HASH_LEN);
    snprintf(params, sizeof params, "[\"%s\",false]", hex);
    if (mp_eth_rpc_inflight(&s->rpc, MP_ETH_RPC_GET_BLOCK) >= MAX_BLOCK_INFLIGHT ||
        send_request(s, MP_ETH_RPC_GET_BLOCK, "eth_getBlockByHash", params, b.hash, &b) != 0) {
        /* The head still moves; its transactions just are not marked mined. */
        s->stats[ST_FETCH_DROPPED].value++;
        mp_event_t *ev = push_event(s, MP_EV_BLOCK);
        ev->u.block = b;
    }
}

static void on_block_body(eth_source_t *s, const mp_eth_rpc_req_t *req, const json_t *result)
{
    mp_block_t b;
    const char *why;
    json_t *txs = json_object_get(result, "transactions");
    if (json_is_null(result) || parse_header(s, result, &b, &why) || !json_is_array(txs)) {
        if (!json_is_null(result)) malformed(s, "eth_getBlockByHash result: %s", why);
        b = req->header; /* unknown body: the head alone */
        txs = NULL;
    }
    b.tx_count = txs ? (uint32_t)json_array_size(txs) : 0;
    mp_event_t *ev = push_event(s, MP_EV_BLOCK);
    ev->u.block = b;
    if (txs && json_array_size(txs)) {
        s->mined = json_incref(txs);
        s->mined_idx = 0;
        s->mined_block = b.number;
    }
}

/* Next TX_MINED of the block being marked; false when it is done. */
static bool next_mined(eth_source_t *s, mp_event_t *ev)
{
    while (s->mined && s->mined_idx < json_array_size(s->mined)) {
        json_t *v = json_array_get(s->mined, s->mined_idx++);
        if (json_is_object(v)) v = json_object_get(v, "hash"); /* full-object blocks */
        memset(ev, 0, sizeof *ev);
        if (get_hash(v, ev->u.mined.hash) != 0) {
            malformed(s, "block %" PRIu64 ": transaction %zu is not a hash", s->mined_block,
                      s->mined_idx - 1);
            continue;
        }
        mp_eth_window_put(s->mined_set, ev->u.mined.hash, NULL);
        ev->type = MP_EV_TX_MINED;
        ev->time_ns = mp_wall_ns();
        ev->u.mined.chain_id = s->chain_id;
        ev->u.mined.block_number = s->mined_block;
        return true;
    }
    json_decref(s->mined);
    s->mined = NULL;
    return false;
}

/* ---- JSON-RPC dispatch ---- */

static void copy_sub_id(char *dst, size_t cap, const json_t *v)
{
    const char *t = json_is_string(v) ? json_string_value(v) : "";
    snprintf(dst, cap, "%s", t);
}

static void on_rpc_error(eth_source_t *s, const mp_eth_rpc_req_t *req, const json_t *error)
{
    s->stats[ST_RPC_ERRORS].value++;
    json_t *msg = json_object_get(error, "message");
    if (++s->logged_rpc_errors <= LOG_FIRST || s->logged_rpc_errors % LOG_EVERY == 0)
        mp_log("eth source: %s: request %" PRIu64 " (kind %u) failed: %s", s->url, req->id,
               req->kind, json_is_string(msg) ? json_string_value(msg) : "(no message)");
    if (req->kind == MP_ETH_RPC_SUB_PENDING_FULL) {
        mp_log("eth source: %s: the node refuses full pending objects; subscribing to hashes "
               "and fetching bodies with eth_getTransactionByHash",
               s->url);
        s->hashes_only = true;
        send_request(s, MP_ETH_RPC_SUB_PENDING_HASHES, "eth_subscribe",
                     "[\"newPendingTransactions\"]", NULL, NULL);
    } else if (req->kind == MP_ETH_RPC_GET_BLOCK) {
        mp_event_t *ev = push_event(s, MP_EV_BLOCK);
        ev->u.block = req->header;
    }
}

static void on_response(eth_source_t *s, const json_t *obj)
{
    json_t *idv = json_object_get(obj, "id");
    mp_eth_rpc_req_t req;
    json_t *error = json_object_get(obj, "error");
    if (json_is_null(idv) && json_is_object(error)) {
        /* An error about a message the node could not attribute: in practice a JSON-RPC
         * batch it does not accept. Fetch one request per message from now on. */
        s->stats[ST_RPC_ERRORS].value++;
        if (s->no_batch) return;
        mp_log("eth source: %s: the node answered a batch with an error; sending "
               "eth_getTransactionByHash one request per message",
               s->url);
        s->no_batch = true;
        /* The refused batch's fetches will never be answered: ask again, one by one. */
        for (uint32_t i = 0; i < MP_ETH_RPC_SLOTS; i++) {
            mp_eth_rpc_req_t *r = &s->rpc.slots[i];
            if (r->id && r->kind == MP_ETH_RPC_GET_TX) {
                mp_eth_rpc_finish(&s->rpc, r->id, &req);
                queue_fetch(s, req.hash);
            }
        }
        return;
    }
    if (!json_is_integer(idv) || json_integer_value(idv) <= 0 ||
        mp_eth_rpc_finish(&s->rpc, (uint64_t)json_integer_value(idv), &req) != 0)
        return; /* an answer to a request that expired or belonged to an earlier connection */
    if (error && !json_is_null(error)) {
        on_rpc_error(s, &req, error);
        return;
    }
    json_t *result = json_object_get(obj, "result");
    if (!result) {
        malformed(s, "response %" PRIu64 " has neither result nor error", req.id);
        return;
    }
    uint64_t lat_us = (mp_mono_ns() - req.sent_mono_ns) / 1000;
    switch (req.kind) {
    case MP_ETH_RPC_CHAIN_ID: {
        uint64_t id;
        if (json_is_string(result) &&
            mp_hex_u64(&id, json_string_value(result), json_string_length(result)) == 0)
            s->chain_id = id;
        else
            malformed(s, "eth_chainId result is not a hex quantity");
        break;
    }
    case MP_ETH_RPC_SUB_PENDING_FULL:
    case MP_ETH_RPC_SUB_PENDING_HASHES:
        copy_sub_id(s->pending_sub, sizeof s->pending_sub, result);
        mp_log("eth source: %s: subscribed to pending transactions (%s)", s->url,
               req.kind == MP_ETH_RPC_SUB_PENDING_FULL ? "full objects" : "hashes");
        break;
    case MP_ETH_RPC_SUB_HEADS: copy_sub_id(s->heads_sub, sizeof s->heads_sub, result); break;
    case MP_ETH_RPC_GET_TX:
        s->stats[ST_FETCHES].value++;
        s->stats[ST_FETCH_LATENCY_US].value += lat_us;
        if (json_is_object(result)) on_tx_object(s, result);
        /* null: the node dropped it meanwhile (mined or evicted) */
        break;
    case MP_ETH_RPC_GET_BLOCK:
        s->stats[ST_FETCHES].value++;
        s->stats[ST_FETCH_LATENCY_US].value += lat_us;
        on_block_body(s, &req, result);
        break;
    default: break;
    }
}

static void on_notification(eth_source_t *s, const json_t *obj)
{
    s->stats[ST_NOTIFICATIONS].value++;
    json_t *params = json_object_get(obj, "params");
    json_t *sub = json_object_get(params, "subscription");
    json_t *result = json_object_get(params, "result");
    if (!json_is_object(params) || !result) {
        malformed(s, "eth_subscription without params.result");
        return;
    }
    const char *id = json_is_string(sub) ? json_string_value(sub) : "";
    bool heads = *id && strcmp(id, s->heads_sub) == 0;
    bool pending = *id && strcmp(id, s->pending_sub) == 0;
    if (!heads && !pending) {
        /* Only before our subscribe answers were processed: judge by shape. */
        heads = json_is_object(result) && json_object_get(result, "parentHash");
        pending = !heads;
    }
    if (heads)
        on_head(s, result);
    else if (json_is_string(result))
        on_pending_hash(s, result);
    else
        on_tx_object(s, result);
}

/* Handles one JSON-RPC object (a response, a notification) from a message or a batch. */
static void handle_object(eth_source_t *s, const json_t *obj)
{
    if (!json_is_object(obj)) {
        malformed(s, "not a JSON-RPC object");
        return;
    }
    json_t *method = json_object_get(obj, "method");
    if (json_is_string(method) && strcmp(json_string_value(method), "eth_subscription") == 0)
        on_notification(s, obj);
    else if (json_object_get(obj, "id"))
        on_response(s, obj);
    else
        malformed(s, "neither a response nor an eth_subscription notification");
}

static void handle_message(eth_source_t *s, const eth_msg_t *m)
{
    s->messages++;
    json_error_t jerr;
    json_t *root = json_loadb(m->data, m->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        malformed(s, "invalid JSON at byte %d: %s", jerr.position, jerr.text);
        return;
    }
    if (json_is_array(root)) {
        s->batch = root; /* walked one element per step by next() */
        s->batch_idx = 0;
        return;
    }
    handle_object(s, root);
    json_decref(root);
}

/* ---- receiving ---- */

static void on_ws_message(void *ctx, const uint8_t *data, size_t len)
{
    eth_source_t *s = ctx;
    eth_msg_t *m = malloc(sizeof *m + len);
    if (!m) {
        malformed(s, "out of memory for a %zu-byte message: dropped", len);
        return;
    }
    m->next = NULL;
    m->len = len;
    memcpy(m->data, data, len);
    if (s->fifo_tail)
        s->fifo_tail->next = m;
    else
        s->fifo_head = m;
    s->fifo_tail = m;
    s->fifo_bytes += len;
}

static eth_msg_t *fifo_pop(eth_source_t *s)
{
    eth_msg_t *m = s->fifo_head;
    if (!m) return NULL;
    s->fifo_head = m->next;
    if (!s->fifo_head) s->fifo_tail = NULL;
    s->fifo_bytes -= m->len;
    return m;
}

/* ---- connection ---- */

static uint64_t backoff_ns(eth_source_t *s)
{
    uint64_t d = BACKOFF_MIN_NS << (s->failures < 6 ? s->failures : 6);
    if (d > BACKOFF_MAX_NS) d = BACKOFF_MAX_NS;
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) r = (uint32_t)mp_mono_ns();
    /* Jitter over [d/2, d]: many ingests restarting together do not reconnect in step. */
    return d / 2 + (uint64_t)((double)(d / 2) * ((double)r / 4294967296.0));
}

static void disconnect(eth_source_t *s, const char *why)
{
    uint64_t now = mp_mono_ns();
    bool was_open = s->session_started;
    if (was_open && now - s->opened_mono_ns >= STABLE_NS)
        s->failures = 0;
    else
        s->failures++;
    uint64_t delay = backoff_ns(s);
    mp_log("eth source: %s: %s%s; reconnecting in %.2f s", s->url, was_open ? "disconnected: " : "",
           why, (double)delay / 1e9);
    mp_ws_client_close(s->ws);
    s->ws = NULL;
    s->session_started = false;
    s->stats[ST_CONNECTED].value = 0;
    s->reconnect_at_ns = now + delay;
}

static void try_connect(eth_source_t *s)
{
    char err[256];
    mp_ws_config_t wc = {.tls = s->tls,
                         .ca_file = s->ca_file[0] ? s->ca_file : NULL,
                         .host = s->host,
                         .port = s->port,
                         .path = s->path,
                         .max_message = s->max_message,
                         .open_timeout_ns = OPEN_TIMEOUT_NS};
    if (s->connections) s->stats[ST_RECONNECTS].value++;
    s->connections++;
    int ret = mp_ws_client_open(&s->ws, &wc, err, sizeof err);
    if (ret) {
        s->ws = NULL;
        s->failures++;
        uint64_t delay = backoff_ns(s);
        mp_log("eth source: %s: %s; retrying in %.2f s", s->url, err, (double)delay / 1e9);
        s->reconnect_at_ns = mp_mono_ns() + delay;
    }
}

/* Connects when due, sends what is queued, receives. Waits at most wait_ns. */
static void connection_step(eth_source_t *s, uint64_t wait_ns)
{
    uint64_t now = mp_mono_ns();
    if (!s->ws) {
        if (now < s->reconnect_at_ns) return;
        try_connect(s);
        if (!s->ws) return;
    }
    bool may_receive = s->fifo_bytes < FIFO_MAX_BYTES;
    int st = mp_ws_client_pump(s->ws, wait_ns, may_receive, on_ws_message, s);
    if (st == MP_WS_OPEN && !s->session_started) {
        s->opened_mono_ns = now;
        s->stats[ST_CONNECTED].value = 1;
        mp_log("eth source: %s: connected (connection %" PRIu64 ", %s)", s->url, s->connections,
               mp_ws_client_uses_uring(s->ws) ? "io_uring" : "poll(2)");
        start_session(s);
    }
    if (st == MP_WS_OPEN) {
        issue_fetches(s);
        mp_eth_rpc_req_t req;
        while (mp_eth_rpc_expire_one(
                   &s->rpc, now > REQUEST_TIMEOUT_NS ? now - REQUEST_TIMEOUT_NS : 0, &req) == 0) {
            s->stats[ST_RPC_ERRORS].value++;
            if (req.kind == MP_ETH_RPC_GET_TX) s->stats[ST_FETCH_DROPPED].value++;
        }
    } else if (st == MP_WS_CLOSED) {
        mp_ws_close_reason_t why = mp_ws_client_why(s->ws);
        if (why == MP_WS_CLOSE_OVERSIZE) s->stats[ST_OVERSIZE].value++;
        if (why == MP_WS_CLOSE_PROTOCOL || why == MP_WS_CLOSE_HANDSHAKE ||
            why == MP_WS_CLOSE_TRUNCATED)
            s->stats[ST_PROTOCOL_ERRORS].value++;
        disconnect(s, mp_ws_client_why_text(s->ws));
    }
}

/* ---- source ops ---- */

static bool next_tick(eth_source_t *s, mp_event_t *ev)
{
    uint64_t wall = mp_wall_ns();
    if (wall < s->next_tick_wall_ns) return false;
    uint64_t sec = wall / NS_PER_SEC * NS_PER_SEC;
    memset(ev, 0, sizeof *ev);
    ev->type = MP_EV_TICK;
    ev->time_ns = sec;
    s->next_tick_wall_ns = sec + NS_PER_SEC;
    return true;
}

/* Produces events from buffered work; false when there is none. */
static bool produce(eth_source_t *s, mp_event_t *ev)
{
    for (int budget = MESSAGES_PER_CALL; budget > 0; budget--) {
        if (pop_event(s, ev)) return true;
        if (s->mined && next_mined(s, ev)) return true;
        if (s->batch) {
            if (s->batch_idx < json_array_size(s->batch)) {
                handle_object(s, json_array_get(s->batch, s->batch_idx++));
            } else {
                json_decref(s->batch);
                s->batch = NULL;
            }
            continue;
        }
        eth_msg_t *m = fifo_pop(s);
        if (!m) return false;
        handle_message(s, m);
        free(m);
    }
    return pop_event(s, ev);
}

static bool has_work(const eth_source_t *s)
{
    return s->out_count || s->mined || s->batch || s->fifo_head;
}

/* Hashes wait and at most half the fetch pipeline is in flight. The pipeline is then
 * refilled before the buffered messages are handled, so the node answers fetches while we
 * parse instead of the two taking turns. */
static bool fetches_low(const eth_source_t *s)
{
    return s->ws && s->session_started && s->fetch_count &&
           mp_eth_rpc_inflight(&s->rpc, MP_ETH_RPC_GET_TX) <= MAX_TX_INFLIGHT / 2;
}

static int eth_next(mp_source_t *base, mp_event_t *ev, uint64_t *wait_ns)
{
    eth_source_t *s = (eth_source_t *)base;
    if (next_tick(s, ev)) return MP_SOURCE_EVENT;
    if (fetches_low(s)) {
        issue_fetches(s);
        connection_step(s, 0); /* writes them */
    }
    if (produce(s, ev)) return MP_SOURCE_EVENT;
    connection_step(s, has_work(s) ? 0 : PUMP_WAIT_NS);
    if (produce(s, ev)) return MP_SOURCE_EVENT;
    *wait_ns = 0;
    if (!s->ws) {
        uint64_t now = mp_mono_ns();
        *wait_ns = s->reconnect_at_ns > now ? s->reconnect_at_ns - now : 0;
    }
    return MP_SOURCE_IDLE;
}

static uint32_t eth_save(mp_source_t *base, void *buf, uint32_t cap)
{
    return 0; /* a live feed has no position to return to */
}

static int eth_restore(mp_source_t *base, const void *buf, uint32_t len)
{
    return -EINVAL;
}

static void eth_destroy(mp_source_t *base)
{
    eth_source_t *s = (eth_source_t *)base;
    mp_ws_client_close(s->ws);
    eth_msg_t *m;
    while ((m = fifo_pop(s)))
        free(m);
    json_decref(s->batch);
    json_decref(s->mined);
    mp_eth_window_destroy(s->seen);
    mp_eth_window_destroy(s->nonces);
    mp_eth_window_destroy(s->mined_set);
    free(s->fetch_queue);
    free(s);
}

static const mp_source_ops_t eth_ops = {
    .next = eth_next,
    .save = eth_save,
    .restore = eth_restore,
    .skip = NULL,
    .destroy = eth_destroy,
};

static uint64_t fnv1a(const char *t)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *t; t++)
        h = (h ^ (uint8_t)*t) * 0x100000001b3ull;
    return h;
}

mp_source_t *mp_eth_source_create(const mp_eth_source_config_t *cfg, char *err, size_t errlen)
{
    uint32_t window = cfg->dedupe_window ? cfg->dedupe_window : MP_ETH_DEDUPE_DEFAULT;
    if (window < 2 || (window & (window - 1))) {
        snprintf(err, errlen, "eth source: dedupe window %u is not a power of two", window);
        return NULL;
    }
    eth_source_t *s = calloc(1, sizeof *s);
    if (!s) goto oom;
    if (strlen(cfg->url) >= sizeof s->url) {
        snprintf(err, errlen, "eth source: URL longer than %zu bytes", sizeof s->url - 1);
        free(s);
        return NULL;
    }
    snprintf(s->url, sizeof s->url, "%s", cfg->url);
    if (mp_eth_parse_url(cfg->url, s->host, sizeof s->host, &s->port, &s->tls, s->path,
                         sizeof s->path, err, errlen) != 0) {
        free(s);
        return NULL;
    }
    s->base.ops = &eth_ops;
    s->base.name = "eth";
    s->base.fingerprint = fnv1a(cfg->url) ^ 0x657468u;
    s->base.checkpoint_every = UINT32_MAX;
    memcpy(s->stats, stat_names, sizeof s->stats);
    s->base.stats = s->stats;
    s->base.nstats = ST_COUNT;
    s->hashes_only = cfg->hashes_only;
    if (cfg->ca_file && strlen(cfg->ca_file) >= sizeof s->ca_file) {
        snprintf(err, errlen, "eth source: CA file path longer than %zu bytes",
                 sizeof s->ca_file - 1);
        free(s);
        return NULL;
    }
    if (cfg->ca_file) snprintf(s->ca_file, sizeof s->ca_file, "%s", cfg->ca_file);
    s->max_message = cfg->max_message ? cfg->max_message : MP_ETH_MAX_MESSAGE_DEFAULT;
    s->chain_id = cfg->chain_id;
    mp_eth_rpc_init(&s->rpc);
    s->fetch_queue = calloc(FETCH_QUEUE, MP_HASH_LEN);
    if (!s->fetch_queue || mp_eth_window_create(&s->seen, window) != 0 ||
        mp_eth_window_create(&s->nonces, NONCE_WINDOW) != 0 ||
        mp_eth_window_create(&s->mined_set, NONCE_WINDOW) != 0) {
        eth_destroy(&s->base);
        goto oom;
    }
    mp_log("eth source: %s (%s), messages up to %zu bytes, dedupe window %u", s->url,
           s->hashes_only ? "hashes + eth_getTransactionByHash" : "full pending objects",
           s->max_message, window);
    return &s->base;
oom:
    snprintf(err, errlen, "eth source: out of memory");
    return NULL;
}
