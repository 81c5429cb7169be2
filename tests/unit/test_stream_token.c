/* Stream-v2 session ids and resume tokens: round trips, forgery, cross-session use,
 * expiry, another key, and malformed text. */
#include <criterion/criterion.h>

#include "gateway/stream_token.h"

#include <errno.h>
#include <string.h>

static const uint8_t key[MP_GW_SESSION_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const uint8_t other_key[MP_GW_SESSION_KEY_LEN] = {9, 8, 7};

Test(stream_token, session_id_round_trips)
{
    char sid[MP_GW_SESSION_ID_TEXT];
    cr_assert_eq(mp_gw_token_session_new(key, sid), 0);
    cr_assert_eq(strlen(sid), MP_GW_SESSION_ID_TEXT - 1);
    cr_assert_eq(mp_gw_token_session_check(key, sid, strlen(sid)), 0);
}

Test(stream_token, session_ids_differ)
{
    char a[MP_GW_SESSION_ID_TEXT], b[MP_GW_SESSION_ID_TEXT];
    cr_assert_eq(mp_gw_token_session_new(key, a), 0);
    cr_assert_eq(mp_gw_token_session_new(key, b), 0);
    cr_assert_str_neq(a, b);
}

Test(stream_token, tampered_session_id_is_refused)
{
    char sid[MP_GW_SESSION_ID_TEXT];
    cr_assert_eq(mp_gw_token_session_new(key, sid), 0);
    sid[3] = sid[3] == 'A' ? 'B' : 'A';
    cr_assert_eq(mp_gw_token_session_check(key, sid, strlen(sid)), -EBADMSG);
    cr_assert_eq(mp_gw_token_session_check(key, "short", 5), -EBADMSG);
}

Test(stream_token, session_id_of_another_key_is_refused)
{
    char sid[MP_GW_SESSION_ID_TEXT];
    cr_assert_eq(mp_gw_token_session_new(key, sid), 0);
    cr_assert_eq(mp_gw_token_session_check(other_key, sid, strlen(sid)), -EBADMSG);
}

Test(stream_token, token_verifies_until_expiry)
{
    char sid[MP_GW_SESSION_ID_TEXT], tok[MP_GW_RESUME_TOKEN_TEXT];
    cr_assert_eq(mp_gw_token_session_new(key, sid), 0);
    cr_assert_eq(mp_gw_token_issue(key, sid, strlen(sid), 1000, 500, tok), 0);
    cr_assert_eq(strlen(tok), MP_GW_RESUME_TOKEN_TEXT - 1);
    cr_assert_eq(mp_gw_token_verify(key, sid, strlen(sid), tok, strlen(tok), 1000), 0);
    cr_assert_eq(mp_gw_token_verify(key, sid, strlen(sid), tok, strlen(tok), 1499), 0);
    cr_assert_eq(mp_gw_token_verify(key, sid, strlen(sid), tok, strlen(tok), 1500), -ETIMEDOUT);
}

Test(stream_token, token_of_another_session_is_refused)
{
    char a[MP_GW_SESSION_ID_TEXT], b[MP_GW_SESSION_ID_TEXT], tok[MP_GW_RESUME_TOKEN_TEXT];
    cr_assert_eq(mp_gw_token_session_new(key, a), 0);
    cr_assert_eq(mp_gw_token_session_new(key, b), 0);
    cr_assert_eq(mp_gw_token_issue(key, a, strlen(a), 1000, 500, tok), 0);
    cr_assert_eq(mp_gw_token_verify(key, b, strlen(b), tok, strlen(tok), 1000), -EBADMSG);
}

Test(stream_token, tampered_token_is_refused)
{
    char sid[MP_GW_SESSION_ID_TEXT], tok[MP_GW_RESUME_TOKEN_TEXT];
    cr_assert_eq(mp_gw_token_session_new(key, sid), 0);
    cr_assert_eq(mp_gw_token_issue(key, sid, strlen(sid), 1000, 500, tok), 0);
    for (size_t i = 0; i < strlen(tok); i++) {
        char t[MP_GW_RESUME_TOKEN_TEXT];
        memcpy(t, tok, sizeof t);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        cr_assert_eq(mp_gw_token_verify(key, sid, strlen(sid), t, strlen(t), 1000), -EBADMSG,
                     "flipped char %zu accepted", i);
    }
    cr_assert_eq(mp_gw_token_verify(other_key, sid, strlen(sid), tok, strlen(tok), 1000), -EBADMSG);
}

Test(stream_token, session_id_is_not_a_token)
{
    char sid[MP_GW_SESSION_ID_TEXT];
    cr_assert_eq(mp_gw_token_session_new(key, sid), 0);
    cr_assert_eq(mp_gw_token_verify(key, sid, strlen(sid), sid, strlen(sid), 0), -EBADMSG);
    cr_assert_eq(mp_gw_token_verify(key, sid, strlen(sid), "", 0, 0), -EBADMSG);
}

Test(stream_token, issue_refuses_a_forged_session)
{
    char tok[MP_GW_RESUME_TOKEN_TEXT];
    const char *forged = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    cr_assert_eq(mp_gw_token_issue(key, forged, strlen(forged), 0, 1, tok), -EBADMSG);
}
