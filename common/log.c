/* stderr logging with the program name as prefix. */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

static const char *log_program = "mempulse";

void mp_log_init(const char *program)
{
    log_program = program;
}

const char *mp_log_program(void)
{
    return log_program;
}

void mp_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line so concurrent writers to one log file do not interleave. */
    fprintf(stderr, "%s: %s\n", log_program, line);
}

int mp_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}
