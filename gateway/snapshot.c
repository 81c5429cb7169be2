/* snapshot-v2: per-channel full sections encoded once into shared bodies and reused
 * under the cache rule of snapshot.h, delta responses from the journal coalescer, and
 * the response head and tail around them. */
#include "gateway/snapshot.h"

#include "common/clock.h"
#include "gateway/delta.h"
#include "gateway/entity_cache.h"
#include "gateway/gz_chunks.h"
#include "gateway/gzip_parts.h"
#include "gateway/prom.h"
#include "readmodel/rm_json.h"
#include "readmodel/rm_reader.h"
#include "shm/checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Scanning more journal entries than this many times the entities the requested channels
 * hold (and at least DELTA_SCAN_MIN) costs more than a full snapshot: serve full. */
#define DELTA_SCAN_FACTOR 4u
#define DELTA_SCAN_MIN 16384u
#define MARKS_TRIES 4

/* Chunk ends within a section body (increasing offsets, the last one the body's end). */
typedef struct bounds {
    uint32_t *v;
    uint32_t n, cap;
} bounds_t;

/* One channel's full snapshot section: `"<channel>":{"seq":N,"items":[...]}`. */
typedef struct section {
    mp_gw_body_t *body;       /* NULL until built */
    size_t recent_base;       /* feature.main: where the "recent" rows start in body */
    mp_gw_enc_cache_t *cache; /* where body's entities lie, for the next build */
    uint64_t rm_gen;          /* region mapping it was copied from */
    uint64_t channel_seq;     /* channel's last seq, read before copying */
    uint64_t journal_seq;     /* journal seq read before copying: what the section vouches for */
    uint64_t built_ns;        /* CLOCK_MONOTONIC */
    mp_gw_body_t *gz;         /* body as a sync-flushed raw deflate part; NULL until asked */
    uint32_t crc;             /* CRC-32 of body, with gz */
    bounds_t bounds;          /* body's chunks (gz_chunks.h), and a spare for the next build */
    bounds_t next_bounds;
    mp_gw_gz_chunks_t *gzc; /* the previous compression's chunks, reused when unchanged */
} section_t;

struct mp_gw_snapshot {
    mp_gw_snapshot_cfg_t cfg;
    mp_gw_body_pool_t *pool;
    section_t sec[MP_CH_COUNT];
    mp_gw_delta_t *delta;
    mp_gw_gz_t *gz;          /* created at the first gzip response */
    mp_gw_hist_t build_ms;   /* dashboard_snapshot_build_ms: section rebuilds per request */
    mp_gw_hist_t request_ms; /* snapshot_v2_build_ms: whole requests */
    uint64_t full_total, delta_total;
    uint64_t section_hits, section_coalesced, section_builds;
    uint64_t entities_encoded, entities_reused;
    uint64_t fallback_window, fallback_size, fallback_reset, fallback_ahead;
    uint64_t skipped_slots, torn_slots;
    uint64_t gzip_total, gzip_sections, gzip_in_bytes, gzip_out_bytes;
    mp_gw_gz_chunk_stats_t gzip_chunks;
};

int mp_gw_snapshot_create(const mp_gw_snapshot_cfg_t *cfg, mp_gw_body_pool_t *pool,
                          mp_gw_snapshot_t **out)
{
    mp_gw_snapshot_t *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->cfg = *cfg;
    s->pool = pool;
    mp_gw_hist_init(&s->build_ms, mp_gw_ms_bounds, mp_gw_ms_bounds_count);
    mp_gw_hist_init(&s->request_ms, mp_gw_ms_bounds, mp_gw_ms_bounds_count);
    *out = s;
    return 0;
}

static void drop_sections(mp_gw_snapshot_t *s)
{
    for (int ch = 0; ch < MP_CH_COUNT; ch++) {
        mp_gw_body_unref(s->sec[ch].body);
        s->sec[ch].body = NULL;
        mp_gw_body_unref(s->sec[ch].gz);
        s->sec[ch].gz = NULL;
        mp_gw_enc_cache_destroy(s->sec[ch].cache);
        s->sec[ch].cache = NULL;
        mp_gw_gz_chunks_destroy(s->sec[ch].gzc);
        s->sec[ch].gzc = NULL;
        free(s->sec[ch].bounds.v);
        free(s->sec[ch].next_bounds.v);
        s->sec[ch].bounds = s->sec[ch].next_bounds = (bounds_t){0};
    }
}

