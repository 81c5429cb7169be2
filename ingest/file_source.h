/* `--source file:PATH` / `file:-`: recorded pending transactions (JSONL of RPC objects or
 * mempool-dumpster CSV) from a file or stdin, as an mp_source_t. */
#ifndef MP_FILE_SOURCE_H
#define MP_FILE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/source.h"

typedef struct mp_file_source_config {
    const char *path; /* file to read; "-" reads stdin */
    /* CSV replay pace: 1.0 replays at the recorded pace, X replays X times faster, 0 as
     * fast as possible. JSONL is never paced. Must be >= 0. */
    double speed;
    uint64_t chain_id; /* for records that carry no chain id */
    size_t max_line;   /* longest accepted line in bytes; 0: MP_LINE_MAX_DEFAULT */
} mp_file_source_config_t;

/* Opens the input and returns a source (destroy it with s->ops->destroy), or NULL with a
 * message for a person in err (path, reason) when the file cannot be opened or the
 * config is invalid. The format comes from the first non-empty line: a line starting
 * "timestamp_ms," is a mempool-dumpster CSV header, a line starting '{' begins JSONL.
 * JSONL lines are a bare transaction object, an eth_subscription notification
 * ({"params":{"result":{tx}}}) or a JSON-RPC response ({"result":{tx}}); event time is
 * the line's "seen_unix_ms" or "timestamp_ms" (top level or in the tx) or else the wall
 * clock when read. CSV event time is timestamp_ms; rows are paced by cfg->speed.
 * next() returns one TX_SEEN per good line, a TICK each wall-clock second (stamped with
 * the wall clock for JSONL, the replay clock for CSV), MP_SOURCE_IDLE when no input is
 * ready (it waits at most ~100 ms inside), MP_SOURCE_END at the end of the file or of
 * stdin, and a negative errno only for read errors. Bad lines (invalid JSON or fields,
 * longer than max_line, unknown format) are counted in s->malformed_total, the first 10
 * and then every 10,000th logged with line number and reason, and skipped.
 * checkpoint_every is 1: save() writes the byte offset and line number after the last
 * emitted line plus format and replay clock; restore() continues there. stdin cannot
 * be resumed (save returns 0, restore -EINVAL). The fingerprint covers the file's real
 * path, device and inode; for stdin it is random. */
mp_source_t *mp_file_source_create(const mp_file_source_config_t *cfg, char *err, size_t errlen);

#endif
