/* Strict parsing of the snapshot-v2 query string. */
#include "gateway/query.h"

#include "readmodel/rm_reader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes src into dst (room for len bytes: decoding never lengthens); '+' is a
 * space as in forms. Returns the decoded length or -EINVAL on a broken escape or a NUL. */
static int decode(const char *src, size_t len, char *dst)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= len) return -EINVAL;
            int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
            if (hi < 0 || lo < 0) return -EINVAL;
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == '\0') return -EINVAL;
        dst[n++] = c;
    }
    return (int)n;
}

static int parse_channels(const char *v, size_t len, uint32_t *mask, char *err, size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen,
                 "channels is empty: name one or more of tx.main, feature.main, "
                 "opportunity.main, chain.main, market.main");
        return -EINVAL;
    }
    uint32_t m = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && v[i] != ',') continue;
        size_t n = i - start;
        int ch = mp_rm_channel_from_name(v + start, n);
        if (ch < 0) {
            /* Quote at most 64 bytes of the client's text, printable only. */
            char shown[65];
            size_t k = 0;
            for (size_t j = 0; j < n && k < 64; j++) {
                char c = v[start + j];
                shown[k++] = c >= 0x20 && c < 0x7f ? c : '?';
            }
            shown[k] = '\0';
            snprintf(err, errlen,
                     "unknown channel '%s' (known: tx.main, feature.main, "
                     "opportunity.main, chain.main, market.main)",
                     shown);
            return -EINVAL;
        }
        m |= 1u << ch;
        start = i + 1;
    }
    *mask = m;
    return 0;
}

static int parse_seq(const char *v, size_t len, uint64_t *out, char *err, size_t errlen)
{
    uint64_t x = 0;
    bool ok = len > 0 && len <= 20;
    for (size_t i = 0; ok && i < len; i++) {
        unsigned d = (unsigned)(v[i] - '0');
        if (d > 9 || x > (UINT64_MAX - d) / 10)
            ok = false;
        else
            x = x * 10 + d;
    }
    if (!ok) {
        snprintf(err, errlen, "since_seq must be a decimal number of 0..18446744073709551615");
        return -EINVAL;
    }
    *out = x;
    return 0;
}

int mp_gw_query_parse_snapshot(const char *q, size_t len, mp_gw_snapshot_query_t *out, char *err,
                               size_t errlen)
{
    out->channels = MP_GW_ALL_CHANNELS;
    out->has_since = false;
    out->since_seq = 0;
    if (len > MP_GW_QUERY_MAX) {
        snprintf(err, errlen, "query string of %zu bytes is longer than the %d allowed", len,
                 MP_GW_QUERY_MAX);
        return -E2BIG;
    }
    bool seen_channels = false;
    char val[MP_GW_QUERY_MAX];
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && q[i] != '&') continue;
        const char *p = q + start;
        size_t n = i - start;
        start = i + 1;
        if (n == 0) continue; /* "a=1&&b=2", a trailing '&' */
        const char *eq = memchr(p, '=', n);
        size_t klen = eq ? (size_t)(eq - p) : n;
        bool is_channels = klen == 8 && memcmp(p, "channels", 8) == 0;
        bool is_since = klen == 9 && memcmp(p, "since_seq", 9) == 0;
        if (!is_channels && !is_since) {
            snprintf(err, errlen, "unknown parameter '%.*s' (expected channels, since_seq)",
                     (int)(klen > 40 ? 40 : klen), p);
            for (char *c = err; *c; c++)
                if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
            return -EINVAL;
        }
        const char *name = is_channels ? "channels" : "since_seq";
        if (is_channels ? seen_channels : out->has_since) {
            snprintf(err, errlen, "parameter %s given more than once", name);
            return -EINVAL;
        }
        if (!eq) {
            snprintf(err, errlen, "parameter %s needs a value (%s=...)", name, name);
            return -EINVAL;
        }
        int vlen = decode(eq + 1, n - klen - 1, val);
        if (vlen < 0) {
            snprintf(err, errlen, "parameter %s has a broken percent-escape", name);
            return -EINVAL;
        }
        int ret;
        if (is_channels) {
            seen_channels = true;
            ret = parse_channels(val, (size_t)vlen, &out->channels, err, errlen);
        } else {
            out->has_since = true;
            ret = parse_seq(val, (size_t)vlen, &out->since_seq, err, errlen);
        }
        if (ret) return ret;
    }
    return 0;
}