void mp_gw_snapshot_destroy(mp_gw_snapshot_t *s)
{
    if (!s) return;
    drop_sections(s);
    mp_gw_delta_destroy(s->delta);
    mp_gw_gz_destroy(s->gz);
    free(s);
}

void mp_gw_snapshot_resp_release(mp_gw_snapshot_resp_t *resp)
{
    for (unsigned i = 0; i < resp->nrefs; i++)
        mp_gw_body_unref(resp->refs[i]);
    resp->nrefs = 0;
}

/* Watermarks with every channel seq at or below journal_seq: the writer stores the
 * channel seqs before it publishes journal_seq, so a read that straddles a commit can see
 * a channel ahead; reading again (bounded) settles it, and a channel still ahead is
 * clamped (it only makes a section look changed and be rebuilt). */
static void read_marks(const mp_rm_region_t *rm, mp_rm_marks_t *m)
{
    for (int t = 0; t < MARKS_TRIES; t++) {
        mp_rm_read_marks(rm, m);
        bool ahead = false;
        for (int ch = 0; ch < MP_CH_COUNT; ch++)
            ahead |= m->channel_seq[ch] > m->journal_seq;
        if (!ahead) return;
    }
    for (int ch = 0; ch < MP_CH_COUNT; ch++)
        if (m->channel_seq[ch] > m->journal_seq) m->channel_seq[ch] = m->journal_seq;
}

/* Capacity in entities of each channel, from the region's section sizes. */
static uint32_t channel_capacity(const mp_rm_region_t *rm, unsigned ch)
{
    const mp_rm_caps_t *c = &rm->caps;
    switch (ch) {
    case MP_CH_TX: return c->tx_ring;
    case MP_CH_FEATURE: return c->feature_top + c->feature_recent;
    case MP_CH_OPPORTUNITY: return c->opportunity;
    case MP_CH_CHAIN: return c->chain;
    case MP_CH_MARKET: return c->market;
    default: return 0;
    }
}

/* ---- encoding ---- */

/* Appends one entity as an array element (a comma before all but the first). Room for
 * the largest entity is made first, so the JSON writer never runs out mid-entity. */
static int append_entity(mp_gw_body_t *b, unsigned *n, mp_rm_kind_t kind, const void *entity)
{
    int ret = mp_gw_body_reserve(b, MP_RM_JSON_ENTITY_MAX + 1);
    if (ret) return ret;
    size_t start = b->len;
    if (*n) b->data[b->len++] = ',';
    mp_jw_t jw;
    mp_jw_init(&jw, b->data + b->len, b->cap - b->len);
    mp_rm_entity_json(&jw, kind, entity);
    ssize_t len = mp_jw_finish(&jw);
    if (len < 0) {
        b->len = start;
        return (int)len;
    }
    b->len += (size_t)len;
    (*n)++;
    return 0;
}

typedef struct list_ctx {
    mp_gw_body_t *lists[2]; /* 0: "items" ("top" for feature.main); 1: "recent" rows */
    unsigned n[2];
    bounds_t *bounds[2];      /* chunk ends in each list's own offsets */
    uint32_t chunk_start[2]; /* where each list's current chunk began */
    mp_gw_enc_cache_t *cache; /* records where this build puts each entity */
    const mp_gw_body_t *old;  /* the previous build of the section, or NULL */
    size_t old_recent_base;
    uint64_t encoded, reused;
    int err;
} list_ctx_t;

