/* Query strings of GET /dashboard/snapshot-v2, parsed strictly: a bounded length, known
 * parameters only, each at most once, percent-decoding, channel names checked against the
 * read model's, since_seq as plain decimal digits. Pure: no allocation, no I/O. */
#ifndef MP_GW_QUERY_H
#define MP_GW_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readmodel/rm_entities.h"

/* Longer query strings are refused with 413 before anything is parsed. */
#define MP_GW_QUERY_MAX 2048
/* Every channel. */
#define MP_GW_ALL_CHANNELS ((1u << MP_CH_COUNT) - 1)

typedef struct mp_gw_snapshot_query {
    uint32_t channels; /* bit per mp_rm_channel_t; MP_GW_ALL_CHANNELS when absent */
    bool has_since;
    uint64_t since_seq;
    bool accept_gzip; /* not from the query string: the request's Accept-Encoding */
} mp_gw_snapshot_query_t;

/* Parses q (len bytes after the '?', not NUL-terminated; len 0 for none) into out.
 * Returns 0; -E2BIG when len > MP_GW_QUERY_MAX (413); -EINVAL for anything else wrong
 * (400): unknown or repeated parameter, missing value, bad percent-encoding, empty or
 * unknown channel, since_seq not a decimal u64. err gets a message naming the parameter. */
int mp_gw_query_parse_snapshot(const char *q, size_t len, mp_gw_snapshot_query_t *out, char *err,
                               size_t errlen);

#endif
