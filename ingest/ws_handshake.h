/* The parts of the RFC 6455 opening handshake both ends need: the Sec-WebSocket-Accept
 * value that answers a key, and a header's value in a request or response head. Used by
 * the eth source's client (ws_client.c) and by the fake node of tools/bench. */
#ifndef MP_WS_HANDSHAKE_H
#define MP_WS_HANDSHAKE_H

#include <stddef.h>

/* base64 of a 20-byte SHA-1 digest */
#define MP_WS_ACCEPT_LEN 28

/* Writes base64(SHA-1(key + the RFC 6455 GUID)) and a NUL into out. Returns 0, -EINVAL for
 * a key longer than 64 characters, or -EIO when the digest fails. */
int mp_ws_accept_value(const char *key, char out[MP_WS_ACCEPT_LEN + 1]);

/* Finds header `name` (case-insensitive) in the head [p, end) (lines ending in CRLF or LF)
 * and copies its value, without surrounding blanks, into out with a NUL. Returns 0,
 * -ENOENT when it is absent, or -ENOSPC when the value does not fit cap. */
int mp_http_header_value(const char *p, const char *end, const char *name, char *out, size_t cap);

#endif
