/* GET /dashboard/snapshot-v2 responses, independent of HTTP: full snapshots assembled
 * from per-channel sections cached in shared bodies, and delta responses (changes since a
 * journal seq, coalesced). A response is a list of byte segments plus the body references
 * that keep them alive, so one encoded section goes to many clients without a copy.
 *
 * Cache rule (SPEC 4.1: snapshot_seq is read before the entities are copied):
 *  - a section records the channel's seq and the journal seq read before its entities
 *    were copied; it is current as of any later journal seq while the channel's seq has
 *    not moved, and is then reused as is;
 *  - a section whose channel moved is still reused while younger than coalesce_ms (it
 *    then vouches only for its own older journal seq); otherwise it is rebuilt;
 *  - a response's snapshot_seq is the smallest seq its sections vouch for, never more
 *    than the journal seq read when the request started, so a client resuming from it
 *    replays everything its copy may lack (deltas apply by entity seq: it converges). */
#ifndef MP_GW_SNAPSHOT_H
#define MP_GW_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/body.h"
#include "gateway/query.h"
#include "readmodel/rm_region.h"

/* head, one or two segments per channel, tail */
#define MP_GW_SNAPSHOT_SEGS (2 * MP_CH_COUNT + 2)
/* A section larger than this is not compressed (compressing it again at every change
 * would cost more than its bytes on the wire); the response then goes out as is. */
#define MP_GW_SNAPSHOT_GZ_SECTION_MAX (2u << 20)

typedef struct mp_gw_snapshot_cfg {
    uint64_t coalesce_ns;         /* see the cache rule above; 0 reuses exact sections only */
    uint32_t resume_token_ttl_ms; /* announced as resume_token_ttl_ms */
} mp_gw_snapshot_cfg_t;

/* One response: segs[0..nsegs) concatenated is the JSON document (total bytes). refs keep
 * the shared bodies alive; the caller releases them with mp_gw_snapshot_resp_release when
 * the bytes are no longer needed (after they were written). */
typedef struct mp_gw_snapshot_resp {
    struct {
        const char *base;
        size_t len;
    } segs[MP_GW_SNAPSHOT_SEGS];
    unsigned nsegs;
    size_t total;
    mp_gw_body_t *refs[MP_CH_COUNT + 1];
    unsigned nrefs;
    bool delta;        /* mode "delta" (else "full") */
    bool gzip;         /* segs form a gzip member (Content-Encoding: gzip) */
    bool rebuilt;      /* at least one section was (re)built for this response */
    double rebuild_ms; /* time spent rebuilding sections */
    uint64_t snapshot_seq;
    char head[256];
    char tail[128];
    /* gzip framing around head and tail (see gzip_parts.h), and a stored comma */
    char gz_head[16 + 256];
    char gz_tail[16 + 128];
    uint8_t gz_comma[8];
} mp_gw_snapshot_resp_t;

typedef struct mp_gw_snapshot mp_gw_snapshot_t;

/* A snapshot builder with an empty cache, taking its bodies from pool (which must outlive
 * it). Returns 0 or -ENOMEM. */
int mp_gw_snapshot_create(const mp_gw_snapshot_cfg_t *cfg, mp_gw_body_pool_t *pool,
                          mp_gw_snapshot_t **out);

/* Releases the cache and the builder. Responses still referencing bodies keep them. */
void mp_gw_snapshot_destroy(mp_gw_snapshot_t *s);

/* Builds the response to q over the mapped region rm (rm_gen: its mapping generation,
 * see mp_gw_regions_t; a new generation drops the cache). Delta mode when q has a
 * since_seq inside the journal window and the coalesced changes stay smaller than a full
 * snapshot (fewer entities than the channels hold, a bounded scan); full otherwise.
 * A full response to a query with accept_gzip is a gzip member made of the sections'
 * cached compressed parts (resp->gzip), unless a section is too large to compress.
 * Returns 0 with resp filled; -ENOSPC when a section exceeds the body size limit;
 * -ENOMEM when the body budget is exhausted (resp then holds no references). */
int mp_gw_snapshot_build(mp_gw_snapshot_t *s, const mp_rm_region_t *rm, uint64_t rm_gen,
                         const mp_gw_snapshot_query_t *q, mp_gw_snapshot_resp_t *resp);

/* Drops the body references of a response. */
void mp_gw_snapshot_resp_release(mp_gw_snapshot_resp_t *resp);

/* Records how long a whole snapshot-v2 request took (snapshot_v2_build_ms). */
void mp_gw_snapshot_observe_request(mp_gw_snapshot_t *s, double ms);

/* Metrics writer (mp_gw_metrics_fn): dashboard_snapshot_build_ms, snapshot_v2_build_ms,
 * cache and delta counters. */
int mp_gw_snapshot_metrics(void *ctx, mp_gw_body_t *out);

#endif
