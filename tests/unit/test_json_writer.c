/* Unit tests for proto/json_writer.c; outputs are checked as text and by parsing them
 * back with jansson. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "proto/json_writer.h"

#define LIT(s) s, sizeof(s) - 1

/* Parses len bytes of out with jansson (which rejects invalid UTF-8), failing the test
 * on a parse error. Caller owns the result. */
static json_t *parse(const char *out, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(out, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    cr_assert_not_null(root, "jansson: %s at %d in <%.*s>", jerr.text, jerr.position, (int)len,
                       out);
    return root;
}

/* One string value written alone; returns the output length. */
static ssize_t write_string(char *out, size_t cap, const char *s, size_t n)
{
    mp_jw_t jw;
    mp_jw_init(&jw, out, cap);
    mp_jw_str(&jw, s, n);
    return mp_jw_finish(&jw);
}

static void assert_string_output(const char *in, size_t n, const char *want)
{
    char out[256];
    ssize_t len = write_string(out, sizeof out, in, n);
    cr_assert_eq(len, (ssize_t)strlen(want), "got <%s> want <%s>", out, want);
    cr_assert_str_eq(out, want);
    json_decref(parse(out, (size_t)len));
}

Test(json_writer, writes_empty_object_and_array)
{
    char out[16];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_obj_begin(&jw);
    mp_jw_obj_end(&jw);
    cr_assert_eq(mp_jw_finish(&jw), 2);
    cr_assert_str_eq(out, "{}");

    mp_jw_init(&jw, out, sizeof out);
    mp_jw_arr_begin(&jw);
    mp_jw_arr_end(&jw);
    cr_assert_eq(mp_jw_finish(&jw), 2);
    cr_assert_str_eq(out, "[]");
}

Test(json_writer, separates_members_and_elements_with_commas)
{
    char out[256];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_obj_begin(&jw);
    mp_jw_keyz(&jw, "a");
    mp_jw_u64(&jw, 1);
    mp_jw_keyz(&jw, "b");
    mp_jw_arr_begin(&jw);
    mp_jw_u64(&jw, 2);
    mp_jw_obj_begin(&jw);
    mp_jw_obj_end(&jw);
    mp_jw_arr_begin(&jw);
    mp_jw_arr_end(&jw);
    mp_jw_null(&jw);
    mp_jw_arr_end(&jw);
    mp_jw_keyz(&jw, "c");
    mp_jw_obj_begin(&jw);
    mp_jw_keyz(&jw, "d");
    mp_jw_bool(&jw, true);
    mp_jw_keyz(&jw, "e");
    mp_jw_bool(&jw, false);
    mp_jw_obj_end(&jw);
    mp_jw_obj_end(&jw);
    ssize_t n = mp_jw_finish(&jw);
    const char *want = "{\"a\":1,\"b\":[2,{},[],null],\"c\":{\"d\":true,\"e\":false}}";
    cr_assert_eq(n, (ssize_t)strlen(want));
    cr_assert_str_eq(out, want);
    json_decref(parse(out, (size_t)n));
}

Test(json_writer, accepts_scalar_at_top_level)
{
    char out[32];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_u64(&jw, 42);
    cr_assert_eq(mp_jw_finish(&jw), 2);
    cr_assert_str_eq(out, "42");
}

Test(json_writer, escapes_quote_backslash_and_short_controls)
{
    assert_string_output(LIT("a\"b\\c/"), "\"a\\\"b\\\\c/\"");
    assert_string_output(LIT("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
}

Test(json_writer, escapes_other_controls_as_u00xx)
{
    assert_string_output(LIT("\x01\x1f\x0b"), "\"\\u0001\\u001f\\u000b\"");
    assert_string_output("a\0b", 3, "\"a\\u0000b\"");
}

Test(json_writer, leaves_del_and_printable_ascii_alone)
{
    assert_string_output(LIT("~\x7f !"), "\"~\x7f !\"");
}

Test(json_writer, writes_empty_string)
{
    assert_string_output(NULL, 0, "\"\"");
}

Test(json_writer, round_trips_every_control_and_ascii_byte_through_jansson)
{
    char in[128], out[1024];
    for (int i = 0; i < 128; i++) in[i] = (char)i;
    ssize_t n = write_string(out, sizeof out, in, sizeof in);
    cr_assert_gt(n, 0);
    json_t *v = parse(out, (size_t)n);
    cr_assert(json_is_string(v));
    cr_assert_eq(json_string_length(v), sizeof in);
    cr_assert_arr_eq(json_string_value(v), in, sizeof in);
    json_decref(v);
}

Test(json_writer, copies_valid_multibyte_utf8_verbatim)
{
    /* U+00E9, U+20AC, U+FFFD, U+1F600, U+10FFFF, U+D7FF, U+E000 */
    const char in[] = "\xc3\xa9\xe2\x82\xac\xef\xbf\xbd\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"
                      "\xed\x9f\xbf\xee\x80\x80";
    char want[sizeof in + 2];
    snprintf(want, sizeof want, "\"%s\"", in);
    assert_string_output(in, sizeof in - 1, want);
}

Test(json_writer, replaces_lone_continuation_and_invalid_lead_bytes)
{
    assert_string_output(LIT("a\x80z"), "\"a\\ufffdz\"");
    assert_string_output(LIT("\xbf\xbf"), "\"\\ufffd\\ufffd\"");
    assert_string_output(LIT("\xc0\xc1\xf5\xff"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

Test(json_writer, replaces_truncated_sequences_by_one_replacement_each)
{
    assert_string_output(LIT("\xe2\x82"), "\"\\ufffd\"");
    assert_string_output(LIT("\xe2\x82z"), "\"\\ufffdz\"");
    assert_string_output(LIT("\xf0\x9f\x98"), "\"\\ufffd\"");
    assert_string_output(LIT("\xf0\x9f\x98\xc3\xa9"), "\"\\ufffd\xc3\xa9\"");
    assert_string_output(LIT("\xc3"), "\"\\ufffd\"");
}

Test(json_writer, replaces_overlongs_surrogates_and_code_points_above_max)
{
    /* Overlong "/" in two and three bytes; a UTF-16 surrogate; U+110000. Their second
     * byte is out of range, so each byte is replaced on its own. */
    assert_string_output(LIT("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
    assert_string_output(LIT("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"");
    assert_string_output(LIT("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
    assert_string_output(LIT("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

Test(json_writer, random_bytes_always_give_valid_json_and_utf8)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    char in[64], out[64 * 6 + 8];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)(iter % 64);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            in[i] = (char)(x >> 24);
        }
        ssize_t len = write_string(out, sizeof out, in, n);
        cr_assert_gt(len, 0);
        json_t *v = parse(out, (size_t)len);
        cr_assert(json_is_string(v));
        json_decref(v);
    }
}

Test(json_writer, escapes_keys)
{
    char out[64];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_obj_begin(&jw);
    mp_jw_key(&jw, LIT("k\"\n"));
    mp_jw_u64(&jw, 1);
    mp_jw_obj_end(&jw);
    ssize_t n = mp_jw_finish(&jw);
    cr_assert_str_eq(out, "{\"k\\\"\\n\":1}");
    json_t *v = parse(out, (size_t)n);
    cr_assert_eq(json_integer_value(json_object_get(v, "k\"\n")), 1);
    json_decref(v);
}

Test(json_writer, writes_integer_extremes)
{
    char out[128];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_arr_begin(&jw);
    mp_jw_u64(&jw, 0);
    mp_jw_u64(&jw, UINT64_MAX);
    mp_jw_i64(&jw, INT64_MIN);
    mp_jw_i64(&jw, INT64_MAX);
    mp_jw_i64(&jw, -1);
    mp_jw_i64(&jw, 0);
    mp_jw_arr_end(&jw);
    cr_assert_gt(mp_jw_finish(&jw), 0);
    cr_assert_str_eq(out, "[0,18446744073709551615,-9223372036854775808,9223372036854775807,-1,0]");
}

Test(json_writer, writes_doubles_that_read_back_exactly)
{
    const double values[] = {0.0, -0.0, 1.0, 0.1, -2.5, 3000.0, 1e300, -1e-300, 5e-324,
                             1.7976931348623157e308, 2345.6789, 1.0 / 3.0};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char out[64];
        mp_jw_t jw;
        mp_jw_init(&jw, out, sizeof out);
        mp_jw_dbl(&jw, values[i]);
        ssize_t n = mp_jw_finish(&jw);
        cr_assert_gt(n, 0);
        json_t *v = parse(out, (size_t)n);
        cr_assert(json_is_number(v), "<%s>", out);
        cr_assert_eq(json_number_value(v), values[i], "<%s>", out);
        json_decref(v);
    }
}

Test(json_writer, writes_shortest_double_text)
{
    char out[64];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_dbl(&jw, 0.1);
    cr_assert_eq(mp_jw_finish(&jw), 3);
    cr_assert_str_eq(out, "0.1");
}

Test(json_writer, writes_null_for_non_finite_doubles)
{
    char out[64];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_arr_begin(&jw);
    mp_jw_dbl(&jw, NAN);
    mp_jw_dbl(&jw, INFINITY);
    mp_jw_dbl(&jw, -INFINITY);
    mp_jw_arr_end(&jw);
    cr_assert_gt(mp_jw_finish(&jw), 0);
    cr_assert_str_eq(out, "[null,null,null]");
}

Test(json_writer, writes_hex_strings)
{
    const uint8_t bytes[] = {0x00, 0xab, 0xff};
    char out[64];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_arr_begin(&jw);
    mp_jw_hex(&jw, bytes, sizeof bytes);
    mp_jw_hex(&jw, NULL, 0);
    mp_jw_arr_end(&jw);
    cr_assert_gt(mp_jw_finish(&jw), 0);
    cr_assert_str_eq(out, "[\"0x00abff\",\"0x\"]");
}

Test(json_writer, inserts_raw_fragments_as_values_with_commas)
{
    char out[128];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_obj_begin(&jw);
    mp_jw_keyz(&jw, "pre");
    mp_jw_raw(&jw, LIT("{\"x\":[1,2]}"));
    mp_jw_keyz(&jw, "list");
    mp_jw_arr_begin(&jw);
    mp_jw_raw(&jw, LIT("1"));
    mp_jw_raw(&jw, LIT("\"s\""));
    mp_jw_arr_end(&jw);
    mp_jw_obj_end(&jw);
    ssize_t n = mp_jw_finish(&jw);
    cr_assert_str_eq(out, "{\"pre\":{\"x\":[1,2]},\"list\":[1,\"s\"]}");
    json_t *v = parse(out, (size_t)n);
    cr_assert_eq(json_array_size(json_object_get(v, "list")), 2);
    json_decref(v);
}

Test(json_writer, rejects_empty_raw_fragment)
{
    char out[16];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    cr_assert_eq(mp_jw_raw(&jw, "", 0), -EINVAL);
    cr_assert_eq(mp_jw_finish(&jw), -EINVAL);
}

/* A document using every writer call, written into a buffer of `cap` bytes. */
static ssize_t write_sample(char *out, size_t cap)
{
    static const uint8_t bytes[] = {1, 2, 3, 0xfe};
    mp_jw_t jw;
    mp_jw_init(&jw, out, cap);
    mp_jw_obj_begin(&jw);
    mp_jw_keyz(&jw, "s");
    mp_jw_str(&jw, LIT("q\"\x01\xe2\x82\xac\xff"));
    mp_jw_keyz(&jw, "u");
    mp_jw_u64(&jw, 123456789);
    mp_jw_keyz(&jw, "i");
    mp_jw_i64(&jw, -42);
    mp_jw_keyz(&jw, "d");
    mp_jw_dbl(&jw, 2.5);
    mp_jw_keyz(&jw, "h");
    mp_jw_hex(&jw, bytes, sizeof bytes);
    mp_jw_keyz(&jw, "a");
    mp_jw_arr_begin(&jw);
    mp_jw_bool(&jw, true);
    mp_jw_null(&jw);
    mp_jw_raw(&jw, LIT("[7]"));
    mp_jw_arr_end(&jw);
    mp_jw_obj_end(&jw);
    return mp_jw_finish(&jw);
}

Test(json_writer, fails_with_enospc_at_every_short_size_without_overrun)
{
    char full[256];
    ssize_t len = write_sample(full, sizeof full);
    cr_assert_gt(len, 0);
    json_decref(parse(full, (size_t)len));
    /* The output needs len + 1 bytes (NUL); every smaller cap fails. */
    for (size_t cap = 0; cap <= (size_t)len; cap++) {
        char buf[256 + 16];
        memset(buf, 'Z', sizeof buf);
        cr_assert_eq(write_sample(cap ? buf : NULL, cap), -ENOSPC, "cap %zu", cap);
        for (size_t i = cap; i < sizeof buf; i++)
            cr_assert_eq(buf[i], 'Z', "cap %zu: wrote byte %zu", cap, i);
        /* What was written is a prefix of the full output (which holds no 'Z'). */
        size_t written = 0;
        while (written < cap && buf[written] != 'Z') written++;
        cr_assert_arr_eq(buf, full, written, "cap %zu: prefix differs", cap);
    }
    char buf[256];
    cr_assert_eq(write_sample(buf, (size_t)len + 1), len);
    cr_assert_str_eq(buf, full);
}

Test(json_writer, overflow_is_sticky)
{
    char out[8];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_arr_begin(&jw);
    cr_assert_eq(mp_jw_str(&jw, LIT("too long for this buffer")), -ENOSPC);
    size_t len = jw.len;
    cr_assert_eq(mp_jw_u64(&jw, 1), -ENOSPC);
    cr_assert_eq(mp_jw_arr_end(&jw), -ENOSPC);
    cr_assert_eq(jw.len, len, "wrote after the overflow");
    cr_assert_eq(mp_jw_finish(&jw), -ENOSPC);
}

Test(json_writer, allows_max_depth_and_rejects_one_more)
{
    char out[256];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    for (int i = 0; i < MP_JW_MAX_DEPTH; i++) cr_assert_eq(mp_jw_arr_begin(&jw), 0);
    for (int i = 0; i < MP_JW_MAX_DEPTH; i++) cr_assert_eq(mp_jw_arr_end(&jw), 0);
    ssize_t n = mp_jw_finish(&jw);
    cr_assert_eq(n, 2 * MP_JW_MAX_DEPTH);
    json_decref(parse(out, (size_t)n));

    mp_jw_init(&jw, out, sizeof out);
    for (int i = 0; i < MP_JW_MAX_DEPTH; i++) {
        mp_jw_obj_begin(&jw);
        mp_jw_keyz(&jw, "k");
    }
    cr_assert_eq(jw.err, 0);
    cr_assert_eq(mp_jw_arr_begin(&jw), -EINVAL);
    cr_assert_eq(mp_jw_finish(&jw), -EINVAL);
}

Test(json_writer, rejects_key_outside_object)
{
    char out[32];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    cr_assert_eq(mp_jw_keyz(&jw, "k"), -EINVAL);

    mp_jw_init(&jw, out, sizeof out);
    mp_jw_arr_begin(&jw);
    cr_assert_eq(mp_jw_keyz(&jw, "k"), -EINVAL);
    cr_assert_eq(mp_jw_finish(&jw), -EINVAL);
}

Test(json_writer, rejects_two_keys_in_a_row)
{
    char out[32];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_obj_begin(&jw);
    mp_jw_keyz(&jw, "a");
    cr_assert_eq(mp_jw_keyz(&jw, "b"), -EINVAL);
}

Test(json_writer, rejects_value_without_key_in_object)
{
    char out[32];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_obj_begin(&jw);
    cr_assert_eq(mp_jw_u64(&jw, 1), -EINVAL);
}

Test(json_writer, rejects_closing_object_with_dangling_key)
{
    char out[32];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_obj_begin(&jw);
    mp_jw_keyz(&jw, "a");
    cr_assert_eq(mp_jw_obj_end(&jw), -EINVAL);
}

Test(json_writer, rejects_mismatched_and_unopened_ends)
{
    char out[32];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_obj_begin(&jw);
    cr_assert_eq(mp_jw_arr_end(&jw), -EINVAL);

    mp_jw_init(&jw, out, sizeof out);
    mp_jw_arr_begin(&jw);
    cr_assert_eq(mp_jw_obj_end(&jw), -EINVAL);

    mp_jw_init(&jw, out, sizeof out);
    cr_assert_eq(mp_jw_arr_end(&jw), -EINVAL);
}

Test(json_writer, rejects_second_top_level_value)
{
    char out[32];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_obj_begin(&jw);
    mp_jw_obj_end(&jw);
    cr_assert_eq(mp_jw_u64(&jw, 1), -EINVAL);
    cr_assert_eq(mp_jw_finish(&jw), -EINVAL);
}

Test(json_writer, finish_rejects_open_containers_and_empty_documents)
{
    char out[32];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    cr_assert_eq(mp_jw_finish(&jw), -EINVAL);

    mp_jw_init(&jw, out, sizeof out);
    mp_jw_arr_begin(&jw);
    mp_jw_u64(&jw, 1);
    cr_assert_eq(mp_jw_finish(&jw), -EINVAL);
}

Test(json_writer, keeps_the_first_error)
{
    char out[4];
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_arr_begin(&jw);
    mp_jw_keyz(&jw, "k"); /* -EINVAL first */
    mp_jw_str(&jw, LIT("long enough to overflow"));
    cr_assert_eq(mp_jw_finish(&jw), -EINVAL);
}

Test(json_writer, nul_terminates_output)
{
    char out[8];
    memset(out, 'Z', sizeof out);
    mp_jw_t jw;
    mp_jw_init(&jw, out, sizeof out);
    mp_jw_u64(&jw, 7);
    cr_assert_eq(mp_jw_finish(&jw), 1);
    cr_assert_eq(out[1], '\0');
}
