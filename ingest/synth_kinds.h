/* The synthetic traffic mix: the kinds of transactions the generator sends, how often and
 * with what gas, and the two steps of a tx's content, a pure function of (seed,
 * content_id): kind and gas drawn at insertion, recipient, value and calldata encoded at
 * emission. */
#ifndef MP_SYNTH_KINDS_H
#define MP_SYNTH_KINDS_H

#include <stdint.h>

#include "ingest/synth_calldata.h"

/* Loads the catalog addresses the encoders send to and the kind table's running weights,
 * once per process (thread-safe). Returns 0, or on every call the -EINVAL of a failed
 * catalog load (logged once). */
int mp_synth_kinds_setup(void);

/* Rows in the kind table: a valid mp_synth_tx_t.kind is below this. */
unsigned mp_synth_kind_count(void);

/* Starts content_id's stream: draws its kind and gas (the limit, and what a mined tx
 * uses), which block building needs at insertion; *rng is the stream after them. Needs
 * mp_synth_kinds_setup. */
void mp_synth_content_begin(uint64_t seed, uint64_t content_id, uint64_t *rng, unsigned *kind,
                            uint32_t *gas_limit, uint32_t *gas_used);

/* Encodes content_id's recipient, value and calldata into g, whose seed, buffer and tx
 * context the caller set, continuing the stream after the draws of
 * mp_synth_content_begin; kind is the one it drew. */
void mp_synth_content_encode(gen_t *g, uint64_t content_id, unsigned kind);

#endif
