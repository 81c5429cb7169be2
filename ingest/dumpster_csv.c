/* mempool-dumpster CSV rows: RFC 4180 field splitting, header -> column layout, and
 * decimal / hex field conversion into mp_tx_seen_t. */
#include "ingest/dumpster_csv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/hex.h"
#include "common/log.h"
#include "ingest/rpc_tx.h"

/* Header names of enum mp_dumpster_col, in its order. */
static const char *const col_names[MP_DCOL_COUNT] = {
    "timestamp_ms", "hash",      "chain_id",    "from",      "to",
    "value",        "nonce",     "gas",         "gas_price", "gas_tip_cap",
    "gas_fee_cap",  "data_size", "data_4bytes", "tx_type",
};

static const enum mp_dumpster_col required_cols[] = {
    MP_DCOL_TIMESTAMP_MS, MP_DCOL_HASH,  MP_DCOL_FROM, MP_DCOL_TO,
    MP_DCOL_VALUE,        MP_DCOL_NONCE, MP_DCOL_GAS,  MP_DCOL_GAS_PRICE,
};

/* One field of a row. For quoted fields p/n cover the text between the quotes with any
 * doubled quotes left in place: no column this parser converts can contain a quote, so
 * such a field fails its conversion instead of needing an unescaped copy. */
typedef struct field {
    const char *p;
    size_t n;
} field_t;

/* Splits a line into at most MP_DUMPSTER_MAX_COLUMNS fields. Returns the field count or
 * -EINVAL. A quoted field may hold commas and doubled quotes; it must be followed by a
 * comma or the line end. A field holding a line break cannot occur: lines arrive split. */
