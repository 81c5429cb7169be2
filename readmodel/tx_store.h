/* Transactions in the read model: the tx_detail_index (hash -> compact detail, bounded
 * by count with CLOCK eviction, by event-time TTL, and by calldata bytes) and tx_ring,
 * the latest transactions that make up tx.main. Writer operations emit their deltas;
 * reader operations copy consistently under seqlocks. */
#ifndef MP_RM_TX_STORE_H
#define MP_RM_TX_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/eth_catalog.h"
#include "readmodel/rm_region.h"
#include "readmodel/rm_writer.h"

/* Writer: records a newly seen transaction (detail, calldata, tx.main upsert, and the
 * removes of whatever it evicts). A hash already known is left alone (returns 1).
 * Returns 0 when added. */
int mp_txs_on_seen(mp_rm_writer_t *w, const mp_tx_seen_t *tx, const mp_classification_t *c,
                   uint64_t time_ns);

/* Writer: a status change (replaced, dropped, mined). Records it in the detail's history;
 * on tx.main a replaced tx is upserted with its new status, a dropped or mined one
 * removed. *opp_kinds (optional) gets the kinds of opportunities it triggered. Returns
 * the status the tx had before, or -ENOENT when unknown. */
int mp_txs_set_status(mp_rm_writer_t *w, const uint8_t hash[MP_HASH_LEN], mp_rm_tx_status_t status,
                      uint64_t time_ns, uint64_t block_number, const uint8_t *replaced_by,
                      uint32_t *opp_kinds);

/* Writer: notes that an opportunity of kind was filed with hash as its trigger, so status
 * changes of that tx find it without probing every kind. */
void mp_txs_mark_opportunity(mp_rm_writer_t *w, const uint8_t hash[MP_HASH_LEN], unsigned kind);

/* Writer: expires details older than the TTL, examining a bounded number per call. */
void mp_txs_on_tick(mp_rm_writer_t *w, uint64_t now_ns);

/* Writer: a copy of the detail of hash. Returns 0 or -ENOENT. */
int mp_txs_get(const mp_rm_region_t *rm, const uint8_t hash[MP_HASH_LEN], mp_rm_detail_t *out);

/* Pending transactions currently tracked for chain_id (details with status pending). */
uint64_t mp_txs_pending(const mp_rm_region_t *rm, uint64_t chain_id);

/* Reader: copies the detail of hash and up to cap bytes of its calldata prefix
 * (*input_len gets the bytes copied; 0 when evicted from the arena). Returns 0, -ENOENT,
 * or -EAGAIN when the writer kept changing it (bounded retries). */
int mp_txs_lookup(const mp_rm_region_t *rm, const uint8_t hash[MP_HASH_LEN], mp_rm_detail_t *out,
                  uint8_t *input, uint32_t cap, uint32_t *input_len);

#endif
