/* Source checkpoints in the events region: where a restarted ingest resumes its source
 * (generator state, file offset) so the stream continues exactly after the last
 * committed record. Two slots, written alternately, each guarded by a sequence count,
 * so a crash mid-save always leaves the other slot intact. */
#ifndef MP_CHECKPOINT_H
#define MP_CHECKPOINT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define MP_CHECKPOINT_STATE_MAX (512u * 1024u)

typedef struct mp_checkpoint_slot {
    /* Odd while a save is in progress; even and non-zero when the slot holds a state. */
    _Atomic uint64_t version;
    uint64_t seq;         /* the state is what the source was after emitting event `seq` */
    uint64_t fingerprint; /* identity of the source configuration (kind, seed, rate, path) */
    uint32_t len;
    uint8_t reserved[36];
    uint8_t state[MP_CHECKPOINT_STATE_MAX];
} mp_checkpoint_slot_t;
_Static_assert(sizeof(mp_checkpoint_slot_t) == 64 + MP_CHECKPOINT_STATE_MAX, "slot layout");

/* Section "source_checkpoint". */
typedef struct mp_checkpoint_area {
    mp_checkpoint_slot_t slots[2];
} mp_checkpoint_area_t;

/* Saves state (len <= MP_CHECKPOINT_STATE_MAX) as of event `seq`, over the slot with the
 * older seq. Only the ring writer calls it. Returns 0 or -EINVAL. */
int mp_checkpoint_save(mp_checkpoint_area_t *a, uint64_t seq, uint64_t fingerprint,
                       const void *state, uint32_t len);

/* Loads the newest intact state with this fingerprint whose seq <= max_seq (the last
 * committed seq; a state saved ahead of a record that never got committed is skipped).
 * Returns 0 with *seq and *len set; -ENOENT when there is none. */
int mp_checkpoint_load(const mp_checkpoint_area_t *a, uint64_t fingerprint, uint64_t max_seq,
                       void *state, uint32_t cap, uint32_t *len, uint64_t *seq);

/* 64-bit FNV-1a, for fingerprints. */
uint64_t mp_fingerprint(uint64_t h, const void *data, size_t len);
#define MP_FINGERPRINT_INIT 0xcbf29ce484222325ull

#endif
