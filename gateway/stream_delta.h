/* Journal deltas of the stream encoded once into reference-counted records shared by
 * every session, and the coalescing map of one session's channel (entity id -> newest
 * change; an upsert then a remove is a remove), bounded. Single-threaded. */
#ifndef MP_GW_STREAM_DELTA_H
#define MP_GW_STREAM_DELTA_H

#include <stdbool.h>
#include <stdint.h>

#include "readmodel/rm_reader.h"

#define MP_GW_STREAM_PENDING_MAX 4096 /* coalesced entities per map; past it: -ENOSPC */

/* One journal delta encoded once: an upsert's entity object or a remove's id string. */
typedef struct mp_gw_enc {
    uint32_t refs;
    uint32_t len;
    uint64_t seq;
    uint64_t hash; /* of (channel, id): coalescing key */
    uint8_t channel, op, id_len;
    mp_rm_id_t id;
    char json[];
} mp_gw_enc_t;

/* Encodes delta x once. Returns a record with one reference, or NULL (out of memory or
 * an entity rm_json refuses: the delta is skipped). */
mp_gw_enc_t *mp_gw_enc_create(const mp_rm_delta_t *x);

/* Drops a reference; the last frees the record. NULL is ignored. */
void mp_gw_enc_unref(mp_gw_enc_t *e);

/* A session's pending changes on one channel: at most MP_GW_STREAM_PENDING_MAX entities,
 * one record per entity (the newest), an open-addressing index rebuilt after a flush. */
typedef struct mp_gw_coalesce {
    mp_gw_enc_t **items;
    uint32_t count, cap;
    uint32_t *index; /* item index + 1, 0 empty; slots = 2 * cap (power of two) */
    uint32_t slots;
} mp_gw_coalesce_t;

/* Puts e (reference taken) in place of the entity's older change. Returns 0, -ENOSPC
 * past MP_GW_STREAM_PENDING_MAX, -ENOMEM. */
int mp_gw_coalesce_put(mp_gw_coalesce_t *c, mp_gw_enc_t *e);

/* Rebuilds the index after items were removed or reordered (flushes shift sent records
 * out of items). */
void mp_gw_coalesce_reindex(mp_gw_coalesce_t *c);

/* Drops every pending change (keeps the memory). */
void mp_gw_coalesce_clear(mp_gw_coalesce_t *c);

/* Frees the memory. */
void mp_gw_coalesce_dispose(mp_gw_coalesce_t *c);

#endif
