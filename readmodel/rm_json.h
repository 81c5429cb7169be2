/* The one JSON encoding of read-model entities, shared by mempulse-shm, snapshot-v2 and
 * stream-v2: each entity kind as one object, a transaction's detail, and entity ids as
 * JSON strings (remove lists). Allocation-free: everything goes through an mp_jw_t into
 * the caller's buffer, so a delta can be encoded once and its bytes reused.
 *
 * Field conventions (the API the gateway and the web UI consume):
 *  - every entity object has "id" (string) and "seq" (its last journal seq) first;
 *  - hashes and addresses are "0x" + lowercase hex; times are unix milliseconds as JSON
 *    numbers (event time; ns would lose precision in a browser);
 *  - "value" (wei, u256) is a decimal string; fees, gas and gwei sums are JSON numbers:
 *    fees are saturated u64 wei and exact in a double below 2^53 wei (9e6 gwei);
 *  - protocol, category, status and opportunity kind are names, never enum numbers;
 *  - optional facts are omitted rather than null, except "to" (null: contract creation)
 *    and "selector" (null: no 4-byte selector);
 *  - "method" is never empty: the catalog's function name, "0x" + 8 hex digits for a
 *    selector it does not know, or "deploy", "transfer" (plain ETH), "empty" (no
 *    calldata, no value), "short-calldata" (1..3 bytes). */
#ifndef MP_RM_JSON_H
#define MP_RM_JSON_H

#include <stdint.h>

#include "proto/json_writer.h"
#include "readmodel/rm_entities.h"
#include "readmodel/rm_region.h"

/* Room that always suffices for one entity object (worst case: an opportunity whose
 * reason and input names need \u escapes throughout), NUL included. */
#define MP_RM_JSON_ENTITY_MAX 4096
/* Linked opportunities a detail carries at most (one per opportunity kind). */
#define MP_RM_DETAIL_OPPS 4
/* Room that always suffices for mp_rm_detail_json with a full calldata prefix
 * (MP_INPUT_PREFIX_MAX bytes) and MP_RM_DETAIL_OPPS opportunities, NUL included. */
#define MP_RM_JSON_DETAIL_MAX                                                                      \
    (2 * MP_INPUT_PREFIX_MAX + (MP_RM_DETAIL_OPPS + 2) * MP_RM_JSON_ENTITY_MAX)
/* An entity id as text: "0x" + 64 hex digits + NUL for hashes, else its ASCII. */
#define MP_RM_ID_TEXT_MAX (2 * MP_RM_ID_LEN + 3)

/* Writes entity (the struct kind names, see rm_entities.h) as one JSON object, as a
 * value at the writer's current position (top level, array element, or after a key).
 * Returns the writer's sticky error: 0, -ENOSPC when the buffer is too small (the
 * writer then holds a truncated prefix), -EINVAL for an unknown kind or a misplaced
 * value. Fields per kind:
 *  tx (tx.main): id (= hash), seq, hash, chain_id, from, to, nonce, gas_limit,
 *    gas_price, max_fee, max_priority_fee, value, tx_type, protocol, category, method,
 *    selector, status, seen_unix_ms, updated_unix_ms, block_number (only when mined),
 *    replaced_by (only when replaced), input_len.
 *  feature top (feature.main): id ("<protocol>/<category>"), seq, kind "top",
 *    protocol, category, count, rate_60s (transactions in the last 60 s of event
 *    time), gas_sum, value_sum_gwei, first_seen_unix_ms, last_seen_unix_ms, last_tx.
 *  feature recent (feature.main): id (= hash), seq, kind "recent", hash, from, to,
 *    protocol, category, method, selector, value, gas_limit, max_priority_fee,
 *    seen_unix_ms.
 *  opportunity (opportunity.main): id, seq, kind (e.g. "sandwich_candidate"), trigger,
 *    chain_id, protocol, score (0..100), inputs {name: number, ...}, reason,
 *    detected_unix_ms, updated_unix_ms, status ("open", "expired", "mined", "replaced").
 *  chain (chain.main): id ("chain:<chain id>"), seq, chain_id, head_number, head_hash,
 *    base_fee, gas_used, gas_limit, gas_used_ratio, head_time_unix_ms (block
 *    timestamp), head_seen_unix_ms, avg_block_time_ms, pending_count, tx_rate_10s,
 *    tx_rate_60s (transactions seen in the last 10 s / 60 s of event time: counts per
 *    window, like rate_60s; divide for per-second figures), blocks_seen.
 *  fee market (market.main): id ("fees:<chain id>"), seq, kind "fee_market", chain_id,
 *    window_ms, samples, priority_fee {p10, p25, p50, p75, p90}, max_fee {same},
 *    base_fee, next_base_fee, histogram [16 counts], histogram_edges [16 lower edges,
 *    wei; the last bucket is open-ended], updated_unix_ms.
 *  price (market.main): id ("price:<symbol>"), seq, kind "price", symbol, price,
 *    change_1m, ref_price, ref_unix_ms, updated_unix_ms. */
