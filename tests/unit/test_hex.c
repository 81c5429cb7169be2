/* Unit tests for common/hex.c: JSON-RPC hex text to bytes and quantities, and back. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "common/hex.h"

#define LIT(s) s, sizeof(s) - 1

Test(hex, encodes_lowercase_with_prefix_and_nul)
{
    const uint8_t bytes[] = {0x00, 0x0f, 0xa5, 0xff};
    char out[2 * sizeof bytes + 3];
    memset(out, 'Z', sizeof out);
    size_t n = mp_hex_encode(out, bytes, sizeof bytes);
    cr_assert_eq(n, 10);
    cr_assert_str_eq(out, "0x000fa5ff");
}

Test(hex, encodes_empty_input_as_bare_prefix)
{
    char out[3];
    cr_assert_eq(mp_hex_encode(out, NULL, 0), 2);
    cr_assert_str_eq(out, "0x");
}

Test(hex, decodes_fixed_with_and_without_prefix_in_any_case)
{
    const uint8_t want[] = {0xde, 0xad, 0xbe, 0xef};
    uint8_t out[4];
    const char *texts[] = {"0xdeadbeef", "0XDEADBEEF", "deadbeef", "0xDeAdBeEf"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        memset(out, 0, sizeof out);
        cr_assert_eq(mp_hex_decode_fixed(out, 4, texts[i], strlen(texts[i])), 0, "%s", texts[i]);
        cr_assert_arr_eq(out, want, 4, "%s", texts[i]);
    }
}

Test(hex, decode_fixed_rejects_wrong_length)
{
    uint8_t out[4];
    cr_assert_eq(mp_hex_decode_fixed(out, 4, LIT("0xdeadbe")), -EINVAL);
    cr_assert_eq(mp_hex_decode_fixed(out, 4, LIT("0xdeadbeef00")), -EINVAL);
    cr_assert_eq(mp_hex_decode_fixed(out, 4, LIT("0xdeadbee")), -EINVAL);
    cr_assert_eq(mp_hex_decode_fixed(out, 4, LIT("0x")), -EINVAL);
}

Test(hex, decode_fixed_rejects_bad_digits)
{
    uint8_t out[2];
    cr_assert_eq(mp_hex_decode_fixed(out, 2, LIT("0xzz00")), -EINVAL);
    cr_assert_eq(mp_hex_decode_fixed(out, 2, LIT("0x00g0")), -EINVAL);
    cr_assert_eq(mp_hex_decode_fixed(out, 2, LIT("0x 000")), -EINVAL);
    cr_assert_eq(mp_hex_decode_fixed(out, 2, LIT("0x-001")), -EINVAL);
}

Test(hex, decode_fixed_reads_only_len_characters)
{
    uint8_t out[1];
    /* The text continues past len; only "0xab" counts. */
    cr_assert_eq(mp_hex_decode_fixed(out, 1, "0xabcd", 4), 0);
    cr_assert_eq(out[0], 0xab);
}

Test(hex, decodes_prefix_within_cap)
{
    uint8_t out[8];
    size_t n = 0;
    cr_assert_eq(mp_hex_decode_prefix(out, sizeof out, &n, LIT("0x0102a0ff")), 0);
    cr_assert_eq(n, 4);
    const uint8_t want[] = {0x01, 0x02, 0xa0, 0xff};
    cr_assert_arr_eq(out, want, 4);
}

Test(hex, decode_prefix_truncates_to_cap_and_reports_full_length)
{
    uint8_t out[4] = {0};
    uint8_t guard[4] = {0x55, 0x55, 0x55, 0x55};
    struct {
        uint8_t out[2];
        uint8_t guard[2];
    } buf = {{0, 0}, {0x55, 0x55}};
    size_t n = 0;
    cr_assert_eq(mp_hex_decode_prefix(buf.out, 2, &n, LIT("0x11223344556677")), 0);
    cr_assert_eq(n, 7);
    cr_assert_eq(buf.out[0], 0x11);
    cr_assert_eq(buf.out[1], 0x22);
    cr_assert_arr_eq(buf.guard, guard, 2, "wrote past cap");
    cr_assert_eq(mp_hex_decode_prefix(out, 0, &n, LIT("0xaabb")), 0);
    cr_assert_eq(n, 2);
}