static int bounds_push(bounds_t *b, uint32_t end)
{
    if (b->n && b->v[b->n - 1] >= end) return 0; /* nothing since the last end */
    if (b->n == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 64;
        uint32_t *v = realloc(b->v, (size_t)cap * sizeof *v);
        if (!v) return -ENOMEM;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = end;
    return 0;
}

/* Ends the list's current chunk after this entity when the boundary rule (gz_chunks.h)
 * picks it: by the entity's id, so the same entities in the same order always cut the
 * same chunks, whatever changed elsewhere in the section. */
static int maybe_end_chunk(list_ctx_t *c, uint8_t list, mp_rm_kind_t kind, const void *entity)
{
    uint32_t end = (uint32_t)c->lists[list]->len, len = end - c->chunk_start[list];
    if (len < MP_GW_GZ_CHUNK_MIN) return 0; /* too small to end: no id to hash */
    mp_rm_id_t id;
    uint8_t id_len;
    mp_rm_entity_id(kind, entity, &id, &id_len);
    uint64_t h = mp_fingerprint(MP_FINGERPRINT_INIT, id.bytes, id_len);
    if (!mp_gw_gz_chunk_ends(h ^ (h >> 32), len)) return 0;
    c->chunk_start[list] = end;
    return bounds_push(c->bounds[list], end);
}

/* Appends one entity to its list: the previous build's bytes when it holds the same
 * entity (same seq and checksum), else a fresh encoding. */
static int visit(void *ctx, mp_rm_kind_t kind, const void *entity)
{
    list_ctx_t *c = ctx;
    uint8_t list = kind == MP_KIND_FEATURE_RECENT;
    mp_gw_body_t *b = c->lists[list];
    size_t size = mp_rm_kind_size(kind);
    uint64_t seq = mp_rm_entity_seq(entity);
    uint64_t check = size ? mp_rm_check(entity, size) : 0;
    mp_gw_enc_loc_t loc;
    if (c->old && size && mp_gw_enc_cache_find(c->cache, seq, check, (uint8_t)kind, &loc)) {
        size_t from = (loc.list ? c->old_recent_base : 0) + loc.off;
        if (from + loc.len <= c->old->len) {
            c->err = mp_gw_body_reserve(b, (size_t)loc.len + 1);
            if (c->err) return 1;
            if (c->n[list]) b->data[b->len++] = ',';
            uint32_t off = (uint32_t)b->len;
            memcpy(b->data + b->len, c->old->data + from, loc.len);
            b->len += loc.len;
            c->n[list]++;
            c->reused++;
            mp_gw_enc_cache_add(c->cache, seq, check, (uint8_t)kind,
                                (mp_gw_enc_loc_t){.off = off, .len = loc.len, .list = list});
            c->err = maybe_end_chunk(c, list, kind, entity);
            return c->err != 0;
        }
    }
    size_t before = b->len;
    c->err = append_entity(b, &c->n[list], kind, entity);
    if (c->err) return 1;
    c->encoded++;
    /* The entity's bytes start after the comma append_entity may have written. */
    size_t start = before + (c->n[list] > 1);
    if (size)
        mp_gw_enc_cache_add(c->cache, seq, check, (uint8_t)kind,
                            (mp_gw_enc_loc_t){.off = (uint32_t)start,
                                              .len = (uint32_t)(b->len - start),
                                              .list = list});
    c->err = maybe_end_chunk(c, list, kind, entity);
    return c->err != 0;
}

static int append_str(mp_gw_body_t *b, const char *s)
{
    return mp_gw_body_append(b, s, strlen(s));
}

/* `"<channel>":{"seq":N,` */
static int channel_open(mp_gw_body_t *b, unsigned ch, uint64_t seq)
{
    int ret = mp_gw_body_printf(b, "\"%s\":{\"seq\":", mp_rm_channel_name(ch));
    if (!ret) ret = mp_gw_body_u64(b, seq);
    if (!ret) ret = mp_gw_body_append(b, ",", 1);
    return ret;
}

/* Copies channel ch out of the region and encodes it into a new body that replaces the
 * cached one. Entities unchanged since the previous build are copied from it. */
static int build_section(mp_gw_snapshot_t *s, const mp_rm_region_t *rm, uint64_t rm_gen,
                         unsigned ch)
{
    section_t *sec = &s->sec[ch];
    uint32_t cap = channel_capacity(rm, ch);
    if (!sec->cache || mp_gw_enc_cache_capacity(sec->cache) != cap) {
        mp_gw_enc_cache_destroy(sec->cache);
        sec->cache = NULL;
        int ret = mp_gw_enc_cache_create(cap, &sec->cache);
        if (ret) return ret;
    }
    mp_rm_marks_t m;
    read_marks(rm, &m); /* before any entity is copied */
    uint64_t built_ns = mp_mono_ns();
    size_t hint = sec->body ? sec->body->len + sec->body->len / 8 : 64 * 1024;
    mp_gw_body_t *b = NULL, *recent = NULL;
    int ret = mp_gw_body_get(s->pool, hint, &b);
    if (ret) return ret;
    if (ch == MP_CH_FEATURE) {
        ret = mp_gw_body_get(s->pool, sec->body ? sec->body->len : 64 * 1024, &recent);
        if (ret) goto out_unref;
    }
    /* Chunk ends of the new body; the head (it holds the channel seq) is a chunk alone. */
    bounds_t *nb = &sec->next_bounds, recent_bounds = {0};
    nb->n = 0;
    ret = channel_open(b, ch, m.channel_seq[ch]);
    if (!ret) ret = append_str(b, ch == MP_CH_FEATURE ? "\"top\":[" : "\"items\":[");
    if (!ret) ret = bounds_push(nb, (uint32_t)b->len);
    if (ret) goto out_unref;
    /* Offsets recorded for "items" count from the section start, the bytes before the
     * list included; "recent" offsets (entities and chunk ends) from the start of its own
     * list. */
    list_ctx_t c = {.lists = {b, recent},
                    .bounds = {nb, &recent_bounds},
                    .chunk_start = {(uint32_t)b->len, 0},
                    .cache = sec->cache,
                    .old = sec->body && sec->rm_gen == rm_gen ? sec->body : NULL,
                    .old_recent_base = sec->recent_base};
    mp_gw_enc_cache_begin(sec->cache);
    mp_rm_list_stats_t st = {0};
    mp_rm_list(rm, (mp_rm_channel_t)ch, visit, &c, &st);
    s->skipped_slots += st.skipped;
    s->torn_slots += st.torn;
    s->entities_encoded += c.encoded;
    s->entities_reused += c.reused;
    ret = c.err;
    if (ret) goto out_unref;
    size_t recent_base = 0;
    if (ch == MP_CH_FEATURE) {
        ret = append_str(b, "],\"recent\":[");
        recent_base = b->len;
        if (!ret) ret = bounds_push(nb, (uint32_t)recent_base);
        if (!ret) ret = mp_gw_body_append(b, recent->data, recent->len);
        for (uint32_t i = 0; !ret && i < recent_bounds.n; i++)
            ret = bounds_push(nb, (uint32_t)recent_base + recent_bounds.v[i]);
    }
    if (!ret) ret = append_str(b, "]}");
    if (!ret) ret = bounds_push(nb, (uint32_t)b->len);
    if (ret) goto out_unref;
    free(recent_bounds.v);
    bounds_t spare = sec->bounds;
    sec->bounds = *nb;
    *nb = spare;
    mp_gw_enc_cache_commit(sec->cache);
    mp_gw_body_unref(recent);
    mp_gw_body_unref(sec->body);
    mp_gw_body_unref(sec->gz);
    sec->gz = NULL;
    sec->body = b;
    sec->recent_base = recent_base;
    sec->rm_gen = rm_gen;
    sec->channel_seq = m.channel_seq[ch];
    sec->journal_seq = m.journal_seq;
    sec->built_ns = built_ns;
    s->section_builds++;
    return 0;
out_unref:
    free(recent_bounds.v);
    mp_gw_body_unref(recent);
    mp_gw_body_unref(b);
    return ret;
}

static void head_tail(mp_gw_snapshot_t *s, const mp_rm_marks_t *m, const mp_gw_snapshot_query_t *q,
                      mp_gw_snapshot_resp_t *r)
{
    uint64_t now_ms = mp_wall_ns() / 1000000;
    char since[48] = "";
    if (r->delta) snprintf(since, sizeof since, ",\"since_seq\":%" PRIu64, q->since_seq);
    snprintf(r->head, sizeof r->head,
             "{\"revision\":%" PRIu64 ",\"snapshot_seq\":%" PRIu64
             ",\"resume_token_ttl_ms\":%" PRIu32 ",\"server_time_unix_ms\":%" PRIu64
             ",\"mode\":\"%s\"%s,\"channels\":{",
             m->revision, r->snapshot_seq, s->cfg.resume_token_ttl_ms, now_ms,
             r->delta ? "delta" : "full", since);
    snprintf(r->tail, sizeof r->tail,
             "},\"watermark\":{\"latest_ingest_seq\":%" PRIu64 ",\"journal_seq\":%" PRIu64 "}}",
             m->applied_seq, m->journal_seq);
}

static void add_seg(mp_gw_snapshot_resp_t *r, const char *base, size_t len)
{
    r->segs[r->nsegs].base = base;
    r->segs[r->nsegs].len = len;
    r->nsegs++;
    r->total += len;
}

/* Head first, body segments, tail last: head and tail are only known at the end. */
static void finish_resp(mp_gw_snapshot_t *s, const mp_rm_marks_t *m,
                        const mp_gw_snapshot_query_t *q, mp_gw_snapshot_resp_t *r)
{
    head_tail(s, m, q, r);
    size_t head_len = strlen(r->head);
    r->segs[0].base = r->head;
    r->segs[0].len = head_len;
    r->total += head_len;
    add_seg(r, r->tail, strlen(r->tail));
}

/* ---- gzip ---- */

/* Compresses a section's body once per build (level 1), deflating only the chunks that
 * changed since the previous compression (gz_chunks.h). Returns 0, or an error: the
 * response then goes out uncompressed. */
static int section_gz(mp_gw_snapshot_t *s, section_t *sec)
{
    if (sec->gz) return 0;
    if (sec->body->len > MP_GW_SNAPSHOT_GZ_SECTION_MAX) return -E2BIG;
    if (!s->gz && !(s->gz = mp_gw_gz_create(1))) return -ENOMEM;
    if (!sec->gzc && !(sec->gzc = mp_gw_gz_chunks_create())) return -ENOMEM;
    mp_gw_body_t *z = NULL;
    int ret = mp_gw_gz_chunks_compress(sec->gzc, s->gz, s->pool, sec->body, sec->bounds.v,
                                       sec->bounds.n, &z, &sec->crc, &s->gzip_chunks);
    if (ret) return ret;
    sec->gz = z;
    s->gzip_sections++;
    s->gzip_in_bytes += sec->body->len;
    s->gzip_out_bytes += z->len;
    return 0;
}

/* Rewrites the full response r (head, sections separated by commas, tail) as one gzip
 * member: header + stored head, per section a stored comma and its cached deflate part,
 * stored tail, end. Leaves r as it is when a section cannot be compressed. */
static void gzip_resp(mp_gw_snapshot_t *s, const mp_gw_snapshot_query_t *q,
                      mp_gw_snapshot_resp_t *r)
{
    static const char comma = ',';
    section_t *secs[MP_CH_COUNT];
    unsigned n = 0;
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++) {
        if (!(q->channels & (1u << ch))) continue;
        if (section_gz(s, &s->sec[ch])) return;
        secs[n++] = &s->sec[ch];
    }
    /* The plain sections' references give way to their compressed parts' (the cache
     * keeps the plain bodies, whose lengths the CRC needs, alive meanwhile). */
    mp_gw_snapshot_resp_release(r);
    size_t head_len = strlen(r->head), tail_len = strlen(r->tail);
    uint8_t *gh = (uint8_t *)r->gz_head, *gt = (uint8_t *)r->gz_tail;
    size_t gh_len = mp_gw_gz_header(gh);
    gh_len += mp_gw_gz_stored(gh + gh_len, r->head, head_len);
    uint32_t crc = mp_gw_gz_crc(0, r->head, head_len);
    uint64_t total = head_len;
    unsigned nsegs = 0;
    r->segs[nsegs].base = r->gz_head;
    r->segs[nsegs++].len = gh_len;
    size_t bytes = gh_len;
    for (unsigned i = 0; i < n; i++) {
        if (i > 0) {
            r->segs[nsegs].base = (const char *)r->gz_comma;
            r->segs[nsegs++].len = mp_gw_gz_stored(r->gz_comma, &comma, 1);
            bytes += 1 + MP_GW_GZ_STORED_OVERHEAD;
            crc = mp_gw_gz_crc(crc, &comma, 1);
            total += 1;
        }
        mp_gw_body_ref(secs[i]->gz);
        r->refs[r->nrefs++] = secs[i]->gz;
        r->segs[nsegs].base = secs[i]->gz->data;
        r->segs[nsegs++].len = secs[i]->gz->len;
        bytes += secs[i]->gz->len;
        crc = mp_gw_gz_crc_combine(crc, secs[i]->crc, secs[i]->body->len);
        total += secs[i]->body->len;
    }
    size_t gt_len = mp_gw_gz_stored(gt, r->tail, tail_len);
    crc = mp_gw_gz_crc(crc, r->tail, tail_len);
    total += tail_len;
    gt_len += mp_gw_gz_end(gt + gt_len, crc, total);
    r->segs[nsegs].base = r->gz_tail;
    r->segs[nsegs++].len = gt_len;
    bytes += gt_len;
    r->nsegs = nsegs;
    r->total = bytes;
    r->gzip = true;
    s->gzip_total++;
}

