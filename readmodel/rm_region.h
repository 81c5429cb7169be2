/* The read-model region (/dev/shm/mempulse.<instance>.readmodel, SPEC 2.3): its sections,
 * slot and journal layouts, capacities, and the open calls for its writer (readmodel)
 * and its readers (gateway, tools). Everything another process reads is here. */
#ifndef MP_RM_REGION_H
#define MP_RM_REGION_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "readmodel/rm_entities.h"
#include "shm/metrics.h"
#include "shm/region.h"
#include "shm/seqlock.h"
#include "shm/undo.h"

#define MP_RM_KIND "readmodel"
#define MP_RM_MAX_CHAINS 16

/* Capacities; fixed when the region is created (its size is the memory cap). */
typedef struct mp_rm_caps {
    uint32_t tx_ring;          /* latest transactions on tx.main [4096] */
    uint32_t detail;           /* tx_detail_index entries [65536] */
    uint64_t input_bytes;      /* calldata arena shared by the details [32 MiB] */
    uint64_t detail_ttl_ns;    /* event-time TTL of a detail [10 min] */
    uint32_t feature_top;      /* (protocol, category) aggregates [256] */
    uint32_t feature_recent;   /* [2048] */
    uint32_t opportunity;      /* [1024] */
    uint32_t chain;            /* [16] */
    uint32_t market;           /* fee markets + prices [64] */
    uint32_t journal;          /* deltas kept [262144], power of two */
    uint64_t journal_bytes;    /* entity bytes kept [64 MiB], power of two */
    uint64_t undo_bytes;       /* undo log [8 MiB] */
} mp_rm_caps_t;

/* The defaults of SPEC 2.3. */
void mp_rm_caps_default(mp_rm_caps_t *caps);

/* Checks ranges and powers of two; err gets the first problem. Returns 0 or -EINVAL. */
int mp_rm_caps_check(const mp_rm_caps_t *caps, char *err, size_t errlen);

/* Section "control": watermarks readers follow, then writer state. Every field the
 * writer changes inside a batch is covered by the undo log, except the floors (marked),
 * which only move forward and are raised before the bytes they guard are reused. */
typedef struct mp_rm_control {
    /* --- published to readers (release by the writer at commit, acquire by readers) --- */
    _Atomic uint64_t applied_seq;         /* last events-ring seq applied */
    _Atomic uint64_t journal_seq;         /* last journal seq published */
    _Atomic uint64_t channel_seq[MP_CH_COUNT]; /* last journal seq per channel */
    _Atomic uint64_t revision;            /* committed batches */
    _Atomic uint64_t bytes_used;          /* dashboard_read_model_bytes */
    _Atomic uint64_t event_time_ns;       /* newest event time applied */
    /* Floor, not undone: journal entries with seq below it may be overwritten. */
    _Atomic uint64_t journal_floor_seq;
    _Atomic uint32_t format_version; /* 0 until the first writer formatted the region */
    uint32_t reserved_p0;
    uint64_t detail_ttl_ns;          /* behaviour, set by the writer at every start */
    uint8_t pad0[64 - 24];
    /* --- writer state --- */
    uint64_t journal_data_head;  /* free-running byte position of the next entity bytes */
    uint64_t input_head;         /* free-running byte position in the calldata arena */
    _Atomic uint64_t input_floor; /* floor, not undone: calldata below it may be gone */
    uint64_t reserved_w0;
    uint64_t tx_ring_next;       /* free-running insert position of tx_ring */
    uint64_t recent_next;        /* ... of feature_recent */
    uint64_t opp_next;           /* ... of opportunity ring */
    uint32_t detail_count;       /* live details */
    uint32_t detail_hand;        /* CLOCK hand */
    uint32_t ttl_cursor;         /* incremental TTL sweep position */
    uint32_t feature_top_count;
    uint64_t ring_pos_hint;      /* events-ring position after applied_seq (seek hint) */
    uint64_t ring_gaps_total;    /* events lost to laps of the events ring */
    uint64_t ring_gap_events_total;
    /* Tracked pending transactions per chain (details with status pending). */
    struct {
        uint64_t chain_id;
        uint64_t count;
    } pending[MP_RM_MAX_CHAINS];
    /* Guards the structure of the detail and opportunity hash indexes: readers retry a
     * lookup that overlapped an insertion or deletion (probe chains move). */
    mp_seqlock_t detail_index_lock;
    mp_seqlock_t opp_index_lock;
    uint8_t reserved[3592];
} mp_rm_control_t;
_Static_assert(sizeof(mp_rm_control_t) == 4096, "control block is one page");

/* A slot of a section readers copy: seqlock, then the entity. occupied 0 = empty (in
 * tx_ring, non-zero is the detail entry index + 1, so eviction needs no lookup). check
 * is mp_rm_check of the entity's bytes, written with it: a reader that ever accepted a
 * copy whose check does not match would have read a torn entity (tests assert never). */
#define MP_RM_SLOT(name, type)                                                                 \
    typedef struct name {                                                                      \
        mp_seqlock_t lock;                                                                     \
        uint32_t occupied;                                                                     \
        uint64_t check;                                                                        \
        type e;                                                                                \
    } name##_t