int mp_rm_entity_json(mp_jw_t *jw, mp_rm_kind_t kind, const void *entity);

/* Writes an entity id as a JSON string value: "0x" + 64 hex digits for the hash-keyed
 * kinds (tx, feature recent), else the first id_len bytes as text (ASCII keys such as
 * "uniswap-v2/swap", "fees:1"). The same string as the entity's "id" field, so a remove
 * list names exactly what an upsert carried. Returns the writer's sticky error. */
int mp_rm_id_json(mp_jw_t *jw, mp_rm_kind_t kind, const mp_rm_id_t *id, uint8_t id_len);

/* The same id as NUL-terminated text in out. Returns its length. */
size_t mp_rm_id_text(mp_rm_kind_t kind, const mp_rm_id_t *id, uint8_t id_len,
                     char out[MP_RM_ID_TEXT_MAX]);

/* "pending", "replaced", "dropped", "mined"; "unknown" for other values. */
const char *mp_rm_tx_status_name(unsigned status);

/* Writes a transaction's detail (GET /transactions/{hash}, mempulse-shm tx) as one JSON
 * object: every tx field above, then
 *   method_signature (catalog signature of the decoded method, or null),
 *   input ("0x" hex of the calldata prefix; null when input_len > 0 but the prefix was
 *   evicted from the calldata arena), input_truncated (true when fewer than input_len
 *   bytes are shown), on_tx_main (still among the latest transactions),
 *   history [{status, unix_ms, seq}, ...] oldest first (the last MP_RM_HISTORY changes;
 *   seq is the journal seq the writer recorded with the change, 0 when none),
 *   history_total (changes ever recorded; more than the array when older ones fell out),
 *   opportunities [opportunity objects as above] (candidates this tx triggered).
 * d: a consistent copy (mp_txs_lookup); input/input_copied: the calldata prefix it
 * returned; opps/opp_count: from mp_rm_tx_opportunities (opp_count 0: empty array).
 * Returns the writer's sticky error. */
int mp_rm_detail_json(mp_jw_t *jw, const mp_rm_detail_t *d, const uint8_t *input,
                      uint32_t input_copied, const mp_rm_opportunity_t *opps, unsigned opp_count);

/* Reader: copies the opportunities whose trigger is hash (at most one per kind, found
 * through the opportunity index by their derived ids: O(kinds), no scan) into out
 * (cap entries), in kind order. kinds: bit k set to look for kind k (the detail's
 * opp_kinds; UINT32_MAX for all). Returns how many, or -EAGAIN when the writer kept
 * changing the index (bounded retries; the caller may show none). */
int mp_rm_tx_opportunities(const mp_rm_region_t *rm, const uint8_t hash[MP_HASH_LEN],
                           uint32_t kinds, mp_rm_opportunity_t *out, unsigned cap);

#endif
