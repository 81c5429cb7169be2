/* The JSON writer: container state and commas, RFC 8259 string escaping with UTF-8
 * repair, and number formatting, all bounded by the caller's buffer. */
#include "proto/json_writer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

_Static_assert(MP_JW_MAX_DEPTH <= 32, "container bits live in uint32_t");

static const char hex_digits[] = "0123456789abcdef";

/* "00".."99": decimal digits two at a time halve the chain of divisions. */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* String body bytes: 0 copied as is, 1 escaped ('"', '\\', C0 controls), 2 non-ASCII:
 * copied when it starts a valid UTF-8 sequence, replaced otherwise. */
static const uint8_t str_class[256] = {
    [0x00 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x80 ... 0xff] = 2,
};

static int fail(mp_jw_t *jw, int err)
{
    if (!jw->err) jw->err = err;
    return jw->err;
}

/* True when no error is set and n more bytes fit while keeping one byte free for the
 * NUL; sets -ENOSPC when they do not. Refusing after any error keeps the output a prefix
 * of the intended document: a small write never lands after a failed larger one. */
static inline bool room(mp_jw_t *jw, size_t n)
{
    if (jw->err) return false;
    if (n < jw->cap - jw->len) return true;
    fail(jw, -ENOSPC);
    return false;
}

static inline void put(mp_jw_t *jw, const void *bytes, size_t n)
{
    if (!n || !room(jw, n)) return;
    /* Most pieces are a few bytes (punctuation, numbers, short keys); copying those
     * inline beats a memcpy call. */
    char *dst = jw->buf + jw->len;
    const char *src = bytes;
    if (n <= 16)
        for (size_t i = 0; i < n; i++) dst[i] = src[i];
    else
        memcpy(dst, src, n);
    jw->len += n;
}

static inline void put_byte(mp_jw_t *jw, char c)
{
    if (room(jw, 1)) jw->buf[jw->len++] = c;
}

void mp_jw_init(mp_jw_t *jw, char *buf, size_t cap)
{
    *jw = (mp_jw_t){.buf = buf, .cap = cap};
    if (cap == 0) jw->err = -ENOSPC;
}

/* Checks that a value may start here and writes the comma before it. */
static bool begin_value(mp_jw_t *jw)
{
    if (jw->err) return false;
    if (jw->depth == 0) {
        if (jw->done) {
            fail(jw, -EINVAL);
            return false;
        }
        return true;
    }
    uint32_t bit = 1u << (jw->depth - 1);
    if (jw->is_obj & bit) {
        if (!jw->after_key) {
            fail(jw, -EINVAL);
            return false;
        }
        jw->after_key = false;
        return true;
    }
    if (jw->has_items & bit) put_byte(jw, ',');
    jw->has_items |= bit;
    return !jw->err;
}

static int end_value(mp_jw_t *jw)
{
    if (jw->depth == 0) jw->done = true;
    return jw->err;
}

static int container_begin(mp_jw_t *jw, bool is_obj)
{
    if (!begin_value(jw)) return jw->err;
    if (jw->depth == MP_JW_MAX_DEPTH) return fail(jw, -EINVAL);
    put_byte(jw, is_obj ? '{' : '[');
    uint32_t bit = 1u << jw->depth;
    jw->is_obj = is_obj ? jw->is_obj | bit : jw->is_obj & ~bit;
    jw->has_items &= ~bit;
    jw->depth++;
    return jw->err;
}

static int container_end(mp_jw_t *jw, bool is_obj)
{
    if (jw->err) return jw->err;
    if (jw->depth == 0 || jw->after_key) return fail(jw, -EINVAL);
    uint32_t bit = 1u << (jw->depth - 1);
    if (!(jw->is_obj & bit) != !is_obj) return fail(jw, -EINVAL);
    put_byte(jw, is_obj ? '}' : ']');
    jw->depth--;
    return end_value(jw);
}

int mp_jw_obj_begin(mp_jw_t *jw)
{
    return container_begin(jw, true);
}

int mp_jw_obj_end(mp_jw_t *jw)
{
    return container_end(jw, true);
}

int mp_jw_arr_begin(mp_jw_t *jw)
{
    return container_begin(jw, false);
}

int mp_jw_arr_end(mp_jw_t *jw)
{
    return container_end(jw, false);
}

/* Length of the valid UTF-8 sequence at p (2..4), or minus the length of its maximal
 * invalid subpart (Unicode 3.9, "U+FFFD substitution of maximal subparts"), which is
 * replaced by one U+FFFD. The second byte's range excludes overlongs, surrogates and
 * code points above U+10FFFF; later bytes are plain continuations. */
static int utf8_seq(const uint8_t *p, size_t avail)
{
    uint8_t lead = p[0], lo = 0x80, hi = 0xbf;
    size_t need;
    if (lead >= 0xc2 && lead <= 0xdf) {
        need = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        need = 3;
        if (lead == 0xe0) lo = 0xa0;
        if (lead == 0xed) hi = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        need = 4;
        if (lead == 0xf0) lo = 0x90;
        if (lead == 0xf4) hi = 0x8f;
    } else {
        return -1;
    }
    if (avail < 2 || p[1] < lo || p[1] > hi) return -1;
    for (size_t i = 2; i < need; i++)
        if (i >= avail || (p[i] & 0xc0) != 0x80) return -(int)i;
    return (int)need;
}

