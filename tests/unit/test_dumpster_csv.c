/* mempool-dumpster CSV: header layout, row conversion, RFC 4180 quoting, and errors that
 * name the column. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ingest/dumpster_csv.h"

#define HASH "0x55fd7e4e5c8f5ae25e7f5a2c1b8c4f59d3b0c1a6e7f8091a2b3c4d5e6f708192"
#define FROM "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define TO "0x7a250d5630b4cf539739df2c5dacb4c659f2488d"

/* A type-2 swap as mempool-dumpster writes it (sources space-separated). */
static const char row_type2[] =
    "1693785600123," HASH ",1," FROM "," TO ",1000000000000000000,42,250000,"
    "30000000000,1500000000,30000000000,260,0x7ff36ab5,bloxroute chainbound,18065432,"
    "1693785612000,11877,2";

static mp_dumpster_header_t hdr;
static mp_tx_seen_t tx;
static uint8_t input[MP_INPUT_PREFIX_MAX];
static char err[MP_DUMPSTER_ERR_MAX];
static uint64_t ms;

static void canonical_header(void)
{
    cr_assert_eq(mp_dumpster_parse_header(&hdr, MP_DUMPSTER_HEADER, strlen(MP_DUMPSTER_HEADER), err,
                                          sizeof err),
                 0, "%s", err);
}

static int row(const char *line)
{
    return mp_dumpster_parse_row(&hdr, line, strlen(line), 1, &tx, input, &ms, err, sizeof err);
}

/* row_type2 with column `col` (0-based) replaced by `value`. */
static int row_with(int col, const char *value)
{
    char line[1024];
    size_t len = 0;
    const char *p = row_type2;
    for (int c = 0;; c++) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (c) line[len++] = ',';
        if (c == col)
            len += (size_t)snprintf(line + len, sizeof line - len, "%s", value);
        else
            len += (size_t)snprintf(line + len, sizeof line - len, "%.*s", (int)n, p);
        if (!comma) break;
        p = comma + 1;
    }
    return row(line);
}

static void expect_column_error(int rc, const char *column)
{
    char quoted[64];
    snprintf(quoted, sizeof quoted, "'%s'", column);
    cr_assert_eq(rc, -EINVAL, "column %s: rc %d", column, rc);
    cr_assert_not_null(strstr(err, quoted), "message \"%s\" does not name %s", err, column);
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = x << 8 | p[i];
    return x;
}

TestSuite(dumpster_csv, .init = canonical_header);

Test(dumpster_csv, detects_header_line)
{
    cr_assert(mp_dumpster_is_header(MP_DUMPSTER_HEADER, strlen(MP_DUMPSTER_HEADER)));
    cr_assert_not(mp_dumpster_is_header(row_type2, strlen(row_type2)));
    cr_assert_not(mp_dumpster_is_header("timestamp_ms", 12));
}

Test(dumpster_csv, canonical_header_maps_columns_in_order)
{
    cr_assert_eq(hdr.ncols, 18);
    cr_assert_eq(hdr.index[MP_DCOL_TIMESTAMP_MS], 0);
    cr_assert_eq(hdr.index[MP_DCOL_DATA_4BYTES], 12);
    cr_assert_eq(hdr.index[MP_DCOL_TX_TYPE], 17);
    cr_assert_eq(mp_dumpster_header_validate(&hdr), 0);
}

Test(dumpster_csv, header_missing_required_column_is_named)
{
    const char *h = "timestamp_ms,hash,chain_id,from,to,value,gas,gas_price";
    expect_column_error(mp_dumpster_parse_header(&hdr, h, strlen(h), err, sizeof err), "nonce");
}

Test(dumpster_csv, header_duplicate_column_is_named)
{
    const char *h = "timestamp_ms,hash,from,to,value,nonce,gas,gas_price,hash";
    expect_column_error(mp_dumpster_parse_header(&hdr, h, strlen(h), err, sizeof err), "hash");
}