static int build_full(mp_gw_snapshot_t *s, const mp_rm_region_t *rm, uint64_t rm_gen,
                      const mp_rm_marks_t *m, const mp_gw_snapshot_query_t *q,
                      mp_gw_snapshot_resp_t *r)
{
    uint64_t now = mp_mono_ns(), vouched = m->journal_seq, rebuild_ns = 0;
    bool first = true;
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++) {
        if (!(q->channels & (1u << ch))) continue;
        section_t *sec = &s->sec[ch];
        bool have = sec->body && sec->rm_gen == rm_gen;
        if (have && m->channel_seq[ch] == sec->channel_seq) {
            s->section_hits++; /* unchanged since it was copied: current as of m */
        } else if (have && s->cfg.coalesce_ns && now - sec->built_ns < s->cfg.coalesce_ns) {
            s->section_coalesced++;
            if (sec->journal_seq < vouched) vouched = sec->journal_seq;
        } else {
            uint64_t t0 = mp_mono_ns();
            int ret = build_section(s, rm, rm_gen, ch);
            rebuild_ns += mp_mono_ns() - t0;
            if (ret) {
                mp_gw_snapshot_resp_release(r);
                return ret;
            }
            r->rebuilt = true;
            /* Copied after m was read: vouches for at least m->journal_seq. */
        }
        if (!first) add_seg(r, ",", 1);
        first = false;
        mp_gw_body_ref(sec->body);
        r->refs[r->nrefs++] = sec->body;
        add_seg(r, sec->body->data, sec->body->len);
    }
    r->snapshot_seq = vouched;
    r->rebuild_ms = (double)rebuild_ns / 1e6;
    if (r->rebuilt) mp_gw_hist_observe(&s->build_ms, r->rebuild_ms);
    s->full_total++;
    finish_resp(s, m, q, r);
    if (q->accept_gzip) gzip_resp(s, q, r);
    return 0;
}

