/* Bounded streaming JSON writer into a caller's buffer: no allocation, automatic commas,
 * RFC 8259 string escaping with invalid UTF-8 replaced, and a sticky first error. */
#ifndef MP_JSON_WRITER_H
#define MP_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#define MP_JW_MAX_DEPTH 32 /* objects and arrays open at once */

/* Writer state. The fields belong to json_writer.c; callers use the functions below.
 * Invariant while err == 0: len < cap, so finish always has room for the NUL. */
typedef struct mp_jw {
    char *buf;
    size_t cap;
    size_t len;
    int err;            /* first error, sticky: -ENOSPC or -EINVAL; later calls do nothing */
    uint8_t depth;      /* open containers, <= MP_JW_MAX_DEPTH */
    bool after_key;     /* a key was written in the innermost object; its value is due */
    bool done;          /* the top-level value is complete; nothing may follow it */
    uint32_t is_obj;    /* bit d: the container at depth d + 1 is an object */
    uint32_t has_items; /* bit d: the container at depth d + 1 already holds a member */
} mp_jw_t;

/* Starts a document in buf[0..cap). The writer borrows buf until finish. The output
 * needs one byte beyond its length for the terminating NUL; cap 0 fails at once. */
void mp_jw_init(mp_jw_t *jw, char *buf, size_t cap);

/* Opens / closes an object or an array. Opening one as a value follows the same rules
 * as scalars below; nesting deeper than MP_JW_MAX_DEPTH, or closing the wrong kind, a
 * container that is not open, or an object whose last key has no value, sets -EINVAL.
 * Each returns the writer's sticky error: 0 while all went well. */
int mp_jw_obj_begin(mp_jw_t *jw);
int mp_jw_obj_end(mp_jw_t *jw);
int mp_jw_arr_begin(mp_jw_t *jw);
int mp_jw_arr_end(mp_jw_t *jw);

/* Writes an object member's key (len bytes, escaped like mp_jw_str); the next call must
 * write its value. A key outside an object or after another key sets -EINVAL. */
int mp_jw_key(mp_jw_t *jw, const char *key, size_t len);

/* Value writers. A value goes after a key in an object, anywhere in an array, or once at
 * the top level; elsewhere it sets -EINVAL. Commas are inserted as needed. All return
 * the sticky error. */

/* A string of len bytes (NULs allowed): '"', '\\' and control characters escaped, valid
 * UTF-8 copied as is, each maximal invalid UTF-8 subsequence replaced by \ufffd, so the
 * output is valid JSON and valid UTF-8 whatever the input. */
int mp_jw_str(mp_jw_t *jw, const char *s, size_t len);
int mp_jw_u64(mp_jw_t *jw, uint64_t v);
int mp_jw_i64(mp_jw_t *jw, int64_t v);
/* The shortest of %.15g..%.17g that reads back as v; null when v is NaN or infinite. */
int mp_jw_dbl(mp_jw_t *jw, double v);
int mp_jw_bool(mp_jw_t *jw, bool v);
int mp_jw_null(mp_jw_t *jw);
/* The string "0x" followed by 2 * n lowercase hex digits. */
int mp_jw_hex(mp_jw_t *jw, const uint8_t *bytes, size_t n);
/* A pre-encoded JSON value copied verbatim; the caller guarantees it is one valid value.
 * len 0 sets -EINVAL. */
int mp_jw_raw(mp_jw_t *jw, const char *json, size_t len);

/* Ends the document: NUL-terminates it and returns its length (without the NUL). Returns
 * the sticky error instead if a call failed (-ENOSPC: out of room, the buffer then holds
 * a truncated, unterminated prefix), or -EINVAL when no complete value was written or a
 * container is still open. */
ssize_t mp_jw_finish(mp_jw_t *jw);

/* mp_jw_key / mp_jw_str for NUL-terminated text; strlen folds away for literals. */
static inline int mp_jw_keyz(mp_jw_t *jw, const char *key)
{
    return mp_jw_key(jw, key, strlen(key));
}

static inline int mp_jw_strz(mp_jw_t *jw, const char *s)
{
    return mp_jw_str(jw, s, strlen(s));
}

#endif
