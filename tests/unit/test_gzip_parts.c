/* gzip members assembled from separately compressed parts: zlib's own gzip decoder must
 * read them back byte for byte, whatever mix of deflate and stored parts they hold. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gateway/gzip_parts.h"

static mp_gw_body_pool_t pool;

static void setup(void)
{
    mp_gw_body_pool_init(&pool, 64u << 20, 256u << 20);
}

static void teardown(void)
{
    mp_gw_body_pool_dispose(&pool);
}

TestSuite(gzip_parts, .init = setup, .fini = teardown);

/* Inflates a whole gzip member with zlib (windowBits 16 + 15: gzip wrapper, CRC and
 * length checked). Returns the decoded length, or -1 when zlib refuses the stream. */
static long gunzip(const uint8_t *in, size_t n, char *out, size_t cap)
{
    z_stream zs = {0};
    cr_assert_eq(inflateInit2(&zs, 16 + 15), Z_OK);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    int ret = inflate(&zs, Z_FINISH);
    long len = ret == Z_STREAM_END && zs.avail_in == 0 ? (long)zs.total_out : -1;
    inflateEnd(&zs);
    return len;
}

/* Text that compresses (repeated JSON-ish) but not trivially (a counter in it). */
static char *sample(size_t n, unsigned seed)
{
    char *p = malloc(n + 64);
    cr_assert_not_null(p);
    size_t off = 0;
    for (unsigned i = 0; off < n; i++)
        off += (size_t)snprintf(p + off, 64, "{\"id\":\"0x%08x\",\"seq\":%u},",
                                i * 2654435761u ^ seed, i);
    return p;
}

/* header, stored head, deflate parts with stored commas between, stored tail, end */
static size_t assemble(mp_gw_gz_t *z, const char **parts, const size_t *lens, unsigned count,
                       uint8_t *out, uint32_t *crc_out, uint64_t *total_out)
{
    size_t off = mp_gw_gz_header(out);
    uint32_t crc = 0;
    uint64_t total = 0;
    for (unsigned i = 0; i < count; i++) {
        if (i % 2 == 0) {
            off += mp_gw_gz_stored(out + off, parts[i], lens[i]);
            crc = mp_gw_gz_crc(crc, parts[i], lens[i]);
        } else {
            mp_gw_body_t *b;
            cr_assert_eq(mp_gw_body_get(&pool, 1024, &b), 0);
            cr_assert_eq(mp_gw_gz_deflate(z, parts[i], lens[i], b), 0);
            memcpy(out + off, b->data, b->len);
            off += b->len;
            crc = mp_gw_gz_crc_combine(crc, mp_gw_gz_crc(0, parts[i], lens[i]), lens[i]);
            mp_gw_body_unref(b);
        }
        total += lens[i];
    }
    off += mp_gw_gz_end(out + off, crc, total);
    *crc_out = crc;
    *total_out = total;
    return off;
}

Test(gzip_parts, mixed_parts_decode_to_their_concatenation)
{
    mp_gw_gz_t *z = mp_gw_gz_create(1);
    cr_assert_not_null(z);
    char *big = sample(300000, 7), *mid = sample(5000, 9);
    const char *parts[] = {"{\"head\":1,", big, ",", mid, "}"};
    size_t lens[] = {10, 300000, 1, 5000, 1};
    uint8_t *out = malloc(400000);
    uint32_t crc;
    uint64_t total;
    size_t n = assemble(z, parts, lens, 5, out, &crc, &total);
    cr_assert_lt(n, total / 2, "the deflate parts compress (%zu of %lu)", n, (unsigned long)total);
    char *dec = malloc(total + 16);
    cr_assert_eq(gunzip(out, n, dec, total + 16), (long)total);
    size_t off = 0;
    for (unsigned i = 0; i < 5; i++) {
        cr_assert_eq(memcmp(dec + off, parts[i], lens[i]), 0, "part %u differs", i);
        off += lens[i];
    }
    cr_assert_eq(crc, (uint32_t)crc32(crc32(0, NULL, 0), (Bytef *)dec, (uInt)total));
    free(dec);
    free(out);
    free(big);
    free(mid);
    mp_gw_gz_destroy(z);
}

Test(gzip_parts, a_compressor_is_reused_across_parts)
{
    mp_gw_gz_t *z = mp_gw_gz_create(1);
    for (unsigned round = 0; round < 3; round++) {
        char *a = sample(70000 + round * 1000, round), *b = sample(20, round + 100);
        const char *parts[] = {"[", a, ",", b, "]"};
        size_t lens[] = {1, 70000 + round * 1000, 1, 20, 1};
        uint8_t *out = malloc(200000);
        uint32_t crc;
        uint64_t total;
        size_t n = assemble(z, parts, lens, 5, out, &crc, &total);
        char *dec = malloc(total);
        cr_assert_eq(gunzip(out, n, dec, total), (long)total, "round %u", round);
        free(dec);
        free(out);
        free(a);
        free(b);
    }
    mp_gw_gz_destroy(z);
}

Test(gzip_parts, empty_parts_are_valid)
{
    mp_gw_gz_t *z = mp_gw_gz_create(1);
    const char *parts[] = {"", "", "{}", "", ""};
    size_t lens[] = {0, 0, 2, 0, 0};
    uint8_t out[256];
    uint32_t crc;
    uint64_t total;
    size_t n = assemble(z, parts, lens, 5, out, &crc, &total);
    char dec[8];
    cr_assert_eq(gunzip(out, n, dec, sizeof dec), 2);
    cr_assert_eq(memcmp(dec, "{}", 2), 0);
    mp_gw_gz_destroy(z);
}

Test(gzip_parts, a_wrong_crc_is_refused_by_the_decoder)
{
    uint8_t out[64];
    size_t off = mp_gw_gz_header(out);
    off += mp_gw_gz_stored(out + off, "abc", 3);
    off += mp_gw_gz_end(out + off, mp_gw_gz_crc(0, "abd", 3), 3);
    char dec[8];
    cr_assert_eq(gunzip(out, off, dec, sizeof dec), -1);
}