/* ---- delta mode ---- */

static int append_id(mp_gw_body_t *b, unsigned *n, const mp_rm_journal_entry_t *e)
{
    int ret = mp_gw_body_reserve(b, MP_RM_ID_TEXT_MAX * 6 + 4); /* \u escapes at worst */
    if (ret) return ret;
    size_t start = b->len;
    if (*n) b->data[b->len++] = ',';
    mp_jw_t jw;
    mp_jw_init(&jw, b->data + b->len, b->cap - b->len);
    mp_rm_id_json(&jw, (mp_rm_kind_t)e->kind, &e->id, e->id_len);
    ssize_t len = mp_jw_finish(&jw);
    if (len < 0) {
        b->len = start;
        return (int)len;
    }
    b->len += (size_t)len;
    (*n)++;
    return 0;
}

/* `"<channel>":{"seq":N,"upsert":[...],"remove":[...]}` for each requested channel. */
static int encode_delta(mp_gw_snapshot_t *s, const mp_rm_marks_t *m,
                        const mp_gw_snapshot_query_t *q, mp_gw_body_t *b)
{
    const mp_gw_delta_t *d = s->delta;
    uint32_t count = mp_gw_delta_count(d);
    bool first = true;
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++) {
        if (!(q->channels & (1u << ch))) continue;
        /* The channel's last seq as of the response: its newest change collected, else
         * its seq read with the marks (then at or below since_seq). */
        uint64_t seq = mp_gw_delta_channel_seq(d, ch);
        if (!seq) seq = m->channel_seq[ch] <= q->since_seq ? m->channel_seq[ch] : q->since_seq;
        int ret = first ? 0 : mp_gw_body_append(b, ",", 1);
        first = false;
        if (!ret) ret = channel_open(b, ch, seq);
        if (!ret) ret = append_str(b, "\"upsert\":[");
        unsigned n = 0;
        for (uint32_t i = 0; i < count && !ret; i++) {
            const mp_rm_delta_t *x = mp_gw_delta_item(d, i);
            if (x->entry.channel != ch || x->entry.op != MP_OP_UPSERT) continue;
            if (x->entry.data_len != mp_rm_kind_size(x->entry.kind)) return -EPROTO;
            ret = append_entity(b, &n, (mp_rm_kind_t)x->entry.kind, &x->u);
        }
        if (!ret) ret = append_str(b, "],\"remove\":[");
        n = 0;
        for (uint32_t i = 0; i < count && !ret; i++) {
            const mp_rm_delta_t *x = mp_gw_delta_item(d, i);
            if (x->entry.channel != ch || x->entry.op != MP_OP_REMOVE) continue;
            ret = append_id(b, &n, &x->entry);
        }
        if (!ret) ret = append_str(b, "]}");
        if (ret) return ret;
    }
    return 0;
}

