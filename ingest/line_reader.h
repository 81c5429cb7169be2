/* Newline-delimited input from a file descriptor (regular file, pipe, stdin) in fixed
 * memory, read through io_uring with a read(2)/poll(2) fallback, each wait bounded by a
 * caller-given timeout so the caller stays responsive to signals. */
#ifndef MP_LINE_READER_H
#define MP_LINE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mp_line_reader mp_line_reader_t;

/* Default bound on one line (bytes before the newline, a trailing CR included). */
#define MP_LINE_MAX_DEFAULT (1u << 20)
/* Smallest and largest bounds mp_line_reader_open accepts. */
#define MP_LINE_MAX_MIN 16u
#define MP_LINE_MAX_LIMIT (256u << 20)

/* Set to "1" in the environment to force the read(2)/poll(2) path (tests use it to
 * cover both paths on kernels where io_uring works). */
#define MP_LINE_READER_NO_URING_ENV "MEMPULSE_NO_URING"

/* Results of mp_line_reader_next. Negative values are -errno of a read error. */
enum {
    MP_LINE_READY = 1,    /* *line holds a complete line */
    MP_LINE_AGAIN = 0,    /* no complete line arrived within the timeout; call again */
    MP_LINE_EOF = 2,      /* end of input; every line has been delivered */
    MP_LINE_OVERLONG = 3, /* a line longer than max_line was skipped; *line has its number
                             and end offset, data NULL and len 0 */
};

typedef struct mp_line {
    /* The line without its "\n" or "\r\n"; not NUL-terminated, may contain NUL bytes.
     * Points into the reader's buffer: valid until the next call on the reader. */
    const char *data;
    size_t len;
    uint64_t line_no;      /* 1-based, counted from the start_line given to open */
    uint64_t offset_after; /* input offset just past the line's newline (its end at EOF) */
} mp_line_t;

/* Starts reading fd, which the caller keeps owning and closes after
 * mp_line_reader_close. For a regular file, reading starts at byte start_offset
 * (positional reads: the fd's file position is neither used nor moved); other fds are
 * read from wherever they are and start_offset must be 0 (it is then the offset the
 * caller assigns to the current position). start_line is the number of lines before
 * start_offset, so line numbers continue across a resume. Lines longer than max_line
 * bytes are reported as MP_LINE_OVERLONG and skipped without being held; memory is
 * fixed at about max_line + 256 KiB for the reader's life.
 * Uses io_uring unless MEMPULSE_NO_URING=1 or the kernel refuses it (-EPERM, -ENOSYS,
 * -ENOMEM from a locked-memory limit); the path taken is logged once per process.
 * Returns 0 and *out, -EINVAL for a bad bound or a start_offset on a non-seekable fd,
 * -ENOMEM, or another -errno from fstat or io_uring setup. */
int mp_line_reader_open(mp_line_reader_t **out, int fd, uint64_t start_offset, uint64_t start_line,
                        size_t max_line);

/* Produces the next line, waiting at most timeout_ns for input when none is buffered
 * (0: only what is already available). Empty lines are delivered (len 0). A last line
 * without a newline is delivered before MP_LINE_EOF. Interrupted waits (EINTR) return
 * MP_LINE_AGAIN. Returns one of the MP_LINE_* values or a negative errno, which is
 * sticky: every later call returns it again. */
int mp_line_reader_next(mp_line_reader_t *r, mp_line_t *line, uint64_t timeout_ns);

/* True when the reader uses io_uring, false on the read(2)/poll(2) path. */
bool mp_line_reader_uses_uring(const mp_line_reader_t *r);

/* Cancels a read in flight (waiting for the kernel to release the buffer), tears down
 * the ring and frees the reader; the fd stays open. NULL is allowed. */
void mp_line_reader_close(mp_line_reader_t *r);

#endif
