/* gzip members from separately compressed parts: zlib for the deflate and CRC work, the
 * framing (header, stored blocks, final block, trailer) written here. */
#include "gateway/gzip_parts.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct mp_gw_gz {
    z_stream zs;
};

mp_gw_gz_t *mp_gw_gz_create(int level)
{
    mp_gw_gz_t *z = calloc(1, sizeof *z);
    if (!z) return NULL;
    /* Negative window bits: raw deflate, no zlib wrapper (the gzip framing is ours). */
    if (deflateInit2(&z->zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(z);
        return NULL;
    }
    return z;
}

void mp_gw_gz_destroy(mp_gw_gz_t *z)
{
    if (!z) return;
    deflateEnd(&z->zs);
    free(z);
}

int mp_gw_gz_deflate(mp_gw_gz_t *z, const char *p, size_t n, mp_gw_body_t *out)
{
    if (deflateReset(&z->zs) != Z_OK) return -ENOMEM;
    z->zs.next_in = (Bytef *)p;
    z->zs.avail_in = 0;
    size_t left = n;
    for (;;) {
        /* avail_in is 32-bit: feed at most UINT_MAX at a time. */
        if (z->zs.avail_in == 0 && left > 0) {
            uInt chunk = left > UINT_MAX ? UINT_MAX : (uInt)left;
            z->zs.avail_in = chunk;
            left -= chunk;
        }
        size_t room = deflateBound(&z->zs, z->zs.avail_in) + 16;
        int ret = mp_gw_body_reserve(out, room);
        if (ret) return ret;
        z->zs.next_out = (Bytef *)out->data + out->len;
        z->zs.avail_out = (uInt)(out->cap - out->len > UINT_MAX ? UINT_MAX : out->cap - out->len);
        uInt before = z->zs.avail_out;
        int flush = left > 0 ? Z_NO_FLUSH : Z_SYNC_FLUSH;
        int zr = deflate(&z->zs, flush);
        if (zr != Z_OK && zr != Z_BUF_ERROR) return -ENOMEM;
        out->len += before - z->zs.avail_out;
        /* Done once everything went in and the sync flush fit (output room left over). */
        if (left == 0 && z->zs.avail_in == 0 && z->zs.avail_out > 0) return 0;
    }
}

size_t mp_gw_gz_header(uint8_t *dst)
{
    /* ID1 ID2, CM deflate, no flags, no mtime, no extra flags, OS unknown. */
    static const uint8_t head[MP_GW_GZ_HEADER_LEN] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    memcpy(dst, head, sizeof head);
    return sizeof head;
}

size_t mp_gw_gz_stored(uint8_t *dst, const char *p, size_t n)
{
    /* BFINAL 0, BTYPE 00, then LEN and its complement; the previous part ended on a byte
     * boundary (sync flush or stored block), so the three header bits pad to one byte. */
    dst[0] = 0;
    dst[1] = (uint8_t)n;
    dst[2] = (uint8_t)(n >> 8);
    dst[3] = (uint8_t)~n;
    dst[4] = (uint8_t)(~n >> 8);
    memcpy(dst + 5, p, n);
    return n + MP_GW_GZ_STORED_OVERHEAD;
}

static void put_le32(uint8_t *dst, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        dst[i] = (uint8_t)(v >> (8 * i));
}

size_t mp_gw_gz_end(uint8_t *dst, uint32_t crc, uint64_t total)
{
    /* A final fixed-Huffman block holding only end-of-block: bits 1, 01, 0000000. */
    dst[0] = 0x03;
    dst[1] = 0x00;
    put_le32(dst + 2, crc);
    put_le32(dst + 6, (uint32_t)total);
    return MP_GW_GZ_END_LEN;
}

uint32_t mp_gw_gz_crc(uint32_t crc, const char *p, size_t n)
{
    while (n > 0) {
        uInt chunk = n > UINT_MAX ? UINT_MAX : (uInt)n;
        crc = (uint32_t)crc32(crc, (const Bytef *)p, chunk);
        p += chunk;
        n -= chunk;
    }
    return crc;
}

uint32_t mp_gw_gz_crc_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b)
{
    return (uint32_t)crc32_combine(crc_a, crc_b, (z_off_t)len_b);
}
