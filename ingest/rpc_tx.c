/* JSON-RPC transaction object -> mp_tx_seen_t: field lookup, hex validation, fee
 * saturation and calldata truncation. Knows nothing about where the object came from. */
#include "ingest/rpc_tx.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/hex.h"
#include "common/log.h"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int mp_rpc_hex_u256(mp_u256_t *out, const char *text, size_t len)
{
    if (len < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return -EINVAL;
    size_t i = 2;
    for (size_t j = 2; j < len; j++)
        if (hex_digit(text[j]) < 0) return -EINVAL;
    while (i < len && text[i] == '0')
        i++;
    if (len - i > 64) return -ERANGE;
    memset(out->be, 0, sizeof out->be);
    /* Fill nibbles from the least significant end: digit k from the right lands in
     * byte 31 - k/2, high nibble when k is odd. */
    for (size_t k = 0; k < len - i; k++) {
        int d = hex_digit(text[len - 1 - k]);
        out->be[31 - k / 2] |= (uint8_t)(k % 2 ? d << 4 : d);
    }
    return 0;
}

uint64_t mp_rpc_u256_saturate(const mp_u256_t *v)
{
    for (int i = 0; i < 24; i++)
        if (v->be[i]) return UINT64_MAX;
    uint64_t x = 0;
    for (int i = 24; i < 32; i++)
        x = x << 8 | v->be[i];
    return x;
}

/* Looks up name in obj. Returns 1 with its text when it is a string, 0 when absent or
 * null, -EINVAL (message written) when it has another JSON type. */
static int get_str(const json_t *obj, const char *name, const char **s, size_t *n, char *err,
                   size_t errlen)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return mp_errf(err, errlen, "field '%s': not a string", name);
    *s = json_string_value(v);
    *n = json_string_length(v);
    return 1;
}

static int missing(const char *name, char *err, size_t errlen)
{
    return mp_errf(err, errlen, "field '%s': missing", name);
}

/* Fixed-size byte field (hash, address). */
static int get_bytes(const json_t *obj, const char *name, uint8_t *out, size_t n, bool required,
                     bool *present, char *err, size_t errlen)
{
    const char *s = NULL;
    size_t len = 0;
    int rc = get_str(obj, name, &s, &len, err, errlen);
    if (rc < 0) return rc;
    if (present) *present = rc == 1;
    if (rc == 0) return required ? missing(name, err, errlen) : 0;
    if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') ||
        mp_hex_decode_fixed(out, n, s, len) < 0)
        return mp_errf(err, errlen, "field '%s': expected 0x and %zu hex digits", name, 2 * n);
    return 0;
}

/* Quantity that must fit 64 bits (nonce, gas, type, chainId). */
static int get_u64(const json_t *obj, const char *name, uint64_t *out, bool required, bool *present,
                   char *err, size_t errlen)
{
    const char *s = NULL;
    size_t len = 0;
    int rc = get_str(obj, name, &s, &len, err, errlen);
    if (rc < 0) return rc;
    if (present) *present = rc == 1;
    if (rc == 0) return required ? missing(name, err, errlen) : 0;
    rc = mp_hex_u64(out, s, len);
    if (rc == -ERANGE) return mp_errf(err, errlen, "field '%s': exceeds 64 bits", name);
    if (rc < 0) return mp_errf(err, errlen, "field '%s': not a hex quantity", name);
    return 0;
}

/* Quantity of up to 256 bits (value, fees). */
static int get_u256(const json_t *obj, const char *name, mp_u256_t *out, bool required,
                    bool *present, char *err, size_t errlen)
{
    const char *s = NULL;
    size_t len = 0;
    int rc = get_str(obj, name, &s, &len, err, errlen);
    if (rc < 0) return rc;
    if (present) *present = rc == 1;
    if (rc == 0) return required ? missing(name, err, errlen) : 0;
    rc = mp_rpc_hex_u256(out, s, len);
    if (rc == -ERANGE) return mp_errf(err, errlen, "field '%s': exceeds 256 bits", name);
    if (rc < 0) return mp_errf(err, errlen, "field '%s': not a hex quantity", name);
    return 0;
}

static int get_fee(const json_t *obj, const char *name, uint64_t *out, bool required, bool *present,
                   char *err, size_t errlen)
{
    mp_u256_t v = {{0}};
    int rc = get_u256(obj, name, &v, required, present, err, errlen);
    if (rc == 0 && *present) *out = mp_rpc_u256_saturate(&v);
    return rc;
}

