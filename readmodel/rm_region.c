/* Read-model region layout: sections from the capacities, create / open / validate for
 * the writer (with undo recovery) and read-only opening for readers. */
#include "readmodel/rm_region.h"

#include "readmodel/rm_state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define METRICS_CAPACITY 126u

void mp_rm_caps_default(mp_rm_caps_t *caps)
{
    *caps = (mp_rm_caps_t){
        .tx_ring = 4096,
        .detail = 65536,
        .input_bytes = 32ull << 20,
        .detail_ttl_ns = 600ull * 1000000000ull,
        .feature_top = 256,
        .feature_recent = 2048,
        .opportunity = 1024,
        .chain = 16,
        .market = 64,
        .journal = 262144,
        .journal_bytes = 64ull << 20,
        .undo_bytes = 16ull << 20,
    };
}

static bool pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

int mp_rm_caps_check(const mp_rm_caps_t *c, char *err, size_t errlen)
{
    const char *bad = NULL;
    if (c->tx_ring < 16 || c->tx_ring > (1u << 20)) bad = "tx ring capacity must be 16..1048576";
    else if (c->detail < c->tx_ring || c->detail > (1u << 24))
        bad = "detail capacity must be at least the tx ring capacity and at most 16777216";
    else if (c->input_bytes < 2 * MP_INPUT_PREFIX_MAX) bad = "calldata arena must be at least 8 KiB";
    else if (c->detail_ttl_ns < 1000000000ull) bad = "detail TTL must be at least 1 s";
    else if (c->feature_top != MP_RM_FEATURE_TOP_MAX) bad = "feature top capacity is fixed at 256";
    else if (c->feature_recent < 16 || c->feature_recent > (1u << 20)) bad = "feature recent capacity out of range";
    else if (c->opportunity < 16 || c->opportunity > (1u << 20)) bad = "opportunity capacity out of range";
    else if (c->chain != MP_CHAIN_CAPACITY) bad = "chain capacity is fixed at 16";
    else if (c->market < MP_RM_MARKET_MIN || c->market > 4096) bad = "market capacity must be 48..4096";
    else if (!pow2(c->journal) || c->journal < 1024) bad = "journal capacity must be a power of two >= 1024";
    else if (!pow2(c->journal_bytes) || c->journal_bytes < (1u << 20))
        bad = "journal bytes must be a power of two >= 1 MiB";
    else if (c->undo_bytes < (8u << 20)) bad = "undo log must be at least 8 MiB";
    if (bad) {
        snprintf(err, errlen, "%s", bad);
        return -EINVAL;
    }
    return 0;
}

static uint32_t bucket_count(uint32_t entries)
{
    uint32_t b = 1;
    while (b < 2 * entries) b <<= 1; /* load factor <= 1/2 */
    return b;
}

/* The section table, in this order. Capacities go in each row so readers recover them. */
enum { S_CONTROL, S_METRICS, S_UNDO, S_TX_RING, S_DETAILS, S_DETAIL_BUCKETS, S_INPUT, S_TOP,
       S_TOP_INDEX, S_RECENT, S_OPPS, S_OPP_BUCKETS, S_OPP_CTX, S_CHAINS, S_MARKET,
       S_MARKET_STATE, S_JOURNAL, S_JOURNAL_DATA, S_COUNT };

static const char *const section_names[S_COUNT] = {
    "control", "metrics", "undo_log", "tx_ring", "tx_detail_index", "tx_detail_buckets",
    "tx_input_arena", "feature_top", "feature_top_index", "feature_recent_ring",
    "opportunity_recent_ring", "opportunity_buckets", "opportunity_context", "chain_status",
    "market", "market_windows", "journal", "journal_data",
};

