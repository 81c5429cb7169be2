/* Flashbots mempool-dumpster transaction CSV (one row per pending tx, header
 * timestamp_ms,hash,chain_id,from,...,tx_type) -> mp_tx_seen_t. RFC 4180 quoting. */
#ifndef MP_DUMPSTER_CSV_H
#define MP_DUMPSTER_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/event.h"

/* The header mempool-dumpster writes (tx_type was added later; older files lack it). */
#define MP_DUMPSTER_HEADER                                                                         \
    "timestamp_ms,hash,chain_id,from,to,value,nonce,gas,gas_price,gas_tip_cap,gas_fee_cap,"        \
    "data_size,data_4bytes,sources,included_at_block_height,included_block_timestamp_ms,"          \
    "inclusion_delay_ms,tx_type"

/* Rows and headers with more columns are rejected. */
#define MP_DUMPSTER_MAX_COLUMNS 64
#define MP_DUMPSTER_ERR_MAX 160
/* Caller's input buffer must hold this much: the CSV carries only the selector. */
#define MP_DUMPSTER_SELECTOR_LEN 4

/* The columns this parser reads; the others (sources, inclusion data) are skipped. */
enum mp_dumpster_col {
    MP_DCOL_TIMESTAMP_MS,
    MP_DCOL_HASH,
    MP_DCOL_CHAIN_ID,
    MP_DCOL_FROM,
    MP_DCOL_TO,
    MP_DCOL_VALUE,
    MP_DCOL_NONCE,
    MP_DCOL_GAS,
    MP_DCOL_GAS_PRICE,
    MP_DCOL_GAS_TIP_CAP,
    MP_DCOL_GAS_FEE_CAP,
    MP_DCOL_DATA_SIZE,
    MP_DCOL_DATA_4BYTES,
    MP_DCOL_TX_TYPE,
    MP_DCOL_COUNT
};

#define MP_DCOL_ABSENT 0xff

/* Where each known column sits in a row, learned from the header, so files with
 * reordered or extra columns parse too. Plain bytes: it is saved in checkpoints. */
typedef struct mp_dumpster_header {
    uint8_t ncols;                /* columns per row, <= MP_DUMPSTER_MAX_COLUMNS */
    uint8_t index[MP_DCOL_COUNT]; /* row index of each column, MP_DCOL_ABSENT if missing */
} mp_dumpster_header_t;

/* True when the line starts like a mempool-dumpster header ("timestamp_ms,"). */
bool mp_dumpster_is_header(const char *line, size_t len);

/* Learns the column layout from a header line. timestamp_ms, hash, from, to, value,
 * nonce, gas and gas_price must be present; unknown column names are ignored.
 * Returns 0, or -EINVAL with a message naming the missing or duplicated column. */
int mp_dumpster_parse_header(mp_dumpster_header_t *h, const char *line, size_t len, char *err,
                             size_t errlen);

/* Checks a layout restored from elsewhere (a checkpoint). Returns 0 or -EINVAL. */
int mp_dumpster_header_validate(const mp_dumpster_header_t *h);

/* Parses one data row laid out as h says. Numbers are decimal (value and fees up to 256
 * bits; fees above 2^64-1 saturate at UINT64_MAX; nonce, gas, chain id, timestamp fit
 * 64 bits); hashes and addresses hex, "0x" optional. Empty `to`: contract creation.
 * Empty chain_id: default_chain_id. tx_type empty or absent: 2 when gas_tip_cap <
 * gas_fee_cap, else 0 (older files). For types 0 and 1 max_fee and max_priority_fee are
 * 0; for the others they come from gas_fee_cap and gas_tip_cap (empty gas_price then
 * defaults to gas_fee_cap). data_4bytes (empty or up to 4 hex bytes) goes into
 * input_buf (>= MP_DUMPSTER_SELECTOR_LEN bytes, caller-owned) as the input prefix,
 * input_len = data_size, and the prefix never exceeds data_size. *time_ms receives
 * timestamp_ms. tx->source is left 0 for the caller.
 * Returns 0, or -EINVAL with a message naming the column in err. */
int mp_dumpster_parse_row(const mp_dumpster_header_t *h, const char *line, size_t len,
                          uint64_t default_chain_id, mp_tx_seen_t *tx, uint8_t *input_buf,
                          uint64_t *time_ms, char *err, size_t errlen);

#endif
