/* The built-in synthetic source (SPEC 3.5): a deterministic mempool simulation driven by
 * a seed. A pure generator (mp_synth_*) for tests and benchmarks, and the paced
 * mp_source_t wrapper ingest runs. */
#ifndef MP_SYNTHETIC_H
#define MP_SYNTHETIC_H

#include <stdint.h>

#include "ingest/source.h"
#include "proto/event.h"

#define MP_SYNTH_POOL_CAP 4096u        /* pending txs tracked; power of two (slot = tx_id & mask) */
#define MP_SYNTH_SENDERS 16384u        /* sender population, each with its own nonce */
#define MP_SYNTH_MINED_MAX 2048u       /* txs one block can include (30M gas / 21000 < 1429) */
#define MP_SYNTH_QUEUE_CAP 4u          /* events one tx slot can produce */
#define MP_SYNTH_NOMINAL_RATE 1000000u /* tx slots per synthetic second when rate is 0 */
#define MP_SYNTH_BLOCK_NS 12000000000ull
#define MP_SYNTH_GAS_LIMIT 30000000u
#define MP_SYNTH_STATE_MAX (512u * 1024u)    /* a checkpoint slot holds at most this */
#define MP_SYNTH_CHECKPOINT_EVERY 65536u     /* events between checkpoints */
#define MP_SYNTH_MAGIC 0x31485459534d504dull /* "MPMSYTH1" little-endian */
#define MP_SYNTH_VERSION 1u
#define MP_SYNTH_SLOT_NONE 0xffffu

typedef struct mp_synth_config {
    uint64_t seed;
    uint64_t rate;          /* tx per second of event time; 0: as fast as possible */
    uint64_t start_unix_ns; /* event time of the first tx slot; 0: wall clock at init */
    uint64_t chain_id;      /* 0 means 1 */
} mp_synth_config_t;

/* A pending transaction. Its hash, sender address, nonce base, recipient and calldata
 * are derived from (seed, ids) when emitted, so they are not stored. */
typedef struct mp_synth_tx {
    uint64_t tx_id;      /* hash = f(seed, tx_id); pool slot = tx_id & (POOL_CAP - 1) */
    uint64_t content_id; /* to, value, calldata = f(seed, content_id, ...); kept by replacements */
    uint64_t max_fee;    /* wei per gas; a legacy tx's gas price */
    uint64_t tip;        /* max priority fee; a legacy tx's gas price */
    uint32_t gas_limit;
    uint32_t gas_used;      /* consumed if mined */
    uint32_t eth_usd_cents; /* ETH price when first sent: swap amounts derive from it */
    uint32_t created_s;     /* unix s when first sent: deadlines derive from it */
    uint16_t sender;        /* index into senders */
    uint8_t state;          /* 0 free, 1 pending */
    uint8_t flags;          /* MP_SYNTH_TXF_* */
    uint8_t kind;           /* row of the generator's kind table */
    uint8_t pad[3];
} mp_synth_tx_t;
_Static_assert(sizeof(mp_synth_tx_t) == 56, "pool entry layout");

enum {
    MP_SYNTH_TXF_LEGACY = 1u << 0, /* type-0 tx: gas price only */
    MP_SYNTH_TXF_WAR = 1u << 1,    /* target of the running gas war: not mined or dropped */
};

typedef struct mp_synth_sender {
    uint32_t nonce_count; /* mined txs; nonce = base(seed, sender) + nonce_count */
    uint16_t slot;        /* pool slot of its pending tx, or MP_SYNTH_SLOT_NONE */
    uint16_t pad;
} mp_synth_sender_t;

/* One event of the current tx slot or price tick, waiting to be returned. */
typedef struct mp_synth_queued {
    uint64_t time_ns;
    uint64_t a;    /* TX_DROPPED/REPLACED: tx_id; PRICE: symbol index */
    uint64_t b;    /* TX_REPLACED: the new tx_id */
    uint16_t type; /* mp_event_type_t */
    uint16_t slot; /* TX_SEEN: pool slot */
    uint8_t reason;
    uint8_t pad[3];
} mp_synth_queued_t;

/* The whole generator state: plain data, no pointers, so it can be memcpy'd into a
 * shared-memory checkpoint and back (in another process of the same build) and generation
 * continues exactly as an uninterrupted run would. Invariants: every pending pool entry's
 * sender points back at its slot; a sender has at most one pending tx; a tx_id that left
 * the pool (mined, replaced, dropped) is never emitted again. */
