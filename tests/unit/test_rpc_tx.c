/* JSON-RPC transaction object parsing: the shapes nodes send, limits, and errors that
 * name the offending field. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/rpc_tx.h"

#define HASH "0x55fd7e4e5c8f5ae25e7f5a2c1b8c4f59d3b0c1a6e7f8091a2b3c4d5e6f708192"
#define FROM "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define TO "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"

/* The anvil notification's result from ethereum.md, with its elided values filled. */
static const char anvil_type2[] =
    "{\"type\":\"0x2\",\"chainId\":\"0x7a69\",\"nonce\":\"0x0\",\"gas\":\"0x52a8\","
    "\"maxFeePerGas\":\"0x77359400\",\"maxPriorityFeePerGas\":\"0x3b9aca00\",\"to\":\"" TO "\","
    "\"value\":\"0x1\",\"accessList\":[],\"input\":\"0xa9059cbb\",\"r\":\"0x1\",\"s\":\"0x2\","
    "\"yParity\":\"0x0\",\"v\":\"0x0\",\"hash\":\"" HASH "\",\"blockHash\":null,"
    "\"blockNumber\":null,\"transactionIndex\":null,\"from\":\"" FROM "\","
    "\"gasPrice\":\"0x77359400\"}";

static const char legacy[] =
    "{\"type\":\"0x0\",\"nonce\":\"0x1f\",\"gas\":\"0x5208\",\"gasPrice\":\"0x4a817c800\","
    "\"to\":\"" TO "\",\"value\":\"0xde0b6b3a7640000\",\"input\":\"0x\",\"hash\":\"" HASH "\","
    "\"from\":\"" FROM "\",\"chainId\":\"0x1\"}";

static mp_tx_seen_t tx;
static uint8_t input[MP_INPUT_PREFIX_MAX];
static char err[MP_RPC_TX_ERR_MAX];

static int parse(const char *text)
{
    return mp_rpc_tx_parse(text, strlen(text), 1, &tx, input, err, sizeof err);
}

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    cr_assert_not_null(o, "fixture JSON: %s", je.text);
    return o;
}

/* Parses obj after setting (or, with value NULL, deleting) one field. */
static int parse_with(const char *base, const char *field, json_t *value)
{
    json_t *o = load(base);
    if (value)
        json_object_set_new(o, field, value);
    else
        json_object_del(o, field);
    int rc = mp_rpc_tx_from_json(o, 1, &tx, input, err, sizeof err);
    json_decref(o);
    return rc;
}

static void expect_field_error(int rc, const char *field)
{
    char quoted[64];
    snprintf(quoted, sizeof quoted, "'%s'", field);
    cr_assert_eq(rc, -EINVAL, "field %s: rc %d", field, rc);
    cr_assert_not_null(strstr(err, quoted), "message \"%s\" does not name %s", err, field);
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = x << 8 | p[i];
    return x;
}

Test(rpc_tx, parses_anvil_type2_object)
{
    cr_assert_eq(parse(anvil_type2), 0, "%s", err);
    cr_assert_eq(tx.tx_type, 2);
    cr_assert_eq(tx.chain_id, 31337);
    cr_assert_eq(tx.nonce, 0);
    cr_assert_eq(tx.gas_limit, 0x52a8);
    cr_assert_eq(tx.max_fee, 2000000000u);
    cr_assert_eq(tx.max_priority_fee, 1000000000u);
    cr_assert_eq(tx.gas_price, 2000000000u);
    cr_assert(tx.has_to);
    cr_assert_eq(tx.to[0], 0x70);
    cr_assert_eq(tx.to[19], 0xc8);
    cr_assert_eq(tx.from[0], 0xf3);
    cr_assert_eq(tx.hash[0], 0x55);
    cr_assert_eq(tx.hash[31], 0x92);
    cr_assert_eq(be64(tx.value.be + 24), 1);
    cr_assert_eq(tx.input_len, 4);
    cr_assert_eq(tx.input_prefix_len, 4);
    cr_assert_eq(tx.input_prefix, input);
    cr_assert_eq(memcmp(tx.input_prefix, "\xa9\x05\x9c\xbb", 4), 0);
}

Test(rpc_tx, parses_legacy_type0_without_1559_fees)
{
    cr_assert_eq(parse(legacy), 0, "%s", err);
    cr_assert_eq(tx.tx_type, 0);
    cr_assert_eq(tx.nonce, 0x1f);
    cr_assert_eq(tx.gas_price, 20000000000u);
    cr_assert_eq(tx.max_fee, 0);
    cr_assert_eq(tx.max_priority_fee, 0);
    cr_assert_eq(be64(tx.value.be + 24), 1000000000000000000u);
    cr_assert_eq(tx.input_len, 0);
    cr_assert_eq(tx.input_prefix_len, 0);
}

