/* mempulse-shm: shared option parsing and the commands, one file each. */
#ifndef MP_SHM_CLI_H
#define MP_SHM_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "readmodel/rm_region.h"
#include "shm/events_region.h"

typedef struct mp_cli {
    const char *instance;
    bool json;
    bool force;         /* reset --force */
    bool follow;        /* tail -f */
    bool has_from;      /* tail --from */
    uint64_t from_seq;
    uint64_t lines;     /* tail -n */
    bool lines_set;     /* -n given (with --from it bounds the count) */
    double interval_s;  /* stats */
    uint32_t count;     /* stats samples, 0 = until interrupted */
    int argc;           /* positional arguments after the command */
    char **argv;
} mp_cli_t;

/* Exit codes (STYLE.md). */
enum { MP_EXIT_OK = 0, MP_EXIT_RUNTIME = 1, MP_EXIT_USAGE = 2 };

int mp_cmd_info(const mp_cli_t *cli);
int mp_cmd_tail(const mp_cli_t *cli);
int mp_cmd_stats(const mp_cli_t *cli);
int mp_cmd_dump(const mp_cli_t *cli);
int mp_cmd_tx(const mp_cli_t *cli);
int mp_cmd_verify(const mp_cli_t *cli);
int mp_cmd_reset(const mp_cli_t *cli);

/* Opens the instance's events region read-only; on failure prints why and returns the
 * exit code (2: missing or wrong layout), else 0. */
int mp_cli_open_events(const mp_cli_t *cli, mp_events_region_t *ev);

/* Opens the instance's read-model region read-only (mp_rm_open_reader); on failure
 * prints why and returns the exit code (2: missing or wrong layout; 1: not formatted
 * yet), else 0. The caller closes it with mp_rm_close. */
int mp_cli_open_readmodel(const mp_cli_t *cli, mp_rm_region_t *rm);

/* Prints why mp_rm_open_reader failed (ret, err) with the fix, and returns the exit code
 * mp_cli_open_readmodel would. */
int mp_cli_readmodel_error(const mp_cli_t *cli, int ret, const char *err);

/* Region header facts every command shows: pid, liveness, starts, heartbeat age. */
json_t *mp_cli_header_json(const mp_region_t *r);

/* Every named metric of a metrics section as a JSON object. */
json_t *mp_cli_metrics_json(const mp_metrics_t *m);

/* Prints a JSON value on one line (compact) or indented, followed by a newline. */
void mp_cli_print_json(json_t *v, bool compact);

#endif
