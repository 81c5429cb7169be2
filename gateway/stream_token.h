/* Stateless stream-v2 session ids and resume tokens (SPEC 4.2), signed with HMAC-SHA256
 * under the key every gateway process of an instance shares, so any process verifies
 * what any other issued. No state, no h2o: unit tests link it alone.
 *
 *  session id   = base64url(nonce[16] || HMAC(key, "sid" || nonce)[0..16))
 *  resume token = base64url(payload || HMAC(key, "tok" || payload)), payload =
 *                 version[1] || nonce[16] || issued_unix_ms[8 BE] || expires_unix_ms[8 BE]
 * The "sid"/"tok" labels keep a session id from being accepted as a token and back. */
#ifndef MP_GW_STREAM_TOKEN_H
#define MP_GW_STREAM_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/session_key.h"

/* Text sizes, NUL included: 32 raw bytes -> 43 chars; 33 + 32 raw bytes -> 87 chars. */
#define MP_GW_SESSION_ID_TEXT 44
#define MP_GW_RESUME_TOKEN_TEXT 88

/* Writes a fresh session id (random nonce, signed) into out. Returns 0 or -EIO when no
 * randomness is available. */
int mp_gw_token_session_new(const uint8_t key[MP_GW_SESSION_KEY_LEN],
                            char out[MP_GW_SESSION_ID_TEXT]);

/* Checks a session id's signature (constant-time). Returns 0 or -EBADMSG. */
int mp_gw_token_session_check(const uint8_t key[MP_GW_SESSION_KEY_LEN], const char *sid,
                              size_t len);

/* Issues the resume token of session sid (which must pass the check), valid from now_ms
 * for ttl_ms. Returns 0 or -EBADMSG for a bad session id. */
int mp_gw_token_issue(const uint8_t key[MP_GW_SESSION_KEY_LEN], const char *sid, size_t sid_len,
                      uint64_t now_ms, uint32_t ttl_ms, char out[MP_GW_RESUME_TOKEN_TEXT]);

/* Verifies token for session sid at now_ms. Returns 0; -EBADMSG for a malformed or
 * forged token or session id, or a token of another session; -ETIMEDOUT once expired. */
int mp_gw_token_verify(const uint8_t key[MP_GW_SESSION_KEY_LEN], const char *sid, size_t sid_len,
                       const char *token, size_t token_len, uint64_t now_ms);

#endif
