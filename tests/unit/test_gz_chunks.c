/* Chunked section compression: the parts must inflate to the body byte for byte, a
 * rebuild must deflate only the chunks whose bytes changed, and bad bounds change nothing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gateway/gz_chunks.h"

static mp_gw_body_pool_t pool;
static mp_gw_gz_t *z;
static mp_gw_gz_chunks_t *chunks;

static void setup(void)
{
    mp_gw_body_pool_init(&pool, 64u << 20, 256u << 20);
    z = mp_gw_gz_create(1);
    chunks = mp_gw_gz_chunks_create();
    cr_assert(z && chunks);
}

static void teardown(void)
{
    mp_gw_gz_chunks_destroy(chunks);
    mp_gw_gz_destroy(z);
    mp_gw_body_pool_dispose(&pool);
}

TestSuite(gz_chunks, .init = setup, .fini = teardown);

/* A body of `rows` JSON-like rows of about 100 bytes; row `changed` (if < rows) differs. */
static mp_gw_body_t *make_body(unsigned rows, unsigned changed, uint32_t *bounds, uint32_t *n)
{
    mp_gw_body_t *b;
    cr_assert_eq(mp_gw_body_get(&pool, 1 << 16, &b), 0);
    *n = 0;
    for (unsigned i = 0; i < rows; i++) {
        cr_assert_eq(mp_gw_body_printf(b, "%s{\"id\":\"row-%06u\",\"seq\":%u,\"note\":\"%s\"}",
                                       i ? "," : "", i, i == changed ? 999999 : i,
                                       "the same filler text in every row of the body"),
                     0);
        if (i % 10 == 9) bounds[(*n)++] = (uint32_t)b->len; /* a chunk per 10 rows */
    }
    if (*n == 0 || bounds[*n - 1] != b->len) bounds[(*n)++] = (uint32_t)b->len;
    return b;
}

/* Wraps a section part into a gzip member and inflates it with zlib (CRC and length
 * checked); the result must equal the body. */
static void assert_inflates_to(const mp_gw_body_t *part, uint32_t crc, const mp_gw_body_t *body)
{
    size_t n = part->len + MP_GW_GZ_HEADER_LEN + MP_GW_GZ_END_LEN;
    uint8_t *member = malloc(n);
    char *out = malloc(body->len + 16);
    cr_assert(member && out);
    size_t off = mp_gw_gz_header(member);
    memcpy(member + off, part->data, part->len);
    off += part->len;
    off += mp_gw_gz_end(member + off, crc, body->len);
    z_stream zs = {0};
    cr_assert_eq(inflateInit2(&zs, 16 + 15), Z_OK);
    zs.next_in = member;
    zs.avail_in = (uInt)off;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)(body->len + 16);
    int ret = inflate(&zs, Z_FINISH);
    cr_assert_eq(ret, Z_STREAM_END, "zlib refused the member (%d)", ret);
    cr_assert_eq(zs.total_out, body->len);
    cr_assert_eq(memcmp(out, body->data, body->len), 0);
    inflateEnd(&zs);
    free(member);
    free(out);
}

/* One compression of body whose part must inflate back to it; *st gets the chunk counts. */
static void compress_checked(mp_gw_body_t *body, const uint32_t *bounds, uint32_t n,
                             mp_gw_gz_chunk_stats_t *st)
{
    mp_gw_body_t *gz = NULL;
    uint32_t crc = 0;
    *st = (mp_gw_gz_chunk_stats_t){0};
    cr_assert_eq(mp_gw_gz_chunks_compress(chunks, z, &pool, body, bounds, n, &gz, &crc, st), 0);
    assert_inflates_to(gz, crc, body);
    mp_gw_body_unref(gz);
}

Test(gz_chunks, first_build_compresses_every_chunk_and_inflates_back)
{
    uint32_t bounds[64], n;
    mp_gw_body_t *body = make_body(100, 1000, bounds, &n);
    mp_gw_body_t *gz = NULL;
    uint32_t crc = 0;
    mp_gw_gz_chunk_stats_t st = {0};
    cr_assert_eq(mp_gw_gz_chunks_compress(chunks, z, &pool, body, bounds, n, &gz, &crc, &st), 0);
    cr_assert_eq(st.compressed, 10);
    cr_assert_eq(st.reused, 0);
    cr_assert_eq(st.compressed_bytes, body->len);
    cr_assert_eq(crc, mp_gw_gz_crc(0, body->data, body->len));
    cr_assert_lt(gz->len, body->len / 2, "repetitive rows must compress");
    assert_inflates_to(gz, crc, body);
    mp_gw_body_unref(gz);
    mp_gw_body_unref(body);
}

