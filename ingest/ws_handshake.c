/* RFC 6455 handshake helpers; see ws_handshake.h. */
#include "ingest/ws_handshake.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define KEY_MAX 64

int mp_ws_accept_value(const char *key, char out[MP_WS_ACCEPT_LEN + 1])
{
    char cat[KEY_MAX + sizeof WS_GUID];
    size_t klen = strlen(key);
    if (klen > KEY_MAX) return -EINVAL;
    memcpy(cat, key, klen);
    memcpy(cat + klen, WS_GUID, sizeof WS_GUID - 1);
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (!EVP_Digest(cat, klen + sizeof WS_GUID - 1, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
        return -EIO;
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen); /* 28 characters and a NUL */
    return 0;
}

int mp_http_header_value(const char *p, const char *end, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if ((size_t)(ve - v) >= cap) return -ENOSPC;
            memcpy(out, v, (size_t)(ve - v));
            out[ve - v] = '\0';
            return 0;
        }
        p = eol + 1;
    }
    return -ENOENT;
}
