/* Stop signals and checked numeric options for the processes' main.c files. */
#include "common/opts.h"

#include "common/log.h"

#include <errno.h>
#include <stdlib.h>

static volatile sig_atomic_t *stop_flag;

static void on_stop(int sig)
{
    (void)sig;
    if (stop_flag) *stop_flag = 1;
}

void mp_opts_stop_on_signals(volatile sig_atomic_t *flag)
{
    stop_flag = flag;
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

int mp_opts_number(const char *opt, const char *arg, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || end == arg || *end || !(v >= lo && v <= hi)) {
        mp_log("invalid value '%s' for --%s (%g..%g)", arg, opt, lo, hi);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int mp_opts_uint(const char *opt, const char *arg, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || v < lo || v > hi) {
        mp_log("invalid value '%s' for --%s (%llu..%llu)", arg, opt, (unsigned long long)lo,
               (unsigned long long)hi);
        return -EINVAL;
    }
    *out = v;
    return 0;
}