Test(rpc_tx, absent_type_means_legacy)
{
    cr_assert_eq(parse_with(legacy, "type", NULL), 0, "%s", err);
    cr_assert_eq(tx.tx_type, 0);
}

Test(rpc_tx, absent_chain_id_takes_default)
{
    json_t *o = load(legacy);
    json_object_del(o, "chainId");
    cr_assert_eq(mp_rpc_tx_from_json(o, 8453, &tx, input, err, sizeof err), 0, "%s", err);
    cr_assert_eq(tx.chain_id, 8453);
    json_decref(o);
}

Test(rpc_tx, null_to_is_contract_creation)
{
    cr_assert_eq(parse_with(legacy, "to", json_null()), 0, "%s", err);
    cr_assert_not(tx.has_to);
    for (int i = 0; i < MP_ADDR_LEN; i++)
        cr_assert_eq(tx.to[i], 0);
}

Test(rpc_tx, absent_to_is_contract_creation)
{
    cr_assert_eq(parse_with(legacy, "to", NULL), 0, "%s", err);
    cr_assert_not(tx.has_to);
}

Test(rpc_tx, max_u256_value_fills_all_bytes)
{
    char hex[67] = "0x";
    memset(hex + 2, 'f', 64);
    hex[66] = '\0';
    cr_assert_eq(parse_with(legacy, "value", json_string(hex)), 0, "%s", err);
    for (int i = 0; i < 32; i++)
        cr_assert_eq(tx.value.be[i], 0xff);
}

Test(rpc_tx, value_above_256_bits_is_rejected)
{
    char hex[68] = "0x1";
    memset(hex + 3, '0', 64);
    hex[67] = '\0';
    expect_field_error(parse_with(legacy, "value", json_string(hex)), "value");
}

Test(rpc_tx, leading_zeros_in_quantity_are_tolerated)
{
    cr_assert_eq(parse_with(legacy, "nonce", json_string("0x0000000000000000000000005")), 0, "%s",
                 err);
    cr_assert_eq(tx.nonce, 5);
}

Test(rpc_tx, oversized_input_is_truncated_keeping_full_length)
{
    size_t n = MP_INPUT_PREFIX_MAX + 904; /* bytes */
    char *hex = malloc(2 * n + 3);
    hex[0] = '0';
    hex[1] = 'x';
    for (size_t i = 0; i < n; i++)
        sprintf(hex + 2 + 2 * i, "%02x", (unsigned)(i & 0xff));
    cr_assert_eq(parse_with(anvil_type2, "input", json_string(hex)), 0, "%s", err);
    free(hex);
    cr_assert_eq(tx.input_len, n);
    cr_assert_eq(tx.input_prefix_len, MP_INPUT_PREFIX_MAX);
    for (size_t i = 0; i < MP_INPUT_PREFIX_MAX; i++)
        cr_assert_eq(input[i], (uint8_t)(i & 0xff), "byte %zu", i);
}

Test(rpc_tx, data_is_read_when_input_is_absent)
{
    json_t *o = load(anvil_type2);
    json_object_del(o, "input");
    json_object_set_new(o, "data", json_string("0x095ea7b3ff"));
    cr_assert_eq(mp_rpc_tx_from_json(o, 1, &tx, input, err, sizeof err), 0, "%s", err);
    cr_assert_eq(tx.input_len, 5);
    cr_assert_eq(memcmp(input, "\x09\x5e\xa7\xb3\xff", 5), 0);
    json_decref(o);
}

