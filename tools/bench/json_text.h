/* JSON text appended into a fixed buffer, for the fake Ethereum node's messages: raw
 * pieces, "0x" hex strings and JSON-RPC quantities. The caller writes the structure itself
 * (it is fixed and known to be valid), which keeps the node cheap next to the ingest it
 * feeds; proto/json_writer.h is the checked, general writer. Inline: called per field. */
#ifndef MP_JSON_TEXT_H
#define MP_JSON_TEXT_H

#include "common/hex.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Invariant: len <= cap, and appends never write past cap. The first append that does not
 * fit sets overflow, which sticks (later appends do nothing); the text is then incomplete
 * and must be discarded. The text is not NUL-terminated. */
typedef struct mp_json_text {
    char *p; /* borrowed from the caller */
    size_t len, cap;
    bool overflow;
} mp_json_text_t;

/* Appends n bytes as they are. */
static inline void mp_json_text_raw(mp_json_text_t *t, const char *s, size_t n)
{
    if (t->overflow || n > t->cap - t->len) {
        t->overflow = true;
        return;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
}

/* Appends a NUL-terminated piece as it is. */
static inline void mp_json_text_lit(mp_json_text_t *t, const char *s)
{
    mp_json_text_raw(t, s, strlen(s));
}

/* Appends "0x" + hex of n bytes, quoted. */
static inline void mp_json_text_hex(mp_json_text_t *t, const uint8_t *bytes, size_t n)
{
    /* quote, 0x, digits, quote, and the NUL mp_hex_encode writes */
    if (t->overflow || 2 * n + 5 > t->cap - t->len) {
        t->overflow = true;
        return;
    }
    t->p[t->len++] = '"';
    t->len += mp_hex_encode(t->p + t->len, bytes, n);
    t->p[t->len++] = '"';
}

/* Appends a JSON-RPC quantity: quoted "0x" hex without leading zeros ("0x0" for 0). */
static inline void mp_json_text_qty(mp_json_text_t *t, uint64_t v)
{
    char q[24];
    int n = snprintf(q, sizeof q, "\"0x%" PRIx64 "\"", v);
    mp_json_text_raw(t, q, (size_t)n);
}

#endif
