/* Reuse of encoded entities across rebuilds of a snapshot section: where each entity's
 * JSON lies in the previous build, keyed by its seq and the checksum of its bytes. An
 * entity's seq is the journal seq of its last change, so an entity met again with the
 * same seq and checksum encodes to the same bytes: they are copied instead of encoded
 * again (at high rates most of a section is unchanged between two builds). */
#ifndef MP_GW_ENTITY_CACHE_H
#define MP_GW_ENTITY_CACHE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct mp_gw_enc_cache mp_gw_enc_cache_t;

/* Where an entity's JSON was written: list (0 or 1, e.g. feature.main top / recent) and
 * byte range within that list's bytes. */
typedef struct mp_gw_enc_loc {
    uint32_t off;
    uint32_t len;
    uint8_t list;
} mp_gw_enc_loc_t;

/* A cache for builds of up to capacity entities. Returns 0, -EINVAL or -ENOMEM. */
int mp_gw_enc_cache_create(uint32_t capacity, mp_gw_enc_cache_t **out);

/* Frees the cache (NULL is fine). */
void mp_gw_enc_cache_destroy(mp_gw_enc_cache_t *c);

/* Entities recorded per build at most (the capacity it was created with). */
uint32_t mp_gw_enc_cache_capacity(const mp_gw_enc_cache_t *c);

/* Starts recording a build; the previous (committed) build stays readable by find. */
void mp_gw_enc_cache_begin(mp_gw_enc_cache_t *c);

/* Records an entity of the build in progress. Beyond capacity entities are not recorded
 * (a later build encodes them again). */
void mp_gw_enc_cache_add(mp_gw_enc_cache_t *c, uint64_t seq, uint64_t check, uint8_t kind,
                         mp_gw_enc_loc_t loc);

/* The build in progress becomes the one find reads (its bytes are now the section's). */
void mp_gw_enc_cache_commit(mp_gw_enc_cache_t *c);

/* Forgets every build (their bytes are gone, e.g. after a remap of the region). */
void mp_gw_enc_cache_reset(mp_gw_enc_cache_t *c);

/* Looks an entity up in the committed build: true with its location when seq, checksum
 * and kind all match. */
bool mp_gw_enc_cache_find(const mp_gw_enc_cache_t *c, uint64_t seq, uint64_t check, uint8_t kind,
                          mp_gw_enc_loc_t *loc);

#endif