typedef struct mp_synth {
    uint64_t magic;   /* MP_SYNTH_MAGIC */
    uint32_t version; /* MP_SYNTH_VERSION */
    uint32_t size;    /* sizeof(mp_synth_t) */
    mp_synth_config_t cfg;
    uint64_t rng; /* splitmix64 state of the decisions (contents use derived streams) */

    /* Tx slot k is due at start + floor(k * 1e9 / rate): kept incrementally. */
    uint64_t slot;       /* k of the next slot */
    uint64_t slot_ns;    /* its event time */
    uint64_t slot_rem;   /* k * 1e9 mod rate */
    uint64_t period_ns;  /* 1e9 / rate */
    uint64_t period_rem; /* 1e9 mod rate */
    uint64_t rate_div;   /* rate, or MP_SYNTH_NOMINAL_RATE for 0 */

    uint64_t next_tick_ns, next_price_ns, next_block_ns;
    uint64_t next_tx_id;
    uint64_t block_number;           /* number of the next block */
    uint64_t base_fee;               /* wei, base fee of the next block */
    uint64_t eth_usd_e8, btc_usd_e8; /* current prices, 8 decimals */
    uint64_t eth_ref_e8, btc_ref_e8; /* the walk reverts towards these */
    uint64_t pending;                /* pending pool entries */

    /* The running gas war, if any: one (from, nonce) re-bid every 1-3 s. */
    uint64_t war_tx_id;
    uint64_t war_next_ns;
    uint64_t war_last_slot;
    uint8_t war_active, war_bumps, war_target, pad0[5];

    /* Events queued by the current tx slot or price tick. */
    uint32_t q_len, q_pos;
    mp_synth_queued_t q[MP_SYNTH_QUEUE_CAP];

    /* TX_MINED events of the last block still to return. */
    uint32_t mined_count, mined_pos;
    uint64_t mined_block, mined_time_ns;
    uint64_t mined[MP_SYNTH_MINED_MAX];

    mp_synth_sender_t senders[MP_SYNTH_SENDERS];
    mp_synth_tx_t pool[MP_SYNTH_POOL_CAP];

    /* Calldata of the last TX_SEEN (ev.u.tx.input_prefix points here); regenerated on
     * every TX_SEEN, so its content in a checkpoint does not matter. */
    uint8_t input[MP_INPUT_PREFIX_MAX];
} mp_synth_t;
_Static_assert(sizeof(mp_synth_t) <= MP_SYNTH_STATE_MAX, "generator state fits a checkpoint slot");
_Static_assert((MP_SYNTH_POOL_CAP & (MP_SYNTH_POOL_CAP - 1)) == 0, "pool capacity power of two");
_Static_assert(MP_SYNTH_POOL_CAP < MP_SYNTH_SLOT_NONE && MP_SYNTH_SENDERS <= 65536, "16-bit ids");

/* Initialises s from cfg (copied). Returns 0, or -EINVAL for NULL arguments or when the
 * protocol catalog the generator draws from fails its checks. */
int mp_synth_init(mp_synth_t *s, const mp_synth_config_t *cfg);

/* Produces the next event into *ev (always one: the stream never ends). Event times never
 * decrease. A TX_SEEN's input_prefix points into s->input and stays valid until the next
 * call. Returns 0, or -EINVAL for NULL arguments. */
int mp_synth_next(mp_synth_t *s, mp_event_t *ev);

/* Event time of the event mp_synth_next would return next, without producing it. */
uint64_t mp_synth_peek_time(const mp_synth_t *s);

/* Checks that s is a consistent state of this build (magic, version, size, indexes in
 * range): what a restore must verify before trusting a saved image. Returns 0 or
 * -EINVAL. */
int mp_synth_validate(const mp_synth_t *s);

/* Identity of a configuration for checkpoints: covers seed, rate, chain id and the state
 * layout version, not the start time (which lives in the state). */
uint64_t mp_synth_fingerprint(const mp_synth_config_t *cfg);

/* Creates the paced synthetic source. At rate N, next returns MP_SOURCE_IDLE with
 * *wait_ns until the monotonic clock reaches the next event's due time; the clock anchor
 * is set at create and at restore, so a restarted ingest continues at rate N without a
 * catch-up burst while event times stay deterministic. Rate 0 never idles.
 * save/restore copy the whole mp_synth_t; skip regenerates events without pacing and
 * re-anchors the clock; checkpoint_every is MP_SYNTH_CHECKPOINT_EVERY. Returns NULL on
 * allocation failure or invalid cfg (logged). */
mp_source_t *mp_synthetic_source_create(const mp_synth_config_t *cfg);

/* Pacing of a source made by mp_synthetic_source_create: speed X plays event time X
 * times faster than the wall clock (default 1); 0 runs unpaced. The stream itself (event
 * times included) does not depend on the speed. */
void mp_synthetic_source_set_speed(mp_source_t *src, double speed);

#endif
