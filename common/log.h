/* Process-wide logging to stderr: one line per message, prefixed with the program
 * name, so supervisors and journald keep them readable. */
#ifndef MP_LOG_H
#define MP_LOG_H

#include <stddef.h>

/* Sets the prefix ("mempulse-ingest") printed before every message. */
void mp_log_init(const char *program);

/* The prefix set by mp_log_init, for messages built elsewhere. */
const char *mp_log_program(void);

/* Prints "program: message\n" to stderr. */
void mp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For parsers that report to their caller: writes the message into err (errlen 0:
 * nothing) and returns -EINVAL, so a parse failure is one `return mp_errf(...)`. */
int mp_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