static void rm_spec(mp_region_spec_t *spec, const mp_rm_caps_t *c)
{
    memset(spec, 0, sizeof *spec);
    spec->kind = MP_RM_KIND;
    spec->section_count = S_COUNT;
    struct { uint64_t item, cap, size; } rows[S_COUNT] = {
        [S_CONTROL] = {sizeof(mp_rm_control_t), 1, sizeof(mp_rm_control_t)},
        [S_METRICS] = {sizeof(mp_metric_slot_t), METRICS_CAPACITY, MP_METRICS_SECTION_SIZE(METRICS_CAPACITY)},
        [S_UNDO] = {1, c->undo_bytes, sizeof(mp_undo_log_t) + c->undo_bytes},
        [S_TX_RING] = {sizeof(mp_rm_tx_slot_t), c->tx_ring, 0},
        [S_DETAILS] = {sizeof(mp_rm_detail_t), c->detail, 0},
        [S_DETAIL_BUCKETS] = {sizeof(uint64_t), bucket_count(c->detail), 0},
        [S_INPUT] = {1, c->input_bytes, c->input_bytes},
        [S_TOP] = {sizeof(mp_rm_top_slot_t), c->feature_top, 0},
        [S_TOP_INDEX] = {sizeof(mp_rm_feature_state_t), 1, sizeof(mp_rm_feature_state_t)},
        [S_RECENT] = {sizeof(mp_rm_recent_slot_t), c->feature_recent, 0},
        [S_OPPS] = {sizeof(mp_rm_opp_slot_t), c->opportunity, 0},
        [S_OPP_BUCKETS] = {sizeof(uint64_t), bucket_count(c->opportunity), 0},
        [S_OPP_CTX] = {sizeof(mp_rm_opp_state_t), 1, sizeof(mp_rm_opp_state_t)},
        [S_CHAINS] = {sizeof(mp_rm_chain_slot_t), c->chain, 0},
        [S_MARKET] = {sizeof(mp_rm_market_slot_t), c->market, 0},
        [S_MARKET_STATE] = {sizeof(mp_rm_market_state_t), 1, sizeof(mp_rm_market_state_t)},
        [S_JOURNAL] = {sizeof(mp_rm_journal_entry_t), c->journal, 0},
        [S_JOURNAL_DATA] = {1, c->journal_bytes, c->journal_bytes},
    };
    for (int i = 0; i < S_COUNT; i++) {
        spec->sections[i].name = section_names[i];
        spec->sections[i].item_size = rows[i].item;
        spec->sections[i].capacity = rows[i].cap;
        spec->sections[i].size = rows[i].size ? rows[i].size : rows[i].item * rows[i].cap;
    }
}

