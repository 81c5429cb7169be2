/* HMAC-SHA256 session ids and resume tokens for stream-v2: encoding, signing and the
 * constant-time checks. */
#include "gateway/stream_token.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#define NONCE_LEN 16
#define SID_RAW (2 * NONCE_LEN)
#define TOKEN_VERSION 1
#define PAYLOAD_LEN (1 + NONCE_LEN + 8 + 8)
#define MAC_LEN 32
#define TOKEN_RAW (PAYLOAD_LEN + MAC_LEN)

_Static_assert((SID_RAW * 4 + 2) / 3 < MP_GW_SESSION_ID_TEXT, "session id text fits");
_Static_assert((TOKEN_RAW * 4 + 2) / 3 < MP_GW_RESUME_TOKEN_TEXT, "token text fits");

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding; out has room for (n * 4 + 2) / 3 + 1 bytes. */
static void b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = b64[(acc >> bits) & 63];
        }
    }
    if (bits > 0) out[o++] = b64[(acc << (6 - bits)) & 63];
    out[o] = '\0';
}

/* Decodes exactly want bytes from len characters. Returns 0 or -EBADMSG. */
static int b64_decode(const char *in, size_t len, uint8_t *out, size_t want)
{
    if (len != (want * 4 + 2) / 3) return -EBADMSG;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        const char *p = memchr(b64, in[i], 64);
        if (!p || !in[i]) return -EBADMSG;
        acc = (acc << 6) | (uint32_t)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o < want) out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero: one text per byte string, no malleable spellings. */
    if (o != want || (acc & ((1u << bits) - 1))) return -EBADMSG;
    return 0;
}

static void mac(const uint8_t key[MP_GW_SESSION_KEY_LEN], const char *label, const uint8_t *msg,
                size_t n, uint8_t out[MAC_LEN])
{
    uint8_t buf[4 + PAYLOAD_LEN];
    size_t l = strlen(label);
    memcpy(buf, label, l);
    memcpy(buf + l, msg, n);
    unsigned outlen = MAC_LEN;
    HMAC(EVP_sha256(), key, MP_GW_SESSION_KEY_LEN, buf, l + n, out, &outlen);
}

int mp_gw_token_session_new(const uint8_t key[MP_GW_SESSION_KEY_LEN],
                            char out[MP_GW_SESSION_ID_TEXT])
{
    uint8_t raw[SID_RAW], m[MAC_LEN];
    if (RAND_bytes(raw, NONCE_LEN) != 1) return -EIO;
    mac(key, "sid", raw, NONCE_LEN, m);
    memcpy(raw + NONCE_LEN, m, NONCE_LEN);
    b64_encode(raw, SID_RAW, out);
    return 0;
}

/* Decodes and checks a session id; nonce gets its first half. */
static int session_open(const uint8_t key[MP_GW_SESSION_KEY_LEN], const char *sid, size_t len,
                        uint8_t nonce[NONCE_LEN])
{
    uint8_t raw[SID_RAW], m[MAC_LEN];
    if (b64_decode(sid, len, raw, SID_RAW)) return -EBADMSG;
    mac(key, "sid", raw, NONCE_LEN, m);
    if (CRYPTO_memcmp(m, raw + NONCE_LEN, NONCE_LEN) != 0) return -EBADMSG;
    memcpy(nonce, raw, NONCE_LEN);
    return 0;
}

int mp_gw_token_session_check(const uint8_t key[MP_GW_SESSION_KEY_LEN], const char *sid, size_t len)
{
    uint8_t nonce[NONCE_LEN];
    return session_open(key, sid, len, nonce);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

int mp_gw_token_issue(const uint8_t key[MP_GW_SESSION_KEY_LEN], const char *sid, size_t sid_len,
                      uint64_t now_ms, uint32_t ttl_ms, char out[MP_GW_RESUME_TOKEN_TEXT])
{
    uint8_t raw[TOKEN_RAW];
    raw[0] = TOKEN_VERSION;
    if (session_open(key, sid, sid_len, raw + 1)) return -EBADMSG;
    put_be64(raw + 1 + NONCE_LEN, now_ms);
    put_be64(raw + 1 + NONCE_LEN + 8, now_ms + ttl_ms);
    mac(key, "tok", raw, PAYLOAD_LEN, raw + PAYLOAD_LEN);
    b64_encode(raw, TOKEN_RAW, out);
    return 0;
}

int mp_gw_token_verify(const uint8_t key[MP_GW_SESSION_KEY_LEN], const char *sid, size_t sid_len,
                       const char *token, size_t token_len, uint64_t now_ms)
{
    uint8_t raw[TOKEN_RAW], m[MAC_LEN], nonce[NONCE_LEN];
    if (session_open(key, sid, sid_len, nonce)) return -EBADMSG;
    if (b64_decode(token, token_len, raw, TOKEN_RAW)) return -EBADMSG;
    mac(key, "tok", raw, PAYLOAD_LEN, m);
    /* Signature first: nothing of an unsigned payload is trusted, not even its version. */
    if (CRYPTO_memcmp(m, raw + PAYLOAD_LEN, MAC_LEN) != 0) return -EBADMSG;
    if (raw[0] != TOKEN_VERSION || CRYPTO_memcmp(nonce, raw + 1, NONCE_LEN) != 0) return -EBADMSG;
    if (now_ms >= get_be64(raw + 1 + NONCE_LEN + 8)) return -ETIMEDOUT;
    return 0;
}