/* Ensures a coalescer large enough for every channel of this region. */
static int ensure_delta(mp_gw_snapshot_t *s, const mp_rm_region_t *rm)
{
    uint32_t need = 0;
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++)
        need += channel_capacity(rm, ch);
    if (s->delta && mp_gw_delta_capacity(s->delta) >= need) return 0;
    mp_gw_delta_destroy(s->delta);
    s->delta = NULL;
    return mp_gw_delta_create(need, &s->delta);
}

/* Returns 0 with a delta response, 1 when a full snapshot must be served instead, or a
 * negative errno. */
static int try_delta(mp_gw_snapshot_t *s, const mp_rm_region_t *rm, const mp_rm_marks_t *m,
                     const mp_gw_snapshot_query_t *q, mp_gw_snapshot_resp_t *r)
{
    if (q->since_seq > m->journal_seq) {
        s->fallback_ahead++; /* a client ahead of this journal (recreated region) */
        return 1;
    }
    int ret = ensure_delta(s, rm);
    if (ret) return ret;
    uint32_t items = 0;
    for (unsigned ch = 0; ch < MP_CH_COUNT; ch++)
        if (q->channels & (1u << ch)) items += channel_capacity(rm, ch);
    uint64_t scan = (uint64_t)items * DELTA_SCAN_FACTOR;
    if (scan < DELTA_SCAN_MIN) scan = DELTA_SCAN_MIN;
    ret = mp_gw_delta_collect(s->delta, rm, q->since_seq, m->journal_seq, q->channels, scan, items);
    if (ret) {
        if (ret == -ERANGE)
            s->fallback_window++;
        else if (ret == -E2BIG)
            s->fallback_size++;
        else
            s->fallback_reset++;
        return 1;
    }
    mp_gw_body_t *b;
    ret = mp_gw_body_get(s->pool, 16 * 1024, &b);
    if (ret) return ret;
    ret = encode_delta(s, m, q, b);
    if (ret) {
        mp_gw_body_unref(b);
        if (ret == -ENOMEM) return ret;
        s->fallback_size++; /* over the body limit, or an entry of the wrong size */
        return 1;
    }
    r->delta = true;
    r->refs[r->nrefs++] = b;
    add_seg(r, b->data, b->len);
    r->snapshot_seq = m->journal_seq;
    s->delta_total++;
    finish_resp(s, m, q, r);
    return 0;
}