Test(dumpster_csv, parses_type2_row)
{
    cr_assert_eq(row(row_type2), 0, "%s", err);
    cr_assert_eq(ms, 1693785600123u);
    cr_assert_eq(tx.chain_id, 1);
    cr_assert_eq(tx.hash[0], 0x55);
    cr_assert_eq(tx.from[19], 0x66);
    cr_assert(tx.has_to);
    cr_assert_eq(tx.to[0], 0x7a);
    cr_assert_eq(be64(tx.value.be + 24), 1000000000000000000u);
    cr_assert_eq(tx.nonce, 42);
    cr_assert_eq(tx.gas_limit, 250000);
    cr_assert_eq(tx.gas_price, 30000000000u);
    cr_assert_eq(tx.max_fee, 30000000000u);
    cr_assert_eq(tx.max_priority_fee, 1500000000u);
    cr_assert_eq(tx.tx_type, 2);
}

Test(dumpster_csv, selector_becomes_four_byte_input_prefix)
{
    cr_assert_eq(row(row_type2), 0, "%s", err);
    cr_assert_eq(tx.input_len, 260);
    cr_assert_eq(tx.input_prefix_len, 4);
    cr_assert_eq(tx.input_prefix, input);
    cr_assert_eq(memcmp(input, "\x7f\xf3\x6a\xb5", 4), 0);
}

Test(dumpster_csv, empty_selector_gives_empty_prefix)
{
    cr_assert_eq(row_with(12, ""), 0, "%s", err);
    cr_assert_eq(tx.input_prefix_len, 0);
    cr_assert_eq(tx.input_len, 260 /* data_size of the row left untouched */);
}

Test(dumpster_csv, prefix_never_exceeds_data_size)
{
    char line[1024];
    snprintf(line, sizeof line,
             "1," HASH ",1," FROM "," TO ",0,0,21000,1,1,1,2,0xa9059cbb,,0,0,0,0");
    cr_assert_eq(row(line), 0, "%s", err);
    cr_assert_eq(tx.input_len, 2);
    cr_assert_eq(tx.input_prefix_len, 2);
}

Test(dumpster_csv, selector_longer_than_four_bytes_is_rejected)
{
    expect_column_error(row_with(12, "0xa9059cbb00"), "data_4bytes");
}

Test(dumpster_csv, legacy_row_has_no_1559_fees)
{
    cr_assert_eq(row_with(17, "0"), 0, "%s", err);
    cr_assert_eq(tx.tx_type, 0);
    cr_assert_eq(tx.gas_price, 30000000000u);
    cr_assert_eq(tx.max_fee, 0);
    cr_assert_eq(tx.max_priority_fee, 0);
}

Test(dumpster_csv, empty_to_is_contract_creation)
{
    cr_assert_eq(row_with(4, ""), 0, "%s", err);
    cr_assert_not(tx.has_to);
    for (int i = 0; i < MP_ADDR_LEN; i++)
        cr_assert_eq(tx.to[i], 0);
}

Test(dumpster_csv, empty_chain_id_takes_default)
{
    char line[1024];
    snprintf(line, sizeof line, "%s", row_type2);
    char *c = strstr(line, ",1,0x");
    memmove(c + 1, c + 2, strlen(c + 2) + 1); /* drop the chain id digit */
    cr_assert_eq(
        mp_dumpster_parse_row(&hdr, line, strlen(line), 137, &tx, input, &ms, err, sizeof err), 0,
        "%s", err);
    cr_assert_eq(tx.chain_id, 137);
}

Test(dumpster_csv, hex_without_0x_is_accepted)
{
    cr_assert_eq(row_with(1, &HASH[2]), 0, "%s", err);
    cr_assert_eq(tx.hash[31], 0x92);
}

Test(dumpster_csv, max_u256_decimal_value_parses)
{
    cr_assert_eq(row_with(5, "11579208923731619542357098500868790785326998466564056403945758400"
                             "7913129639935"),
                 0, "%s", err);
    for (int i = 0; i < 32; i++)
        cr_assert_eq(tx.value.be[i], 0xff);
}

Test(dumpster_csv, value_above_u256_is_rejected)
{
    expect_column_error(row_with(5, "11579208923731619542357098500868790785326998466564056403945"
                                    "7584007913129639936"),
                        "value");
}

Test(dumpster_csv, fees_above_u64_saturate)
{
    cr_assert_eq(row_with(10, "18446744073709551616"), 0, "%s", err);
    cr_assert_eq(tx.max_fee, UINT64_MAX);
    cr_assert_eq(row_with(9, "18446744073709551615"), 0, "%s", err);
    cr_assert_eq(tx.max_priority_fee, UINT64_MAX);
}