Test(gz_chunks, rebuild_deflates_only_the_changed_chunk)
{
    uint32_t bounds[64], n;
    mp_gw_body_t *a = make_body(100, 1000, bounds, &n), *gz_a = NULL, *gz_b = NULL;
    uint32_t crc_a, crc_b;
    mp_gw_gz_chunk_stats_t st = {0};
    cr_assert_eq(mp_gw_gz_chunks_compress(chunks, z, &pool, a, bounds, n, &gz_a, &crc_a, &st), 0);
    mp_gw_body_t *b = make_body(100, 42, bounds, &n); /* row 42: chunk 4 */
    st = (mp_gw_gz_chunk_stats_t){0};
    cr_assert_eq(mp_gw_gz_chunks_compress(chunks, z, &pool, b, bounds, n, &gz_b, &crc_b, &st), 0);
    cr_assert_eq(st.compressed, 1);
    cr_assert_eq(st.reused, 9);
    cr_assert_neq(crc_a, crc_b);
    assert_inflates_to(gz_b, crc_b, b);
    assert_inflates_to(gz_a, crc_a, a); /* the first build's part is untouched */
    mp_gw_body_unref(gz_a);
    mp_gw_body_unref(gz_b);
    mp_gw_body_unref(a);
    mp_gw_body_unref(b);
}

Test(gz_chunks, shifted_chunks_are_found_by_content_not_position)
{
    uint32_t bounds[64], n;
    mp_gw_body_t *a = make_body(100, 1000, bounds, &n);
    mp_gw_gz_chunk_stats_t st;
    compress_checked(a, bounds, n, &st);
    /* A new first chunk in front of the same 10 chunks (newest first, as tx.main). */
    mp_gw_body_t *b;
    cr_assert_eq(mp_gw_body_get(&pool, a->len + 64, &b), 0);
    cr_assert_eq(mp_gw_body_printf(b, "{\"id\":\"new\"}"), 0);
    uint32_t nb[64], k = 0;
    nb[k++] = (uint32_t)b->len;
    uint32_t base = (uint32_t)b->len;
    cr_assert_eq(mp_gw_body_append(b, a->data, a->len), 0);
    for (uint32_t i = 0; i < n; i++)
        nb[k++] = base + bounds[i];
    compress_checked(b, nb, k, &st);
    cr_assert_eq(st.compressed, 1);
    cr_assert_eq(st.reused, 10);
    mp_gw_body_unref(a);
    mp_gw_body_unref(b);
}

Test(gz_chunks, bounds_that_do_not_cover_the_body_are_refused_and_change_nothing)
{
    uint32_t bounds[64], n;
    mp_gw_body_t *a = make_body(30, 1000, bounds, &n), *gz = NULL;
    uint32_t crc = 7;
    uint32_t short_bounds[] = {10, 20};
    cr_assert_eq(mp_gw_gz_chunks_compress(chunks, z, &pool, a, short_bounds, 2, &gz, &crc, NULL),
                 -EINVAL);
    uint32_t backwards[] = {200, 100, (uint32_t)a->len};
    cr_assert_eq(mp_gw_gz_chunks_compress(chunks, z, &pool, a, backwards, 3, &gz, &crc, NULL),
                 -EINVAL);
    cr_assert_null(gz);
    cr_assert_eq(crc, 7);
    /* The state is still empty: the next build compresses everything. */
    mp_gw_gz_chunk_stats_t st;
    compress_checked(a, bounds, n, &st);
    cr_assert_eq(st.reused, 0);
    cr_assert_eq(st.compressed, n);
    mp_gw_body_unref(a);
}

Test(gz_chunks, reset_forgets_the_previous_build)
{
    uint32_t bounds[64], n;
    mp_gw_body_t *a = make_body(50, 1000, bounds, &n);
    mp_gw_gz_chunk_stats_t st;
    compress_checked(a, bounds, n, &st);
    compress_checked(a, bounds, n, &st);
    cr_assert_eq(st.reused, n, "the same body again: every chunk reused");
    mp_gw_gz_chunks_reset(chunks);
    compress_checked(a, bounds, n, &st);
    cr_assert_eq(st.reused, 0);
    cr_assert_eq(st.compressed, n);
    mp_gw_body_unref(a);
}

Test(gz_chunks, boundary_rule)
{
    cr_assert_not(mp_gw_gz_chunk_ends(0, MP_GW_GZ_CHUNK_MIN - 1), "too small to end");
    cr_assert(mp_gw_gz_chunk_ends(0, MP_GW_GZ_CHUNK_MIN), "picked id, big enough");
    cr_assert_not(mp_gw_gz_chunk_ends(1, MP_GW_GZ_CHUNK_MIN), "id not picked");
    cr_assert(mp_gw_gz_chunk_ends(1, MP_GW_GZ_CHUNK_MAX), "full chunk always ends");
}