Test(rpc_tx, missing_required_field_is_named)
{
    static const char *const fields[] = {"hash", "from", "nonce", "gas", "value", "input"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        expect_field_error(parse_with(anvil_type2, fields[i], NULL), fields[i]);
}

Test(rpc_tx, malformed_field_is_named)
{
    static const struct {
        const char *field, *value;
    } cases[] = {
        {"hash", "0x1234"},  /* too short */
        {"hash", HASH "00"}, /* too long */
        {"from", "0xzz9fd6e51aad88f6f4ce6ab8827279cfffb92266"},
        {"to", "f39fd6e51aad88f6f4ce6ab8827279cfffb92266"}, /* no 0x */
        {"nonce", "12"},                                    /* decimal, no 0x */
        {"nonce", "0x"},                                    /* no digits */
        {"gas", "0xg1"},
        {"value", "0x-1"},
        {"input", "0xabc"}, /* odd digit count */
        {"type", "0x1ff"},  /* above a byte */
        {"chainId", "0x"},
        {"maxFeePerGas", "1"},
        {"maxPriorityFeePerGas", "0xq"},
        {"gasPrice", "0x1.5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_field_error(parse_with(anvil_type2, cases[i].field, json_string(cases[i].value)),
                           cases[i].field);
}

Test(rpc_tx, non_string_field_is_named)
{
    expect_field_error(parse_with(anvil_type2, "nonce", json_integer(3)), "nonce");
    expect_field_error(parse_with(anvil_type2, "to", json_true()), "to");
}

Test(rpc_tx, nonce_above_64_bits_is_rejected)
{
    expect_field_error(parse_with(anvil_type2, "nonce", json_string("0x10000000000000000")),
                       "nonce");
    cr_assert_not_null(strstr(err, "64 bits"), "%s", err);
}

Test(rpc_tx, type2_requires_both_max_fees)
{
    expect_field_error(parse_with(anvil_type2, "maxFeePerGas", NULL), "maxFeePerGas");
    expect_field_error(parse_with(anvil_type2, "maxPriorityFeePerGas", NULL),
                       "maxPriorityFeePerGas");
}

Test(rpc_tx, legacy_requires_gas_price)
{
    expect_field_error(parse_with(legacy, "gasPrice", NULL), "gasPrice");
}

Test(rpc_tx, type2_gas_price_defaults_to_max_fee)
{
    cr_assert_eq(parse_with(anvil_type2, "gasPrice", NULL), 0, "%s", err);
    cr_assert_eq(tx.gas_price, 2000000000u);
}

Test(rpc_tx, fees_above_u64_saturate)
{
    json_t *o = load(anvil_type2);
    json_object_set_new(o, "maxFeePerGas", json_string("0x10000000000000000"));
    json_object_set_new(o, "gasPrice",
                        json_string("0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
                                    "ffff"));
    json_object_set_new(o, "maxPriorityFeePerGas", json_string("0xffffffffffffffff"));
    cr_assert_eq(mp_rpc_tx_from_json(o, 1, &tx, input, err, sizeof err), 0, "%s", err);
    cr_assert_eq(tx.max_fee, UINT64_MAX);
    cr_assert_eq(tx.gas_price, UINT64_MAX);
    cr_assert_eq(tx.max_priority_fee, UINT64_MAX); /* exactly 2^64-1 fits */
    json_decref(o);
}

Test(rpc_tx, non_object_json_is_rejected)
{
    cr_assert_eq(parse("[1,2,3]"), -EINVAL);
    cr_assert_not_null(strstr(err, "not a JSON object"), "%s", err);
    cr_assert_eq(parse("\"0xabc\""), -EINVAL);
    cr_assert_eq(parse("null"), -EINVAL);
}

Test(rpc_tx, invalid_json_is_bad_message)
{
    cr_assert_eq(parse("{\"hash\": "), -EBADMSG);
    cr_assert_neq(err[0], '\0');
    cr_assert_eq(parse("{} trailing"), -EBADMSG);
}

Test(rpc_tx, duplicate_keys_are_rejected)
{
    cr_assert_eq(parse("{\"nonce\":\"0x1\",\"nonce\":\"0x2\"}"), -EBADMSG);
    cr_assert_not_null(strstr(err, "duplicate"), "%s", err);
}

Test(rpc_tx, accepts_already_parsed_notification_result)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":{"
             "\"subscription\":\"0x6474\",\"result\":%s}}",
             anvil_type2);
    json_t *root = load(text);
    json_t *result = json_object_get(json_object_get(root, "params"), "result");
    cr_assert_eq(mp_rpc_tx_from_json(result, 1, &tx, input, err, sizeof err), 0, "%s", err);
    cr_assert_eq(tx.chain_id, 31337);
    cr_assert_eq(tx.hash[0], 0x55);
    json_decref(root);
}

Test(rpc_tx, blob_type3_parses_with_extra_fields)
{
    json_t *o = load(anvil_type2);
    json_object_set_new(o, "type", json_string("0x3"));
    json_object_set_new(o, "maxFeePerBlobGas", json_string("0x1"));
    json_object_set_new(o, "blobVersionedHashes", json_array());
    cr_assert_eq(mp_rpc_tx_from_json(o, 1, &tx, input, err, sizeof err), 0, "%s", err);
    cr_assert_eq(tx.tx_type, 3);
    cr_assert_eq(tx.max_fee, 2000000000u);
    json_decref(o);
}

Test(rpc_tx, hex_u256_rejects_missing_prefix_and_accepts_max)
{
    mp_u256_t v;
    cr_assert_eq(mp_rpc_hex_u256(&v, "10", 2), -EINVAL);
    cr_assert_eq(mp_rpc_hex_u256(&v, "0x", 2), -EINVAL);
    cr_assert_eq(mp_rpc_hex_u256(&v, "0x0", 3), 0);
    cr_assert_eq(mp_rpc_u256_saturate(&v), 0);
    cr_assert_eq(mp_rpc_hex_u256(&v, "0xABCdef", 8), 0);
    cr_assert_eq(mp_rpc_u256_saturate(&v), 0xabcdef);
}
