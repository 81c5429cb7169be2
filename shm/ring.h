/* The events ring (SPEC 2.2): one writer process, any number of reader processes,
 * variable-length records in a power-of-two byte ring, seq-stamped, lap-detecting. */
#ifndef MP_RING_H
#define MP_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/region.h"

#define MP_RING_ALIGN 8u
#define MP_RING_MIN_CAPACITY 4096u
#define MP_RING_MAX_PAYLOAD (64u * 1024u)
#define MP_RING_TYPE_PAD 0xffffu /* padding record: fills the bytes up to the wrap */

/* Record header at an 8-byte aligned ring offset, followed by the payload. A record
 * occupies align8(length) bytes and never straddles the wrap. A padding record only has
 * the first 8 bytes (length covers the rest of the lap) and carries no seq. */
typedef struct mp_ring_rec {
    /* Total bytes: this header + payload (unaligned). Stored last, with release, after
     * every other byte of the record; 0 means "not written". */
    _Atomic uint32_t length;
    uint16_t type;
    uint16_t flags;
    uint64_t seq;
    uint64_t ingest_unix_ns;
} mp_ring_rec_t;
_Static_assert(sizeof(mp_ring_rec_t) == 24, "record header is 24 bytes");
_Static_assert(offsetof(mp_ring_rec_t, seq) == 8, "record header layout");

/* Ring control block (section "ring_ctl"). Positions are free-running byte counters;
 * the ring offset is pos & mask, the bytes in use tail - head (kfifo style). */
typedef struct mp_ring_ctl {
    uint64_t capacity; /* bytes, power of two; immutable */
    uint64_t mask;     /* capacity - 1 */
    uint8_t pad0[48];
    /* Published end: every record before it is complete. Writer stores with release
     * after the record's length (pairs with the acquire in mp_ring_read). */
    _Atomic uint64_t tail;
    _Atomic uint64_t last_seq; /* seq of the last record before tail */
    uint8_t pad1[48];
    /* Oldest record still intact. The writer advances it past a record before it
     * overwrites any byte of it (release fence in reclaim, acquire fence in read). */
    _Atomic uint64_t head;
    _Atomic uint64_t head_seq; /* seq of the first non-padding record at or after head */
    uint8_t pad2[48];
} mp_ring_ctl_t;
_Static_assert(sizeof(mp_ring_ctl_t) == 192, "ring control layout");
_Static_assert(offsetof(mp_ring_ctl_t, tail) == 64, "tail on its own cache line");
_Static_assert(offsetof(mp_ring_ctl_t, head) == 128, "head on its own cache line");

/* Backpressure from the readmodel: applied() returns the highest seq it has applied and
 * whether it is alive. The writer never overwrites a record above that seq while the
 * readmodel is alive and its applied seq moved within lag_timeout_ns. */
typedef struct mp_ring_tether {
    uint64_t (*applied)(void *ctx, bool *alive);
    void *ctx;
    uint64_t lag_timeout_ns;
} mp_ring_tether_t;

/* Counters the writer keeps; pointers into the region's metrics section, or NULL. */
typedef struct mp_ring_writer_metrics {
    _Atomic uint64_t *overruns_total;   /* records overwritten before the readmodel applied them */
    _Atomic uint64_t *tether_waits_total;
    _Atomic uint64_t *tether_wait_ns_total;
} mp_ring_writer_metrics_t;

typedef struct mp_ring_writer {
    mp_ring_ctl_t *ctl;
    uint8_t *data;
    uint64_t mask;
    uint64_t tail; /* private copies; ctl holds the published values */
    uint64_t head;
    uint64_t next_seq;
    uint32_t reserved_len; /* payload bytes reserved by mp_ring_reserve, 0 when none */
    mp_ring_tether_t tether;
    /* Tether bookkeeping: last applied seq seen and when it last moved. */
    uint64_t tether_seen_applied;
    uint64_t tether_moved_mono_ns;
    mp_ring_writer_metrics_t metrics;
    volatile const int *stop; /* optional: tether waits give up when *stop becomes non-zero */
} mp_ring_writer_t;

/* Initializes the ring control block of a freshly created region for capacity bytes
 * (power of two >= MP_RING_MIN_CAPACITY). Only valid before any writer or reader runs. */
