/* What every process's main.c needs besides getopt: a stop flag set by SIGTERM / SIGINT,
 * and numeric option values checked against their range with a message naming them. */
#ifndef MP_OPTS_H
#define MP_OPTS_H

#include <signal.h>
#include <stdint.h>

/* Makes SIGTERM and SIGINT set *flag to 1 (the process finishes what it holds and exits). */
void mp_opts_stop_on_signals(volatile sig_atomic_t *flag);

/* Parses arg (the whole string) as a number in [lo, hi] into *out. Returns 0, or -EINVAL
 * after logging "invalid value 'arg' for --opt (lo..hi)". */
int mp_opts_number(const char *opt, const char *arg, double lo, double hi, double *out);

/* Parses arg as a decimal unsigned integer in [lo, hi] into *out. Returns 0, or -EINVAL
 * after logging "invalid value 'arg' for --opt (lo..hi)". */
int mp_opts_uint(const char *opt, const char *arg, uint64_t lo, uint64_t hi, uint64_t *out);

#endif