int mp_gw_snapshot_build(mp_gw_snapshot_t *s, const mp_rm_region_t *rm, uint64_t rm_gen,
                         const mp_gw_snapshot_query_t *q, mp_gw_snapshot_resp_t *resp)
{
    memset(resp, 0, offsetof(mp_gw_snapshot_resp_t, head));
    resp->head[0] = resp->tail[0] = '\0';
    resp->nsegs = 1; /* segs[0] is the head, filled last */
    for (int ch = 0; ch < MP_CH_COUNT; ch++)
        if (s->sec[ch].body && s->sec[ch].rm_gen != rm_gen) { /* another mapping: stale */
            mp_gw_body_unref(s->sec[ch].body);
            s->sec[ch].body = NULL;
            mp_gw_body_unref(s->sec[ch].gz);
            s->sec[ch].gz = NULL;
            if (s->sec[ch].cache) mp_gw_enc_cache_reset(s->sec[ch].cache);
            if (s->sec[ch].gzc) mp_gw_gz_chunks_reset(s->sec[ch].gzc);
        }
    mp_rm_marks_t m;
    read_marks(rm, &m);
    if (q->has_since) {
        int ret = try_delta(s, rm, &m, q, resp);
        if (ret <= 0) return ret;
    }
    return build_full(s, rm, rm_gen, &m, q, resp);
}

void mp_gw_snapshot_observe_request(mp_gw_snapshot_t *s, double ms)
{
    mp_gw_hist_observe(&s->request_ms, ms);
}

