/* Compression of a snapshot section that is rebuilt often but changes little: the body
 * is cut into chunks at boundaries its builder chose by content (after entities picked
 * by their id, so a changed entity moves no boundary but its own chunk's), each chunk is
 * a separate sync-flushed deflate part, and a chunk whose bytes equal a chunk of the
 * previous build (same CRC and length, then compared byte for byte) reuses that build's
 * compressed bytes. A rebuild then compresses only the chunks that changed. The section's
 * part is the chunks' parts concatenated, with their CRCs combined (gzip_parts.h). */
#ifndef MP_GW_GZ_CHUNKS_H
#define MP_GW_GZ_CHUNKS_H

#include <stdint.h>

#include "gateway/body.h"
#include "gateway/gzip_parts.h"

/* Chunk size rules for builders: a boundary may follow an entity once the chunk holds at
 * least MIN bytes and the entity's id hash has its low bits clear (about one entity in
 * MP_GW_GZ_CHUNK_PICK); it must once the chunk holds MAX bytes. */
#define MP_GW_GZ_CHUNK_MIN 4096u
#define MP_GW_GZ_CHUNK_MAX 65536u
#define MP_GW_GZ_CHUNK_PICK 64u

typedef struct mp_gw_gz_chunks mp_gw_gz_chunks_t;

typedef struct mp_gw_gz_chunk_stats {
    uint64_t compressed, reused; /* chunks */
    uint64_t compressed_bytes;   /* plain bytes that went through deflate */
} mp_gw_gz_chunk_stats_t;

/* Per-section state (the previous build's chunks). Returns NULL when out of memory. */
mp_gw_gz_chunks_t *mp_gw_gz_chunks_create(void);

/* Frees the state and its references (NULL is fine). */
void mp_gw_gz_chunks_destroy(mp_gw_gz_chunks_t *c);

/* Forgets the previous build (its bytes belong to a region mapping that is gone). */
void mp_gw_gz_chunks_reset(mp_gw_gz_chunks_t *c);

/* Compresses body, whose chunks end at bounds[0..n) (increasing, the last == body->len),
 * into a new body from pool (*out, one reference): the raw deflate parts of the chunks,
 * each ended by a sync flush; *crc is the CRC-32 of body. The chunks become the previous
 * build for the next call (a reference to body is kept). Returns 0, -EINVAL for bounds
 * that do not cover body, -ENOMEM, or a body error (nothing changes then). */
int mp_gw_gz_chunks_compress(mp_gw_gz_chunks_t *c, mp_gw_gz_t *z, mp_gw_body_pool_t *pool,
                             mp_gw_body_t *body, const uint32_t *bounds, uint32_t n,
                             mp_gw_body_t **out, uint32_t *crc, mp_gw_gz_chunk_stats_t *st);

/* The boundary rule for a builder: after an entity whose id hashes to id_hash ends the
 * current chunk at chunk_len bytes. */
static inline int mp_gw_gz_chunk_ends(uint64_t id_hash, uint32_t chunk_len)
{
    if (chunk_len >= MP_GW_GZ_CHUNK_MAX) return 1;
    return chunk_len >= MP_GW_GZ_CHUNK_MIN && (id_hash & (MP_GW_GZ_CHUNK_PICK - 1)) == 0;
}

#endif