Test(dumpster_csv, bad_number_names_its_column)
{
    expect_column_error(row_with(6, "12a"), "nonce");
    expect_column_error(row_with(7, "-1"), "gas");
    expect_column_error(row_with(0, ""), "timestamp_ms");
    expect_column_error(row_with(6, "18446744073709551616"), "nonce");
    expect_column_error(row_with(17, "256"), "tx_type");
    expect_column_error(row_with(3, "0x1234"), "from");
    expect_column_error(row_with(4, "0xnothex"), "to");
}

Test(dumpster_csv, quoted_field_may_hold_commas_and_quotes)
{
    cr_assert_eq(row_with(13, "\"bloxroute,chainbound \"\"x\"\"\""), 0, "%s", err);
    cr_assert_eq(tx.nonce, 42);
}

Test(dumpster_csv, quoted_numeric_field_parses)
{
    cr_assert_eq(row_with(6, "\"7\""), 0, "%s", err);
    cr_assert_eq(tx.nonce, 7);
}

Test(dumpster_csv, unterminated_quote_is_rejected)
{
    cr_assert_eq(row_with(13, "\"bloxroute"), -EINVAL);
    cr_assert_not_null(strstr(err, "quote"), "%s", err);
}

Test(dumpster_csv, text_after_closing_quote_is_rejected)
{
    cr_assert_eq(row_with(13, "\"a\"b"), -EINVAL);
    cr_assert_not_null(strstr(err, "column 14"), "%s", err);
}

Test(dumpster_csv, wrong_column_count_is_rejected)
{
    char line[1024];
    snprintf(line, sizeof line, "%s,extra", row_type2);
    cr_assert_eq(row(line), -EINVAL);
    cr_assert_not_null(strstr(err, "19 columns"), "%s", err);
    cr_assert_eq(row("1,2,3"), -EINVAL);
}

Test(dumpster_csv, reordered_header_is_followed)
{
    const char *h = "hash,timestamp_ms,from,to,value,nonce,gas,gas_price,note";
    cr_assert_eq(mp_dumpster_parse_header(&hdr, h, strlen(h), err, sizeof err), 0, "%s", err);
    char line[512];
    snprintf(line, sizeof line,
             HASH ",77," FROM ",,"
                  "5,3,21000,9,\"free, text\"");
    cr_assert_eq(row(line), 0, "%s", err);
    cr_assert_eq(ms, 77);
    cr_assert_eq(tx.nonce, 3);
    cr_assert_eq(tx.gas_price, 9);
    cr_assert_not(tx.has_to);
    cr_assert_eq(tx.input_len, 0);
}

Test(dumpster_csv, missing_tx_type_column_infers_dynamic_fee_from_caps)
{
    const char *h = "timestamp_ms,hash,chain_id,from,to,value,nonce,gas,gas_price,gas_tip_cap,"
                    "gas_fee_cap,data_size,data_4bytes,sources,included_at_block_height,"
                    "included_block_timestamp_ms,inclusion_delay_ms";
    cr_assert_eq(mp_dumpster_parse_header(&hdr, h, strlen(h), err, sizeof err), 0, "%s", err);
    char line[512];
    snprintf(line, sizeof line, "1," HASH ",1," FROM "," TO ",0,1,21000,50,2,50,0,,,0,0,0");
    cr_assert_eq(row(line), 0, "%s", err);
    cr_assert_eq(tx.tx_type, 2);
    cr_assert_eq(tx.max_priority_fee, 2);
    snprintf(line, sizeof line, "1," HASH ",1," FROM "," TO ",0,1,21000,50,50,50,0,,,0,0,0");
    cr_assert_eq(row(line), 0, "%s", err);
    cr_assert_eq(tx.tx_type, 0);
    cr_assert_eq(tx.max_fee, 0);
}

Test(dumpster_csv, validate_rejects_corrupt_layout)
{
    mp_dumpster_header_t h = hdr;
    h.index[MP_DCOL_HASH] = 40; /* beyond ncols */
    cr_assert_eq(mp_dumpster_header_validate(&h), -EINVAL);
    h = hdr;
    h.index[MP_DCOL_NONCE] = h.index[MP_DCOL_GAS];
    cr_assert_eq(mp_dumpster_header_validate(&h), -EINVAL);
    h = hdr;
    h.index[MP_DCOL_FROM] = MP_DCOL_ABSENT;
    cr_assert_eq(mp_dumpster_header_validate(&h), -EINVAL);
}
