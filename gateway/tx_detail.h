/* GET /transactions/{hash}, independent of HTTP: the hash in the path and the detail
 * JSON (rm_json's encoding) of an entry of tx_detail_index with its linked
 * opportunities. One O(1) index lookup per request, no scan. */
#ifndef MP_GW_TX_DETAIL_H
#define MP_GW_TX_DETAIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/event.h"
#include "readmodel/rm_json.h"
#include "readmodel/rm_region.h"

/* Output room that always suffices for mp_gw_tx_detail_json. */
#define MP_GW_TX_DETAIL_MAX MP_RM_JSON_DETAIL_MAX

/* Parses text of exactly "0x" + 64 hex digits (either case, "0X" too) into hash.
 * Returns 0 or -EINVAL. */
int mp_gw_tx_hash_parse(const char *text, size_t len, uint8_t hash[MP_HASH_LEN]);

/* Writes the detail of hash as JSON into out (cap >= MP_GW_TX_DETAIL_MAX, NUL-terminated).
 * Returns its length; -ENOENT when the hash is unknown or evicted; -EAGAIN when the writer
 * kept changing the entry through every retry (the caller answers 503). */
ssize_t mp_gw_tx_detail_json(const mp_rm_region_t *rm, const uint8_t hash[MP_HASH_LEN], char *out,
                             size_t cap);

#endif