/* The snapshot module's labelled counters, one row each; rows of one name are adjacent
 * and the first of them carries the help text (it writes the # HELP / # TYPE header). */
static const struct snapshot_counter {
    const char *name;
    const char *help;
    const char *labels;
    size_t offset;
} snapshot_counters[] = {
#define ROW(name, help, labels, field)                                                             \
    {                                                                                              \
        name, help, labels, offsetof(mp_gw_snapshot_t, field)                                      \
    }
    ROW("gateway_snapshot_responses_total", "snapshot-v2 responses by mode", "mode=\"full\"",
        full_total),
    ROW("gateway_snapshot_responses_total", NULL, "mode=\"delta\"", delta_total),
    ROW("gateway_snapshot_sections_total",
        "channel sections served from the cache (unchanged or coalesced) or rebuilt",
        "source=\"unchanged\"", section_hits),
    ROW("gateway_snapshot_sections_total", NULL, "source=\"coalesced\"", section_coalesced),
    ROW("gateway_snapshot_sections_total", NULL, "source=\"built\"", section_builds),
    ROW("gateway_snapshot_delta_fallbacks_total",
        "since_seq requests answered with a full snapshot, by reason", "reason=\"out_of_window\"",
        fallback_window),
    ROW("gateway_snapshot_delta_fallbacks_total", NULL, "reason=\"too_large\"", fallback_size),
    ROW("gateway_snapshot_delta_fallbacks_total", NULL, "reason=\"reset\"", fallback_reset),
    ROW("gateway_snapshot_delta_fallbacks_total", NULL, "reason=\"ahead\"", fallback_ahead),
    ROW("gateway_snapshot_entities_total",
        "entities written into rebuilt sections: encoded, or copied from the previous build",
        "source=\"encoded\"", entities_encoded),
    ROW("gateway_snapshot_entities_total", NULL, "source=\"reused\"", entities_reused),
    ROW("gateway_snapshot_slots_lost_total",
        "read-model slots a snapshot could not copy (skipped: being written; torn: must stay 0)",
        "kind=\"skipped\"", skipped_slots),
    ROW("gateway_snapshot_slots_lost_total", NULL, "kind=\"torn\"", torn_slots),
    ROW("gateway_snapshot_gzip_responses_total",
        "full snapshots sent gzip-encoded from the sections' cached compressed parts", NULL,
        gzip_total),
    ROW("gateway_snapshot_gzip_sections_total", "sections compressed (once per build)", NULL,
        gzip_sections),
    ROW("gateway_snapshot_gzip_bytes_total", "bytes of sections compressed, in and out",
        "side=\"in\"", gzip_in_bytes),
    ROW("gateway_snapshot_gzip_bytes_total", NULL, "side=\"out\"", gzip_out_bytes),
    ROW("gateway_snapshot_gzip_chunks_total",
        "chunks of compressed sections: deflated, or reused unchanged from the previous build",
        "source=\"deflated\"", gzip_chunks.compressed),
    ROW("gateway_snapshot_gzip_chunks_total", NULL, "source=\"reused\"", gzip_chunks.reused),
    ROW("gateway_snapshot_gzip_deflated_bytes_total",
        "plain bytes that went through deflate (the changed chunks)", NULL,
        gzip_chunks.compressed_bytes),
#undef ROW
};

int mp_gw_snapshot_metrics(void *ctx, mp_gw_body_t *out)
{
    mp_gw_snapshot_t *s = ctx;
    int ret = mp_gw_prom_hist(
        out, "snapshot_v2_build_ms",
        "time to answer a snapshot-v2 request (cache hit or build, full or delta)", &s->request_ms);
    if (!ret)
        ret = mp_gw_prom_hist(out, "dashboard_snapshot_build_ms",
                              "time spent copying and encoding channel sections from the read "
                              "model, per request that rebuilt any",
                              &s->build_ms);
    for (size_t i = 0; !ret && i < sizeof snapshot_counters / sizeof snapshot_counters[0]; i++) {
        const struct snapshot_counter *c = &snapshot_counters[i];
        if (c->help) ret = mp_gw_prom_header(out, c->name, "counter", c->help);
        if (!ret)
            ret = mp_gw_prom_u64(out, c->name, c->labels,
                                 *(const uint64_t *)((const uint8_t *)s + c->offset));
    }
    return ret;
}