static void put_escape(mp_jw_t *jw, uint8_t c)
{
    char esc[6] = {'\\', 0};
    size_t n = 2;
    switch (c) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    default:
        memcpy(esc + 1, "u00", 3);
        esc[4] = hex_digits[c >> 4];
        esc[5] = hex_digits[c & 15];
        n = 6;
    }
    put(jw, esc, n);
}

/* Writes s as a quoted string. Runs of bytes that need no change, valid multi-byte
 * sequences included, go out in one copy. */
static void put_string(mp_jw_t *jw, const char *s, size_t len)
{
    put_byte(jw, '"');
    const uint8_t *p = (const uint8_t *)s, *end = len ? p + len : p; /* s may be NULL */
    while (p < end && !jw->err) {
        const uint8_t *run = p;
        int seq = 0;
        while (p < end) {
            uint8_t cls = str_class[*p];
            if (cls == 0) {
                p++;
                continue;
            }
            if (cls == 1) break;
            seq = utf8_seq(p, (size_t)(end - p));
            if (seq < 0) break;
            p += seq;
        }
        put(jw, run, (size_t)(p - run));
        if (p == end) break;
        if (str_class[*p] == 1) {
            put_escape(jw, *p);
            p++;
        } else {
            put(jw, "\\ufffd", 6);
            p += -seq;
        }
    }
    put_byte(jw, '"');
}

int mp_jw_key(mp_jw_t *jw, const char *key, size_t len)
{
    if (jw->err) return jw->err;
    if (jw->depth == 0 || jw->after_key) return fail(jw, -EINVAL);
    uint32_t bit = 1u << (jw->depth - 1);
    if (!(jw->is_obj & bit)) return fail(jw, -EINVAL);
    if (jw->has_items & bit) put_byte(jw, ',');
    jw->has_items |= bit;
    put_string(jw, key, len);
    put_byte(jw, ':');
    jw->after_key = true;
    return jw->err;
}

int mp_jw_str(mp_jw_t *jw, const char *s, size_t len)
{
    if (!begin_value(jw)) return jw->err;
    put_string(jw, s, len);
    return end_value(jw);
}

/* Decimal digits of v, right-aligned in a 20-byte buffer; returns where they start. */
static char *u64_digits(char out[20], uint64_t v)
{
    char *p = out + 20;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        p -= 2;
        memcpy(p, digit_pairs + 2 * r, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, digit_pairs + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    return p;
}

int mp_jw_u64(mp_jw_t *jw, uint64_t v)
{
    if (!begin_value(jw)) return jw->err;
    char tmp[20], *p = u64_digits(tmp, v);
    put(jw, p, (size_t)(tmp + sizeof tmp - p));
    return end_value(jw);
}

int mp_jw_i64(mp_jw_t *jw, int64_t v)
{
    if (!begin_value(jw)) return jw->err;
    /* Negating in unsigned arithmetic keeps INT64_MIN defined. */
    uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
    char tmp[21], *p = u64_digits(tmp + 1, mag);
    if (v < 0) *--p = '-';
    put(jw, p, (size_t)(tmp + sizeof tmp - p));
    return end_value(jw);
}

int mp_jw_dbl(mp_jw_t *jw, double v)
{
    if (!isfinite(v)) return mp_jw_null(jw);
    if (!begin_value(jw)) return jw->err;
    /* LC_NUMERIC stays "C" in mempulse processes (none calls setlocale), so %g writes
     * '.' and the text is a JSON number; 17 significant digits always read back. */
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v) n = snprintf(tmp, sizeof tmp, "%.16g", v);
    if (strtod(tmp, NULL) != v) n = snprintf(tmp, sizeof tmp, "%.17g", v);
    put(jw, tmp, (size_t)n);
    return end_value(jw);
}

int mp_jw_bool(mp_jw_t *jw, bool v)
{
    if (!begin_value(jw)) return jw->err;
    if (v)
        put(jw, "true", 4);
    else
        put(jw, "false", 5);
    return end_value(jw);
}

int mp_jw_null(mp_jw_t *jw)
{
    if (!begin_value(jw)) return jw->err;
    put(jw, "null", 4);
    return end_value(jw);
}

int mp_jw_hex(mp_jw_t *jw, const uint8_t *bytes, size_t n)
{
    if (!begin_value(jw)) return jw->err;
    /* 2 * n + 4 bytes plus the NUL's byte, checked without computing 2 * n, which may wrap. */
    size_t avail = jw->cap - jw->len;
    if (avail < 5 || n > (avail - 5) / 2) return fail(jw, -ENOSPC);
    char *o = jw->buf + jw->len;
    *o++ = '"';
    *o++ = '0';
    *o++ = 'x';
    for (size_t i = 0; i < n; i++) {
        *o++ = hex_digits[bytes[i] >> 4];
        *o++ = hex_digits[bytes[i] & 15];
    }
    *o++ = '"';
    jw->len = (size_t)(o - jw->buf);
    return end_value(jw);
}

int mp_jw_raw(mp_jw_t *jw, const char *json, size_t len)
{
    if (jw->err) return jw->err;
    if (len == 0) return fail(jw, -EINVAL);
    if (!begin_value(jw)) return jw->err;
    put(jw, json, len);
    return end_value(jw);
}

ssize_t mp_jw_finish(mp_jw_t *jw)
{
    if (jw->err) return jw->err;
    if (jw->depth || !jw->done) return fail(jw, -EINVAL);
    jw->buf[jw->len] = '\0';
    return (ssize_t)jw->len;
}