/* Resolves every section and recovers the capacities from the table. */
static int bind(mp_rm_region_t *rm, char *err)
{
    mp_region_t *r = &rm->region;
    const mp_region_header_t *h = mp_region_header(r);
    if (h->section_count != S_COUNT) {
        snprintf(err, MP_REGION_ERR_MAX, "%s has %u sections, this build expects %d", r->path,
                 h->section_count, S_COUNT);
        return -EPROTO;
    }
    void *p[S_COUNT];
    const mp_section_t *s[S_COUNT];
    for (int i = 0; i < S_COUNT; i++) {
        s[i] = &h->sections[i];
        if (strncmp(s[i]->name, section_names[i], MP_REGION_NAME_MAX) != 0 ||
            (s[i]->item_size && s[i]->capacity > s[i]->size / s[i]->item_size)) {
            snprintf(err, MP_REGION_ERR_MAX, "%s: section %d is '%.*s', expected '%s' of this layout",
                     r->path, i, (int)MP_REGION_NAME_MAX, s[i]->name, section_names[i]);
            return -EPROTO;
        }
        p[i] = r->base + s[i]->offset;
    }
    /* Item sizes pin the struct layouts of this build. */
    static const struct { int s; size_t item; } items[] = {
        {S_CONTROL, sizeof(mp_rm_control_t)},   {S_TX_RING, sizeof(mp_rm_tx_slot_t)},
        {S_DETAILS, sizeof(mp_rm_detail_t)},    {S_TOP, sizeof(mp_rm_top_slot_t)},
        {S_TOP_INDEX, sizeof(mp_rm_feature_state_t)}, {S_RECENT, sizeof(mp_rm_recent_slot_t)},
        {S_OPPS, sizeof(mp_rm_opp_slot_t)},     {S_OPP_CTX, sizeof(mp_rm_opp_state_t)},
        {S_CHAINS, sizeof(mp_rm_chain_slot_t)}, {S_MARKET, sizeof(mp_rm_market_slot_t)},
        {S_MARKET_STATE, sizeof(mp_rm_market_state_t)}, {S_JOURNAL, sizeof(mp_rm_journal_entry_t)},
        {S_DETAIL_BUCKETS, sizeof(uint64_t)},   {S_OPP_BUCKETS, sizeof(uint64_t)},
    };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        if (s[items[i].s]->item_size != items[i].item) {
            snprintf(err, MP_REGION_ERR_MAX,
                     "%s: section '%s' has %" PRIu64 "-byte items, this build expects %zu", r->path,
                     section_names[items[i].s], s[items[i].s]->item_size, items[i].item);
            return -EPROTO;
        }
    }
    mp_rm_caps_t *c = &rm->caps;
    c->tx_ring = (uint32_t)s[S_TX_RING]->capacity;
    c->detail = (uint32_t)s[S_DETAILS]->capacity;
    c->input_bytes = s[S_INPUT]->capacity;
    c->feature_top = (uint32_t)s[S_TOP]->capacity;
    c->feature_recent = (uint32_t)s[S_RECENT]->capacity;
    c->opportunity = (uint32_t)s[S_OPPS]->capacity;
    c->chain = (uint32_t)s[S_CHAINS]->capacity;
    c->market = (uint32_t)s[S_MARKET]->capacity;
    c->journal = (uint32_t)s[S_JOURNAL]->capacity;
    c->journal_bytes = s[S_JOURNAL_DATA]->capacity;
    c->undo_bytes = s[S_UNDO]->capacity;
    rm->ctl = p[S_CONTROL];
    c->detail_ttl_ns = rm->ctl->detail_ttl_ns;
    rm->metrics = p[S_METRICS];
    rm->undo = p[S_UNDO];
    rm->tx_ring = p[S_TX_RING];
    rm->details = p[S_DETAILS];
    rm->detail_buckets = p[S_DETAIL_BUCKETS];
    rm->detail_bucket_count = (uint32_t)s[S_DETAIL_BUCKETS]->capacity;
    rm->input_arena = p[S_INPUT];
    rm->feature_top = p[S_TOP];
    rm->feature_state = p[S_TOP_INDEX];
    rm->feature_recent = p[S_RECENT];
    rm->opps = p[S_OPPS];
    rm->opp_buckets = p[S_OPP_BUCKETS];
    rm->opp_bucket_count = (uint32_t)s[S_OPP_BUCKETS]->capacity;
    rm->opp_state = p[S_OPP_CTX];
    rm->chains = p[S_CHAINS];
    rm->market = p[S_MARKET];
    rm->market_state = p[S_MARKET_STATE];
    rm->journal = p[S_JOURNAL];
    rm->journal_data = p[S_JOURNAL_DATA];
    if (!pow2(rm->detail_bucket_count) || !pow2(rm->opp_bucket_count) || !pow2(c->journal) ||
        !pow2(c->journal_bytes) || c->detail == 0 || c->tx_ring == 0 || c->input_bytes == 0 ||
        c->feature_top == 0 || c->feature_top > MP_RM_FEATURE_TOP_MAX) {
        snprintf(err, MP_REGION_ERR_MAX, "%s: capacities in the section table are inconsistent",
                 r->path);
        return -EPROTO;
    }
    return 0;
}