static int get_input(const json_t *obj, mp_tx_seen_t *tx, uint8_t *input_buf, char *err,
                     size_t errlen)
{
    const char *name = "input";
    const char *s = NULL;
    size_t len = 0, full = 0;
    int rc = get_str(obj, name, &s, &len, err, errlen);
    if (rc == 0) {
        name = "data"; /* older nodes and some tools write the calldata as "data" */
        rc = get_str(obj, name, &s, &len, err, errlen);
        if (rc == 0) return missing("input", err, errlen);
    }
    if (rc < 0) return rc;
    if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') ||
        mp_hex_decode_prefix(input_buf, MP_INPUT_PREFIX_MAX, &full, s, len) < 0)
        return mp_errf(err, errlen, "field '%s': not 0x-prefixed hex bytes", name);
    if (full > UINT32_MAX) return mp_errf(err, errlen, "field '%s': longer than 4 GiB", name);
    tx->input_len = (uint32_t)full;
    tx->input_prefix_len = (uint32_t)(full < MP_INPUT_PREFIX_MAX ? full : MP_INPUT_PREFIX_MAX);
    tx->input_prefix = input_buf;
    return 0;
}

int mp_rpc_tx_from_json(const json_t *obj, uint64_t default_chain_id, mp_tx_seen_t *tx,
                        uint8_t *input_buf, char *err, size_t errlen)
{
    bool present;
    uint64_t type = 0;
    int rc;

    if (errlen) err[0] = '\0';
    memset(tx, 0, sizeof *tx);
    if (!json_is_object(obj)) return mp_errf(err, errlen, "not a JSON object");

    if ((rc = get_bytes(obj, "hash", tx->hash, MP_HASH_LEN, true, NULL, err, errlen))) return rc;
    if ((rc = get_bytes(obj, "from", tx->from, MP_ADDR_LEN, true, NULL, err, errlen))) return rc;
    if ((rc = get_bytes(obj, "to", tx->to, MP_ADDR_LEN, false, &present, err, errlen))) return rc;
    tx->has_to = present;
    if ((rc = get_u64(obj, "nonce", &tx->nonce, true, NULL, err, errlen))) return rc;
    if ((rc = get_u64(obj, "gas", &tx->gas_limit, true, NULL, err, errlen))) return rc;
    if ((rc = get_u256(obj, "value", &tx->value, true, NULL, err, errlen))) return rc;
    if ((rc = get_input(obj, tx, input_buf, err, errlen))) return rc;
    if ((rc = get_u64(obj, "type", &type, false, NULL, err, errlen))) return rc;
    if (type > UINT8_MAX) return mp_errf(err, errlen, "field 'type': above 0xff");
    tx->tx_type = (uint8_t)type;
    tx->chain_id = default_chain_id;
    if ((rc = get_u64(obj, "chainId", &tx->chain_id, false, NULL, err, errlen))) return rc;

    bool legacy = type <= 1, dynamic = type >= 2 && type <= 4;
    bool has_price;
    if ((rc = get_fee(obj, "gasPrice", &tx->gas_price, legacy, &has_price, err, errlen))) return rc;
    if (!legacy) {
        bool has_max;
        if ((rc = get_fee(obj, "maxFeePerGas", &tx->max_fee, dynamic, &has_max, err, errlen)))
            return rc;
        if ((rc = get_fee(obj, "maxPriorityFeePerGas", &tx->max_priority_fee, dynamic, &present,
                          err, errlen)))
            return rc;
        /* Pending 1559 txs: geth reports gasPrice = maxFeePerGas; others omit it. */
        if (!has_price && has_max) tx->gas_price = tx->max_fee;
    }
    return 0;
}

int mp_rpc_tx_parse(const char *text, size_t len, uint64_t default_chain_id, mp_tx_seen_t *tx,
                    uint8_t *input_buf, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        if (errlen) snprintf(err, errlen, "invalid JSON at byte %d: %s", jerr.position, jerr.text);
        return -EBADMSG;
    }
    int rc = mp_rpc_tx_from_json(root, default_chain_id, tx, input_buf, err, errlen);
    json_decref(root);
    return rc;
}
