/* Hex encoding and decoding for Ethereum JSON-RPC text. */
#include "common/hex.h"

#include <errno.h>

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static const char *skip_0x(const char *text, size_t *len)
{
    if (*len >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        *len -= 2;
        return text + 2;
    }
    return text;
}

size_t mp_hex_encode(char *out, const uint8_t *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = 'x';
    for (size_t i = 0; i < n; i++) {
        out[2 + 2 * i] = digits[bytes[i] >> 4];
        out[3 + 2 * i] = digits[bytes[i] & 15];
    }
    out[2 + 2 * n] = '\0';
    return 2 + 2 * n;
}

int mp_hex_decode_fixed(uint8_t *out, size_t n, const char *text, size_t len)
{
    text = skip_0x(text, &len);
    if (len != 2 * n) return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0) return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int mp_hex_decode_prefix(uint8_t *out, size_t cap, size_t *out_len, const char *text, size_t len)
{
    text = skip_0x(text, &len);
    if (len % 2) return -EINVAL;
    for (size_t i = 0; i < len; i++)
        if (hex_digit(text[i]) < 0) return -EINVAL;
    size_t n = len / 2;
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = (uint8_t)(hex_digit(text[2 * i]) << 4 | hex_digit(text[2 * i + 1]));
    *out_len = n;
    return 0;
}

int mp_hex_u64(uint64_t *out, const char *text, size_t len)
{
    if (len < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return -EINVAL;
    text += 2;
    len -= 2;
    uint64_t v = 0;
    size_t i = 0;
    while (i < len && text[i] == '0') i++; /* leading zeros do not count toward the width */
    if (len - i > 16) {
        for (size_t j = i; j < len; j++)
            if (hex_digit(text[j]) < 0) return -EINVAL;
        return -ERANGE;
    }
    for (; i < len; i++) {
        int d = hex_digit(text[i]);
        if (d < 0) return -EINVAL;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}
