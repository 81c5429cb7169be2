/* mempulse-shm tx: one transaction's detail from tx_detail_index (summary, decoded
 * method, calldata prefix, status history, linked opportunities), as text or JSON. */
#include "tools/shm_cli.h"

#include "common/hex.h"
#include "common/log.h"
#include "readmodel/rm_json.h"
#include "readmodel/tx_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {"error":{"code":..,"message":..}}, the gateway's error shape, on stdout. */
static void print_error_json(const char *code, const char *message)
{
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
    if (o) {
        mp_cli_print_json(o, true);
        json_decref(o);
    }
}

/* "0x" + exactly 64 hex digits (either case). */
static int parse_hash(const char *text, uint8_t hash[MP_HASH_LEN])
{
    size_t len = strlen(text);
    if (len != 2 + 2 * MP_HASH_LEN || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
        return -EINVAL;
    return mp_hex_decode_fixed(hash, MP_HASH_LEN, text + 2, len - 2);
}

static void print_scalar(const char *key, json_t *v, int indent)
{
    printf("%*s%-18s ", indent, "", key);
    if (json_is_string(v))
        printf("%s\n", json_string_value(v));
    else if (json_is_integer(v))
        printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
    else if (json_is_real(v))
        printf("%.17g\n", json_real_value(v));
    else if (json_is_boolean(v))
        printf("%s\n", json_is_true(v) ? "yes" : "no");
    else if (json_is_null(v))
        printf("-\n");
    else {
        char *s = json_dumps(v, JSON_COMPACT);
        printf("%s\n", s ? s : "?");
        free(s);
    }
}

/* Text form: the detail's fields one per line, history and opportunities as lists. */
static void print_text(json_t *d)
{
    const char *key;
    json_t *v;
    json_object_foreach(d, key, v)
    {
        if (strcmp(key, "history") == 0) {
            printf("%-18s\n", key);
            size_t i;
            json_t *h;
            json_array_foreach(v, i, h)
                printf("  %-8s at %" JSON_INTEGER_FORMAT " ms (seq %" JSON_INTEGER_FORMAT ")\n",
                       json_string_value(json_object_get(h, "status")),
                       json_integer_value(json_object_get(h, "unix_ms")),
                       json_integer_value(json_object_get(h, "seq")));
        } else if (strcmp(key, "opportunities") == 0) {
            printf("%-18s %s\n", key, json_array_size(v) ? "" : "none");
            size_t i;
            json_t *o;
            json_array_foreach(v, i, o)
            {
                printf("  %s  %s score %" JSON_INTEGER_FORMAT " %s\n",
                       json_string_value(json_object_get(o, "id")),
                       json_string_value(json_object_get(o, "kind")),
                       json_integer_value(json_object_get(o, "score")),
                       json_string_value(json_object_get(o, "status")));
                printf("    %s\n", json_string_value(json_object_get(o, "reason")));
            }
        } else {
            print_scalar(key, v, 0);
        }
    }
}

int mp_cmd_tx(const mp_cli_t *cli)
{
    if (cli->argc != 1) {
        mp_log("usage: mempulse-shm tx HASH [--json] [--instance NAME]");
        return MP_EXIT_USAGE;
    }
    uint8_t hash[MP_HASH_LEN];
    if (parse_hash(cli->argv[0], hash) != 0) {
        mp_log("'%s' is not a transaction hash: expected 0x followed by 64 hex digits",
               cli->argv[0]);
        if (cli->json) print_error_json("bad_hash", "expected 0x followed by 64 hex digits");
        return MP_EXIT_USAGE;
    }
    mp_rm_region_t rm;
    int code = mp_cli_open_readmodel(cli, &rm);
    if (code) return code;

    static mp_rm_detail_t d;
    static uint8_t input[MP_INPUT_PREFIX_MAX];
    static char buf[MP_RM_JSON_DETAIL_MAX];
    uint32_t input_len = 0;
    int ret = mp_txs_lookup(&rm, hash, &d, input, sizeof input, &input_len);
    if (ret == -ENOENT || ret == -EAGAIN) {
        const char *msg = ret == -ENOENT
                              ? "not in tx_detail_index: never seen, or evicted (count, TTL)"
                              : "the readmodel kept changing it; retry";
        mp_log("transaction %s: %s", cli->argv[0], msg);
        if (cli->json) print_error_json(ret == -ENOENT ? "not_found" : "busy", msg);
        code = MP_EXIT_RUNTIME;
        goto out_close;
    }
    mp_rm_opportunity_t opps[MP_RM_DETAIL_OPPS];
    int nopp = mp_rm_tx_opportunities(&rm, hash, d.opp_kinds, opps, MP_RM_DETAIL_OPPS);
    if (nopp < 0) nopp = 0; /* the index kept changing: show none rather than fail */
    mp_jw_t jw;
    mp_jw_init(&jw, buf, sizeof buf);
    mp_rm_detail_json(&jw, &d, input, input_len, opps, (unsigned)nopp);
    ssize_t n = mp_jw_finish(&jw);
    if (n < 0) {
        mp_log("cannot encode the detail of %s: error %zd", cli->argv[0], n);
        code = MP_EXIT_RUNTIME;
        goto out_close;
    }
    if (cli->json) {
        fwrite(buf, 1, (size_t)n, stdout);
        fputc('\n', stdout);
    } else {
        json_error_t jerr;
        json_t *doc = json_loadb(buf, (size_t)n, 0, &jerr);
        /* jansson keeps integers in int64: a saturated u64 fee needs the real form. */
        if (!doc) doc = json_loadb(buf, (size_t)n, JSON_DECODE_INT_AS_REAL, &jerr);
        if (!doc) {
            mp_log("internal error: detail JSON does not parse: %s", jerr.text);
            code = MP_EXIT_RUNTIME;
            goto out_close;
        }
        print_text(doc);
        json_decref(doc);
    }
    fflush(stdout);
out_close:
    mp_rm_close(&rm);
    return code;
}
