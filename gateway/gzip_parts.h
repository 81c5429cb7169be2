/* A gzip body assembled from parts compressed at different times (RFC 1951/1952): each
 * cached part is a raw deflate stream ended by a sync flush (byte-aligned, not final),
 * small per-response parts are stored blocks, and the member ends with an empty final
 * block and the CRC-32 and length of the whole, the part CRCs combined. So a snapshot
 * section compressed once when it was built is sent compressed to every client. */
#ifndef MP_GW_GZIP_PARTS_H
#define MP_GW_GZIP_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/body.h"

#define MP_GW_GZ_HEADER_LEN 10
#define MP_GW_GZ_STORED_OVERHEAD 5 /* a stored block's header; parts <= 65535 bytes */
#define MP_GW_GZ_END_LEN 10         /* final empty block (2) + CRC-32 (4) + ISIZE (4) */

typedef struct mp_gw_gz mp_gw_gz_t;

/* A compressor (one deflate state, reused). Returns NULL when out of memory. */
mp_gw_gz_t *mp_gw_gz_create(int level);
void mp_gw_gz_destroy(mp_gw_gz_t *z);

/* Appends the raw deflate of p[0..n), ended by a sync flush, to out. Returns 0, -ENOMEM,
 * or mp_gw_body_reserve's error. */
int mp_gw_gz_deflate(mp_gw_gz_t *z, const char *p, size_t n, mp_gw_body_t *out);

/* Writes the gzip member header to dst (MP_GW_GZ_HEADER_LEN bytes). Returns its length. */
size_t mp_gw_gz_header(uint8_t *dst);

/* Writes p[0..n) (n <= 65535) as one stored, non-final block to dst, which has room for
 * n + MP_GW_GZ_STORED_OVERHEAD bytes. Returns the bytes written. */
size_t mp_gw_gz_stored(uint8_t *dst, const char *p, size_t n);

/* Writes the end of the member (MP_GW_GZ_END_LEN bytes): an empty final block, then crc
 * and the total uncompressed length modulo 2^32, little-endian. Returns its length. */
size_t mp_gw_gz_end(uint8_t *dst, uint32_t crc, uint64_t total);

/* CRC-32 of p[0..n) continuing crc (start with 0). */
uint32_t mp_gw_gz_crc(uint32_t crc, const char *p, size_t n);

/* The CRC-32 of A then B from crc_a, crc_b and B's length. */
uint32_t mp_gw_gz_crc_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b);

#endif