Test(hex, decode_prefix_accepts_empty_and_missing_prefix)
{
    uint8_t out[4];
    size_t n = 99;
    cr_assert_eq(mp_hex_decode_prefix(out, sizeof out, &n, LIT("0x")), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(mp_hex_decode_prefix(out, sizeof out, &n, LIT("abCD")), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(out[0], 0xab);
    cr_assert_eq(out[1], 0xcd);
}

Test(hex, decode_prefix_rejects_odd_length)
{
    uint8_t out[4];
    size_t n = 0;
    cr_assert_eq(mp_hex_decode_prefix(out, sizeof out, &n, LIT("0xabc")), -EINVAL);
    cr_assert_eq(mp_hex_decode_prefix(out, sizeof out, &n, LIT("0x0")), -EINVAL);
}

Test(hex, decode_prefix_rejects_bad_digit_even_beyond_cap)
{
    uint8_t out[1];
    size_t n = 0;
    cr_assert_eq(mp_hex_decode_prefix(out, sizeof out, &n, LIT("0x00q0")), -EINVAL);
    cr_assert_eq(mp_hex_decode_prefix(out, sizeof out, &n, LIT("0x00112233zz")), -EINVAL);
}

Test(hex, parses_u64_quantities)
{
    struct {
        const char *text;
        uint64_t want;
    } cases[] = {
        {"0x0", 0},
        {"0x1", 1},
        {"0xa", 10},
        {"0X1F", 31},
        {"0x3b9aca00", 1000000000},
        {"0xffffffffffffffff", UINT64_MAX},
        {"0x00000000000000000000001", 1},
        {"0x0000000000000000000ffffffffffffffff", UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 12345;
        cr_assert_eq(mp_hex_u64(&v, cases[i].text, strlen(cases[i].text)), 0, "%s", cases[i].text);
        cr_assert_eq(v, cases[i].want, "%s", cases[i].text);
    }
}

Test(hex, u64_reports_erange_above_64_bits)
{
    uint64_t v = 7;
    cr_assert_eq(mp_hex_u64(&v, LIT("0x10000000000000000")), -ERANGE);
    cr_assert_eq(mp_hex_u64(&v, LIT("0xffffffffffffffffff")), -ERANGE);
    cr_assert_eq(v, 7, "output changed on error");
}

Test(hex, u64_prefers_einval_for_bad_digits_in_overlong_text)
{
    uint64_t v;
    cr_assert_eq(mp_hex_u64(&v, LIT("0x1000000000000000g")), -EINVAL);
}

Test(hex, u64_rejects_missing_prefix)
{
    uint64_t v;
    cr_assert_eq(mp_hex_u64(&v, LIT("ff")), -EINVAL);
    cr_assert_eq(mp_hex_u64(&v, LIT("123")), -EINVAL);
    cr_assert_eq(mp_hex_u64(&v, LIT("x12")), -EINVAL);
}

Test(hex, u64_rejects_empty_digits_and_bad_characters)
{
    uint64_t v;
    cr_assert_eq(mp_hex_u64(&v, LIT("0x")), -EINVAL);
    cr_assert_eq(mp_hex_u64(&v, LIT("")), -EINVAL);
    cr_assert_eq(mp_hex_u64(&v, LIT("0xg")), -EINVAL);
    cr_assert_eq(mp_hex_u64(&v, LIT("0x12 ")), -EINVAL);
    cr_assert_eq(mp_hex_u64(&v, LIT("0x-1")), -EINVAL);
}

Test(hex, round_trips_bytes_through_encode_and_decode)
{
    uint8_t bytes[256], back[256];
    for (int i = 0; i < 256; i++) bytes[i] = (uint8_t)i;
    char text[2 * sizeof bytes + 3];
    size_t n = mp_hex_encode(text, bytes, sizeof bytes);
    cr_assert_eq(mp_hex_decode_fixed(back, sizeof back, text, n), 0);
    cr_assert_arr_eq(back, bytes, sizeof bytes);
}