int mp_ring_format(mp_ring_ctl_t *ctl, uint64_t capacity);

/* Checks a mapped control block against its data section size; -EPROTO on mismatch. */
int mp_ring_check(const mp_ring_ctl_t *ctl, uint64_t data_size);

/* Attaches the (only) writer and recovers after a crash: a record whose length was
 * stored is committed, one whose length was not does not exist; the next seq is the last
 * committed seq + 1. Returns 0. */
int mp_ring_writer_init(mp_ring_writer_t *w, mp_ring_ctl_t *ctl, uint8_t *data);

/* Reserves room for a payload of at most max_len bytes (<= MP_RING_MAX_PAYLOAD) and
 * returns where to write it. Reclaims old records (honouring the tether) and writes a
 * padding record first when the record would straddle the wrap. Never fails once the
 * ring is valid; returns NULL only for max_len out of range. */
void *mp_ring_reserve(mp_ring_writer_t *w, uint32_t max_len);

/* Publishes the reserved record with len <= the reserved size. Returns its seq. */
uint64_t mp_ring_commit(mp_ring_writer_t *w, uint16_t type, uint32_t len, uint64_t ingest_unix_ns);

/* reserve + memcpy + commit. Returns the seq, or 0 when len is out of range. */
uint64_t mp_ring_publish(mp_ring_writer_t *w, uint16_t type, const void *payload, uint32_t len,
                         uint64_t ingest_unix_ns);

/* The seq the next commit will get. */
static inline uint64_t mp_ring_next_seq(const mp_ring_writer_t *w)
{
    return w->next_seq;
}

typedef struct mp_ring_reader {
    const mp_ring_ctl_t *ctl;
    const uint8_t *data;
    uint64_t mask;
    uint64_t pos;      /* next record to read */
    uint64_t next_seq; /* seq expected there; 0 until the first record fixes it */
    uint64_t gaps;        /* laps detected */
    uint64_t gap_events;  /* seqs lost to laps */
} mp_ring_reader_t;

/* Where a new reader starts. */
typedef enum mp_ring_start {
    MP_RING_FROM_OLDEST = 0, /* the oldest intact record */
    MP_RING_FROM_TAIL = 1,   /* only records published from now on */
} mp_ring_start_t;

void mp_ring_reader_init(mp_ring_reader_t *r, const mp_ring_ctl_t *ctl, const uint8_t *data,
                         mp_ring_start_t start);

/* Positions the reader at the record with seq `seq`. Returns 0; -ENOENT when that seq
 * is older than the oldest intact record (the reader is then at the oldest one and the
 * next read reports the gap) or not yet published (the reader then waits at tail and
 * reports nothing until that seq arrives). */
int mp_ring_reader_seek(mp_ring_reader_t *r, uint64_t seq);

/* What mp_ring_read copied out. */
typedef struct mp_ring_record {
    uint64_t seq;
    uint64_t ingest_unix_ns;
    uint16_t type;
    uint32_t len; /* payload bytes copied */
    /* For MP_RING_LAPPED: the seqs the reader lost, inclusive. */
    uint64_t gap_first;
    uint64_t gap_last;
} mp_ring_record_t;

enum {
    MP_RING_EMPTY = 0,  /* nothing new */
    MP_RING_OK = 1,     /* one record copied into buf */
    MP_RING_LAPPED = 2, /* the writer overwrote unread records: gap_first..gap_last lost;
                           the reader now stands at the oldest intact record */
};

/* Copies the next record's payload into buf (cap >= MP_RING_MAX_PAYLOAD is always
 * enough) and validates it afterwards: a copy the writer may have overwritten meanwhile
 * is discarded and reported as a lap. Returns MP_RING_EMPTY, MP_RING_OK or
 * MP_RING_LAPPED; -EMSGSIZE when the payload exceeds cap (the record is skipped). */
int mp_ring_read(mp_ring_reader_t *r, mp_ring_record_t *rec, void *buf, size_t cap);

/* Bytes between the oldest intact record and the published end. */
static inline uint64_t mp_ring_used_bytes(const mp_ring_ctl_t *ctl)
{
    return atomic_load_explicit(&ctl->tail, memory_order_acquire) -
           atomic_load_explicit(&ctl->head, memory_order_acquire);
}

#endif