MP_RM_SLOT(mp_rm_tx_slot, mp_rm_tx_t);
MP_RM_SLOT(mp_rm_top_slot, mp_rm_feature_top_t);
MP_RM_SLOT(mp_rm_recent_slot, mp_rm_feature_recent_t);
MP_RM_SLOT(mp_rm_opp_slot, mp_rm_opportunity_t);
MP_RM_SLOT(mp_rm_chain_slot, mp_rm_chain_t);
#define MP_RM_CHECK_BEFORE_ENTITY(t) \
    _Static_assert(offsetof(t, check) + 8 == offsetof(t, e), #t ": check right before the entity")
MP_RM_CHECK_BEFORE_ENTITY(mp_rm_tx_slot_t);
MP_RM_CHECK_BEFORE_ENTITY(mp_rm_top_slot_t);
MP_RM_CHECK_BEFORE_ENTITY(mp_rm_recent_slot_t);
MP_RM_CHECK_BEFORE_ENTITY(mp_rm_opp_slot_t);
MP_RM_CHECK_BEFORE_ENTITY(mp_rm_chain_slot_t);

/* Checksum of an entity's bytes (n a multiple of 8; every entity is). */
static inline uint64_t mp_rm_check(const void *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, (const uint8_t *)p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h;
}

/* market slots hold a fee market or a price; kind tells which. */
typedef struct mp_rm_market_slot {
    mp_seqlock_t lock;
    uint32_t occupied; /* 0, or MP_KIND_FEE_MARKET / MP_KIND_PRICE */
    uint64_t check;    /* of the member occupied names */
    union {
        mp_rm_fee_market_t fee;
        mp_rm_price_t price;
    } u;
} mp_rm_market_slot_t;
_Static_assert(offsetof(mp_rm_market_slot_t, check) + 8 == offsetof(mp_rm_market_slot_t, u),
               "market slot: check right before the entity");

#define MP_RM_HISTORY 6
/* One status change of a transaction (detail modal history). */
typedef struct mp_rm_status_change {
    uint8_t status; /* mp_rm_tx_status_t */
    uint8_t reserved[7];
    uint64_t time_ns;
    uint64_t seq;
} mp_rm_status_change_t;

/* tx_detail_index entry: the summary, calldata location, history. */
typedef struct mp_rm_detail {
    mp_seqlock_t lock;
    uint32_t occupied;
    uint32_t referenced; /* CLOCK bit: set on updates, cleared by the hand */
    uint32_t tx_slot;    /* tx_ring slot + 1 while the tx is on tx.main, else 0 */
    uint32_t opp_kinds;  /* bit k: an opportunity of kind k was filed with this trigger */
    uint32_t reserved;
    mp_rm_tx_t tx;
    uint64_t input_pos;     /* arena position of the stored calldata prefix */
    uint32_t input_stored;  /* bytes stored there (<= MP_INPUT_PREFIX_MAX) */
    uint32_t history_count; /* changes recorded (the last MP_RM_HISTORY are kept) */
    mp_rm_status_change_t history[MP_RM_HISTORY];
} mp_rm_detail_t;

/* Journal entry (section "journal"): fixed size, indexed by seq & (capacity - 1); the
 * entity bytes live in "journal_data" at data_pos (free-running), data_len bytes. */
typedef enum mp_rm_op {
    MP_OP_UPSERT = 1,
    MP_OP_REMOVE = 2,
    MP_OP_RESET = 3,
} mp_rm_op_t;

typedef struct mp_rm_journal_entry {
    uint64_t seq;
    uint64_t data_pos;
    uint32_t data_len;
    uint8_t channel; /* mp_rm_channel_t */
    uint8_t op;      /* mp_rm_op_t */
    uint8_t kind;    /* mp_rm_kind_t */
    uint8_t id_len;  /* bytes of id used: 32 for hashes, the ASCII length for keys */
    mp_rm_id_t id;
    uint64_t event_time_ns;
} mp_rm_journal_entry_t;
_Static_assert(sizeof(mp_rm_journal_entry_t) == 64, "journal entries are one cache line");

/* A mapped read-model region with its sections resolved. */
typedef struct mp_rm_region {
    mp_region_t region;
    mp_rm_caps_t caps;
    mp_rm_control_t *ctl;
    mp_metrics_t *metrics;
    mp_undo_log_t *undo;
    mp_rm_tx_slot_t *tx_ring;
    mp_rm_detail_t *details;
    uint64_t *detail_buckets; /* slot_index cells; detail_bucket_count of them */
    uint32_t detail_bucket_count;
    uint8_t *input_arena;
    mp_rm_top_slot_t *feature_top;
    struct mp_rm_feature_state *feature_state; /* features module's POD state (writer) */
    mp_rm_recent_slot_t *feature_recent;
    mp_rm_opp_slot_t *opps;
    uint64_t *opp_buckets;
    uint32_t opp_bucket_count;
    struct mp_rm_opp_state *opp_state;         /* detectors' POD context (writer) */
    mp_rm_chain_slot_t *chains;
    mp_rm_market_slot_t *market;
    struct mp_rm_market_state *market_state;   /* fee windows, price histories (writer) */
    mp_rm_journal_entry_t *journal;
    uint8_t *journal_data;
    int recovered_ranges; /* ranges rolled back when the writer opened it */
} mp_rm_region_t;

/* Opens (creating if missing) the instance's read-model region as its single writer,
 * then rolls back any batch a crash left open. caps must match an existing region's
 * layout unless reinit (then it is recreated). Returns 0 or a negative errno with err
 * set (MP_REGION_ERR_MAX bytes): -EBUSY another readmodel runs; -EPROTO layout mismatch;
 * -EINVAL bad caps or instance. */
int mp_rm_open_writer(mp_rm_region_t *rm, const char *instance, const mp_rm_caps_t *caps,
                      bool reinit, char *err);

/* Maps the instance's read-model region read-only (PROT_READ) and validates it.
 * Returns 0, -ENOENT, -EPROTO, or -EAGAIN when no writer has formatted it yet. */
int mp_rm_open_reader(mp_rm_region_t *rm, const char *instance, char *err);

void mp_rm_close(mp_rm_region_t *rm);

#endif