int mp_rm_open_writer(mp_rm_region_t *rm, const char *instance, const mp_rm_caps_t *caps,
                      bool reinit, char *err)
{
    char path[256];
    memset(rm, 0, sizeof *rm);
    rm->region.fd = -1;
    if (mp_region_path(path, sizeof path, instance, MP_RM_KIND)) {
        snprintf(err, MP_REGION_ERR_MAX, "invalid instance name '%s' (use [A-Za-z0-9_.-], at most %u)",
                 instance, MP_INSTANCE_MAX);
        return -EINVAL;
    }
    int ret = mp_rm_caps_check(caps, err, MP_REGION_ERR_MAX);
    if (ret) return ret;
    mp_region_spec_t spec;
    rm_spec(&spec, caps);
    ret = mp_region_open_writer(&rm->region, path, &spec, reinit, err);
    if (ret) return ret;
    mp_rm_control_t *ctl = mp_region_section_ptr(&rm->region, "control", sizeof(mp_rm_control_t));
    if (ctl && ctl->format_version == 0) { /* fresh, zero-filled region */
        ctl->detail_ttl_ns = caps->detail_ttl_ns;
        mp_undo_format(mp_region_section_ptr(&rm->region, "undo_log", sizeof(mp_undo_log_t)),
                       caps->undo_bytes);
        mp_metrics_format(mp_region_section_ptr(&rm->region, "metrics", sizeof(mp_metrics_t)),
                          METRICS_CAPACITY);
        atomic_store_explicit(&ctl->format_version, 1, memory_order_release);
    }
    ret = bind(rm, err);
    if (ret) goto out_close;
    if (rm->ctl->detail_ttl_ns != caps->detail_ttl_ns) {
        /* TTL is behaviour, not layout: a restart may change it. */
        rm->ctl->detail_ttl_ns = caps->detail_ttl_ns;
        rm->caps.detail_ttl_ns = caps->detail_ttl_ns;
    }
    int rolled = mp_undo_recover(rm->undo, rm->region.base, rm->region.size);
    if (rolled < 0) {
        snprintf(err, MP_REGION_ERR_MAX, "%s: the undo log is corrupt; run 'mempulse-shm reset "
                 "--instance %s' or start with --reinit", path, instance);
        ret = -EPROTO;
        goto out_close;
    }
    rm->recovered_ranges = rolled;
    /* Fault the whole region in now (it is the memory cap anyway): no page-fault stalls
     * in the apply path later. Best effort: older kernels lack MADV_POPULATE_WRITE. */
    madvise(rm->region.base, rm->region.size, MADV_POPULATE_WRITE);
    /* Tethering follows the header; after a rollback it must not claim more. */
    atomic_store_explicit(&mp_region_header(&rm->region)->progress_seq,
                          atomic_load_explicit(&rm->ctl->applied_seq, memory_order_relaxed),
                          memory_order_release);
    return 0;
out_close:
    mp_region_close(&rm->region);
    return ret;
}

int mp_rm_open_reader(mp_rm_region_t *rm, const char *instance, char *err)
{
    char path[256];
    memset(rm, 0, sizeof *rm);
    rm->region.fd = -1;
    if (mp_region_path(path, sizeof path, instance, MP_RM_KIND)) {
        snprintf(err, MP_REGION_ERR_MAX, "invalid instance name '%s'", instance);
        return -EINVAL;
    }
    int ret = mp_region_open(&rm->region, path, MP_RM_KIND, false, err);
    if (ret) return ret;
    ret = bind(rm, err);
    if (ret) goto out_close;
    if (atomic_load_explicit(&rm->ctl->format_version, memory_order_acquire) == 0) {
        snprintf(err, MP_REGION_ERR_MAX, "%s: not yet formatted by its writer", path);
        ret = -EAGAIN;
        goto out_close;
    }
    return 0;
out_close:
    mp_region_close(&rm->region);
    return ret;
}

void mp_rm_close(mp_rm_region_t *rm)
{
    mp_region_close(&rm->region);
    rm->ctl = NULL;
}