static int split_fields(const char *line, size_t len, field_t *f, char *err, size_t errlen)
{
    size_t i = 0, k = 0;
    for (;;) {
        if (k == MP_DUMPSTER_MAX_COLUMNS)
            return mp_errf(err, errlen, "more than %d columns", MP_DUMPSTER_MAX_COLUMNS);
        if (i < len && line[i] == '"') {
            size_t j = i + 1;
            for (;;) {
                if (j >= len) return mp_errf(err, errlen, "column %zu: unterminated quote", k + 1);
                if (line[j] == '"') {
                    if (j + 1 < len && line[j + 1] == '"') {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j++;
            }
            f[k].p = line + i + 1;
            f[k].n = j - i - 1;
            i = j + 1;
            if (i < len && line[i] != ',')
                return mp_errf(err, errlen, "column %zu: text after closing quote", k + 1);
        } else {
            const char *comma = memchr(line + i, ',', len - i);
            size_t j = comma ? (size_t)(comma - line) : len;
            if (memchr(line + i, '"', j - i))
                return mp_errf(err, errlen, "column %zu: quote inside unquoted field", k + 1);
            f[k].p = line + i;
            f[k].n = j - i;
            i = j;
        }
        k++;
        if (i >= len) return (int)k;
        i++; /* the comma; a comma ending the line opens one last, empty field */
    }
}

bool mp_dumpster_is_header(const char *line, size_t len)
{
    static const char start[] = "timestamp_ms,";
    return len >= sizeof start - 1 && memcmp(line, start, sizeof start - 1) == 0;
}

int mp_dumpster_header_validate(const mp_dumpster_header_t *h)
{
    if (h->ncols == 0 || h->ncols > MP_DUMPSTER_MAX_COLUMNS) return -EINVAL;
    for (int c = 0; c < MP_DCOL_COUNT; c++) {
        if (h->index[c] == MP_DCOL_ABSENT) continue;
        if (h->index[c] >= h->ncols) return -EINVAL;
        for (int d = 0; d < c; d++)
            if (h->index[d] == h->index[c]) return -EINVAL;
    }
    for (size_t r = 0; r < sizeof required_cols / sizeof required_cols[0]; r++)
        if (h->index[required_cols[r]] == MP_DCOL_ABSENT) return -EINVAL;
    return 0;
}

int mp_dumpster_parse_header(mp_dumpster_header_t *h, const char *line, size_t len, char *err,
                             size_t errlen)
{
    field_t f[MP_DUMPSTER_MAX_COLUMNS];
    if (errlen) err[0] = '\0';
    int n = split_fields(line, len, f, err, errlen);
    if (n < 0) return n;
    h->ncols = (uint8_t)n;
    memset(h->index, MP_DCOL_ABSENT, sizeof h->index);
    for (int k = 0; k < n; k++) {
        for (int c = 0; c < MP_DCOL_COUNT; c++) {
            if (strlen(col_names[c]) != f[k].n || memcmp(col_names[c], f[k].p, f[k].n) != 0)
                continue;
            if (h->index[c] != MP_DCOL_ABSENT)
                return mp_errf(err, errlen, "header: column '%s' appears twice", col_names[c]);
            h->index[c] = (uint8_t)k;
        }
    }
    for (size_t r = 0; r < sizeof required_cols / sizeof required_cols[0]; r++)
        if (h->index[required_cols[r]] == MP_DCOL_ABSENT)
            return mp_errf(err, errlen, "header: column '%s' missing", col_names[required_cols[r]]);
    return 0;
}

/* Decimal u64: 1 to 20 digits, nothing else. Returns 0, -EINVAL or -ERANGE. */
static int dec_u64(uint64_t *out, const char *s, size_t n)
{
    if (n == 0) return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -EINVAL;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Decimal u256 into big-endian bytes. Returns 0, -EINVAL or -ERANGE above 2^256-1. */
static int dec_u256(mp_u256_t *out, const char *s, size_t n)
{
    if (n == 0) return -EINVAL;
    memset(out->be, 0, sizeof out->be);
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -EINVAL;
        unsigned carry = (unsigned)(s[i] - '0');
        for (int b = 31; b >= 0; b--) {
            unsigned x = out->be[b] * 10u + carry; /* <= 255 * 10 + 9 */
            out->be[b] = (uint8_t)x;
            carry = x >> 8;
        }
        if (carry) return -ERANGE;
    }
    return 0;
}

/* Row parsing state: the split fields plus the layout, so helpers can name columns. */
typedef struct row {
    const mp_dumpster_header_t *h;
    field_t f[MP_DUMPSTER_MAX_COLUMNS];
    char *err;
    size_t errlen;
} row_t;

/* The column's text; an absent column reads as empty. */
static field_t col(const row_t *r, enum mp_dumpster_col c)
{
    field_t empty = {"", 0};
    return r->h->index[c] == MP_DCOL_ABSENT ? empty : r->f[r->h->index[c]];
}

static int bad(row_t *r, enum mp_dumpster_col c, const char *what)
{
    return mp_errf(r->err, r->errlen, "column '%s': %s", col_names[c], what);
}

static int num_u64(row_t *r, enum mp_dumpster_col c, uint64_t *out)
{
    field_t f = col(r, c);
    int rc = dec_u64(out, f.p, f.n);
    if (rc == -ERANGE) return bad(r, c, "exceeds 64 bits");
    if (rc < 0) return bad(r, c, f.n ? "not a decimal number" : "empty");
    return 0;
}

static int num_u256(row_t *r, enum mp_dumpster_col c, mp_u256_t *out)
{
    field_t f = col(r, c);
    int rc = dec_u256(out, f.p, f.n);
    if (rc == -ERANGE) return bad(r, c, "exceeds 256 bits");
    if (rc < 0) return bad(r, c, f.n ? "not a decimal number" : "empty");
    return 0;
}

/* A fee column: empty leaves *out and reports absence through *present. */
static int fee(row_t *r, enum mp_dumpster_col c, uint64_t *out, bool *present)
{
    mp_u256_t v;
    *present = col(r, c).n > 0;
    if (!*present) return 0;
    int rc = num_u256(r, c, &v);
    if (rc == 0) *out = mp_rpc_u256_saturate(&v);
    return rc;
}

static int bytes(row_t *r, enum mp_dumpster_col c, uint8_t *out, size_t n)
{
    field_t f = col(r, c);
    if (mp_hex_decode_fixed(out, n, f.p, f.n) < 0)
        return bad(r, c, f.n ? "not the expected hex bytes" : "empty");
    return 0;
}

int mp_dumpster_parse_row(const mp_dumpster_header_t *h, const char *line, size_t len,
                          uint64_t default_chain_id, mp_tx_seen_t *tx, uint8_t *input_buf,
                          uint64_t *time_ms, char *err, size_t errlen)
{
    row_t r = {.h = h, .err = err, .errlen = errlen};
    int rc;
    if (errlen) err[0] = '\0';
    memset(tx, 0, sizeof *tx);

    int n = split_fields(line, len, r.f, err, errlen);
    if (n < 0) return n;
    if (n != h->ncols)
        return mp_errf(err, errlen, "row has %d columns, header has %u", n, (unsigned)h->ncols);

    if ((rc = num_u64(&r, MP_DCOL_TIMESTAMP_MS, time_ms))) return rc;
    if ((rc = bytes(&r, MP_DCOL_HASH, tx->hash, MP_HASH_LEN))) return rc;
    tx->chain_id = default_chain_id;
    if (col(&r, MP_DCOL_CHAIN_ID).n && (rc = num_u64(&r, MP_DCOL_CHAIN_ID, &tx->chain_id)))
        return rc;
    if ((rc = bytes(&r, MP_DCOL_FROM, tx->from, MP_ADDR_LEN))) return rc;
    tx->has_to = col(&r, MP_DCOL_TO).n > 0;
    if (tx->has_to && (rc = bytes(&r, MP_DCOL_TO, tx->to, MP_ADDR_LEN))) return rc;
    if ((rc = num_u256(&r, MP_DCOL_VALUE, &tx->value))) return rc;
    if ((rc = num_u64(&r, MP_DCOL_NONCE, &tx->nonce))) return rc;
    if ((rc = num_u64(&r, MP_DCOL_GAS, &tx->gas_limit))) return rc;

    uint64_t tip = 0, cap = 0, type = 0;
    bool has_price, has_tip, has_cap;
    if ((rc = fee(&r, MP_DCOL_GAS_PRICE, &tx->gas_price, &has_price))) return rc;
    if ((rc = fee(&r, MP_DCOL_GAS_TIP_CAP, &tip, &has_tip))) return rc;
    if ((rc = fee(&r, MP_DCOL_GAS_FEE_CAP, &cap, &has_cap))) return rc;
    if (col(&r, MP_DCOL_TX_TYPE).n) {
        if ((rc = num_u64(&r, MP_DCOL_TX_TYPE, &type))) return rc;
        if (type > UINT8_MAX) return bad(&r, MP_DCOL_TX_TYPE, "above 255");
    } else {
        /* Older files: geth reports tip cap = fee cap = gas price for legacy txs, so a
         * lower tip cap can only come from a dynamic-fee tx. */
        type = has_tip && has_cap && tip < cap ? 2 : 0;
    }
    tx->tx_type = (uint8_t)type;
    if (type <= 1) {
        if (!has_price) return bad(&r, MP_DCOL_GAS_PRICE, "empty");
    } else {
        tx->max_fee = cap;
        tx->max_priority_fee = tip;
        if (!has_price) tx->gas_price = cap;
    }

    uint64_t size = 0;
    field_t sel = col(&r, MP_DCOL_DATA_4BYTES);
    size_t sel_len = 0;
    if (sel.n) {
        if (mp_hex_decode_prefix(input_buf, MP_DUMPSTER_SELECTOR_LEN, &sel_len, sel.p, sel.n) < 0)
            return bad(&r, MP_DCOL_DATA_4BYTES, "not hex bytes");
        if (sel_len > MP_DUMPSTER_SELECTOR_LEN)
            return bad(&r, MP_DCOL_DATA_4BYTES, "more than 4 bytes");
    }
    if (col(&r, MP_DCOL_DATA_SIZE).n) {
        if ((rc = num_u64(&r, MP_DCOL_DATA_SIZE, &size))) return rc;
        if (size > UINT32_MAX) return bad(&r, MP_DCOL_DATA_SIZE, "above 4 GiB");
    } else {
        size = sel_len;
    }
    tx->input_len = (uint32_t)size;
    tx->input_prefix_len = (uint32_t)(sel_len < size ? sel_len : size);
    tx->input_prefix = input_buf;
    return 0;
}
